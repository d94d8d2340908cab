using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace CareWorkflows.Bench;

/// <summary>What every engine runs: the same orchestrations and activities, counted in process.</summary>
public static class Workloads
{
    public static long Episodes, Activities, Done, LastDoneTicks, LastFiredMs;
    public static readonly ConcurrentQueue<double> LatenessMs = new();

    public static void Register(DurableTaskRegistry r)
    {
        // chain: an orchestrator calling 5 activities in sequence (the shape of Microsoft's published comparison).
        r.AddOrchestratorFunc<int, int>("Chain", async (ctx, n) =>
        {
            Interlocked.Increment(ref Episodes);
            var v = n;
            for (var i = 0; i < 5; i++) v = await ctx.CallActivityAsync<int>("Step", v);
            Finished(ctx);
            return v;
        });
        // fanout: 100 activities at once, then all their results (fan-out/fan-in).
        r.AddOrchestratorFunc<int, int>("FanOut", async (ctx, n) =>
        {
            Interlocked.Increment(ref Episodes);
            var all = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => ctx.CallActivityAsync<int>("Step", i)));
            Finished(ctx);
            return all.Sum();
        });
        // timer: one durable timer at the given due time (Unix ms); lateness = the episode that sees it fire − due.
        r.AddOrchestratorFunc<long, long>("Timer", async (ctx, dueMs) =>
        {
            Interlocked.Increment(ref Episodes);
            await ctx.CreateTimer(DateTimeOffset.FromUnixTimeMilliseconds(dueMs).UtcDateTime, CancellationToken.None);
            if (!ctx.IsReplaying)
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                LatenessMs.Enqueue(now - dueMs);
                long seen;
                while ((seen = Interlocked.Read(ref LastFiredMs)) < now && Interlocked.CompareExchange(ref LastFiredMs, now, seen) != seen) { }
            }
            Finished(ctx);
            return dueMs;
        });
        r.AddActivityFunc<int, int>("Step", (_, v) =>
        {
            Interlocked.Increment(ref Activities);
            return v + 1;
        });
    }

    /// <summary>Committed transactions in the database so far (pg_stat_database); 0 where there is none.</summary>
    private static async Task<long> CommitsAsync(string? database)
    {
        if (database is null) return 0;
        await using var c = new Npgsql.NpgsqlConnection(database);
        await c.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()", c);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static void Finished(TaskOrchestrationContext ctx)
    {
        if (ctx.IsReplaying) return;
        Interlocked.Exchange(ref LastDoneTicks, Stopwatch.GetTimestamp());
        Interlocked.Increment(ref Done);
    }

    public static void Reset()
    {
        Episodes = Activities = Done = LastDoneTicks = LastFiredMs = 0;
        LatenessMs.Clear();
    }

    /// <summary>
    /// Starts <paramref name="count"/> instances of <paramref name="orchestration"/> (32 at a time, as a busy front end
    /// would) and waits until all have run their last episode. Work items = orchestration episodes + activity executions,
    /// as counted in the worker.
    /// </summary>
    public static async Task<Dictionary<string, object>> ThroughputAsync(Engine e, string orchestration, int count, TimeSpan cap)
    {
        // Warm-up: a few instances through every code path (JIT, pools, prepared statements), not counted.
        var warm = new List<string>();
        for (var i = 0; i < 4; i++) warm.Add(await e.Client.ScheduleNewOrchestrationInstanceAsync(orchestration, 1));
        foreach (var id in warm)
        {
            using var w = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await e.Client.WaitForInstanceCompletionAsync(id, w.Token);
        }
        Reset();
        var tx0 = await CommitsAsync(e.Database);
        var pgCpu0 = e.Database is null ? null : Machine.PostgresCpuMs(e.Database);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var t0 = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32 },
            async (i, ct) => await e.Client.ScheduleNewOrchestrationInstanceAsync(orchestration, i, ct));
        var scheduledSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var until = Stopwatch.GetTimestamp() + (long)(cap.TotalSeconds * Stopwatch.Frequency);
        while (Interlocked.Read(ref Done) < count && Stopwatch.GetTimestamp() < until) await Task.Delay(50);
        var done = Interlocked.Read(ref Done);
        var end = done >= count ? Interlocked.Read(ref LastDoneTicks) : Stopwatch.GetTimestamp();
        var seconds = Stopwatch.GetElapsedTime(t0, end).TotalSeconds;
        var items = Interlocked.Read(ref Episodes) + Interlocked.Read(ref Activities);
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds;
        await Task.Delay(1500); // PostgreSQL flushes backends' statistics about once a second
        var tx = await CommitsAsync(e.Database) - tx0;
        var pgCpu = e.Database is null ? null : Machine.PostgresCpuMs(e.Database) - pgCpu0;
        return new()
        {
            ["pgCommitsPerWorkItem"] = e.Database is null ? double.NaN : Math.Round(tx / (double)Math.Max(items, 1), 2),
            ["instances"] = count,
            ["completed"] = done,
            ["workItems"] = items,
            ["seconds"] = Math.Round(seconds, 2),
            ["workItemsPerSecond"] = Math.Round(items / seconds, 1),
            ["scheduleSeconds"] = Math.Round(scheduledSeconds, 2),
            ["processCpuMsPerWorkItem"] = Math.Round(cpu / Math.Max(items, 1), 3),
            // PostgreSQL's CPU per work item (its postmaster and children; the 1.5 s wait above adds only idle time).
            ["pgCpuMsPerWorkItem"] = pgCpu is { } pc ? Math.Round(pc / Math.Max(items, 1), 3) : double.NaN,
            // If CPU were the only limit: all cores ÷ (app + PostgreSQL CPU per work item). A ceiling, not a measurement.
            ["cpuBoundCeilingPerSecond"] = Math.Round(Machine.Cores * 1000.0 / (cpu / Math.Max(items, 1) + (pgCpu ?? 0) / Math.Max(items, 1)), 0),
            ["note"] = done < count ? $"stopped at the {cap.TotalSeconds:F0} s cap with {count - done} of {count} unfinished" : "",
        };
    }
}
