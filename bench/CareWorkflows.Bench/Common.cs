using System.Diagnostics;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Links;
using CareWorkflows.Runtime.Store;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NodaTime;

namespace CareWorkflows.Bench;

/// <summary>Run settings: quick mode (smoke check, a few minutes) or full mode.</summary>
public sealed record BenchOptions(bool Quick, string PostgresServer, string OutDir)
{
    public int[] Concurrency { get; } = [1, 2, 4, 8, 16];
    public TimeSpan TransitionWindow => Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(6);
    public int PendingTimers => Quick ? 100_000 : 1_000_000;
    public int DueTimers => Quick ? 10_000 : 100_000;
    public TimeSpan DueSpread => Quick ? TimeSpan.FromSeconds(15) : TimeSpan.FromMinutes(1);
    public TimeSpan HangfireCap => Quick ? TimeSpan.FromMinutes(1) : TimeSpan.FromMinutes(4);
    public int Referrals => Quick ? 30 : 200;
    public int MemorySmall => 10_000;
    public int MemoryLarge => Quick ? 100_000 : 1_000_000;
}

/// <summary>One line of the result table.</summary>
public sealed record ResultRow(string Section, string Metric, string Value, string? Ratio = null, string? Target = null, bool? Met = null);

public static class Stats
{
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    public static string Ms(double ms) => ms >= 10_000 ? $"{ms / 1000:F1} s" : ms >= 100 ? $"{ms:F0} ms" : $"{ms:F1} ms";
}

public static class Pg
{
    public static string NewDatabase(string server, string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..24];
        var admin = new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false };
        using (var c = new NpgsqlConnection(admin.ToString()))
        {
            c.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", c);
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

    public static string Version(string server)
    {
        using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ToString());
        c.Open();
        using var cmd = new NpgsqlCommand("SHOW server_version", c);
        return (string)cmd.ExecuteScalar()!;
    }
}

/// <summary>The runtime wired by hand over a store, with the system clock (as in production).</summary>
public sealed class BenchRuntime
{
    public BenchRuntime(IWorkflowStore store, string worker = "bench", int pumpBatch = 200, int pumpParallelism = 8)
    {
        Store = store;
        var env = new RuntimeEnvironment(PolicySettings.Default, new HmacLinkIssuer("bench-key-0123456789abcdef-0123456789", "http://localhost"), Contacts.Default, WorkingCalendar.Shipped);
        Signals = new RuntimeSignals();
        Runtime = new WorkflowRuntime(store, new WorkflowRegistry([new BenchWorkflow()]), SystemClock.Instance, env, Signals, NullLogger<WorkflowRuntime>.Instance);
        Pump = new TimerPump(Runtime, new PumpOptions(worker, BatchSize: pumpBatch, Parallelism: pumpParallelism), NullLogger<TimerPump>.Instance);
        Dispatcher = new OutboxDispatcher(Runtime, new ChannelRouter([new DevChannel(MessageChannel.Email), new DevChannel(MessageChannel.Sms)]),
            new OutboxOptions(worker), NullLogger<OutboxDispatcher>.Instance);
        Loops = new RuntimeLoops(Pump, Dispatcher, store, SystemClock.Instance, Signals, NullLogger<RuntimeLoops>.Instance);
    }

    public IWorkflowStore Store { get; }
    public RuntimeSignals Signals { get; }
    public WorkflowRuntime Runtime { get; }
    public TimerPump Pump { get; }
    public OutboxDispatcher Dispatcher { get; }
    public RuntimeLoops Loops { get; }
}

/// <summary>Bulk loading of open BEN instances and their timers (COPY on PostgreSQL).</summary>
public static class Seed
{
    public static readonly string InitialState = System.Text.Json.JsonSerializer.Serialize(new BenchWorkflow.State(0, 0), WorkflowJson.Options);

    public static string Ref(string prefix, int i) => $"{prefix}-{i:D7}";

    /// <summary>COPYs <paramref name="count"/> instances; <paramref name="dueAt"/> gives each one's timer due time (null: no timer).</summary>
    public static async Task CopyAsync(string cs, string prefix, int count, Func<int, Instant?> dueAt)
    {
        var now = SystemClock.Instance.GetCurrentInstant().ToUnixTimeTicks();
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using (var w = await c.BeginBinaryImportAsync(
            "COPY instances (reference, type, status, completed, summary, state, version, last_seq, next_due_at, created_at, updated_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
            {
                await w.StartRowAsync();
                await w.WriteAsync(Ref(prefix, i)); await w.WriteAsync(BenchWorkflow.TypeName); await w.WriteAsync("Open"); await w.WriteAsync(false);
                await w.WriteAsync(""); await w.WriteAsync(InitialState); await w.WriteAsync(1L); await w.WriteAsync(1L);
                if (dueAt(i) is { } d) await w.WriteAsync(d.ToUnixTimeTicks()); else await w.WriteNullAsync();
                await w.WriteAsync(now); await w.WriteAsync(now);
            }
            await w.CompleteAsync();
        }
        await using (var w = await c.BeginBinaryImportAsync("COPY timers (id, reference, name, due_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < count; i++)
            {
                if (dueAt(i) is not { } d) continue;
                await w.StartRowAsync();
                await w.WriteAsync(Guid.NewGuid().ToString()); await w.WriteAsync(Ref(prefix, i)); await w.WriteAsync("due"); await w.WriteAsync(d.ToUnixTimeTicks());
            }
            await w.CompleteAsync();
        }
        await using var analyze = new NpgsqlCommand("ANALYZE", c);
        await analyze.ExecuteNonQueryAsync();
    }

    /// <summary>Plain INSERTs in one transaction (SQLite, or small PostgreSQL sets): open instances without timers.</summary>
    public static async Task InsertAsync(System.Data.Common.DbConnection c, string prefix, int count)
    {
        var now = SystemClock.Instance.GetCurrentInstant().ToUnixTimeTicks();
        await using var tx = await c.BeginTransactionAsync();
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO instances (reference, type, status, completed, summary, state, version, last_seq, next_due_at, created_at, updated_at) " +
                          "VALUES (@r, @t, 'Open', FALSE, '', @s, 1, 1, NULL, @n, @n)";
        var r = P(cmd, "r", ""); P(cmd, "t", BenchWorkflow.TypeName); P(cmd, "s", InitialState); P(cmd, "n", now);
        for (var i = 0; i < count; i++)
        {
            r.Value = Ref(prefix, i);
            await cmd.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    public static System.Data.Common.DbParameter P(System.Data.Common.DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
        return p;
    }
}

public static class Rss
{
    /// <summary>Resident set size of this process (VmRSS), in MiB.</summary>
    public static double CurrentMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        return Process.GetCurrentProcess().WorkingSet64 / 1048576.0;
    }
}
