using System.Collections.Concurrent;
using System.Collections.Specialized;
using Quartz;

namespace CareWorkflows.Bench;

/// <summary>
/// The Quartz.NET 4.7.3 peer (issue 16): AdoJobStore (JobStoreTX) on PostgreSQL through Npgsql with the PostgreSQL delegate,
/// clustered (row locks in qrtz_locks, as several nodes would run it), triggers acquired in batches of 20 (4.7.3 refuses more than its threads), 20 threads, and
/// the misfire threshold at its default of 60 s (a trigger later than that is a misfire: counted, and fired at once by
/// the one-shot trigger's smart policy), idle wait at its least (1 s; Hangfire polls its schedule every 200 ms). One job and one simple trigger per timer, as an application schedules one.
/// </summary>
public static class QuartzTimers
{
    public const int BatchAcquisition = 20; // 4.7.3 refuses a batch larger than the thread pool
    public const int Threads = 20;
    public const int MisfireThresholdMs = 60_000;

    public static string Schema() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "quartz_tables_postgres.sql"));

    public static string Name(int index) => $"t{index:D9}";

    public static async Task<IScheduler> SchedulerAsync(string cs, string instanceId)
    {
        var props = new NameValueCollection
        {
            ["quartz.scheduler.instanceName"] = "bench",
            ["quartz.scheduler.instanceId"] = instanceId,
            ["quartz.threadPool.maxConcurrency"] = Threads.ToString(),
            ["quartz.scheduler.batchTriggerAcquisitionMaxCount"] = BatchAcquisition.ToString(),
            ["quartz.jobStore.type"] = "Quartz.Impl.AdoJobStore.JobStoreTX, Quartz",
            ["quartz.jobStore.driverDelegateType"] = "Quartz.Impl.AdoJobStore.PostgreSQLDelegate, Quartz",
            ["quartz.jobStore.tablePrefix"] = "qrtz_",
            ["quartz.jobStore.dataSource"] = "default",
            ["quartz.jobStore.clustered"] = "true",
            ["quartz.jobStore.misfireThreshold"] = MisfireThresholdMs.ToString(),
            // Its least: another node's new triggers (here: the ones the bench writes) are seen within a second.
            ["quartz.scheduler.idleWaitTime"] = "1000",
            ["quartz.dataSource.default.provider"] = "Npgsql",
            ["quartz.dataSource.default.connectionString"] = cs,
        };
        return await QuartzSchedulerBuilder.Create(_ => { }).UseProperties(props).BuildScheduler();
    }

    public static IJobDetail Job(int index) => JobBuilder.Create<QuartzTimerJob>().WithIdentity(Name(index), "bench").Build();

    public static ITrigger Trigger(int index, DateTimeOffset due) =>
        TriggerBuilder.Create().WithIdentity(Name(index), "bench").StartAt(due).WithSimpleSchedule(s => s.WithRepeatCount(0)).Build();

    /// <summary>Runs the scheduler on a seeded database until every due timer has fired or the cap.</summary>
    public static async Task RunAsync(string cs, int due, Func<long> capMs)
    {
        var scheduler = await SchedulerAsync(cs, "node1");
        scheduler.ListenerManager.AddTriggerListener(new MisfireCounter());
        await scheduler.Start();
        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < capMs() && QuartzTimerJob.Count < due) await Task.Delay(100);
        await scheduler.Shutdown(false);
    }

    private sealed class MisfireCounter : ITriggerListener
    {
        public string Name => "misfires";

        public ValueTask TriggerMisfired(ITrigger trigger, IScheduler scheduler, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref QuartzTimerJob.Misfires);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Quartz's job: records when it ran against when its timer was due (by the index in its trigger's name).</summary>
public sealed class QuartzTimerJob : IJob
{
    private static ConcurrentQueue<double> _late = new();
    private static int _count;
    private static long _last, _start, _step, _offset;
    public static int Misfires;

    public static void Reset() { _late = new(); _count = 0; _last = 0; Misfires = 0; }
    public static void Plan(long startMs, long stepMicros, int offset) { _start = startMs; _step = stepMicros; _offset = offset; }
    public static int Count => Volatile.Read(ref _count);
    public static double LastFiredMs => Interlocked.Read(ref _last);
    public static List<double> Lateness() => _late.ToList();

    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var i = int.Parse(context.Trigger.Key.Name.AsSpan(1));
        if (i < _offset) return ValueTask.CompletedTask; // a pending one (never due in the run)
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _late.Enqueue(now - (_start + (i - _offset) * _step / 1000.0));
        long seen;
        while ((seen = Interlocked.Read(ref _last)) < now && Interlocked.CompareExchange(ref _last, now, seen) != seen) { }
        Interlocked.Increment(ref _count);
        return ValueTask.CompletedTask;
    }
}
