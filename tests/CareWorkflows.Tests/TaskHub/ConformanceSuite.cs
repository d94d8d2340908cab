using CareWorkflows.Tests.Infrastructure;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using NodaTime;

namespace CareWorkflows.Tests.TaskHub;

/// <summary>Starts one backend for a test class and stops it after.</summary>
public abstract class BackendFixture : IAsyncLifetime
{
    public IConformanceBackend Backend { get; private set; } = null!;
    protected abstract Task<IConformanceBackend> StartAsync();
    public async ValueTask InitializeAsync() => Backend = await StartAsync();
    public async ValueTask DisposeAsync() => await Backend.DisposeAsync();
}

public sealed class OurSqliteBackend : BackendFixture
{
    protected override async Task<IConformanceBackend> StartAsync() => await OurServerBackend.StartAsync(TestDatabases.StoreSqlite, ConformanceTasks.Register);
}

public sealed class OurPostgresBackend : BackendFixture
{
    protected override async Task<IConformanceBackend> StartAsync() => await OurServerBackend.StartAsync(TestDatabases.StorePostgres, ConformanceTasks.Register);
}

public sealed class InProcessReferenceBackend : BackendFixture
{
    protected override async Task<IConformanceBackend> StartAsync() => await InProcessBackend.StartAsync(ConformanceTasks.Register);
}

public sealed class AzureStorageReferenceBackend : BackendFixture
{
    protected override async Task<IConformanceBackend> StartAsync() => await AzureStorageBackend.StartAsync(ConformanceTasks.Register);
}

/// <summary>Our server on SQLite.</summary>
public sealed class ConformanceOnSqlite(OurSqliteBackend f) : ConformanceSuite(f.Backend), IClassFixture<OurSqliteBackend>;

/// <summary>Our server on PostgreSQL.</summary>
public sealed class ConformanceOnPostgres(OurPostgresBackend f) : ConformanceSuite(f.Backend), IClassFixture<OurPostgresBackend>;

/// <summary>Microsoft's in-process test host (0.2.3-preview.1): the reference.</summary>
public sealed class ConformanceOnInProcessTestHost(InProcessReferenceBackend f) : ConformanceSuite(f.Backend), IClassFixture<InProcessReferenceBackend>
{
    protected override string? KnownWrong(string @case) => @case switch
    {
        nameof(ContinueAsNewCarriesEventsReceivedBeforeIt) => SidecarDropsCarriedEvents,
        _ => null,
    };

    /// <summary>Seen here (2026-11-30): with ten events raised while the orchestration is between generations, the total never comes.</summary>
    public const string SidecarDropsCarriedEvents =
        "Known wrong in the reference: the in-process host's sidecar (0.2.3-preview.1) loses events that arrive before ContinueAsNew " +
        "(the ones the SDK re-sends to the instance itself), so the orchestration waits for ever for events it was already sent.";
}

/// <summary>DurableTask.AzureStorage 2.11.2 on Azurite behind the in-process host's TaskHubGrpcServer: what runs in Azure.</summary>
public sealed class ConformanceOnAzureStorage(AzureStorageReferenceBackend f) : ConformanceSuite(f.Backend), IClassFixture<AzureStorageReferenceBackend>
{
    protected override string? KnownWrong(string @case) => @case switch
    {
        nameof(ContinueAsNewCarriesEventsReceivedBeforeIt) => ConformanceOnInProcessTestHost.SidecarDropsCarriedEvents,
        nameof(SubOrchestrationResultReachesTheParent) =>
            "Known defect of the in-process host's sidecar over DurableTask.AzureStorage: the sub-orchestration is never created " +
            "(GetInstance of the child is still null after 90 s), so the parent waits for ever. The same sidecar on its in-memory service runs it.",
        _ => null,
    };

    /// <summary>DurableTask.AzureStorage through this sidecar reports a failure as output text, with no failure details.</summary>
    protected override bool ReportsFailureDetails => false;
}

/// <summary>
/// The conformance suite: small orchestrations, one per part of the protocol, run with Microsoft's worker and client
/// against each backend. A case a backend is known to get wrong, or cannot run, is skipped with the reason.
/// </summary>
public abstract class ConformanceSuite(IConformanceBackend backend)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    protected DurableTaskClient Client => backend.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>False where failures arrive only as output text (see the backend's class).</summary>
    protected virtual bool ReportsFailureDetails => true;

    /// <summary>Why this backend is known to get a case wrong, or null.</summary>
    protected virtual string? KnownWrong(string @case) => null;

    private void SkipIfKnownWrong(string @case)
    {
        if (KnownWrong(@case) is { } reason) Assert.Skip(reason);
    }

    private static string Id(string name) => $"{name}-{Guid.NewGuid():N}"[..Math.Min(name.Length + 17, 60)];

    private async Task<OrchestrationMetadata> CompletedAsync(string id)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Patience);
        return await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cts.Token);
    }

    private async Task<OrchestrationMetadata> UntilAsync(string id, Func<OrchestrationMetadata, bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var m = await Client.GetInstanceAsync(id, getInputsAndOutputs: true, Ct);
            if (m is not null && condition(m)) return m;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{id}: condition not met; last status {m?.RuntimeStatus}.");
            await Task.Delay(50, Ct);
        }
    }

    [Fact]
    public async Task ActivityChainRunsFiveActivitiesInOrder()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Chain", 3, new StartOrchestrationOptions(Id("chain")), Ct);
        var done = await CompletedAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(96, done.ReadOutputAs<int>());
    }

    [Fact]
    public async Task FanOutFanInAddsEveryResult()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("FanOut", 20, new StartOrchestrationOptions(Id("fan")), Ct);
        var done = await CompletedAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(420, done.ReadOutputAs<int>());
    }

    [Fact]
    public async Task ExternalEventBeatsTheTimer()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Approval", 300, new StartOrchestrationOptions(Id("approve")), Ct);
        await UntilAsync(id, m => m.SerializedCustomStatus == "\"waiting\"");
        await Client.RaiseEventAsync(id, "Approval", "broker", Ct);
        var done = await CompletedAsync(id);
        Assert.Equal("approved by broker", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task TimerBeatsAMissingEvent()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Approval", 2, new StartOrchestrationOptions(Id("timeout")), Ct);
        var done = await CompletedAsync(id);
        Assert.Equal("timed out", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task SixWeekTimerFiresWhenTheClockReachesIt()
    {
        if (backend.Advance is null) Assert.Skip("Needs a clock that can be moved (our server's); this backend runs on the wall clock only.");
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Sleep", 42, new StartOrchestrationOptions(Id("sleep")), Ct);
        var started = await UntilAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running);
        await Task.Delay(200, Ct);
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await Client.GetInstanceAsync(id, Ct))!.RuntimeStatus);
        await backend.Advance(Duration.FromDays(41));
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await Client.GetInstanceAsync(id, Ct))!.RuntimeStatus); // not a day early
        await backend.Advance(Duration.FromDays(1) + Duration.FromMinutes(1));
        var done = await CompletedAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        var wokeAt = done.ReadOutputAs<DateTime>();
        Assert.True(wokeAt >= started.CreatedAt.UtcDateTime.AddDays(42), $"woke at {wokeAt:O}, created {started.CreatedAt:O}");
    }

    [Fact]
    public async Task EventRaisedBeforeStartIsDelivered()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("WaitForOne", null,
            new StartOrchestrationOptions(Id("early"), StartAt: DateTimeOffset.UtcNow.AddSeconds(2)), Ct);
        await Client.RaiseEventAsync(id, "Go", "early bird", Ct);
        var done = await CompletedAsync(id);
        Assert.Equal("early bird", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ContinueAsNewCarriesEventsReceivedBeforeIt()
    {
        SkipIfKnownWrong(nameof(ContinueAsNewCarriesEventsReceivedBeforeIt));
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Accumulate", new ConformanceTasks.AddState(10), new StartOrchestrationOptions(Id("can")), Ct);
        await UntilAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running);
        for (var i = 1; i <= 10; i++) await Client.RaiseEventAsync(id, "Add", i, Ct);
        var done = await CompletedAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(55, done.ReadOutputAs<int>());
    }

    [Fact]
    public async Task SubOrchestrationResultReachesTheParent()
    {
        SkipIfKnownWrong(nameof(SubOrchestrationResultReachesTheParent));
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Parent", "hi", new StartOrchestrationOptions(Id("parent")), Ct);
        var done = await CompletedAsync(id);
        Assert.Equal("parent(HI!)", done.ReadOutputAs<string>());
        var child = await Client.GetInstanceAsync(id + "-child", Ct);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, child!.RuntimeStatus);
    }

    [Fact]
    public async Task TerminateEndsAWaitingInstance()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Forever", null, new StartOrchestrationOptions(Id("term")), Ct);
        await UntilAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running);
        await Client.TerminateInstanceAsync(id, "stopped by test", Ct);
        var done = await CompletedAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, done.RuntimeStatus);
        Assert.Equal("stopped by test", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task SuspendedInstanceWaitsAndResumes()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Forever", null, new StartOrchestrationOptions(Id("susp")), Ct);
        await UntilAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running);
        await Client.SuspendInstanceAsync(id, "paused by test", Ct);
        await UntilAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Suspended);
        await Client.RaiseEventAsync(id, "Finish", "after resume", Ct);
        await Task.Delay(1500, Ct);
        Assert.Equal(OrchestrationRuntimeStatus.Suspended, (await Client.GetInstanceAsync(id, Ct))!.RuntimeStatus);
        await Client.ResumeInstanceAsync(id, "go on", Ct);
        var done = await CompletedAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("after resume", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task PurgeRemovesEndedInstances()
    {
        var from = DateTimeOffset.UtcNow.AddSeconds(-1);
        var prefix = Id("purge");
        var one = await Client.ScheduleNewOrchestrationInstanceAsync("Chain", 1, new StartOrchestrationOptions(prefix + "-1"), Ct);
        var two = await Client.ScheduleNewOrchestrationInstanceAsync("Chain", 1, new StartOrchestrationOptions(prefix + "-2"), Ct);
        await CompletedAsync(one);
        await CompletedAsync(two);
        var single = await Client.PurgeInstanceAsync(one, Ct);
        Assert.Equal(1, single.PurgedInstanceCount);
        Assert.Null(await Client.GetInstanceAsync(one, Ct));
        var filtered = await Client.PurgeAllInstancesAsync(new PurgeInstancesFilter(from, null, [OrchestrationRuntimeStatus.Completed]), Ct);
        Assert.True(filtered.PurgedInstanceCount >= 1);
        Assert.Null(await Client.GetInstanceAsync(two, Ct));
    }

    [Fact]
    public async Task ActivityRetriedByTheSdkPolicySucceeds()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Retry", null, new StartOrchestrationOptions(Id("retry")), Ct);
        var done = await CompletedAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("succeeded on attempt 3", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ActivityFailureSurfacesWithItsDetails()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Fails", null, new StartOrchestrationOptions(Id("fails")), Ct);
        var done = await CompletedAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        if (ReportsFailureDetails) Assert.NotNull(done.FailureDetails);
        var messages = new List<string> { done.SerializedOutput ?? "" };
        for (var f = done.FailureDetails; f is not null; f = f.InnerFailure) messages.Add(f.ErrorMessage);
        Assert.Contains(messages, m => m.Contains("The directory is unreachable."));
    }

    [Fact]
    public async Task CustomStatusIsPublishedStepByStep()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync("Status", null, new StartOrchestrationOptions(Id("status")), Ct);
        await UntilAsync(id, m => m.SerializedCustomStatus?.Contains("one") == true);
        await Client.RaiseEventAsync(id, "Next", "go", Ct);
        var done = await CompletedAsync(id);
        Assert.Contains("two", done.SerializedCustomStatus);
    }

    [Fact]
    public async Task QueryFiltersByPrefixAndStatusAndPages()
    {
        var prefix = Id("query");
        for (var i = 0; i < 3; i++)
            await CompletedAsync(await Client.ScheduleNewOrchestrationInstanceAsync("Chain", 1, new StartOrchestrationOptions($"{prefix}-{i}"), Ct));
        var waiting = await Client.ScheduleNewOrchestrationInstanceAsync("Forever", null, new StartOrchestrationOptions($"{prefix}-w"), Ct);
        await UntilAsync(waiting, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running);

        var found = new List<string>();
        var pages = 0;
        await foreach (var page in Client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, PageSize = 2, Statuses = [OrchestrationRuntimeStatus.Completed] }).AsPages())
        {
            pages++;
            found.AddRange(page.Values.Select(m => m.InstanceId));
        }
        Assert.Equal([$"{prefix}-0", $"{prefix}-1", $"{prefix}-2"], found.Order());
        Assert.True(pages >= 2, $"{pages} pages");
        await Client.TerminateInstanceAsync(waiting, "done", Ct);
    }
}
