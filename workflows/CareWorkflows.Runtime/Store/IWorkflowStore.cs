using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>
/// The one store contract. Implemented by SQLite (embedded, single node) and PostgreSQL (multi-node).
/// The same contract test suite runs against both (tests/CareWorkflows.Tests/Store). Documents and idempotency keys are
/// their own small contracts (<see cref="IDocumentStore"/>, <see cref="IIdempotencyStore"/>), which the SQL stores
/// implement too; callers that need only those depend on them.
/// </summary>
public interface IWorkflowStore : IDocumentStore, IIdempotencyStore
{
    string Name { get; }

    /// <summary>Creates the schema and applies numbered migrations not yet applied. Safe to call on every start, by many nodes.</summary>
    Task MigrateAsync(CancellationToken ct = default);

    /// <summary>True when the database answers and every shipped migration is applied.</summary>
    Task<bool> IsReadyAsync(CancellationToken ct = default);

    Task<InstanceRow?> LoadAsync(string reference, CancellationToken ct = default);

    /// <summary>
    /// Writes one transition in one transaction. Throws <see cref="ConcurrencyConflictException"/> when the version
    /// check fails or a unique key (event sequence, reference, idempotency key) is taken, and
    /// <see cref="StaleTimerException"/> when <see cref="CommitBatch.ConsumeTimerId"/> is no longer pending (or is not due at
    /// <see cref="CommitBatch.Now"/>).
    /// Nothing is written in either case.
    /// </summary>
    Task CommitAsync(CommitBatch batch, CancellationToken ct = default);

    /// <summary>Claims up to <paramref name="max"/> due timers whose lease is free or expired, earliest first.</summary>
    Task<IReadOnlyList<ClaimedTimer>> ClaimDueTimersAsync(Instant now, int max, string owner, Duration lease, CancellationToken ct = default);

    /// <summary>Pushes a claimed timer's lease to <paramref name="until"/> (used to back off when a transition keeps failing).</summary>
    Task DeferTimerAsync(Guid id, Instant until, CancellationToken ct = default);

    /// <summary>The earliest due time among pending timers, or null.</summary>
    Task<Instant?> NextTimerDueAsync(CancellationToken ct = default);

    Task<IReadOnlyList<TimerRow>> GetTimersAsync(string reference, CancellationToken ct = default);

    Task<IReadOnlyList<OutboxMessage>> ClaimOutboxAsync(Instant now, int max, string owner, Duration lease, CancellationToken ct = default);
    Task<Instant?> NextOutboxDueAsync(CancellationToken ct = default);
    Task MarkSentAsync(Guid id, string owner, string provider, string providerMessageId, Instant sentAt, CancellationToken ct = default);
    Task MarkRetryAsync(Guid id, string owner, int attempts, Instant nextAttemptAt, string error, CancellationToken ct = default);
    Task<OutboxMessage?> GetMessageAsync(Guid id, CancellationToken ct = default);
    /// <summary>A sent message the provider later reports undeliverable: marked failed with the error; true the first time only.</summary>
    Task<bool> MarkDeliveryFailedAsync(Guid id, string error, CancellationToken ct = default);
    /// <summary>Logs a message an orchestration sends (held in flight, never taken by the outbox dispatcher); nothing if already there.</summary>
    Task LogMessageAsync(OutboxMessage message, CancellationToken ct = default);
    /// <summary>Counts a failed attempt of an orchestration's message; marks it failed when permanent or at the last attempt. Returns the attempts.</summary>
    Task<int> MarkAttemptFailedAsync(Guid id, string error, bool permanent, int maxAttempts, CancellationToken ct = default);
    /// <summary>Takes a failed message back in flight for an operator's retry; true for the one caller that took it.</summary>
    Task<bool> ReopenFailedMessageAsync(Guid id, CancellationToken ct = default);
    Task UpdateDeliveryStatusAsync(string provider, string providerMessageId, string deliveryStatus, CancellationToken ct = default);

    Task<IReadOnlyList<OutboxMessage>> GetMessagesAsync(string? reference = null, string? to = null, string? provider = null, OutboxStatus? status = null, int limit = 500, CancellationToken ct = default);
    Task<IReadOnlyList<TimelineEntry>> GetTimelineAsync(string reference, CancellationToken ct = default);
    Task<IReadOnlyList<InstanceRow>> ListInstancesAsync(InstanceFilter filter, Instant now, CancellationToken ct = default);

    /// <summary>Open asks, filtered by any of reference, recipient, sender email or mobile.</summary>
    Task<IReadOnlyList<AskRow>> FindAsksAsync(string? reference = null, string? recipientId = null, string? email = null, string? mobile = null, CancellationToken ct = default);
}
