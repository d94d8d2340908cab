using System.Diagnostics;
using Npgsql;

namespace CareWorkflows.Bench;

/// <summary>What a child process (one system, one section, one repeat) gets: its PostgreSQL server and Azurite.</summary>
public sealed class ChildContext(string? pgServer, string? azurite)
{
    public string? Azurite { get; } = azurite;
    private readonly List<string> _databases = [];

    public string PgServer => pgServer ?? throw new InvalidOperationException("no PostgreSQL server (--pg)");

    /// <summary>A new database (dropped when the child ends), empty or a copy of <paramref name="template"/>.</summary>
    public string NewPgDatabase(string prefix, string? template = null)
    {
        var server = PgServer;
        var cs = Pg.NewDatabase(server, prefix, template);
        _databases.Add(cs);
        return cs;
    }

    public void DropDatabases()
    {
        foreach (var cs in _databases)
            try { Pg.Drop(pgServer!, cs); } catch (Exception e) { Console.Error.WriteLine($"drop {cs}: {e.Message}"); }
    }
}

public static class Stats
{
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    public static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.Where(x => !double.IsNaN(x)).OrderBy(x => x).ToList();
        if (s.Count == 0) return double.NaN;
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    public static string Ms(double ms) => double.IsNaN(ms) ? "–" : ms >= 10_000 ? $"{ms / 1000:F1} s" : ms >= 100 ? $"{ms:F0} ms" : $"{ms:F1} ms";
}

public static class Pg
{
    public static string NewDatabase(string server, string prefix, string? template = null)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..24];
        var admin = new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false };
        using (var c = new NpgsqlConnection(admin.ToString()))
        {
            c.Open();
            var copy = "";
            if (template is not null)
            {
                Disconnect(c, template);
                // PostgreSQL 15+ copies through the WAL by default; a copy of the file tree is much faster for a large template.
                using var v = new NpgsqlCommand("SHOW server_version_num", c);
                copy = $" TEMPLATE {template}" + (int.Parse((string)v.ExecuteScalar()!) >= 150000 ? " STRATEGY = FILE_COPY" : "");
            }
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}{copy}", c) { CommandTimeout = 1800 };
            cmd.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 100 }.ToString();
    }

    public static void Drop(string server, string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false };
        using var c = new NpgsqlConnection(admin.ToString());
        c.Open();
        using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", c);
        cmd.ExecuteNonQuery();
    }

    /// <summary>Ends every session on <paramref name="database"/> (pools of this process included), e.g. before copying it.</summary>
    public static void Disconnect(NpgsqlConnection admin, string database)
    {
        NpgsqlConnection.ClearAllPools();
        using var cmd = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @d AND pid <> pg_backend_pid()", admin);
        cmd.Parameters.AddWithValue("d", database);
        cmd.ExecuteNonQuery();
    }

    public static bool Exists(string server, string database)
    {
        using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ToString());
        c.Open();
        using var cmd = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @d", c);
        cmd.Parameters.AddWithValue("d", database);
        return cmd.ExecuteScalar() is not null;
    }

    /// <summary>Drops the timer sections' seeded templates (cwb_tpl_*): at the start and the end of a run.</summary>
    public static void DropTemplates(string server)
    {
        using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ToString());
        c.Open();
        var names = new List<string>();
        using (var cmd = new NpgsqlCommand(@"SELECT datname FROM pg_database WHERE datname LIKE 'cwb\_tpl\_%'", c))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) names.Add(r.GetString(0));
        foreach (var n in names)
        {
            using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {n} WITH (FORCE)", c);
            drop.ExecuteNonQuery();
        }
    }

    /// <summary>Version and the three durability settings, e.g. "16.4; fsync=on, synchronous_commit=on, full_page_writes=on".</summary>
    public static string Describe(string server)
    {
        using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ToString());
        c.Open();
        string Show(string s) { using var cmd = new NpgsqlCommand($"SHOW {s}", c); return (string)cmd.ExecuteScalar()!; }
        return $"{Show("server_version")}; fsync={Show("fsync")}, synchronous_commit={Show("synchronous_commit")}, full_page_writes={Show("full_page_writes")}";
    }
}

public static class Machine
{
    /// <summary>The machine's cores, whatever DOTNET_PROCESSOR_COUNT says.</summary>
    public static int Cores => File.ReadLines("/proc/cpuinfo").Count(l => l.StartsWith("processor", StringComparison.Ordinal));

    /// <summary>
    /// CPU time (user + system, ms) of the PostgreSQL server behind <paramref name="connectionString"/>: its postmaster and
    /// every child (backends, writers), read from /proc; null when the data directory cannot be read (another machine).
    /// </summary>
    public static double? PostgresCpuMs(string connectionString)
    {
        try
        {
            using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
            c.Open();
            using var cmd = new NpgsqlCommand("SHOW data_directory", c);
            var dir = (string)cmd.ExecuteScalar()!;
            var postmaster = int.Parse(File.ReadLines(Path.Combine(dir, "postmaster.pid")).First().Trim());
            var tick = 1000.0 / 100; // USER_HZ = 100 on Linux
            double total = 0;
            foreach (var d in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(d), out var pid)) continue;
                string stat;
                try { stat = File.ReadAllText(Path.Combine(d, "stat")); } catch (IOException) { continue; } catch (UnauthorizedAccessException) { continue; }
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // after "(comm) ": [0] state, [1] ppid, ..., [11] utime, [12] stime
                if (pid != postmaster && int.Parse(f[1]) != postmaster) continue;
                total += (long.Parse(f[11]) + long.Parse(f[12])) * tick;
            }
            return total;
        }
        catch (Exception)
        {
            return null;
        }
    }

    public static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Aggregate((a, b) => $"{a} {b}");

    /// <summary>Peak resident set size of this process (VmHWM), in MiB.</summary>
    public static double PeakRssMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        return Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
    }

    public static string MemTotal()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1048576.0:F0} GiB RAM";
    }

    public static string Cpu()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        return $"{Environment.ProcessorCount} × {model}";
    }
}
