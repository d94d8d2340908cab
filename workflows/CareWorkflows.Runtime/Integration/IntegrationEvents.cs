using CareWorkflows.Definitions;
using System.Text.Json;
using CareWorkflows.Runtime.Engine;
using NodaTime;

namespace CareWorkflows.Runtime.Integration;

/// <summary>Names of the integration events, used as the Service Bus message Subject (subscriptions filter on them).</summary>
public static class IntegrationEventNames
{
    public const string ReferralAwarded = "referral.awarded";
    public const string ReferralNoProviderFound = "referral.no-provider-found";
    public const string IncidentEscalated = "incident.escalated";
    public const string ConcernOverdue = "concern.overdue";
    public const string AdjustmentApproved = "adjustment.approved";
}

/// <summary>
/// A fact other council systems act on (brokerage dashboards, finance, the hospital's discharge tracker), published to
/// the integration-events topic. It carries no personal data by construction: a well-formed reference, the workflow
/// type (the reference's prefix), the event name, an outcome code and times. Nothing free-text; consumers look anything
/// else up through the API under their own authorisation.
/// </summary>
public sealed record IntegrationEvent
{
    public const int SchemaVersion = 1;

    private IntegrationEvent(string name, string reference, string outcome, Instant occurredAt, int occurrence, IReadOnlyDictionary<string, Instant>? times)
    {
        if (!References.IsWellFormed(reference)) throw new ArgumentException($"'{reference}' is not a workflow reference (e.g. D2A-7K3QX).", nameof(reference));
        ArgumentOutOfRangeException.ThrowIfLessThan(occurrence, 1);
        Name = name;
        Reference = reference;
        WorkflowType = reference[..reference.LastIndexOf('-')];
        Outcome = outcome;
        OccurredAt = occurredAt;
        Times = times ?? new Dictionary<string, Instant>();
        IdempotencyKey = $"{reference}:{name}:{occurrence}";
    }

    /// <summary>The event name (<see cref="IntegrationEventNames"/>).</summary>
    public string Name { get; }
    public string Reference { get; }
    /// <summary>D2A, SI, QC, TA: the reference's prefix.</summary>
    public string WorkflowType { get; }
    /// <summary>A code, e.g. Awarded, NoProviderFound, Escalated.</summary>
    public string Outcome { get; }
    public Instant OccurredAt { get; }
    /// <summary>Other times that matter to consumers, by name (e.g. firstCallAt).</summary>
    public IReadOnlyDictionary<string, Instant> Times { get; }
    /// <summary>
    /// <c>{reference}:{event name}:{occurrence}</c>: the same for every retry of one publication, so Service Bus duplicate
    /// detection drops the repeats (the Service Bus MessageId). The occurrence counts events of this name on the
    /// instance (1 for the first escalation, 2 for a second one).
    /// </summary>
    public string IdempotencyKey { get; }

    /// <summary>Any event by name (the orchestrations' facts); the named factories below keep the usual ones in one place.</summary>
    public static IntegrationEvent Of(string name, string reference, string outcome, Instant at, int occurrence, IReadOnlyDictionary<string, Instant>? times) =>
        new(name, reference, outcome, at, occurrence, times);

    public static IntegrationEvent ReferralAwarded(string reference, Instant awardedAt, Instant firstCallAt, int occurrence = 1) =>
        new(IntegrationEventNames.ReferralAwarded, reference, "Awarded", awardedAt, occurrence, new Dictionary<string, Instant> { ["firstCallAt"] = firstCallAt });

    public static IntegrationEvent ReferralNoProviderFound(string reference, Instant at, int occurrence = 1) =>
        new(IntegrationEventNames.ReferralNoProviderFound, reference, "NoProviderFound", at, occurrence, null);

    public static IntegrationEvent IncidentEscalated(string reference, Instant at, int occurrence = 1) =>
        new(IntegrationEventNames.IncidentEscalated, reference, "Escalated", at, occurrence, null);

    public static IntegrationEvent ConcernOverdue(string reference, Instant at, Instant dueAt, int occurrence = 1) =>
        new(IntegrationEventNames.ConcernOverdue, reference, "Overdue", at, occurrence, new Dictionary<string, Instant> { ["dueAt"] = dueAt });

    public static IntegrationEvent AdjustmentApproved(string reference, Instant at, int occurrence = 1) =>
        new(IntegrationEventNames.AdjustmentApproved, reference, "Approved", at, occurrence, null);

    /// <summary>The message body: these fields and no others.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        version = SchemaVersion,
        @event = Name,
        workflowType = WorkflowType,
        reference = Reference,
        outcome = Outcome,
        occurredAt = OccurredAt,
        times = Times,
    }, WorkflowJson.Options);
}

/// <summary>
/// Publishes integration events. In Azure: Service Bus (the integration-events topic). Without a Service Bus
/// connection: <see cref="NoIntegrationEvents"/>. Called from an activity, never from orchestrator code; a failure
/// throws, so the activity's retry publishes again under the same idempotency key.
/// </summary>
public interface IIntegrationEvents
{
    Task PublishAsync(IntegrationEvent e, CancellationToken ct = default);
}

/// <summary>No Service Bus connection is set: events go nowhere.</summary>
public sealed class NoIntegrationEvents : IIntegrationEvents
{
    public Task PublishAsync(IntegrationEvent e, CancellationToken ct = default) => Task.CompletedTask;
}
