using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>
/// The service's store contract (its message log, idempotency keys, documents; instances, histories and timers are the
/// Durable Task server's). Implemented by SQLite (embedded, single node) and PostgreSQL (multi-node). Documents and idempotency keys are
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


    Task MarkSentAsync(Guid id, string owner, string provider, string providerMessageId, Instant sentAt, CancellationToken ct = default);
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

}
