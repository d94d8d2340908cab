using System.Diagnostics;
using Npgsql;

namespace CareWorkflows.Bench;

/// <summary>
/// Timers seeded in bulk (issue 16), for the sections timer-load (uniform loads of 500, 1,667 and 5,000 due per second, and a
/// burst of 100,000 due at once) and timers-1m (1,000,000 pending with 100,000 coming due): on our server (PostgreSQL),
/// Hangfire (8 or 16 schedulers), Quartz.NET and the raw SKIP LOCKED loop.
/// The pending timers (far in the future, never due in the run) are seeded once per system and size into a template
/// database (cwb_tpl_*, ANALYZEd), which each repeat copies with CREATE DATABASE … TEMPLATE; the due timers are then written
/// into the copy with COPY (see <see cref="TimerSeed"/>), ANALYZE runs, and only then does the system start.
/// Lateness = when the fired work ran − its due time; timers not fired by the cap count at the cap (a lower bound).
/// Peak RSS is this process's after seeding (the kernel's high-water mark is reset once the rows are written): the system
/// running, not the bench writing rows.
/// </summary>
public static class TimersBulk
{
    /// <summary><paramref name="Window"/> zero: a burst, every due timer due at the same moment.</summary>
    public sealed record Plan(int Pending, int Due, TimeSpan Window, TimeSpan Cap);

    public static string Kind(string system) => system.StartsWith("hangfire", StringComparison.Ordinal) ? "hangfire" : system;

    public static async Task<Dictionary<string, object>> RunAsync(ChildContext x, string system, Plan p)
    {
        var kind = Kind(system);
        var template = $"cwb_tpl_{kind.Replace("-", "")}_{p.Pending}";
        var sw = Stopwatch.StartNew();
        var seededTemplate = !Pg.Exists(x.PgServer, template);
        if (seededTemplate) await SeedTemplateAsync(x, kind, template, p.Pending);
        var templateSeconds = sw.Elapsed.TotalSeconds;

        sw.Restart();
        var cs = x.NewPgDatabase("cwb_tl", template);
        var cloneSeconds = sw.Elapsed.TotalSeconds;

        // The system starts first, idles for 1 s (connected, polling) and fires a warm-up; then the due timers are written, due after the
        // writing and ANALYZE (estimated per row, generously), as another node of the system would write them.
        long startMs = long.MaxValue / 2, capMs = long.MaxValue / 2;
        var stepMicros = p.Due > 0 ? (long)(p.Window.TotalMilliseconds * 1000 / p.Due) : 0;
        List<double> fired = [];
        double last = 0;
        int misfires = 0;
        Workloads.Reset(); HangfireJob.Reset(); QuartzTimerJob.Reset();
        Task running = kind switch
        {
            "ours-pg" => Task.Run(async () =>
            {
                await using var e = await Engine.StartAsync("ours-pg", x, Workloads.Register, cs);
                while (Interlocked.Read(ref Workloads.Done) < p.Due && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < Volatile.Read(ref capMs)) await Task.Delay(100);
            }),
            "hangfire" => Task.Run(() => Timers.HangfireServeAsync(TimerSeed.HangfireStorage(cs), system == "hangfire-8" ? 8 : 16, p.Due, () => Volatile.Read(ref capMs))),
            "quartz" => Task.Run(() => QuartzTimers.RunAsync(cs, p.Due, () => Volatile.Read(ref capMs))),
            _ => Task.Run(async () => (fired, last) = await Timers.RawFireAsync(cs, p.Due, () => Volatile.Read(ref capMs), () => Volatile.Read(ref startMs))),
        };
        await Task.Delay(1000);
        if (running.IsCompleted) await running; // failed to start

        // Warm-up (not counted): 200 timers due at once through the same path — JIT, pools, prepared statements — as a
        // node that has been running would have them; then the counters start again. The raw loop's firing statement
        // is its polling statement, warm already.
        var warmed = kind == "raw-pg" ? "" : await WarmUpAsync(cs, kind, p.Pending + p.Due);
        if (running.IsCompleted) await running;

        // Allowance per row written: about twice what the writing took in the idle full run of 2026-11-30 (100,000 rows: ours
        // 4–5 s, Hangfire 6–7 s, Quartz 4–5 s, raw 0.6 s), stretched by the load average per core, at most 2× — the
        // bench's own children keep the load average near 3–5 on an idle machine; a larger stretch only idled. A run whose
        // writing still overruns the first due time says so in its note.
        var perRowMicros = kind switch { "ours-pg" => 60, "hangfire" => 80, "quartz" => 60, _ => 10 };
        var busy = Math.Clamp(double.Parse(Machine.LoadAverage().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / Machine.Cores / 2, 1, 2);
        var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 2000 + (long)(p.Due * perRowMicros * busy / 1000);
        HangfireJob.Plan(start, stepMicros, p.Pending);
        QuartzTimerJob.Plan(start, stepMicros, p.Pending);
        var timers = Enumerable.Range(0, p.Due).Select(k => (Index: p.Pending + k, DueMs: start + k * stepMicros / 1000)).ToList();
        sw.Restart();
        await SeedAsync(cs, kind, timers);
        await TimerSeed.ExecAsync(cs, "ANALYZE" + (kind == "ours-pg" ? $"; NOTIFY {CareWorkflows.TaskHub.Postgres.PostgresTaskHubStore.WorkChannel}" : ""));
        var dueSeedSeconds = sw.Elapsed.TotalSeconds;
        var seededAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Volatile.Write(ref startMs, start);
        Volatile.Write(ref capMs, start + (long)p.Window.TotalMilliseconds + (long)p.Cap.TotalMilliseconds);
        timers = null!;
        GC.Collect();
        var rssReset = true;
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } // resets VmHWM: the peak RSS reported is the system's from here on
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { rssReset = false; }
        await running;
        switch (kind)
        {
            case "ours-pg": fired = Workloads.LatenessMs.ToList(); last = Interlocked.Read(ref Workloads.LastFiredMs); break;
            case "hangfire": fired = HangfireJob.Lateness(); last = HangfireJob.LastFiredMs; break;
            case "quartz": fired = QuartzTimerJob.Lateness(); last = QuartzTimerJob.LastFiredMs; misfires = QuartzTimerJob.Misfires; break;
        }
        var end = Math.Min(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), capMs);
        var count = fired.Count;
        var late = Timers.WithUnfired(fired, p.Due, count, startMs, stepMicros, end);
        var note = warmed + (rssReset ? "" : "peak RSS includes the seeding (clear_refs refused); ") + (seededAt > startMs ? $"seeding overran the first due time by {seededAt - startMs} ms; " : "") +
                   (count < p.Due ? $"{p.Due - count:N0} not fired by the cap" : "");
        var result = Timers.Summarise(late, count, p.Due, startMs, last, note.TrimEnd(' ', ';'));
        // A burst's drain: from the moment all came due to the last one fired (null when some were left at the cap).
        result["drainSeconds"] = count >= p.Due ? Math.Round(Math.Max(0, last - startMs - p.Window.TotalMilliseconds) / 1000.0, 2) : double.NaN;
        // Not drained by the cap: how long it would take at the rate reached (an extrapolation, labelled so).
        result["drainEstimateSeconds"] = count < p.Due && count > 0 ? Math.Round(p.Due / Math.Max((double)result["firedPerSecond"], 0.001), 0) : double.NaN;
        result["misfires"] = kind == "quartz" ? misfires : double.NaN;
        result["templateSeedSeconds"] = seededTemplate ? Math.Round(templateSeconds, 1) : double.NaN;
        result["cloneSeconds"] = Math.Round(cloneSeconds, 1);
        result["dueSeedSeconds"] = Math.Round(dueSeedSeconds, 1);
        return result;
    }

    private const int WarmUpTimers = 200;

    /// <summary>Fires <see cref="WarmUpTimers"/> timers (indices from <paramref name="firstIndex"/>) and resets the counters; a note if some did not fire in 15 s.</summary>
    private static async Task<string> WarmUpAsync(string cs, string kind, int firstIndex)
    {
        var due = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1000;
        HangfireJob.Plan(due, 0, firstIndex);
        QuartzTimerJob.Plan(due, 0, firstIndex);
        await SeedAsync(cs, kind, Enumerable.Range(firstIndex, WarmUpTimers).Select(i => (Index: i, DueMs: due)).ToList());
        if (kind == "ours-pg") await TimerSeed.ExecAsync(cs, $"NOTIFY {CareWorkflows.TaskHub.Postgres.PostgresTaskHubStore.WorkChannel}");
        long Fired() => kind switch { "ours-pg" => Interlocked.Read(ref Workloads.Done), "hangfire" => HangfireJob.Count, _ => QuartzTimerJob.Count };
        var until = DateTime.UtcNow.AddSeconds(15);
        while (Fired() < WarmUpTimers && DateTime.UtcNow < until) await Task.Delay(50);
        var fired = Fired();
        Workloads.Reset(); HangfireJob.Reset(); QuartzTimerJob.Reset();
        return fired < WarmUpTimers ? $"warm-up: {fired} of {WarmUpTimers} fired in 15 s; " : "";
    }

    /// <summary>Seeds <paramref name="pending"/> far-future timers (indices 0..pending−1) into a new template database.</summary>
    private static async Task SeedTemplateAsync(ChildContext x, string kind, string template, int pending)
    {
        var building = template + "_w";
        var admin = new NpgsqlConnectionStringBuilder(x.PgServer) { Database = "postgres", Pooling = false }.ToString();
        await TimerSeed.ExecAsync(admin, $"DROP DATABASE IF EXISTS {building} WITH (FORCE); CREATE DATABASE {building}");
        var cs = new NpgsqlConnectionStringBuilder(x.PgServer) { Database = building }.ToString();
        switch (kind)
        {
            case "ours-pg": await TimerSeed.OursCreateSampleAsync(x, cs); await TimerSeed.OursVerifyCloneAsync(x, cs); break;
            case "hangfire": await TimerSeed.HangfireCreateSampleAsync(cs); break;
            case "quartz": await TimerSeed.QuartzCreateSampleAsync(cs); break;
            default: await TimerSeed.ExecAsync(cs, TimerSeed.RawSchema + "CREATE TABLE bench_sample (id TEXT NOT NULL, due_ms BIGINT NOT NULL);"); break;
        }
        var farMs = DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeMilliseconds();
        // Far-future due times, 1 ms apart: never due within a run.
        var timers = Enumerable.Range(0, pending).Select(i => (Index: i, DueMs: farMs + i)).ToList();
        await SeedAsync(cs, kind, timers);
        await TimerSeed.ExecAsync(cs, "VACUUM ANALYZE");
        await using var c = new NpgsqlConnection(admin);
        await c.OpenAsync();
        Pg.Disconnect(c, building);
        await using var rename = new NpgsqlCommand($"ALTER DATABASE {building} RENAME TO {template}", c);
        await rename.ExecuteNonQueryAsync();
    }

    private static async Task SeedAsync(string cs, string kind, List<(int Index, long DueMs)> timers)
    {
        if (timers.Count == 0) return;
        switch (kind)
        {
            case "ours-pg": await TimerSeed.OursCopyAsync(cs, await TimerSeed.OursReadSampleAsync(cs), timers); break;
            case "hangfire": await TimerSeed.HangfireCopyAsync(cs, await TimerSeed.HangfireReadSampleAsync(cs), timers); break;
            case "quartz": await TimerSeed.QuartzCopyAsync(cs, await TimerSeed.QuartzReadSampleAsync(cs), timers); break;
            default: await TimerSeed.RawCopyAsync(cs, timers); break;
        }
    }
}
