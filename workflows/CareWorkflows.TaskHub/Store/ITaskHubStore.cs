using NodaTime;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.TaskHub.Store;

/// <summary>
/// The one store contract of our Durable Task server, implemented by SQLite (embedded, single node) and PostgreSQL
/// (multi-node). The same contract suite runs against both (tests/CareWorkflows.Tests/TaskHub/StoreContractTests.cs).
/// Every method that writes does so in one transaction; a method that finds its precondition broken writes nothing.
/// </summary>
public interface ITaskHubStore
{
    string Name { get; }

    /// <summary>Creates the schema and applies numbered scripts not yet applied. Safe on every start, by many nodes.</summary>
    Task MigrateAsync(CancellationToken ct = default);

    Task<bool> IsReadyAsync(CancellationToken ct = default);

    // ---------------------------------------------------------------- client side

    /// <summary>
    /// Creates an instance and its <c>ExecutionStarted</c> message (visible at its scheduled start). An existing instance
    /// is replaced only when its status is in <paramref name="replaceable"/> (and terminal); otherwise nothing is written.
    /// </summary>
    Task<bool> CreateInstanceAsync(NewInstance instance, IReadOnlyCollection<P.OrchestrationStatus> replaceable, CancellationToken ct = default);

    Task<InstanceRecord?> GetInstanceAsync(string instanceId, bool withPayloads, CancellationToken ct = default);

    Task<InstancePage> QueryInstancesAsync(InstanceFilter filter, CancellationToken ct = default);

    /// <summary>Instance ids of terminal instances completed in a time range, in id order after <see cref="InstanceIdPage.After"/>.</summary>
    Task<IReadOnlyList<string>> ListInstanceIdsAsync(InstanceIdPage page, CancellationToken ct = default);

    /// <summary>The history of the current execution, in order.</summary>
    Task<IReadOnlyList<P.HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken ct = default);

    /// <summary>
    /// Puts a message in an instance's inbox if the instance exists and is not terminal (the check and the insert are one
    /// statement). A message to a pending instance with a scheduled start becomes visible at that start.
    /// </summary>
    Task<EnqueueOutcome> EnqueueAsync(string instanceId, P.HistoryEvent message, Instant now, CancellationToken ct = default);

    /// <summary>
    /// Terminates an instance that has never run a step (pending, unlocked) directly. False when it has started or is
    /// being processed: then the caller sends an <c>ExecutionTerminated</c> message instead.
    /// </summary>
    Task<bool> TerminatePendingAsync(string instanceId, string? output, Instant now, CancellationToken ct = default);

    /// <summary>Non-terminal sub-orchestrations of <paramref name="parentInstanceId"/>.</summary>
    Task<IReadOnlyList<string>> ActiveChildrenAsync(string parentInstanceId, CancellationToken ct = default);

    /// <summary>Deletes a terminal instance with its history and messages (and, with recursion, its sub-orchestrations). Returns how many.</summary>
    Task<int> PurgeInstanceAsync(string instanceId, bool recursive, CancellationToken ct = default);

    /// <summary>Deletes terminal instances matching the filter. Returns how many.</summary>
    Task<int> PurgeInstancesAsync(PurgeFilter filter, CancellationToken ct = default);

    // ---------------------------------------------------------------- dispatcher side

    /// <summary>
    /// Locks up to <paramref name="max"/> instances that have visible messages and are not locked (or whose lock expired),
    /// and returns each with its history and visible messages. Claims never wait on, or take, another node's locks.
    /// </summary>
    Task<IReadOnlyList<OrchestrationWorkItem>> ClaimOrchestrationsAsync(Instant now, string lockToken, Instant lockUntil, int max, CancellationToken ct = default);

    /// <summary>Writes one orchestration step in one transaction. False (nothing written) when the lock is no longer ours.</summary>
    Task<bool> CommitStepAsync(StepCommit step, CancellationToken ct = default);

    /// <summary>Deletes messages a claimed instance cannot use and gives it back, to be claimed again from <paramref name="retryAt"/>.</summary>
    Task DiscardAsync(string instanceId, string lockToken, IReadOnlyList<long> messageIds, Instant retryAt, CancellationToken ct = default);

    /// <summary>Gives a claimed instance back, to be claimed again from <paramref name="retryAt"/>.</summary>
    Task ReleaseOrchestrationAsync(string instanceId, string lockToken, Instant retryAt, CancellationToken ct = default);

    Task<IReadOnlyList<ActivityWorkItem>> ClaimActivitiesAsync(Instant now, string lockToken, Instant lockUntil, int max, CancellationToken ct = default);

    /// <summary>
    /// Records an activity's result: deletes the task and puts the result in the instance's inbox, if the task is still
    /// there (the first result wins; a late duplicate is dropped) and its execution is still current.
    /// </summary>
    Task<bool> CompleteActivityAsync(long taskRowId, P.HistoryEvent result, Instant now, CancellationToken ct = default);

    Task ReleaseActivityAsync(long taskRowId, string lockToken, Instant retryAt, CancellationToken ct = default);

    /// <summary>Extends the locks this process still holds (work items out with a live worker).</summary>
    Task RenewLocksAsync(IReadOnlyCollection<string> instanceIds, IReadOnlyCollection<long> taskRowIds, string lockToken, Instant lockUntil, CancellationToken ct = default);

    /// <summary>The earliest time after <paramref name="now"/> at which a message or task becomes visible (the next timer).</summary>
    Task<Instant?> NextVisibleAfterAsync(Instant now, CancellationToken ct = default);

    /// <summary>True when some message or task is visible at <paramref name="now"/> (work to do, or in flight).</summary>
    Task<bool> HasVisibleWorkAsync(Instant now, CancellationToken ct = default);
}

public enum EnqueueOutcome { Enqueued, NotFound, Terminal }

/// <summary>An instance row without its lock.</summary>
public sealed record InstanceRecord(
    string InstanceId,
    string ExecutionId,
    string Name,
    string? Version,
    P.OrchestrationStatus Status,
    Instant CreatedAt,
    Instant UpdatedAt,
    Instant? CompletedAt,
    Instant? ScheduledStartAt,
    string? Input,
    string? Output,
    string? CustomStatus,
    P.TaskFailureDetails? Failure,
    string? ParentInstanceId,
    IReadOnlyDictionary<string, string>? Tags)
{
    public bool IsTerminal => TaskHubStatus.IsTerminal(Status);
}

public static class TaskHubStatus
{
    public static bool IsTerminal(P.OrchestrationStatus s) =>
        s is P.OrchestrationStatus.Completed or P.OrchestrationStatus.Failed or P.OrchestrationStatus.Terminated or P.OrchestrationStatus.Canceled;

    public static readonly P.OrchestrationStatus[] Terminal =
        [P.OrchestrationStatus.Completed, P.OrchestrationStatus.Failed, P.OrchestrationStatus.Terminated, P.OrchestrationStatus.Canceled];

    public static readonly P.OrchestrationStatus[] Active =
        [P.OrchestrationStatus.Running, P.OrchestrationStatus.Pending, P.OrchestrationStatus.Suspended];
}

/// <summary>A new instance and its first message.</summary>
public sealed record NewInstance(
    string InstanceId,
    string ExecutionId,
    string Name,
    string? Version,
    string? Input,
    Instant CreatedAt,
    Instant? ScheduledStartAt,
    string? ParentInstanceId,
    IReadOnlyDictionary<string, string>? Tags,
    P.HistoryEvent ExecutionStarted);

public sealed record InstanceFilter(
    IReadOnlyCollection<P.OrchestrationStatus>? Statuses,
    Instant? CreatedFrom,
    Instant? CreatedTo,
    string? IdPrefix,
    int PageSize,
    bool WithPayloads,
    (Instant CreatedAt, string InstanceId)? After);

public sealed record InstancePage(IReadOnlyList<InstanceRecord> Instances, (Instant CreatedAt, string InstanceId)? Next);

public sealed record InstanceIdPage(IReadOnlyCollection<P.OrchestrationStatus>? Statuses, Instant? CompletedFrom, Instant? CompletedTo, int PageSize, string? After);

public sealed record PurgeFilter(Instant? CreatedFrom, Instant? CreatedTo, Instant? CompletedBefore, IReadOnlyCollection<P.OrchestrationStatus> Statuses);

/// <summary>A locked instance with what a step needs: its history and the messages visible when it was claimed.</summary>
public sealed record OrchestrationWorkItem(
    string InstanceId,
    string ExecutionId,
    string Name,
    P.OrchestrationStatus Status,
    int HistoryCount,
    Instant? LastStepAt,
    string LockToken,
    IReadOnlyList<P.HistoryEvent> History,
    IReadOnlyList<InboxMessage> Messages);

public sealed record InboxMessage(long Id, string? ExecutionId, P.HistoryEvent Event);

public sealed record ActivityWorkItem(long TaskRowId, string InstanceId, string ExecutionId, int TaskId, string LockToken, P.ActivityRequest Request);

/// <summary>
/// Everything one orchestration step writes, in one transaction: history appended (or reset by ContinueAsNew), the
/// consumed messages deleted, the instance row updated and unlocked, and what the step produced.
/// </summary>
public sealed record StepCommit(
    string InstanceId,
    string LockToken,
    IReadOnlyList<long> ConsumedMessageIds,
    bool ResetHistory,
    int HistoryStart,
    IReadOnlyList<P.HistoryEvent> AppendHistory,
    InstanceUpdate Instance,
    IReadOnlyList<NewTask> Tasks,
    IReadOnlyList<OutgoingMessage> Messages,
    IReadOnlyList<NewChild> Children,
    /// <summary>The execution whose timers, results and tasks are dropped (ContinueAsNew, or completion).</summary>
    string? DropExecutionId,
    /// <summary>A terminal step: every message still in the inbox is dropped (nobody will read it).</summary>
    bool DropAllMessages);

public sealed record InstanceUpdate(
    string ExecutionId,
    P.OrchestrationStatus Status,
    Instant UpdatedAt,
    Instant? CompletedAt,
    string? Output,
    string? CustomStatus,
    P.TaskFailureDetails? Failure,
    /// <summary>Set by ContinueAsNew: the new execution's input and version.</summary>
    bool NewExecution,
    string? Input,
    string? Version,
    int HistoryCount,
    Instant StepAt);

public sealed record NewTask(string InstanceId, string ExecutionId, int TaskId, P.ActivityRequest Request, Instant VisibleAt);

/// <summary>How an outgoing message is delivered.</summary>
public enum Delivery
{
    /// <summary>Always (a message to the instance taking the step: its own timers, its new execution's start).</summary>
    Self,
    /// <summary>Only if the target exists and is not terminal (and, with an execution id, is still on that execution).</summary>
    IfActive,
}

public sealed record OutgoingMessage(string InstanceId, string? ExecutionId, Instant VisibleAt, P.HistoryEvent Event, Delivery Delivery);

/// <summary>A sub-orchestration to create. If an active instance already has the id, <see cref="FailureToParent"/> goes to the parent instead.</summary>
public sealed record NewChild(NewInstance Instance, OutgoingMessage FailureToParent);
