using System.Net;
using Dapper;
using Npgsql;
using NodaTime;

namespace CareWorkflows.Tests.Reliability;

/// <summary>The tests that run the app as OS processes take turns: on 2 cores, two of them together would starve each other.</summary>
[CollectionDefinition(Name, DisableParallelization = false)]
public sealed class AppProcessCollection
{
    public const string Name = "App processes";
}

/// <summary>Helpers for the process-level reliability tests: database lifetime, a timer audit, HTTP with retries.</summary>
public static class ProcessTestKit
{
    /// <summary>Figures for docs/reliability-tests.md: test output, and appended to $TMPDIR/cw-reliability.log.</summary>
    public static void Report(string line)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        try { File.AppendAllText(Path.Combine(Path.GetTempPath(), "cw-reliability.log"), $"{DateTime.UtcNow:u} {line}\n"); } catch (IOException) { }
    }

    public static long NowTicks => SystemClock.Instance.GetCurrentInstant().ToUnixTimeTicks();

    /// <summary>Drops a test database made by TestDatabases.NewPostgresDatabase (whatever still holds connections).</summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        var server = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        await using var c = new NpgsqlConnection(server.ToString());
        await c.OpenAsync();
        await c.ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    /// <summary>
    /// Sends a request until it gets a definite answer (any HTTP status below 500): a request in flight when the app is
    /// killed may or may not have committed, so it is sent again with the same Idempotency-Key. 5xx answers are counted.
    /// </summary>
    public static async Task<(HttpStatusCode Status, string Body, int Attempts)> SendUntilDefiniteAsync(
        HttpClient client, Func<HttpRequestMessage> request, DateTime deadline, Action<int, string>? onServerError = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("No definite answer before the deadline.");
            try
            {
                using var response = await client.SendAsync(request());
                var body = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode < 500) return (response.StatusCode, body, attempt);
                onServerError?.Invoke((int)response.StatusCode, body);
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            catch (IOException) { }
            await Task.Delay(100);
        }
    }
}

/// <summary>
/// A PostgreSQL server of the test's own (scripts/postgres.sh with PostgreSQL's durable settings: fsync,
/// synchronous_commit and full_page_writes on), so the crash test can kill PostgreSQL itself with SIGKILL and start it
/// again (crash recovery from its WAL) without touching the shared test server other tests are using.
/// </summary>
public sealed class OwnPostgres : IAsyncDisposable
{
    private OwnPostgres(int port, string dir, string connectionString)
    {
        Port = port;
        Dir = dir;
        ConnectionString = connectionString;
    }

    public int Port { get; }
    public string Dir { get; }

    /// <summary>The server's connection string (no database).</summary>
    public string ConnectionString { get; }

    public static async Task<OwnPostgres> StartAsync()
    {
        var port = CareWorkflows.Tests.Infrastructure.AppProcess.FreePort();
        var dir = Path.Combine(Path.GetTempPath(), $"cw-own-pg-{port}");
        var cs = await RunScriptAsync(port, dir);
        return new OwnPostgres(port, dir, cs);
    }

    /// <summary>A new empty database on this server.</summary>
    public async Task<string> NewDatabaseAsync(string name)
    {
        await using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "postgres", Pooling = false }.ToString());
        await c.OpenAsync();
        await c.ExecuteAsync($"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ToString();
    }

    /// <summary>SIGKILL to the postmaster and every backend (no shutdown, no checkpoint), and waits until all are gone.</summary>
    public async Task KillAsync()
    {
        var pidFile = Path.Combine(Dir, "postmaster.pid");
        if (!File.Exists(pidFile)) return;
        var postmaster = int.Parse(File.ReadLines(pidFile).First(), System.Globalization.CultureInfo.InvariantCulture);
        var victims = new List<System.Diagnostics.Process>();
        foreach (var d in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(d), out var pid)) continue;
            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
                var stat = await File.ReadAllTextAsync(Path.Combine(d, "stat"));
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                if (pid == postmaster || ppid == postmaster) victims.Add(System.Diagnostics.Process.GetProcessById(pid));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or FormatException) { }
        }
        foreach (var p in victims.OrderBy(p => p.Id == postmaster ? 0 : 1))
            try { p.Kill(); } catch (InvalidOperationException) { }
        // Gone means no longer in /proc or a zombie (its memory, and so the server's shared memory, released). A backend in
        // the middle of an fsync can take a moment to die; PostgreSQL refuses to start while one still holds the memory.
        var until = DateTime.UtcNow.AddSeconds(30);
        bool Alive(int pid)
        {
            try { return File.ReadAllText($"/proc/{pid}/stat") is var stat && stat[(stat.LastIndexOf(')') + 2)] != 'Z'; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        }
        while (victims.Any(p => Alive(p.Id)) && DateTime.UtcNow < until) await Task.Delay(50);
        // A killed postmaster can linger as a zombie where PID 1 is slow to reap (this sandbox's init): pg_ctl would then take
        // its pid for a live server and not start one. Every process is dead, so the lock file is stale: removed.
        if (!victims.Any(p => Alive(p.Id))) File.Delete(pidFile);
    }

    /// <summary>
    /// Starts the server again on its data directory (crash recovery replays the WAL); returns when it takes connections.
    /// Tried up to five times, two seconds apart, as an operator would if the first start found the old memory still held.
    /// </summary>
    public async Task RestartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            try { await RunScriptAsync(Port, Dir); return; }
            catch (InvalidOperationException e) when (attempt < 5)
            {
                ProcessTestKit.Report($"PostgreSQL restart attempt {attempt} failed, trying again: {e.Message.ReplaceLineEndings(" ")} {LogTail()}");
                await Task.Delay(2000);
            }
            catch (InvalidOperationException e) { throw new InvalidOperationException($"{e.Message}\n{LogTail()}", e); }
        }
    }

    private string LogTail()
    {
        try { return "log: " + string.Join(" | ", File.ReadLines(Path.Combine(Dir, "log")).TakeLast(8)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    private static async Task<string> RunScriptAsync(int port, string dir)
    {
        // functions/bin/<configuration>/net10.0/app.dll → the repository
        var root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(CareWorkflows.Tests.Infrastructure.AppProcess.AppDll)!, "..", "..", "..", ".."));
        var psi = new System.Diagnostics.ProcessStartInfo("bash", [Path.Combine(root, "scripts", "postgres.sh"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), dir])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["PG_DURABLE"] = "1";
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (p.ExitCode != 0) throw new InvalidOperationException($"scripts/postgres.sh failed ({p.ExitCode}): {await stderr}");
        return (await stdout).Trim();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await KillAsync();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
