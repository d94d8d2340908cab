using CareWorkflows.Definitions;
using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>An SMS or email reply as received from a provider's webhook.</summary>
public sealed record InboundMessage(
    string Provider, string ProviderMessageId, MessageChannel Channel, string Sender, string Body, Instant ReceivedAt,
    string? Reference = null, string Outcome = InboundOutcomes.Received, string? Reply = null);

/// <summary>What became of an inbound message.</summary>
public static class InboundOutcomes
{
    /// <summary>Stored, not yet handled (or handling stopped half-way: a redelivery handles it again).</summary>
    public const string Received = "Received";
    public const string Applied = "Applied";
    /// <summary>Not understood or ambiguous: the sender got a helpful reply; no workflow saw it.</summary>
    public const string NotUnderstood = "NotUnderstood";
    /// <summary>The sender is not the recipient of the ask.</summary>
    public const string SenderMismatch = "SenderMismatch";
    /// <summary>Understood, but the workflow refused it (closed, invalid answer).</summary>
    public const string Refused = "Refused";
}

/// <summary>
/// Inbound replies, stored once per provider message id (a redelivered webhook is ignored). Implemented by the SQL
/// stores (<c>inbound</c> table) and by Table storage (<see cref="Tables.TableInboundStore"/>).
/// </summary>
public interface IInboundStore
{
    /// <summary>Stores the message unless one with the same provider and provider message id exists; returns the stored row either way.</summary>
    Task<(bool Inserted, InboundMessage Stored)> RecordInboundAsync(InboundMessage m, CancellationToken ct = default);
    Task SetInboundOutcomeAsync(string provider, string providerMessageId, string? reference, string outcome, string? reply, CancellationToken ct = default);
    /// <summary>Inbound messages (of one instance, when given), oldest first. For operators and tests.</summary>
    Task<IReadOnlyList<InboundMessage>> GetInboundAsync(string? reference = null, int limit = 500, CancellationToken ct = default);
}

/// <summary>
/// The lookup delivery webhooks need: a sent message by the provider's id for it. It reads the engine's outbox, so it
/// is the SQL stores' alone (kept apart from <see cref="IInboundStore"/>, which Table storage implements too).
/// </summary>
public interface ISentMessageLookup
{
    /// <summary>The outbox message a provider knows by its own id (delivery-status webhooks).</summary>
    Task<OutboxMessage?> FindMessageByProviderIdAsync(string provider, string providerMessageId, CancellationToken ct = default);
}
