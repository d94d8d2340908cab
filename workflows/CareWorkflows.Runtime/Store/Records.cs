using CareWorkflows.Definitions;
using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>An instance as the API and pages list it (read from the Durable Task server: its custom status and metadata).</summary>
public sealed record InstanceRow(
    string Reference, string Type, string Status, bool Completed, string State, long Version, long LastSeq,
    Instant CreatedAt, Instant UpdatedAt, Instant? NextDueAt, string Summary);

public enum OutboxStatus { Pending = 0, InProgress = 1, Sent = 2, Failed = 3 }

public sealed record OutboxMessage(
    Guid Id, string Reference, MessageChannel Channel, string To, string? RecipientId, string Purpose,
    string Subject, string Body, string? HtmlBody, IReadOnlyList<string> Links,
    OutboxStatus Status, int Attempts, Instant NextAttemptAt, Instant CreatedAt,
    string? Provider, string? ProviderMessageId, Instant? SentAt, string? LastError, string? DeliveryStatus);

public sealed record TimerRow(Guid Id, string Reference, string Name, Instant DueAt);

public sealed record TimelineEntry(long Seq, string Type, string Data, string ActorId, string ActorRole, Instant At);

public sealed record InstanceFilter(string? Type = null, string? Status = null, bool? Overdue = null, bool? Completed = null, int Limit = 200);

public sealed record AskRow(string Reference, OpenAsk Ask);

/// <summary>How many instances of a type are in a status.</summary>
public sealed record StatusCount(string Type, string Status, long Count);
