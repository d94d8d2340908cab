using System.Collections.Concurrent;
using CareWorkflows.TaskHub.Engine;
using CareWorkflows.TaskHub.Store;
using CareWorkflows.Tests.Infrastructure;
using CareWorkflows.Tests.TaskHub;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using NodaTime;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.Tests.Reliability;

/// <summary>
/// The server's clock jumping backwards or forwards (NTP steps, a VM resumed, an operator's mistake) never delivers a
/// durable timer early or twice (issue 9, "Clock", re-run on the Durable Task server). The clock is a stepped test clock;
/// the store is real SQLite and PostgreSQL, with Microsoft's worker and client. Every claim is watched: a timer message
/// handed out with a fire time after the clock reading the claim used would be an early firing.
/// </summary>
public sealed class ClockJumpTests
{
    private static readonly Instant Base = Instant.FromUtc(2026, 3, 28, 12, 0);

    /// <summary>A clock moved by hand, backwards too; it can be told to jump right after its next reading.</summary>
    private sealed class SteppedClock(Instant start) : IAdjustableClock
    {
        private readonly Lock _gate = new();
        private Instant _now = start;
        private Instant? _afterNextRead;

        public Instant GetCurrentInstant()
        {
            lock (_gate)
            {
                var now = _now;
                if (_afterNextRead is { } next) { _now = next; _afterNextRead = null; }
                return now;
            }
        }

        /// <summary>Sets the clock (and forgets a jump still waiting for its reading).</summary>
        public void MoveTo(Instant to) { lock (_gate) { _now = to; _afterNextRead = null; } }

        /// <summary>The next reading returns the current time; every later one returns <paramref name="to"/>.</summary>
        public void JumpAfterNextRead(Instant to) { lock (_gate) _afterNextRead = to; }
    }

    /// <summary>The real store, with every orchestration claim checked: no timer message may be handed out before its time.</summary>
    private sealed class WatchedStore(ITaskHubStore inner) : ITaskHubStore
    {
        public readonly ConcurrentQueue<string> Early = new();
        public int TimersHandedOut;

        public async Task<IReadOnlyList<OrchestrationWorkItem>> ClaimOrchestrationsAsync(Instant now, string lockToken, Instant lockUntil, int max, CancellationToken ct = default)
        {
            var items = await inner.ClaimOrchestrationsAsync(now, lockToken, lockUntil, max, ct);
            foreach (var item in items)
                foreach (var m in item.Messages)
                    if (m.Event.TimerFired?.FireAt is { } fireAt)
                    {
                        Interlocked.Increment(ref TimersHandedOut);
                        if (Instant.FromDateTimeOffset(fireAt.ToDateTimeOffset()) > now) Early.Enqueue($"{item.InstanceId}: timer due {fireAt} handed out at {now}");
                    }
            return items;
        }

        public string Name => inner.Name;
        public Task MigrateAsync(CancellationToken ct = default) => inner.MigrateAsync(ct);
        public Task<bool> IsReadyAsync(CancellationToken ct = default) => inner.IsReadyAsync(ct);
        public Task<bool> CreateInstanceAsync(NewInstance instance, IReadOnlyCollection<P.OrchestrationStatus> replaceable, CancellationToken ct = default) => inner.CreateInstanceAsync(instance, replaceable, ct);
        public Task<InstanceRecord?> GetInstanceAsync(string instanceId, bool withPayloads, CancellationToken ct = default) => inner.GetInstanceAsync(instanceId, withPayloads, ct);
        public Task<InstancePage> QueryInstancesAsync(InstanceFilter filter, CancellationToken ct = default) => inner.QueryInstancesAsync(filter, ct);
        public Task<IReadOnlyList<string>> ListInstanceIdsAsync(InstanceIdPage page, CancellationToken ct = default) => inner.ListInstanceIdsAsync(page, ct);
        public Task<IReadOnlyList<P.HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken ct = default) => inner.GetHistoryAsync(instanceId, ct);
        public Task<EnqueueOutcome> EnqueueAsync(string instanceId, P.HistoryEvent message, Instant now, CancellationToken ct = default) => inner.EnqueueAsync(instanceId, message, now, ct);
        public Task<bool> TerminatePendingAsync(string instanceId, string? output, Instant now, CancellationToken ct = default) => inner.TerminatePendingAsync(instanceId, output, now, ct);
        public Task<IReadOnlyList<string>> ActiveChildrenAsync(string parentInstanceId, CancellationToken ct = default) => inner.ActiveChildrenAsync(parentInstanceId, ct);
        public Task<int> PurgeInstanceAsync(string instanceId, bool recursive, CancellationToken ct = default) => inner.PurgeInstanceAsync(instanceId, recursive, ct);
        public Task<int> PurgeInstancesAsync(PurgeFilter filter, CancellationToken ct = default) => inner.PurgeInstancesAsync(filter, ct);
        public Task<bool> CommitStepAsync(StepCommit step, CancellationToken ct = default) => inner.CommitStepAsync(step, ct);
        public Task DiscardAsync(string instanceId, string lockToken, IReadOnlyList<long> messageIds, Instant retryAt, CancellationToken ct = default) => inner.DiscardAsync(instanceId, lockToken, messageIds, retryAt, ct);
        public Task ReleaseOrchestrationAsync(string instanceId, string lockToken, Instant retryAt, CancellationToken ct = default) => inner.ReleaseOrchestrationAsync(instanceId, lockToken, retryAt, ct);
        public Task<IReadOnlyList<ActivityWorkItem>> ClaimActivitiesAsync(Instant now, string lockToken, Instant lockUntil, int max, CancellationToken ct = default) => inner.ClaimActivitiesAsync(now, lockToken, lockUntil, max, ct);
        public Task<bool> CompleteActivityAsync(long taskRowId, P.HistoryEvent result, Instant now, CancellationToken ct = default) => inner.CompleteActivityAsync(taskRowId, result, now, ct);
        public Task ReleaseActivityAsync(long taskRowId, string lockToken, Instant retryAt, CancellationToken ct = default) => inner.ReleaseActivityAsync(taskRowId, lockToken, retryAt, ct);
        public Task RenewLocksAsync(IReadOnlyCollection<string> instanceIds, IReadOnlyCollection<long> taskRowIds, string lockToken, Instant lockUntil, CancellationToken ct = default) => inner.RenewLocksAsync(instanceIds, taskRowIds, lockToken, lockUntil, ct);
        public Task<Instant?> NextVisibleAfterAsync(Instant now, CancellationToken ct = default) => inner.NextVisibleAfterAsync(now, ct);
        public Task<bool> HasVisibleWorkAsync(Instant now, CancellationToken ct = default) => inner.HasVisibleWorkAsync(now, ct);
    }

    /// <summary>Waits on every timer it is given (all at once) and returns how many.</summary>
    private static void Alarms(DurableTaskRegistry r) =>
        r.AddOrchestratorFunc<List<DateTime>, int>("Alarms", async (ctx, times) =>
        {
            await Task.WhenAll(times.Select(t => ctx.CreateTimer(t, CancellationToken.None)));
            return times.Count;
        });

    private static async Task<(OurServerBackend Server, WatchedStore Store, SteppedClock Clock)> StartAsync(string kind)
    {
        var clock = new SteppedClock(Base);
        var store = new WatchedStore(OurServerBackend.NewStore(kind));
        var server = await OurServerBackend.StartAsync(kind, Alarms, store, clock: clock);
        return (server, store, clock);
    }

    private static async Task<string> StartAlarmsAsync(DurableTaskClient client, string id, params Instant[] at)
    {
        await client.ScheduleNewOrchestrationInstanceAsync("Alarms", at.Select(a => a.ToDateTimeUtc()).ToList(), new StartOrchestrationOptions(id));
        return id;
    }

    /// <summary>The fire times of the timers the instance's history says fired (one entry per firing).</summary>
    private static async Task<List<(int TimerId, Instant FireAt)>> FiringsAsync(ITaskHubStore store, string id) =>
        (await store.GetHistoryAsync(id)).Where(e => e.TimerFired is not null)
            .Select(e => (e.TimerFired.TimerId, Instant.FromDateTimeOffset(e.TimerFired.FireAt.ToDateTimeOffset()))).ToList();

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task A_timer_is_held_while_the_clock_is_behind_it_whichever_way_it_jumps_and_fires_once_when_it_gets_there(string kind)
    {
        var (server, store, clock) = await StartAsync(kind);
        await using var _ = server;
        var due = Base + Duration.FromMinutes(10);
        var id = await StartAlarmsAsync(server.Client, "jump-one", due);

        // Forward, but not far enough; then a step back of an hour: several polls each, nothing fires.
        clock.MoveTo(due - Duration.FromMinutes(1));
        await Task.Delay(2500);
        clock.MoveTo(Base - Duration.FromHours(1));
        await Task.Delay(2500);
        Assert.Empty(await FiringsAsync(store, id));
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await server.Client.GetInstanceAsync(id))!.RuntimeStatus);

        // The clock touches the due time for one reading only, then steps back: whatever read it, nothing is early.
        clock.MoveTo(due);
        clock.JumpAfterNextRead(due - Duration.FromMinutes(5));
        await Task.Delay(2500);
        // The clock reaches the due time again and stays: it fires, once.
        clock.MoveTo(due);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await server.Client.WaitForInstanceCompletionAsync(id, cts.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        clock.MoveTo(due + Duration.FromHours(1));
        await Task.Delay(1500);
        clock.MoveTo(Base);
        await Task.Delay(1500);
        Assert.Equal([(0, due)], (await FiringsAsync(store, id)).Select(f => (0, f.FireAt)));
        Assert.Empty(store.Early);
        Assert.True(done.LastUpdatedAt >= due.ToDateTimeOffset(), $"completed at {done.LastUpdatedAt}, due {due}");
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Random_jumps_back_and_forth_never_deliver_a_timer_early_or_twice(string kind)
    {
        var (server, store, clock) = await StartAsync(kind);
        await using var _ = server;
        var rng = new Random(9_2026);
        var due = new Dictionary<string, Instant[]>();
        for (var i = 0; i < 20; i++)
        {
            var at = Enumerable.Range(0, 3).Select(_ => Base + Duration.FromMinutes(rng.Next(1, 200))).ToArray();
            due[await StartAlarmsAsync(server.Client, $"walk-{i:D2}", at)] = at;
        }

        // A random walk of the clock (steps of -20 to +25 minutes, each held a moment), and every other step a second jump
        // right after the next reading (between a claim and its step). Timers keep coming due at the edge the clock moves over.
        var position = Base - Duration.FromMinutes(10);
        for (var step = 0; step < 60; step++)
        {
            position += Duration.FromMinutes(rng.Next(-20, 26));
            clock.MoveTo(position);
            if (rng.Next(2) == 0) clock.JumpAfterNextRead(position + Duration.FromMinutes(rng.Next(-20, 11)));
            await Task.Delay(150);
        }
        // Finally the clock settles past every due time.
        clock.MoveTo(Base + Duration.FromHours(8));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        foreach (var id in due.Keys) Assert.Equal(OrchestrationRuntimeStatus.Completed, (await server.Client.WaitForInstanceCompletionAsync(id, cts.Token)).RuntimeStatus);

        var problems = new List<string>(store.Early);
        foreach (var (id, at) in due)
        {
            var firings = await FiringsAsync(store, id);
            foreach (var g in firings.GroupBy(f => f.TimerId)) if (g.Count() != 1) problems.Add($"{id}/timer {g.Key} fired {g.Count()} times");
            if (!firings.Select(f => f.FireAt).Order().SequenceEqual(at.Order())) problems.Add($"{id}: fired {string.Join(", ", firings.Select(f => f.FireAt))}, due {string.Join(", ", at)}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
        Assert.True(store.TimersHandedOut >= 60, $"{store.TimersHandedOut} timer messages handed out"); // 20 × 3 (more only if a claim was released and taken again)
    }
}
