using System.Text;
using CareWorkflows.TaskHub.Engine;
using CareWorkflows.TaskHub.Store;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using NodaTime;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.TaskHub.Grpc;

/// <summary>
/// The Durable Task protocol (<c>TaskHubSidecarService</c>) over our store. Client calls validate their arguments first
/// (bad ones get <c>InvalidArgument</c> with the reason, unknown instances <c>NotFound</c>) and write at most one
/// transaction; worker calls go to the <see cref="WorkDispatcher"/>. Entities are not supported.
/// </summary>
public sealed class TaskHubGrpcService(ITaskHubStore store, WorkDispatcher dispatcher, TaskHubSignals signals, IClock clock, TaskHubOptions options,
    ILogger<TaskHubGrpcService> logger) : P.TaskHubSidecarService.TaskHubSidecarServiceBase
{
    private const string EntitiesUnsupported = "Durable entities are not supported by this task hub (CareWorkflows' Durable Task server): use orchestrations.";

    public override Task<Empty> Hello(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    // ------------------------------------------------------------------------------------------- instances

    public override async Task<P.CreateInstanceResponse> StartInstance(P.CreateInstanceRequest request, ServerCallContext context)
    {
        var id = Check.InstanceId(request.InstanceId);
        if (string.IsNullOrWhiteSpace(request.Name)) throw Check.Invalid("The orchestration name is required.");
        Check.Payload(request.Input, "input", options);
        var now = clock.GetCurrentInstant();
        Instant? scheduled = request.ScheduledStartTimestamp is { } s ? Instant.FromDateTimeOffset(s.ToDateTimeOffset()) : null;
        var execution = string.IsNullOrEmpty(request.ExecutionId) ? Guid.NewGuid().ToString("N") : request.ExecutionId;
        var started = new P.HistoryEvent
        {
            EventId = -1, Timestamp = OrchestrationStep.Ts(now),
            ExecutionStarted = new P.ExecutionStartedEvent
            {
                Name = request.Name, Version = request.Version, Input = request.Input, ParentTraceContext = request.ParentTraceContext,
                OrchestrationInstance = new P.OrchestrationInstance { InstanceId = id, ExecutionId = execution },
                ScheduledStartTimestamp = request.ScheduledStartTimestamp, Tags = { request.Tags },
            },
        };
        var replaceable = request.OrchestrationIdReusePolicy?.ReplaceableStatus.ToList() ?? [];
        var created = await store.CreateInstanceAsync(new NewInstance(id, execution, request.Name, request.Version, request.Input, now, scheduled, null,
            request.Tags.Count > 0 ? new Dictionary<string, string>(request.Tags) : null, started), replaceable, context.CancellationToken);
        if (!created) throw new RpcException(new Status(StatusCode.AlreadyExists, $"An orchestration instance with id '{id}' already exists."));
        signals.WorkAvailable();
        signals.InstanceChanged(id);
        return new P.CreateInstanceResponse { InstanceId = id };
    }

    public override async Task<P.GetInstanceResponse> GetInstance(P.GetInstanceRequest request, ServerCallContext context)
    {
        var id = Check.InstanceId(request.InstanceId);
        var row = await store.GetInstanceAsync(id, request.GetInputsAndOutputs, context.CancellationToken);
        return row is null ? new P.GetInstanceResponse { Exists = false } : new P.GetInstanceResponse { Exists = true, OrchestrationState = State(row) };
    }

    public override Task<P.GetInstanceResponse> WaitForInstanceStart(P.GetInstanceRequest request, ServerCallContext context) =>
        WaitAsync(request, context, r => r.Status != P.OrchestrationStatus.Pending);

    public override Task<P.GetInstanceResponse> WaitForInstanceCompletion(P.GetInstanceRequest request, ServerCallContext context) =>
        WaitAsync(request, context, r => r.IsTerminal);

    /// <summary>
    /// A long poll: answers when the instance meets <paramref name="done"/>, or when the caller gives up. Woken by this
    /// process's changes; re-reads the store every second for other nodes'.
    /// </summary>
    private async Task<P.GetInstanceResponse> WaitAsync(P.GetInstanceRequest request, ServerCallContext context, Func<InstanceRecord, bool> done)
    {
        var id = Check.InstanceId(request.InstanceId);
        var ct = context.CancellationToken;
        while (true)
        {
            var row = await store.GetInstanceAsync(id, request.GetInputsAndOutputs, ct)
                ?? throw new RpcException(new Status(StatusCode.NotFound, $"No orchestration instance with id '{id}'."));
            if (done(row)) return new P.GetInstanceResponse { Exists = true, OrchestrationState = State(row) };
            try { await signals.WaitForInstanceAsync(id, TimeSpan.FromSeconds(1), ct); }
            catch (OperationCanceledException)
            {
                throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"Instance '{id}' did not reach the awaited state in time."));
            }
        }
    }

    public override async Task<P.RaiseEventResponse> RaiseEvent(P.RaiseEventRequest request, ServerCallContext context)
    {
        var id = Check.InstanceId(request.InstanceId);
        if (string.IsNullOrWhiteSpace(request.Name)) throw Check.Invalid("The event name is required.");
        if (request.Name.Length > 256) throw Check.Invalid("The event name is longer than 256 characters.");
        Check.Payload(request.Input, "event data", options);
        var message = new P.HistoryEvent
        {
            EventId = -1, Timestamp = OrchestrationStep.Ts(clock.GetCurrentInstant()),
            EventRaised = new P.EventRaisedEvent { Name = request.Name, Input = request.Input },
        };
        await EnqueueAsync(id, message, "an event", context.CancellationToken);
        return new P.RaiseEventResponse();
    }

    private async Task EnqueueAsync(string id, P.HistoryEvent message, string what, CancellationToken ct)
    {
        var outcome = await store.EnqueueAsync(id, message, clock.GetCurrentInstant(), ct);
        switch (outcome)
        {
            case EnqueueOutcome.NotFound:
                throw new RpcException(new Status(StatusCode.NotFound, $"No orchestration instance with id '{id}'."));
            case EnqueueOutcome.Terminal:
                var row = await store.GetInstanceAsync(id, false, ct);
                throw new RpcException(new Status(StatusCode.FailedPrecondition,
                    $"Instance '{id}' has ended ({StatusName(row?.Status ?? P.OrchestrationStatus.Completed)}): it takes no more {what}."));
        }
        signals.WorkAvailable();
    }

    public override async Task<P.TerminateResponse> TerminateInstance(P.TerminateRequest request, ServerCallContext context)
    {
        var id = Check.InstanceId(request.InstanceId);
        Check.Payload(request.Output, "output", options);
        await TerminateAsync(id, request.Output, request.Recursive, depth: 0, context.CancellationToken);
        return new P.TerminateResponse();
    }

    private async Task TerminateAsync(string id, string? output, bool recursive, int depth, CancellationToken ct)
    {
        var row = await store.GetInstanceAsync(id, false, ct) ?? throw new RpcException(new Status(StatusCode.NotFound, $"No orchestration instance with id '{id}'."));
        if (row.IsTerminal) return; // already ended: terminating again changes nothing
        if (recursive && depth < 32)
            foreach (var child in await store.ActiveChildrenAsync(id, ct))
                await TerminateAsync(child, output, recursive, depth + 1, ct);
        var now = clock.GetCurrentInstant();
        if (await store.TerminatePendingAsync(id, output, now, ct))
        {
            signals.InstanceChanged(id);
            return;
        }
        var outcome = await store.EnqueueAsync(id, new P.HistoryEvent
        {
            EventId = -1, Timestamp = OrchestrationStep.Ts(now),
            ExecutionTerminated = new P.ExecutionTerminatedEvent { Input = output, Recurse = recursive },
        }, now, ct);
        if (outcome == EnqueueOutcome.Enqueued) signals.WorkAvailable();
    }

    public override async Task<P.SuspendResponse> SuspendInstance(P.SuspendRequest request, ServerCallContext context)
    {
        var id = Check.InstanceId(request.InstanceId);
        Check.Payload(request.Reason, "reason", options);
        await EnqueueAsync(id, new P.HistoryEvent
        {
            EventId = -1, Timestamp = OrchestrationStep.Ts(clock.GetCurrentInstant()),
            ExecutionSuspended = new P.ExecutionSuspendedEvent { Input = request.Reason },
        }, "suspensions", context.CancellationToken);
        return new P.SuspendResponse();
    }

    public override async Task<P.ResumeResponse> ResumeInstance(P.ResumeRequest request, ServerCallContext context)
    {
        var id = Check.InstanceId(request.InstanceId);
        Check.Payload(request.Reason, "reason", options);
        await EnqueueAsync(id, new P.HistoryEvent
        {
            EventId = -1, Timestamp = OrchestrationStep.Ts(clock.GetCurrentInstant()),
            ExecutionResumed = new P.ExecutionResumedEvent { Input = request.Reason },
        }, "resumptions", context.CancellationToken);
        return new P.ResumeResponse();
    }

    public override async Task<P.QueryInstancesResponse> QueryInstances(P.QueryInstancesRequest request, ServerCallContext context)
    {
        var q = request.Query ?? new P.InstanceQuery();
        if (q.MaxInstanceCount < 0) throw Check.Invalid("maxInstanceCount must not be negative.");
        var page = await store.QueryInstancesAsync(new InstanceFilter(
            q.RuntimeStatus.Count > 0 ? q.RuntimeStatus.ToList() : null,
            q.CreatedTimeFrom is { } from ? Instant.FromDateTimeOffset(from.ToDateTimeOffset()) : null,
            q.CreatedTimeTo is { } to ? Instant.FromDateTimeOffset(to.ToDateTimeOffset()) : null,
            q.InstanceIdPrefix,
            q.MaxInstanceCount == 0 ? 100 : Math.Min(q.MaxInstanceCount, 1000),
            q.FetchInputsAndOutputs,
            Continuation.Parse(q.ContinuationToken)), context.CancellationToken);
        var response = new P.QueryInstancesResponse { ContinuationToken = page.Next is { } next ? Continuation.Format(next) : null };
        response.OrchestrationState.AddRange(page.Instances.Select(State));
        return response;
    }

    public override async Task<P.ListInstanceIdsResponse> ListInstanceIds(P.ListInstanceIdsRequest request, ServerCallContext context)
    {
        if (request.PageSize < 0) throw Check.Invalid("pageSize must not be negative.");
        var size = request.PageSize == 0 ? 100 : Math.Min(request.PageSize, 1000);
        var ids = await store.ListInstanceIdsAsync(new InstanceIdPage(request.RuntimeStatus.ToList(),
            request.CompletedTimeFrom is { } f ? Instant.FromDateTimeOffset(f.ToDateTimeOffset()) : null,
            request.CompletedTimeTo is { } t ? Instant.FromDateTimeOffset(t.ToDateTimeOffset()) : null, size, request.LastInstanceKey), context.CancellationToken);
        var response = new P.ListInstanceIdsResponse { LastInstanceKey = ids.Count == size ? ids[^1] : null };
        response.InstanceIds.AddRange(ids);
        return response;
    }

    public override async Task<P.PurgeInstancesResponse> PurgeInstances(P.PurgeInstancesRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        int deleted;
        switch (request.RequestCase)
        {
            case P.PurgeInstancesRequest.RequestOneofCase.InstanceId:
                deleted = await store.PurgeInstanceAsync(Check.InstanceId(request.InstanceId), request.Recursive, ct);
                break;
            case P.PurgeInstancesRequest.RequestOneofCase.InstanceBatch:
                if (request.InstanceBatch.InstanceIds.Count > 500) throw Check.Invalid("At most 500 instance ids can be purged in one batch.");
                deleted = 0;
                foreach (var id in request.InstanceBatch.InstanceIds) deleted += await store.PurgeInstanceAsync(Check.InstanceId(id), request.Recursive, ct);
                break;
            case P.PurgeInstancesRequest.RequestOneofCase.PurgeInstanceFilter:
                var f = request.PurgeInstanceFilter;
                if (f.RuntimeStatus.Any(s => !TaskHubStatus.IsTerminal(s)))
                    throw Check.Invalid("Only ended instances (Completed, Failed, Terminated) can be purged.");
                deleted = await store.PurgeInstancesAsync(new PurgeFilter(
                    f.CreatedTimeFrom is { } from ? Instant.FromDateTimeOffset(from.ToDateTimeOffset()) : null,
                    f.CreatedTimeTo is { } to ? Instant.FromDateTimeOffset(to.ToDateTimeOffset()) : null, null, f.RuntimeStatus.ToList()), ct);
                break;
            default:
                throw Check.Invalid("Give an instance id, a batch of ids or a filter to purge.");
        }
        return new P.PurgeInstancesResponse { DeletedInstanceCount = deleted, IsComplete = true };
    }

    public override async Task<P.RestartInstanceResponse> RestartInstance(P.RestartInstanceRequest request, ServerCallContext context)
    {
        var id = Check.InstanceId(request.InstanceId);
        var row = await store.GetInstanceAsync(id, true, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"No orchestration instance with id '{id}'."));
        if (!row.IsTerminal && !request.RestartWithNewInstanceId)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Instance '{id}' is still {StatusName(row.Status)}: only an ended instance restarts under its own id."));
        var newId = request.RestartWithNewInstanceId ? Guid.NewGuid().ToString("N") : id;
        var create = new P.CreateInstanceRequest { InstanceId = newId, Name = row.Name, Version = row.Version, Input = row.Input };
        if (!request.RestartWithNewInstanceId) create.OrchestrationIdReusePolicy = new P.OrchestrationIdReusePolicy { ReplaceableStatus = { TaskHubStatus.Terminal } };
        await StartInstance(create, context);
        return new P.RestartInstanceResponse { InstanceId = newId };
    }

    public override async Task StreamInstanceHistory(P.StreamInstanceHistoryRequest request, IServerStreamWriter<P.HistoryChunk> responseStream, ServerCallContext context)
    {
        var id = Check.InstanceId(request.InstanceId);
        var row = await store.GetInstanceAsync(id, false, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"No orchestration instance with id '{id}'."));
        if (!string.IsNullOrEmpty(request.ExecutionId) && request.ExecutionId != row.ExecutionId)
            throw new RpcException(new Status(StatusCode.NotFound, $"Execution '{request.ExecutionId}' of '{id}' is not its current one; only the current execution's history is kept."));
        var history = await store.GetHistoryAsync(id, context.CancellationToken);
        foreach (var chunk in history.Chunk(200))
            await responseStream.WriteAsync(new P.HistoryChunk { Events = { chunk } }, context.CancellationToken);
    }

    public override async Task<P.CreateTaskHubResponse> CreateTaskHub(P.CreateTaskHubRequest request, ServerCallContext context)
    {
        if (request.RecreateIfExists) throw new RpcException(new Status(StatusCode.Unimplemented, "Recreating the task hub is not supported: it lives in the service's database."));
        await store.MigrateAsync(context.CancellationToken);
        return new P.CreateTaskHubResponse();
    }

    public override Task<P.DeleteTaskHubResponse> DeleteTaskHub(P.DeleteTaskHubRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "Deleting the task hub is not supported: it lives in the service's database."));

    public override Task<P.RewindInstanceResponse> RewindInstance(P.RewindInstanceRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "Rewind is not supported by this task hub."));

    public override Task<P.SkipGracefulOrchestrationTerminationsResponse> SkipGracefulOrchestrationTerminations(P.SkipGracefulOrchestrationTerminationsRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "Skipping graceful termination is not supported: use TerminateInstance."));

    // ------------------------------------------------------------------------------------------- entities (not supported)

    public override Task<P.SignalEntityResponse> SignalEntity(P.SignalEntityRequest request, ServerCallContext context) => throw Unsupported();
    public override Task<P.GetEntityResponse> GetEntity(P.GetEntityRequest request, ServerCallContext context) => throw Unsupported();
    public override Task<P.QueryEntitiesResponse> QueryEntities(P.QueryEntitiesRequest request, ServerCallContext context) => throw Unsupported();
    public override Task<P.CleanEntityStorageResponse> CleanEntityStorage(P.CleanEntityStorageRequest request, ServerCallContext context) => throw Unsupported();
    public override Task<P.CompleteTaskResponse> CompleteEntityTask(P.EntityBatchResult request, ServerCallContext context) => throw Unsupported();
    public override Task<P.AbandonEntityTaskResponse> AbandonTaskEntityWorkItem(P.AbandonEntityTaskRequest request, ServerCallContext context) => throw Unsupported();
    private static RpcException Unsupported() => new(new Status(StatusCode.Unimplemented, EntitiesUnsupported));

    // ------------------------------------------------------------------------------------------- workers

    public override async Task GetWorkItems(P.GetWorkItemsRequest request, IServerStreamWriter<P.WorkItem> responseStream, ServerCallContext context)
    {
        if (request.MaxConcurrentOrchestrationWorkItems < 0 || request.MaxConcurrentActivityWorkItems < 0)
            throw Check.Invalid("Concurrency limits must not be negative.");
        var stream = dispatcher.Connect(request);
        var unsent = await stream.PumpAsync(responseStream, context.CancellationToken);
        await dispatcher.DisconnectAsync(stream, unsent);
    }

    public override async Task<P.CompleteTaskResponse> CompleteOrchestratorTask(P.OrchestratorResponse request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.CompletionToken)) throw Check.Invalid("The completion token is required.");
#pragma warning disable CS0612 // deprecated chunking: refused plainly rather than misread
        if (request.IsPartial) throw Check.Invalid("Chunked (partial) completions are not supported by this task hub.");
#pragma warning restore CS0612
        await dispatcher.CompleteOrchestrationAsync(request, context.CancellationToken);
        return new P.CompleteTaskResponse();
    }

    public override async Task<P.CompleteTaskResponse> CompleteActivityTask(P.ActivityResponse request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.CompletionToken)) throw Check.Invalid("The completion token is required.");
        await dispatcher.CompleteActivityAsync(request, context.CancellationToken);
        return new P.CompleteTaskResponse();
    }

    public override async Task<P.AbandonOrchestrationTaskResponse> AbandonTaskOrchestratorWorkItem(P.AbandonOrchestrationTaskRequest request, ServerCallContext context)
    {
        logger.LogWarning("A worker gave back an orchestration work item.");
        await dispatcher.AbandonAsync(request.CompletionToken, context.CancellationToken);
        return new P.AbandonOrchestrationTaskResponse();
    }

    public override async Task<P.AbandonActivityTaskResponse> AbandonTaskActivityWorkItem(P.AbandonActivityTaskRequest request, ServerCallContext context)
    {
        logger.LogWarning("A worker gave back an activity work item.");
        await dispatcher.AbandonAsync(request.CompletionToken, context.CancellationToken);
        return new P.AbandonActivityTaskResponse();
    }

    // ------------------------------------------------------------------------------------------- mapping

    public static P.OrchestrationState State(InstanceRecord r)
    {
        var s = new P.OrchestrationState
        {
            InstanceId = r.InstanceId, Name = r.Name, Version = r.Version, OrchestrationStatus = r.Status, ExecutionId = r.ExecutionId,
            CreatedTimestamp = OrchestrationStep.Ts(r.CreatedAt), LastUpdatedTimestamp = OrchestrationStep.Ts(r.UpdatedAt),
            CompletedTimestamp = r.CompletedAt is { } c ? OrchestrationStep.Ts(c) : null,
            ScheduledStartTimestamp = r.ScheduledStartAt is { } st ? OrchestrationStep.Ts(st) : null,
            Input = r.Input, Output = r.Output, CustomStatus = r.CustomStatus, FailureDetails = r.Failure, ParentInstanceId = r.ParentInstanceId,
        };
        if (r.Tags is not null) foreach (var (k, v) in r.Tags) s.Tags[k] = v;
        return s;
    }

    private static string StatusName(P.OrchestrationStatus s) => s.ToString();

    /// <summary>Argument checks with messages a caller can act on.</summary>
    public static class Check
    {
        /// <summary>Longest instance id accepted (Azure Storage's limit too, so ids move between backends).</summary>
        public const int MaxInstanceIdLength = 100;

        public static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));

        public static string InstanceId(string id)
        {
            if (string.IsNullOrEmpty(id)) throw Invalid("The instance id is required.");
            if (id.Length > MaxInstanceIdLength) throw Invalid($"The instance id is {id.Length} characters long; at most {MaxInstanceIdLength} are allowed.");
            if (id.Trim() != id) throw Invalid("The instance id must not start or end with white space.");
            foreach (var ch in id)
                if (char.IsControl(ch) || ch is '/' or '\\' or '#' or '?')
                    throw Invalid($"The instance id '{Printable(id)}' contains a character that is not allowed (control characters, / \\ # ?).");
            return id;
        }

        public static void Payload(string? value, string what, TaskHubOptions options)
        {
            if (value is null) return;
            var bytes = Encoding.UTF8.GetByteCount(value);
            if (bytes > options.MaxPayloadBytes)
                throw Invalid($"The {what} is {bytes} bytes; this task hub accepts at most {options.MaxPayloadBytes}.");
        }

        private static string Printable(string s) => new(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }

    /// <summary>Query continuation tokens: "createdTicks:instanceId".</summary>
    public static class Continuation
    {
        public static string Format((Instant CreatedAt, string InstanceId) at) => $"{at.CreatedAt.ToUnixTimeTicks()}:{at.InstanceId}";

        public static (Instant, string)? Parse(string? token)
        {
            if (string.IsNullOrEmpty(token)) return null;
            var colon = token.IndexOf(':');
            if (colon <= 0 || !long.TryParse(token[..colon], out var ticks) || colon == token.Length - 1)
                throw Check.Invalid("The continuation token is not one this task hub issued.");
            return (Instant.FromUnixTimeTicks(ticks), token[(colon + 1)..]);
        }
    }
}
