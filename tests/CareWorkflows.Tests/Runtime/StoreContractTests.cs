using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.Runtime;

/// <summary>The one store contract, run against real SQLite and real PostgreSQL.</summary>
public sealed class StoreContractTests
{
    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Start_appends_events_and_loads_the_folded_state(string kind)
    {
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind));
        var reference = await h.StartAsync("alpha", ("t1", Duration.FromHours(1)));
        await h.Runtime.ApplyAsync(reference, new TestWorkflow.Poke(1), RuntimeHarness.Tester);
        await h.Runtime.ApplyAsync(reference, new TestWorkflow.Poke(2), RuntimeHarness.Tester);

        Assert.Matches("^TST-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}$", reference);
        var state = await h.StateAsync(reference);
        Assert.Equal("alpha", state.Name);
        Assert.Equal(2, state.Pokes);
        var row = (await h.Store.LoadAsync(reference))!;
        Assert.Equal(3, row.Version);
        var timeline = await h.Store.GetTimelineAsync(reference);
        Assert.Equal([1L, 2L, 3L], timeline.Select(e => e.Seq));
        Assert.Equal(["Started", "Poked", "Poked"], timeline.Select(e => e.Type));
        Assert.All(timeline, e => Assert.Equal("tester", e.ActorId));
        var timer = Assert.Single(await h.Store.GetTimersAsync(reference));
        Assert.Equal(h.Clock.GetCurrentInstant() + Duration.FromHours(1), timer.DueAt);
        Assert.Equal(timer.DueAt, row.NextDueAt);
        Assert.Single(await h.Store.GetMessagesAsync(reference));
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task A_commit_at_a_stale_version_is_refused_and_writes_nothing(string kind)
    {
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind));
        var reference = await h.StartAsync("alpha");
        var row = (await h.Store.LoadAsync(reference))!;
        var now = h.Clock.GetCurrentInstant();
        var stale = new CommitBatch(reference, "TST", row.Version + 5, "Open", false, row.State, "", [new EventToAppend(row.LastSeq + 1, "X", "{}", RuntimeHarness.Tester, now)],
            [new TimerToSet(Guid.NewGuid(), "never", now)], [], false, [], now);

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => h.Store.CommitAsync(stale));

        Assert.Single(await h.Store.GetTimelineAsync(reference));
        Assert.Empty(await h.Store.GetTimersAsync(reference));
        // Same sequence number as an existing event: the events key refuses it too.
        var dupSeq = stale with { ExpectedVersion = row.Version, Events = [new EventToAppend(row.LastSeq, "X", "{}", RuntimeHarness.Tester, now)] };
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() => h.Store.CommitAsync(dupSeq));
        Assert.Single(await h.Store.GetTimelineAsync(reference));
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Concurrent_inputs_to_one_instance_all_apply_after_reloading(string kind)
    {
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind));
        var reference = await h.StartAsync("alpha");

        var outcomes = await Task.WhenAll(Enumerable.Range(1, 25).Select(i => Task.Run(() => h.Runtime.ApplyAsync(reference, new TestWorkflow.Poke(i), RuntimeHarness.Tester))));

        Assert.All(outcomes, o => Assert.Equal(OutcomeKind.Applied, o.Kind));
        Assert.Equal(25, (await h.StateAsync(reference)).Pokes);
        var timeline = await h.Store.GetTimelineAsync(reference);
        Assert.Equal(Enumerable.Range(1, 26).Select(i => (long)i), timeline.Select(e => e.Seq));
        Assert.Equal(26, (await h.Store.LoadAsync(reference))!.Version);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task A_replayed_idempotent_command_returns_the_first_result_and_changes_nothing(string kind)
    {
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind));
        var first = await h.Runtime.StartAsync("TST", new TestWorkflow.Begin("alpha", []), RuntimeHarness.Tester, "key-1");
        var again = await h.Runtime.StartAsync("TST", new TestWorkflow.Begin("alpha", []), RuntimeHarness.Tester, "key-1");
        Assert.Equal(OutcomeKind.Applied, first.Kind);
        Assert.Equal(OutcomeKind.Replayed, again.Kind);
        Assert.Equal(first.Reference, again.Reference);
        Assert.Single(await h.Store.ListInstancesAsync(new InstanceFilter(), h.Clock.GetCurrentInstant()));

        var p1 = await h.Runtime.ApplyAsync(first.Reference!, new TestWorkflow.Poke(1), RuntimeHarness.Tester, "poke-1");
        var p2 = await h.Runtime.ApplyAsync(first.Reference!, new TestWorkflow.Poke(1), RuntimeHarness.Tester, "poke-1");
        Assert.Equal(OutcomeKind.Applied, p1.Kind);
        Assert.Equal(OutcomeKind.Replayed, p2.Kind);
        Assert.Equal(1, (await h.StateAsync(first.Reference!)).Pokes);
        Assert.Equal(2, (await h.Store.GetTimelineAsync(first.Reference!)).Count);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task A_rejected_input_writes_nothing(string kind)
    {
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind));
        var bad = await h.Runtime.StartAsync("TST", new TestWorkflow.Begin("", []), RuntimeHarness.Tester, "bad-1");
        Assert.Equal(OutcomeKind.Rejected, bad.Kind);
        Assert.Empty(await h.Store.ListInstancesAsync(new InstanceFilter(), h.Clock.GetCurrentInstant()));
        Assert.Null(await h.Store.FindCommandResultAsync("bad-1"));

        var reference = await h.StartAsync("alpha");
        await h.Runtime.ApplyAsync(reference, new TestWorkflow.Finish(), RuntimeHarness.Tester);
        var late = await h.Runtime.ApplyAsync(reference, new TestWorkflow.Poke(1), RuntimeHarness.Tester);
        Assert.Equal(OutcomeKind.Rejected, late.Kind);
        Assert.Equal(RejectionKind.Conflict, late.Rejection!.Kind);
        Assert.Equal(2, (await h.Store.GetTimelineAsync(reference)).Count);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Timers_fire_once_in_due_order_and_not_before_they_are_due(string kind)
    {
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind));
        var reference = await h.StartAsync("alpha", ("c", Duration.FromMinutes(30)), ("a", Duration.FromMinutes(10)), ("b", Duration.FromMinutes(20)));

        h.Clock.Advance(Duration.FromMinutes(10) - Duration.FromTicks(1));
        Assert.Equal(0, await h.Pump.RunDueAsync());
        h.Clock.Advance(Duration.FromTicks(1));
        Assert.Equal(1, await h.Pump.RunDueAsync());
        h.Clock.Advance(Duration.FromHours(1));
        Assert.Equal(2, await h.Pump.RunDueAsync());
        Assert.Equal(0, await h.Pump.RunDueAsync());

        Assert.Equal(["a", "b", "c"], (await h.StateAsync(reference)).Fired);
        Assert.Empty(await h.Store.GetTimersAsync(reference));
        Assert.Null((await h.Store.LoadAsync(reference))!.NextDueAt);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Completing_an_instance_removes_its_timers(string kind)
    {
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind));
        var reference = await h.StartAsync("alpha", ("a", Duration.FromMinutes(10)));
        await h.Runtime.ApplyAsync(reference, new TestWorkflow.Finish(), RuntimeHarness.Tester);
        Assert.Empty(await h.Store.GetTimersAsync(reference));
        h.Clock.Advance(Duration.FromHours(1));
        Assert.Equal(0, await h.Pump.RunDueAsync());
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Failing_sends_are_retried_with_growing_backoff_then_reported_to_the_workflow(string kind)
    {
        var channel = new FailingChannel(permanent: false);
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind), channel, maxAttempts: 3);
        var reference = await h.StartAsync("alpha");
        var gaps = new List<Duration>();

        Assert.Equal(1, await h.Dispatcher.RunOnceAsync());
        for (var attempt = 2; attempt <= 3; attempt++)
        {
            var m = Assert.Single(await h.Store.GetMessagesAsync(reference));
            Assert.Equal(OutboxStatus.Pending, m.Status);
            Assert.Equal(attempt - 1, m.Attempts);
            var wait = m.NextAttemptAt - h.Clock.GetCurrentInstant();
            gaps.Add(wait);
            h.Clock.Advance(wait - Duration.FromMilliseconds(1));
            Assert.Equal(0, await h.Dispatcher.RunOnceAsync()); // not before the backoff ends
            h.Clock.Advance(Duration.FromMilliseconds(1));
            Assert.Equal(1, await h.Dispatcher.RunOnceAsync());
        }

        Assert.Equal(3, channel.Calls);
        Assert.True(gaps[1] > gaps[0], $"backoff should grow: {gaps[0]} then {gaps[1]}");
        Assert.InRange(gaps[0].TotalSeconds, 8, 12);   // 10 s ± 20 %
        Assert.InRange(gaps[1].TotalSeconds, 16, 24);  // 20 s ± 20 %
        var failed = Assert.Single(await h.Store.GetMessagesAsync(reference));
        Assert.Equal(OutboxStatus.Failed, failed.Status);
        Assert.Equal(3, failed.Attempts);
        Assert.Equal(["provider down"], (await h.StateAsync(reference)).Failures);
        Assert.Contains(await h.Store.GetTimelineAsync(reference), e => e.Type == "DeliveryFailed" && e.ActorId == "system");
        h.Clock.Advance(Duration.FromHours(1));
        Assert.Equal(0, await h.Dispatcher.RunOnceAsync());
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task A_permanent_failure_is_not_retried(string kind)
    {
        var channel = new FailingChannel(permanent: true);
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind), channel, maxAttempts: 5);
        var reference = await h.StartAsync("alpha");
        await h.Dispatcher.RunOnceAsync();
        Assert.Equal(1, channel.Calls);
        Assert.Equal(OutboxStatus.Failed, Assert.Single(await h.Store.GetMessagesAsync(reference)).Status);
        Assert.Single((await h.StateAsync(reference)).Failures);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task A_sent_message_records_the_provider_and_its_id(string kind)
    {
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind));
        var reference = await h.StartAsync("alpha");
        await h.Dispatcher.RunOnceAsync();
        var m = Assert.Single(await h.Store.GetMessagesAsync(reference));
        Assert.Equal(OutboxStatus.Sent, m.Status);
        Assert.Equal("Dev", m.Provider);
        Assert.Equal($"dev-{m.Id:N}", m.ProviderMessageId);
        Assert.Equal(h.Clock.GetCurrentInstant(), m.SentAt);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Claims_of_a_dead_worker_are_taken_over_when_the_lease_expires(string kind)
    {
        var store = await TestDatabases.NewStoreAsync(kind);
        var dead = new RuntimeHarness(store, worker: "dead");
        var reference = await dead.StartAsync("alpha", ("a", Duration.FromMinutes(1)));
        dead.Clock.Advance(Duration.FromMinutes(1));
        // The dead worker claimed both the timer and the message, then died before doing anything.
        Assert.Single(await store.ClaimDueTimersAsync(dead.Clock.GetCurrentInstant(), 10, "dead", Duration.FromSeconds(30)));
        Assert.Single(await store.ClaimOutboxAsync(dead.Clock.GetCurrentInstant(), 10, "dead", Duration.FromSeconds(30)));

        var live = new RuntimeHarness(store, worker: "live", clock: dead.Clock);
        Assert.Equal(0, await live.Pump.RunDueAsync());
        Assert.Equal(0, await live.Dispatcher.RunOnceAsync());

        dead.Clock.Advance(Duration.FromSeconds(31));
        Assert.Equal(1, await live.Pump.RunDueAsync());
        Assert.Equal(1, await live.Dispatcher.RunOnceAsync());
        Assert.Equal(["a"], (await live.StateAsync(reference)).Fired);
        Assert.Equal(OutboxStatus.Sent, Assert.Single(await store.GetMessagesAsync(reference)).Status);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task A_timer_moved_after_it_was_claimed_does_not_fire_at_its_old_time(string kind)
    {
        var h = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind));
        var reference = await h.StartAsync("alpha", ("a", Duration.FromMinutes(1)));
        h.Clock.Advance(Duration.FromMinutes(1));
        var claimed = Assert.Single(await h.Store.ClaimDueTimersAsync(h.Clock.GetCurrentInstant(), 10, "w1", Duration.FromSeconds(30)));
        // Meanwhile the same timer is set again (new id): the claimed one is stale.
        var row = (await h.Store.LoadAsync(reference))!;
        var now = h.Clock.GetCurrentInstant();
        await h.Store.CommitAsync(new CommitBatch(reference, "TST", row.Version, row.Status, false, row.State, "", [], [new TimerToSet(Guid.NewGuid(), "a", now + Duration.FromHours(1))], [], false, [], now));

        var outcome = await h.Runtime.ApplyAsync(reference, new TimerFired("a"), Actor.System, consumeTimerId: claimed.Id);

        Assert.Equal(OutcomeKind.Stale, outcome.Kind);
        Assert.Empty((await h.StateAsync(reference)).Fired);
        Assert.Equal(now + Duration.FromHours(1), Assert.Single(await h.Store.GetTimersAsync(reference)).DueAt);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Migrations_run_once_however_often_they_are_called(string kind)
    {
        var store = await TestDatabases.NewStoreAsync(kind);
        await store.MigrateAsync();
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => store.MigrateAsync()));
        Assert.True(await store.IsReadyAsync());
    }

    private sealed class FailingChannel(bool permanent) : IMessageChannel
    {
        private int _calls;
        public int Calls => _calls;
        public string Name => "Failing";
        public MessageChannel Kind => MessageChannel.Email;
        public Task<string> SendAsync(OutboxMessage message, CancellationToken ct)
        {
            Interlocked.Increment(ref _calls);
            throw new ChannelException("provider down", permanent);
        }
    }
}
