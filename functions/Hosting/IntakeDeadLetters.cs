using CareWorkflows.Definitions;
using System.Text.Json;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Functions.Hosting;

public sealed record DeadLetterSummary(string MessageId, Instant At, string Reason, int DeliveryCount, bool GaveUp);

/// <summary>A queued referral that was refused or kept failing, with its body so an operator can fix and resend it.</summary>
public sealed record DeadLetter(string MessageId, Instant At, string Reason, int DeliveryCount, bool GaveUp, string? CorrelationId, string Body);

/// <summary>
/// Poison-message records, kept in the store's documents table: one document per message
/// (<c>intake-dead-letter:{id}</c>) and an index document listing the latest <see cref="IndexLimit"/>.
/// The index is read-modify-written under a process-wide lock; two instances recording at the same moment can drop
/// an index entry, never the message's own document (and each record is also logged as an error).
/// </summary>
public sealed class IntakeDeadLetters(IDocumentStore store, IClock clock, ILogger<IntakeDeadLetters> logger)
{
    public const string IndexKey = "intake-dead-letters";
    public const string KeyPrefix = "intake-dead-letter:";
    public const int IndexLimit = 1000;
    private static readonly SemaphoreSlim IndexLock = new(1, 1);

    public async Task RecordAsync(string messageId, string reason, int deliveryCount, bool gaveUp, string? correlationId, string body, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var letter = new DeadLetter(messageId, now, reason, deliveryCount, gaveUp, correlationId, body);
        // The message id and reason only: the body may carry personal data and stays in the store.
        logger.LogError("Service Bus referral {MessageId} recorded as a dead letter after {DeliveryCount} delivery(ies): {Reason}", messageId, deliveryCount, reason);
        await store.PutDocumentAsync(KeyPrefix + messageId, JsonSerializer.Serialize(letter, WorkflowJson.Options), now, ct);
        await IndexLock.WaitAsync(ct);
        try
        {
            var index = await ListAsync(ct);
            var updated = index.Where(s => s.MessageId != messageId).Prepend(new DeadLetterSummary(messageId, now, reason, deliveryCount, gaveUp)).Take(IndexLimit).ToList();
            await store.PutDocumentAsync(IndexKey, JsonSerializer.Serialize(updated, WorkflowJson.Options), now, ct);
        }
        finally { IndexLock.Release(); }
    }

    /// <summary>Newest first.</summary>
    public async Task<IReadOnlyList<DeadLetterSummary>> ListAsync(CancellationToken ct) =>
        await store.GetDocumentAsync(IndexKey, ct) is { } json
            ? JsonSerializer.Deserialize<List<DeadLetterSummary>>(json, WorkflowJson.Options) ?? []
            : [];

    public async Task<DeadLetter?> GetAsync(string messageId, CancellationToken ct) =>
        await store.GetDocumentAsync(KeyPrefix + messageId, ct) is { } json ? JsonSerializer.Deserialize<DeadLetter>(json, WorkflowJson.Options) : null;
}
