using CareWorkflows.TaskHub.Engine;
using CareWorkflows.TaskHub.Store;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.Tests.TaskHub;

/// <summary>
/// The task hub store contract, run against SQLite and PostgreSQL: locks are exclusive, a step whose lock was lost or
/// whose keys were taken writes nothing, results are recorded once, ContinueAsNew drops the old execution's messages,
/// only ended instances are purged.
/// </summary>
public sealed class StoreContractTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Instant T0 = Instant.FromUtc(2026, 11, 30, 9, 0);
    private static readonly Duration Lease = Duration.FromSeconds(30);

    private static async Task<ITaskHubStore> NewStoreAsync(string kind)
    {
        var store = OurServerBackend.NewStore(kind);
        await store.MigrateAsync(Ct);
        return store;
    }

    private static NewInstance Instance(string id, Instant at, Instant? scheduled = null) => new(id, "exec-1", "Probe", "1", "\"input\"", at, scheduled, null, null,
        new P.HistoryEvent
        {
            EventId = -1, Timestamp = OrchestrationStep.Ts(at),
            ExecutionStarted = new P.ExecutionStartedEvent { Name = "Probe", Version = "1", Input = "\"input\"", OrchestrationInstance = new P.OrchestrationInstance { InstanceId = id, ExecutionId = "exec-1" } },
        });

    private static P.HistoryEvent Raised(string name) => new() { EventId = -1, Timestamp = OrchestrationStep.Ts(T0), EventRaised = new P.EventRaisedEvent { Name = name, Input = "1" } };

    /// <summary>A step that takes the messages, appends OrchestratorStarted + them, and produces what the caller adds.</summary>
    private static StepCommit Step(OrchestrationWorkItem w, Instant at, IReadOnlyList<NewTask>? tasks = null, IReadOnlyList<OutgoingMessage>? messages = null,
        P.OrchestrationStatus status = P.OrchestrationStatus.Running)
    {
        var history = new List<P.HistoryEvent> { new() { EventId = -1, Timestamp = OrchestrationStep.Ts(at), OrchestratorStarted = new() } };
        history.AddRange(w.Messages.Select(m => m.Event));
        return new StepCommit(w.InstanceId, w.LockToken, w.Messages.Select(m => m.Id).ToList(), false, w.HistoryCount, history,
            new InstanceUpdate(w.ExecutionId, status, at, status == P.OrchestrationStatus.Completed ? at : null, null, "\"custom\"", null, false, null, null, w.HistoryCount + history.Count, at),
            tasks ?? [], messages ?? [], [], null, status == P.OrchestrationStatus.Completed);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task AnInstanceIdIsCreatedOnceUnlessItsEndedStatusMayBeReplaced(string kind)
    {
        var store = await NewStoreAsync(kind);
        Assert.True(await store.CreateInstanceAsync(Instance("a", T0), [], Ct));
        Assert.False(await store.CreateInstanceAsync(Instance("a", T0), [], Ct));
        Assert.False(await store.CreateInstanceAsync(Instance("a", T0), [P.OrchestrationStatus.Completed], Ct)); // it is pending, not completed
        var w = Assert.Single(await store.ClaimOrchestrationsAsync(T0, "t1", T0 + Lease, 10, Ct));
        Assert.True(await store.CommitStepAsync(Step(w, T0, status: P.OrchestrationStatus.Completed), Ct));
        Assert.True(await store.CreateInstanceAsync(Instance("a", T0 + Duration.FromMinutes(1)), [P.OrchestrationStatus.Completed], Ct));
        var row = await store.GetInstanceAsync("a", true, Ct);
        Assert.Equal(P.OrchestrationStatus.Pending, row!.Status);
        Assert.Empty(await store.GetHistoryAsync("a", Ct)); // the old execution's history went with it
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task MessagesGoOnlyToInstancesThatExistAndHaveNotEnded(string kind)
    {
        var store = await NewStoreAsync(kind);
        Assert.Equal(EnqueueOutcome.NotFound, await store.EnqueueAsync("missing", Raised("x"), T0, Ct));
        await store.CreateInstanceAsync(Instance("b", T0), [], Ct);
        Assert.Equal(EnqueueOutcome.Enqueued, await store.EnqueueAsync("b", Raised("x"), T0, Ct));
        var w = Assert.Single(await store.ClaimOrchestrationsAsync(T0, "t1", T0 + Lease, 10, Ct));
        Assert.Equal(2, w.Messages.Count);
        Assert.True(await store.CommitStepAsync(Step(w, T0, status: P.OrchestrationStatus.Completed), Ct));
        Assert.Equal(EnqueueOutcome.Terminal, await store.EnqueueAsync("b", Raised("late"), T0, Ct));
        Assert.False(await store.HasVisibleWorkAsync(T0 + Duration.FromHours(1), Ct));
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task AnEventToAScheduledInstanceWaitsForItsStart(string kind)
    {
        var store = await NewStoreAsync(kind);
        var start = T0 + Duration.FromMinutes(10);
        await store.CreateInstanceAsync(Instance("c", T0, start), [], Ct);
        await store.EnqueueAsync("c", Raised("early"), T0, Ct);
        Assert.Empty(await store.ClaimOrchestrationsAsync(T0 + Duration.FromMinutes(9), "t1", T0 + Lease, 10, Ct));
        Assert.Equal(start, await store.NextVisibleAfterAsync(T0, Ct));
        var w = Assert.Single(await store.ClaimOrchestrationsAsync(start, "t1", start + Lease, 10, Ct));
        Assert.NotNull(w.Messages[0].Event.ExecutionStarted);
        Assert.Equal("early", w.Messages[1].Event.EventRaised.Name);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task ALockIsExclusiveUntilItsLeaseRunsOutAndALostLockCommitsNothing(string kind)
    {
        var store = await NewStoreAsync(kind);
        await store.CreateInstanceAsync(Instance("d", T0), [], Ct);
        var first = Assert.Single(await store.ClaimOrchestrationsAsync(T0, "t1", T0 + Lease, 10, Ct));
        Assert.Empty(await store.ClaimOrchestrationsAsync(T0 + Duration.FromSeconds(29), "t2", T0 + Lease * 2, 10, Ct));
        var second = Assert.Single(await store.ClaimOrchestrationsAsync(T0 + Duration.FromSeconds(31), "t2", T0 + Lease * 2, 10, Ct));

        // The first holder's step comes late: nothing of it is written.
        Assert.False(await store.CommitStepAsync(Step(first, T0, tasks: [Task(first, 1)]), Ct));
        Assert.Empty(await store.GetHistoryAsync("d", Ct));
        Assert.Null((await store.GetInstanceAsync("d", true, Ct))!.CustomStatus);
        Assert.Empty(await store.ClaimActivitiesAsync(T0 + Duration.FromMinutes(1), "a", T0 + Lease * 3, 10, Ct));

        Assert.True(await store.CommitStepAsync(Step(second, T0, tasks: [Task(second, 1)]), Ct));
        Assert.Equal(2, (await store.GetHistoryAsync("d", Ct)).Count);
        Assert.Equal("\"custom\"", (await store.GetInstanceAsync("d", true, Ct))!.CustomStatus);
    }

    private static NewTask Task(OrchestrationWorkItem w, int taskId) =>
        new(w.InstanceId, w.ExecutionId, taskId, new P.ActivityRequest { Name = "Act", TaskId = taskId, OrchestrationInstance = new P.OrchestrationInstance { InstanceId = w.InstanceId, ExecutionId = w.ExecutionId } }, T0);

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task AnActivityResultIsRecordedOnceWhateverRunsItTwice(string kind)
    {
        var store = await NewStoreAsync(kind);
        await store.CreateInstanceAsync(Instance("e", T0), [], Ct);
        var w = Assert.Single(await store.ClaimOrchestrationsAsync(T0, "t1", T0 + Lease, 10, Ct));
        Assert.True(await store.CommitStepAsync(Step(w, T0, tasks: [Task(w, 7)]), Ct));
        var a = Assert.Single(await store.ClaimActivitiesAsync(T0, "a1", T0 + Lease, 10, Ct));
        Assert.Empty(await store.ClaimActivitiesAsync(T0 + Duration.FromSeconds(10), "a2", T0 + Lease, 10, Ct));
        var again = Assert.Single(await store.ClaimActivitiesAsync(T0 + Duration.FromSeconds(31), "a2", T0 + Lease * 2, 10, Ct)); // lease ran out: run again
        var result = new P.HistoryEvent { EventId = -1, Timestamp = OrchestrationStep.Ts(T0), TaskCompleted = new P.TaskCompletedEvent { TaskScheduledId = 7, Result = "42" } };
        Assert.True(await store.CompleteActivityAsync(again.TaskRowId, result, T0, Ct));
        Assert.False(await store.CompleteActivityAsync(a.TaskRowId, result, T0, Ct));
        var next = Assert.Single(await store.ClaimOrchestrationsAsync(T0 + Duration.FromMinutes(1), "t2", T0 + Lease * 3, 10, Ct));
        Assert.Single(next.Messages, m => m.Event.TaskCompleted is not null);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task TwoWritersOfOneStepCollideOnTheHistoryKey(string kind)
    {
        var store = await NewStoreAsync(kind);
        await store.CreateInstanceAsync(Instance("f", T0), [], Ct);
        var w = Assert.Single(await store.ClaimOrchestrationsAsync(T0, "t1", T0 + Lease, 10, Ct));
        Assert.True(await store.CommitStepAsync(Step(w, T0), Ct));
        await store.EnqueueAsync("f", Raised("x"), T0, Ct);
        var next = Assert.Single(await store.ClaimOrchestrationsAsync(T0, "t2", T0 + Lease, 10, Ct));
        // A commit that would append at a sequence already written (a stale picture of the history) writes nothing.
        var stale = Step(next, T0) with { HistoryStart = 0 };
        Assert.False(await store.CommitStepAsync(stale, Ct));
        Assert.Equal(2, (await store.GetHistoryAsync("f", Ct)).Count);
        Assert.True(await store.HasVisibleWorkAsync(T0, Ct)); // the event is still there
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task ContinueAsNewDropsTheOldExecutionsTimersTasksAndHistory(string kind)
    {
        var store = await NewStoreAsync(kind);
        await store.CreateInstanceAsync(Instance("g", T0), [], Ct);
        var w = Assert.Single(await store.ClaimOrchestrationsAsync(T0, "t1", T0 + Lease, 10, Ct));
        var timer = new OutgoingMessage("g", "exec-1", T0 + Duration.FromDays(3), new P.HistoryEvent { EventId = -1, TimerFired = new P.TimerFiredEvent { TimerId = 1 } }, Delivery.Self);
        Assert.True(await store.CommitStepAsync(Step(w, T0, tasks: [Task(w, 2)], messages: [timer]), Ct));
        await store.EnqueueAsync("g", Raised("keep"), T0, Ct);
        var next = Assert.Single(await store.ClaimOrchestrationsAsync(T0, "t2", T0 + Lease, 10, Ct));

        var response = new P.OrchestratorResponse
        {
            Actions = { new P.OrchestratorAction { Id = 3, CompleteOrchestration = new P.CompleteOrchestrationAction { OrchestrationStatus = P.OrchestrationStatus.ContinuedAsNew, Result = "\"again\"" } } },
        };
        var (deliver, discard) = OrchestrationStep.Sort(next with { Messages = [] });
        Assert.True(await store.CommitStepAsync(OrchestrationStep.Plan(next with { Messages = [] }, deliver, discard, response, T0, () => "exec-2"), Ct));

        Assert.Empty(await store.GetHistoryAsync("g", Ct));
        Assert.Null(await store.NextVisibleAfterAsync(T0, Ct)); // the 3-day timer of exec-1 is gone
        Assert.Empty(await store.ClaimActivitiesAsync(T0, "a", T0 + Lease, 10, Ct)); // and its task
        var restarted = Assert.Single(await store.ClaimOrchestrationsAsync(T0, "t3", T0 + Lease, 10, Ct));
        Assert.Equal("exec-2", restarted.ExecutionId);
        var (d, _) = OrchestrationStep.Sort(restarted);
        Assert.NotNull(d[0].Event.ExecutionStarted); // the new start first, then the event raised before ContinueAsNew
        Assert.Equal("keep", d[1].Event.EventRaised.Name);
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task OnlyEndedInstancesArePurged(string kind)
    {
        var store = await NewStoreAsync(kind);
        await store.CreateInstanceAsync(Instance("running", T0), [], Ct);
        await store.CreateInstanceAsync(Instance("done", T0), [], Ct);
        foreach (var w in await store.ClaimOrchestrationsAsync(T0, "t1", T0 + Lease, 10, Ct))
            Assert.True(await store.CommitStepAsync(Step(w, T0, status: w.InstanceId == "done" ? P.OrchestrationStatus.Completed : P.OrchestrationStatus.Running), Ct));
        Assert.Equal(0, await store.PurgeInstanceAsync("running", false, Ct));
        Assert.Equal(0, await store.PurgeInstancesAsync(new PurgeFilter(null, null, T0 - Duration.FromDays(1), TaskHubStatus.Terminal), Ct)); // retention: not old enough
        Assert.Equal(1, await store.PurgeInstancesAsync(new PurgeFilter(null, null, T0 + Duration.FromDays(1), TaskHubStatus.Terminal), Ct));
        Assert.Null(await store.GetInstanceAsync("done", false, Ct));
        Assert.Empty(await store.GetHistoryAsync("done", Ct));
        Assert.NotNull(await store.GetInstanceAsync("running", false, Ct));
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task QueriesPageInCreationOrderAndFilterByPrefixAndStatus(string kind)
    {
        var store = await NewStoreAsync(kind);
        for (var i = 0; i < 5; i++) await store.CreateInstanceAsync(Instance($"D2A-{i}", T0 + Duration.FromSeconds(i)), [], Ct);
        await store.CreateInstanceAsync(Instance("SI-0", T0), [], Ct);
        var seen = new List<string>();
        (Instant, string)? after = null;
        do
        {
            var page = await store.QueryInstancesAsync(new InstanceFilter([P.OrchestrationStatus.Pending], null, null, "D2A-", 2, false, after), Ct);
            seen.AddRange(page.Instances.Select(i => i.InstanceId));
            Assert.All(page.Instances, i => Assert.Null(i.Input));
            after = page.Next;
        } while (after is not null);
        Assert.Equal(["D2A-0", "D2A-1", "D2A-2", "D2A-3", "D2A-4"], seen);
        Assert.Empty((await store.QueryInstancesAsync(new InstanceFilter([P.OrchestrationStatus.Running], null, null, null, 10, false, null), Ct)).Instances);
        Assert.Equal(2, (await store.QueryInstancesAsync(new InstanceFilter(null, T0 + Duration.FromSeconds(3), null, null, 10, true, null), Ct)).Instances.Count);
    }
}
