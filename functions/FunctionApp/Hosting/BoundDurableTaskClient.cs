using DurableTask.Core.History;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Entities;

namespace CareWorkflows.FunctionApp.Hosting;

/// <summary>
/// The app's <see cref="DurableTaskClient"/> under Azure Functions: every call goes to the client the Functions host bound
/// to the latest trigger (<c>[DurableClient]</c> on each HTTP and timer trigger). The host binds the same task hub and
/// connection every time, and the extension caches the gRPC channel behind it, so the app's singletons
/// (<c>WorkflowClient</c>, link and reply handlers) keep one client for their lifetime, as on our own server.
/// </summary>
public sealed class BoundDurableTaskClient() : DurableTaskClient("functions-bound")
{
    private DurableTaskClient? _current;

    /// <summary>The bound client (the one from the latest trigger).</summary>
    public DurableTaskClient Current => Volatile.Read(ref _current)
        ?? throw new InvalidOperationException("No Durable client has been bound yet: only a function with a [DurableClient] parameter may reach the workflows.");

    /// <summary>Called by every trigger with its <c>[DurableClient]</c> before it hands work to the app.</summary>
    public void Use(DurableTaskClient client) => Volatile.Write(ref _current, client ?? throw new ArgumentNullException(nameof(client)));

    public override DurableEntityClient Entities => Current.Entities;

    public override Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null,
        CancellationToken cancellation = default) => Current.ScheduleNewOrchestrationInstanceAsync(orchestratorName, input, options, cancellation);

    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) =>
        Current.RaiseEventAsync(instanceId, eventName, eventPayload, cancellation);

    public override Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        Current.WaitForInstanceStartAsync(instanceId, getInputsAndOutputs, cancellation);

    public override Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        Current.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs, cancellation);

    public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default) =>
        Current.TerminateInstanceAsync(instanceId, options, cancellation);

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        Current.SuspendInstanceAsync(instanceId, reason, cancellation);

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        Current.ResumeInstanceAsync(instanceId, reason, cancellation);

    public override Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        Current.GetInstanceAsync(instanceId, getInputsAndOutputs, cancellation);

    public override Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        Current.GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation);

    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) => Current.GetAllInstancesAsync(filter);

    public override Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default) =>
        Current.PurgeInstanceAsync(instanceId, options, cancellation);

    public override Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default) =>
        Current.PurgeAllInstancesAsync(filter, options, cancellation);

    public override Task<string> RestartAsync(string instanceId, bool restartWithNewInstanceId = false, CancellationToken cancellation = default) =>
        Current.RestartAsync(instanceId, restartWithNewInstanceId, cancellation);

    public override Task RewindInstanceAsync(string instanceId, string reason, CancellationToken cancellation = default) =>
        Current.RewindInstanceAsync(instanceId, reason, cancellation);

    public override Task<IList<HistoryEvent>> GetOrchestrationHistoryAsync(string instanceId, CancellationToken cancellation = default) =>
        Current.GetOrchestrationHistoryAsync(instanceId, cancellation);

    public override Task<Page<string>> ListInstanceIdsAsync(IEnumerable<OrchestrationRuntimeStatus>? runtimeStatus = null, DateTimeOffset? completedTimeFrom = null,
        DateTimeOffset? completedTimeTo = null, int pageSize = 100, string? lastInstanceKey = null, CancellationToken cancellation = default) =>
        Current.ListInstanceIdsAsync(runtimeStatus, completedTimeFrom, completedTimeTo, pageSize, lastInstanceKey, cancellation);

    /// <summary>The bound clients belong to the extension, which disposes them.</summary>
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
