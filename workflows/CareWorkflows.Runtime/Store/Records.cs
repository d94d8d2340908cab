using CareWorkflows.Definitions;
using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>An instance row as loaded for a transition.</summary>
public sealed record InstanceRow(
    string Reference, string Type, string Status, bool Completed, string State, long Version, long LastSeq,
    Instant CreatedAt, Instant UpdatedAt, Instant? NextDueAt, string Summary);

public sealed record EventToAppend(long Seq, string Type, string Data, Actor Actor, Instant At);

public sealed record TimerToSet(Guid Id, string Name, Instant DueAt);

public enum OutboxStatus { Pending = 0, InProgress = 1, Sent = 2, Failed = 3 }

public sealed record OutboxMessage(
    Guid Id, string Reference, MessageChannel Channel, string To, string? RecipientId, string Purpose,
    string Subject, string Body, string? HtmlBody, IReadOnlyList<string> Links,
    OutboxStatus Status, int Attempts, Instant NextAttemptAt, Instant CreatedAt,
    string? Provider, string? ProviderMessageId, Instant? SentAt, string? LastError, string? DeliveryStatus);

/// <summary>
/// Everything one transition writes, committed in one transaction (load → decide happens before; this is the write).
/// ExpectedVersion 0 means "insert a new instance".
/// </summary>
public sealed record CommitBatch(
    string Reference,
    string Type,
    long ExpectedVersion,
    string Status,
    bool Completed,
    string State,
    string Summary,
    IReadOnlyList<EventToAppend> Events,
    IReadOnlyList<TimerToSet> SetTimers,
    IReadOnlyList<string> CancelTimers,
    bool CancelAllTimers,
    IReadOnlyList<OutboxMessage> Messages,
    Instant Now,
    string? IdempotencyKey = null,
    string? Result = null,
    Guid? ConsumeTimerId = null,
    Guid? FailMessageId = null,
    string? FailError = null,
    IReadOnlyList<OpenAsk>? Asks = null);

public sealed record ClaimedTimer(Guid Id, string Reference, string Name, Instant DueAt);

public sealed record TimerRow(Guid Id, string Reference, string Name, Instant DueAt);

public sealed record TimelineEntry(long Seq, string Type, string Data, string ActorId, string ActorRole, Instant At);

public sealed record InstanceFilter(string? Type = null, string? Status = null, bool? Overdue = null, bool? Completed = null, int Limit = 200);

/// <summary>The instance row changed under us (version check or event key): reload and decide again.</summary>
public sealed class ConcurrencyConflictException(string message) : Exception(message);

/// <summary>The timer this transition was firing was already fired, moved or cancelled.</summary>
public sealed class StaleTimerException(Guid id) : Exception($"Timer {id} is no longer pending.");

public sealed record AskRow(string Reference, OpenAsk Ask);
