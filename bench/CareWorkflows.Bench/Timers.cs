using System.Collections.Concurrent;
using System.Diagnostics;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.States;
using Microsoft.DurableTask.Client;
using Npgsql;

namespace CareWorkflows.Bench;

/// <summary>
/// Timers: <c>pending</c> timers far in the future plus <c>due</c> timers coming due evenly over a window, on each
/// system; lateness = when the fired work ran − its due time. Timers not fired by the cap count with their lateness at the
/// cap (a lower bound), so they stay in the percentiles.
/// </summary>
public static class Timers
{
    public sealed record Plan(int Pending, int Due, TimeSpan Window, TimeSpan Cap);

    public static Dictionary<string, object> Summarise(List<double> late, int fired, int due, double firstDueMs, double lastFiredMs, string note)
    {
        late.Sort();
        var seconds = Math.Max((lastFiredMs - firstDueMs) / 1000.0, 0.001);
        return new()
        {
            ["due"] = due,
            ["fired"] = fired,
            ["firedPerSecond"] = Math.Round(fired / seconds, 1),
            ["p50Ms"] = Math.Round(Stats.Percentile(late, 50), 1),
            ["p99Ms"] = Math.Round(Stats.Percentile(late, 99), 1),
            ["maxMs"] = late.Count > 0 ? Math.Round(late[^1], 1) : double.NaN,
            ["note"] = note,
        };
    }

    public static List<double> WithUnfired(IEnumerable<double> fired, int due, int firedCount, long startMs, long stepMicros, long capMs)
    {
        var late = fired.ToList();
        // Unfired: the latest-due ones, counted as late as the cap (lower bound).
        for (var i = firedCount; i < due; i++) late.Add(capMs - (startMs + i * stepMicros / 1000.0));
        return late;
    }

    /// <summary>Our server: one orchestration per timer (Microsoft's worker and client over gRPC).</summary>
    public static async Task<Dictionary<string, object>> OursAsync(ChildContext x, string system, Plan p)
    {
        await using var e = await Engine.StartAsync(system, x, Workloads.Register);
        var farMs = DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeMilliseconds();
        var sw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, p.Pending), new ParallelOptions { MaxDegreeOfParallelism = 32 },
            async (i, ct) => await e.Client.ScheduleNewOrchestrationInstanceAsync("Timer", farMs + i, ct));
        var rate = p.Pending > 0 ? p.Pending / Math.Max(sw.Elapsed.TotalSeconds, 0.001) : 300;
        while (Interlocked.Read(ref Workloads.Episodes) < p.Pending) await Task.Delay(100); // every pending timer is stored
        Workloads.Reset();
        var startMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)(p.Due / Math.Min(rate, 2000) * 1500) + 3000;
        var stepMicros = (long)(p.Window.TotalMilliseconds * 1000 / p.Due);
        await Parallel.ForEachAsync(Enumerable.Range(0, p.Due), new ParallelOptions { MaxDegreeOfParallelism = 32 },
            async (i, ct) => await e.Client.ScheduleNewOrchestrationInstanceAsync("Timer", startMs + i * stepMicros / 1000, ct));
        var seededAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var capMs = startMs + (long)p.Window.TotalMilliseconds + (long)p.Cap.TotalMilliseconds;
        while (Interlocked.Read(ref Workloads.Done) < p.Due && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < capMs) await Task.Delay(100);
        var fired = Workloads.LatenessMs.ToList();
        var end = Math.Min(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), capMs);
        var late = WithUnfired(fired, p.Due, fired.Count, startMs, stepMicros, end);
        var note = (seededAt > startMs ? $"seeding overran the first due time by {seededAt - startMs} ms; " : "") +
                   (fired.Count < p.Due ? $"{p.Due - fired.Count:N0} not fired by the cap" : "");
        return Summarise(late, fired.Count, p.Due, startMs, Interlocked.Read(ref Workloads.LastFiredMs), note);
    }

    /// <summary>Hangfire 1.8 + Hangfire.PostgreSql, tuned: 20 workers, schedulers in parallel, fast polling, ANALYZE after seeding.</summary>
    public static async Task<Dictionary<string, object>> HangfireAsync(ChildContext x, Plan p, int schedulerParallelism)
    {
        var cs = x.NewPgDatabase("cwb_hf");
        var hfOptions = new PostgreSqlStorageOptions { PrepareSchemaIfNecessary = true, QueuePollInterval = TimeSpan.FromMilliseconds(100), EnableLongPolling = true };
        var storage = new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(cs, hfOptions), hfOptions);
        var client = new BackgroundJobClient(storage);
        HangfireJob.Reset();
        var total = p.Pending + p.Due;
        var ids = new string[total];
        var far = DateTime.UtcNow.AddDays(30);
        await Parallel.ForEachAsync(Enumerable.Range(0, total), new ParallelOptions { MaxDegreeOfParallelism = 16 }, (i, _) =>
        {
            ids[i] = client.Create(() => HangfireJob.Run(i), new ScheduledState(far));
            return ValueTask.CompletedTask;
        });
        // The due slice: scores moved in one UPDATE (so the slow creation does not eat the window), then ANALYZE.
        var startMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 3000;
        var stepMicros = (long)(p.Window.TotalMilliseconds * 1000 / p.Due);
        HangfireJob.Plan(startMs, stepMicros, p.Pending);
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "UPDATE hangfire.set s SET score = v.score FROM unnest(@ids, @scores) AS v(id, score) WHERE s.key = 'schedule' AND s.value = v.id", c) { CommandTimeout = 600 };
            cmd.Parameters.AddWithValue("ids", ids[p.Pending..]);
            cmd.Parameters.AddWithValue("scores", Enumerable.Range(0, p.Due).Select(i => (startMs + i * stepMicros / 1000.0) / 1000.0).ToArray());
            await cmd.ExecuteNonQueryAsync();
            await using var an = new NpgsqlCommand("ANALYZE", c);
            await an.ExecuteNonQueryAsync();
        }
        var capMs = startMs + (long)p.Window.TotalMilliseconds + (long)p.Cap.TotalMilliseconds;
        await HangfireServeAsync(storage, schedulerParallelism, p.Due, () => capMs);
        var fired = HangfireJob.Lateness();
        var late = WithUnfired(fired, p.Due, fired.Count, startMs, stepMicros, Math.Min(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), capMs));
        return Summarise(late, fired.Count, p.Due, startMs, HangfireJob.LastFiredMs, fired.Count < p.Due ? $"{p.Due - fired.Count:N0} not fired by the cap" : "");
    }

    /// <summary>Hangfire's server, tuned: 20 workers, schedulers in parallel, 200 ms schedule polling; until all due ran or the cap.</summary>
    public static async Task HangfireServeAsync(JobStorage storage, int schedulerParallelism, int due, Func<long> capMs)
    {
        var options = new BackgroundJobServerOptions
        {
            WorkerCount = 20,
            SchedulePollingInterval = TimeSpan.FromMilliseconds(200),
            MaxDegreeOfParallelismForSchedulers = schedulerParallelism,
            ServerCheckInterval = TimeSpan.FromSeconds(30),
        };
        using var server = new BackgroundJobServer(options, storage);
        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < capMs() && HangfireJob.Count < due) await Task.Delay(100);
        server.SendStop();
    }

    /// <summary>
    /// The raw limit: a PostgreSQL table of timers and 8 loops claiming due rows with FOR UPDATE SKIP LOCKED, deleting them
    /// and writing a fired row in the same transaction (what a timer firing must at least do), 100 at a time.
    /// </summary>
    public static async Task<Dictionary<string, object>> RawAsync(ChildContext x, Plan p)
    {
        var cs = x.NewPgDatabase("cwb_raw");
        var startMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 3000;
        var stepMicros = (long)(p.Window.TotalMilliseconds * 1000 / p.Due);
        var farMs = DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeMilliseconds();
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "CREATE TABLE timers (id BIGINT PRIMARY KEY, due_ms BIGINT NOT NULL, payload TEXT NOT NULL); CREATE INDEX ix_timers_due ON timers (due_ms, id);" +
                "CREATE TABLE fired (id BIGINT PRIMARY KEY, due_ms BIGINT NOT NULL, fired_ms BIGINT NOT NULL);" +
                "INSERT INTO timers SELECT g, @far + g, 'pending' FROM generate_series(1, @pending) g;" +
                "INSERT INTO timers SELECT -g, @start + (g - 1) * @step / 1000, 'due' FROM generate_series(1, @due) g; ANALYZE;", c) { CommandTimeout = 600 };
            cmd.Parameters.AddWithValue("far", farMs); cmd.Parameters.AddWithValue("pending", p.Pending);
            cmd.Parameters.AddWithValue("start", startMs); cmd.Parameters.AddWithValue("step", stepMicros); cmd.Parameters.AddWithValue("due", p.Due);
            await cmd.ExecuteNonQueryAsync();
        }
        var capMs = startMs + (long)p.Window.TotalMilliseconds + (long)p.Cap.TotalMilliseconds;
        var (late, last) = await RawFireAsync(cs, p.Due, () => capMs, () => startMs);
        var firedCount = late.Count;
        late = WithUnfired(late, p.Due, firedCount, startMs, stepMicros, Math.Min(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), capMs));
        return Summarise(late, firedCount, p.Due, startMs, last, firedCount < p.Due ? $"{p.Due - firedCount:N0} not fired by the cap" : "");
    }

    /// <summary>The raw loops on a seeded timers table until <paramref name="due"/> fired or the cap: (lateness of each fired, last fired ms).</summary>
    public static async Task<(List<double> Late, double LastFiredMs)> RawFireAsync(string cs, int due, Func<long> capMs, Func<long> startMs)
    {
        long count = 0;
        var loops = Enumerable.Range(0, 8).Select(async _ =>
        {
            await using var c = new NpgsqlConnection(cs);
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "WITH due AS (SELECT id, due_ms FROM timers WHERE due_ms <= @now ORDER BY due_ms LIMIT 100 FOR UPDATE SKIP LOCKED), " +
                "gone AS (DELETE FROM timers t USING due WHERE t.id = due.id RETURNING t.id, t.due_ms) " +
                "INSERT INTO fired SELECT id, due_ms, (extract(epoch from clock_timestamp()) * 1000)::bigint FROM gone", c);
            var now = cmd.Parameters.AddWithValue("now", 0L);
            await cmd.PrepareAsync();
            while (Interlocked.Read(ref count) < due && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < capMs())
            {
                now.Value = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                var n = await cmd.ExecuteNonQueryAsync();
                if (n > 0) Interlocked.Add(ref count, n); else await Task.Delay(10);
            }
        }).ToList();
        await Task.WhenAll(loops);
        var late = new List<double>();
        double last = startMs();
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT fired_ms - due_ms, fired_ms FROM fired", c);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) { late.Add(r.GetInt64(0)); last = Math.Max(last, r.GetInt64(1)); }
        }
        return (late, last);
    }
}

/// <summary>Hangfire's job: records when it ran against when it was due.</summary>
public static class HangfireJob
{
    private static ConcurrentQueue<double> _late = new();
    private static int _count;
    private static long _last, _start, _step, _offset;

    public static void Reset() { _late = new(); _count = 0; _last = 0; }
    public static void Plan(long startMs, long stepMicros, int offset) { _start = startMs; _step = stepMicros; _offset = offset; }
    public static int Count => Volatile.Read(ref _count);
    public static double LastFiredMs => Interlocked.Read(ref _last);
    public static List<double> Lateness() => _late.ToList();

    public static void Run(int i)
    {
        if (i < _offset) return; // a pending one (never due in the run)
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _late.Enqueue(now - (_start + (i - _offset) * _step / 1000.0));
        long seen;
        while ((seen = Interlocked.Read(ref _last)) < now && Interlocked.CompareExchange(ref _last, now, seen) != seen) { }
        Interlocked.Increment(ref _count);
    }
}
