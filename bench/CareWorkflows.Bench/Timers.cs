using System.Collections.Concurrent;
using System.Diagnostics;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.States;
using CareWorkflows.Runtime.Postgres;
using Npgsql;
using NodaTime;

namespace CareWorkflows.Bench;

public sealed record FireResult(string Name, int Scheduled, int Fired, double Seconds, double Throughput, double P50, double P99, double Max, string Note);

/// <summary>
/// Timers: N pending timers stored (COPY), M of them coming due spread over one window; the real TimerPump in
/// RuntimeLoops with the system clock fires them. Lateness = when the transition decided (its event's time) − due.
/// Then the peer: the same M delayed jobs, same due pattern, through Hangfire on the same PostgreSQL server.
/// </summary>
public static class Timers
{
    public static async Task<(FireResult Result, string Database)> RunOursAsync(BenchOptions o)
    {
        var cs = Pg.NewDatabase(o.PostgresServer, "cwbench_tm");
        var store = new PostgresWorkflowStore(cs);
        await store.MigrateAsync();
        var far = Instant.FromUtc(2099, 1, 1, 0, 0);
        var sw = Stopwatch.StartNew();
        // Every instance gets one timer: the first M far out for now (set below), the rest days to months ahead.
        await Seed.CopyAsync(cs, "BEN", o.PendingTimers, i => far + Duration.FromSeconds(i));
        Console.WriteLine($"  stored {o.PendingTimers:N0} instances + pending timers by COPY in {sw.Elapsed.TotalSeconds:F0} s");

        var dueCount = o.DueTimers;
        var start = SystemClock.Instance.GetCurrentInstant() + Duration.FromSeconds(5);
        var stepTicks = o.DueSpread.Ticks / dueCount;
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "UPDATE timers SET due_at = @start + CAST(substring(reference from 5) AS BIGINT) * @step WHERE reference < @limit", c) { CommandTimeout = 600 };
            cmd.Parameters.AddWithValue("start", start.ToUnixTimeTicks());
            cmd.Parameters.AddWithValue("step", stepTicks);
            cmd.Parameters.AddWithValue("limit", Seed.Ref("BEN", dueCount));
            var n = await cmd.ExecuteNonQueryAsync();
            if (n != dueCount) throw new InvalidOperationException($"set {n} due timers");
            await using var an = new NpgsqlCommand("ANALYZE timers", c);
            await an.ExecuteNonQueryAsync();
        }
        Console.WriteLine($"  {dueCount:N0} timers due from +5 s over {o.DueSpread.TotalSeconds:F0} s; pump running");

        var bench = new BenchRuntime(store);
        using var stop = new CancellationTokenSource();
        await bench.Loops.StartAsync(stop.Token);
        var deadline = start + Duration.FromTimeSpan(o.DueSpread) + Duration.FromMinutes(2);
        long fired = 0;
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            while (SystemClock.Instance.GetCurrentInstant() < deadline)
            {
                await Task.Delay(1000);
                await using var cmd = new NpgsqlCommand("SELECT count(*) FROM events WHERE type = 'Fired'", c);
                fired = (long)(await cmd.ExecuteScalarAsync())!;
                if (fired >= dueCount) break;
            }
        }
        await bench.Loops.StopAsync(CancellationToken.None);

        var late = new List<double>(dueCount);
        long lastAt = 0;
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT reference, at FROM events WHERE type = 'Fired'", c);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                var idx = long.Parse(r.GetString(0).AsSpan(4));
                var at = r.GetInt64(1);
                late.Add((at - (start.ToUnixTimeTicks() + idx * stepTicks)) / (double)TimeSpan.TicksPerMillisecond);
                lastAt = Math.Max(lastAt, at);
            }
        }
        late.Sort();
        var seconds = (lastAt - start.ToUnixTimeTicks()) / (double)TimeSpan.TicksPerSecond;
        var early = late.Count(l => l < 0);
        return (new FireResult("CareWorkflows TimerPump", dueCount, late.Count, seconds, late.Count / seconds,
            Stats.Percentile(late, 50), Stats.Percentile(late, 99), late.Count > 0 ? late[^1] : double.NaN,
            early > 0 ? $"{early} fired early!" : ""), cs);
    }

    public static async Task<FireResult> RunHangfireAsync(BenchOptions o)
    {
        var cs = Pg.NewDatabase(o.PostgresServer, "cwbench_hf");
        // Tuned for lateness: fetch polling at 100 ms plus LISTEN/NOTIFY long polling, schedule polling every second.
        var hfOptions = new PostgreSqlStorageOptions
        {
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = TimeSpan.FromMilliseconds(100),
            EnableLongPolling = true,
        };
        var storage = new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(cs, hfOptions), hfOptions);
        var client = new BackgroundJobClient(storage);
        var count = o.DueTimers;
        HangfireJob.Reset(count);
        // Jobs are created through Hangfire's client API (one call per job, as an application would), in parallel, due
        // far out; then, like our timers, their due times are set in one UPDATE of Hangfire's schedule set, so the
        // creation time (slow) does not eat into the due window.
        var ids = new string[count];
        var far = new DateTime(2099, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var sw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, (i, _) =>
        {
            ids[i] = client.Create(() => HangfireJob.Run(i), new ScheduledState(far));
            return ValueTask.CompletedTask;
        });
        var scheduling = sw.Elapsed;
        Console.WriteLine($"  Hangfire: created {count:N0} scheduled jobs in {scheduling.TotalSeconds:F0} s ({count / scheduling.TotalSeconds:F0}/s)");
        var start = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5);
        var stepTicks = o.DueSpread.Ticks / count;
        HangfireJob.Plan(start.UtcTicks, stepTicks);
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "UPDATE hangfire.set s SET score = v.score FROM unnest(@ids, @scores) AS v(id, score) WHERE s.key = 'schedule' AND s.value = v.id", c) { CommandTimeout = 600 };
            cmd.Parameters.AddWithValue("ids", ids);
            cmd.Parameters.AddWithValue("scores", Enumerable.Range(0, count).Select(i => (start.UtcTicks + i * stepTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (double)TimeSpan.TicksPerSecond).ToArray());
            var n = await cmd.ExecuteNonQueryAsync();
            if (n != count) throw new InvalidOperationException($"Hangfire schedule: moved {n} of {count}");
        }
        var spill = "";

        var options = new BackgroundJobServerOptions
        {
            WorkerCount = 20,
            SchedulePollingInterval = TimeSpan.FromSeconds(1),
            ServerCheckInterval = TimeSpan.FromSeconds(30),
        };
        var cap = start + o.DueSpread + o.HangfireCap;
        using (var server = new BackgroundJobServer(options, storage))
        {
            while (DateTimeOffset.UtcNow < cap && HangfireJob.Count < count) await Task.Delay(500);
            server.SendStop();
        }
        var late = HangfireJob.Lateness();
        late.Sort();
        var lastFired = HangfireJob.LastFiredTicks;
        var seconds = (lastFired - start.UtcTicks) / (double)TimeSpan.TicksPerSecond;
        Pg.Drop(o.PostgresServer, cs);
        var note = spill + (late.Count < count ? $"stopped at the cap with {count - late.Count:N0} not fired" : "");
        return new FireResult("Hangfire 1.8.25 + Hangfire.PostgreSql 1.21.1", count, late.Count, seconds, late.Count / Math.Max(seconds, 0.001),
            Stats.Percentile(late, 50), Stats.Percentile(late, 99), late.Count > 0 ? late[^1] : double.NaN, note);
    }
}

/// <summary>The peer's job: records when it ran against when it was due.</summary>
public static class HangfireJob
{
    private static ConcurrentQueue<double> _late = new();
    private static int _count;
    private static long _last;

    private static long _start, _step;

    public static void Reset(int expected) { _late = new(); _count = 0; _last = 0; }
    public static void Plan(long startTicks, long stepTicks) { _start = startTicks; _step = stepTicks; }
    public static int Count => Volatile.Read(ref _count);
    public static long LastFiredTicks => Interlocked.Read(ref _last);
    public static List<double> Lateness() => _late.ToList();

    public static void Run(int i)
    {
        var dueTicks = _start + i * _step;
        var now = DateTimeOffset.UtcNow.UtcTicks;
        _late.Enqueue((now - dueTicks) / (double)TimeSpan.TicksPerMillisecond);
        long seen;
        while ((seen = Interlocked.Read(ref _last)) < now && Interlocked.CompareExchange(ref _last, now, seen) != seen) { }
        Interlocked.Increment(ref _count);
    }
}
