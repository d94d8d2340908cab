using System.Text.Json;
using CareWorkflows.Definitions;

namespace CareWorkflows.Functions.Hosting;

/// <summary>A D2A referral a hospital system put on the Service Bus queue.</summary>
/// <param name="MessageId">Service Bus message id: use <see cref="IdempotencyKey"/> so a redelivered message starts nothing twice.</param>
/// <param name="Body">The message body as JSON.</param>
/// <param name="DeliveryCount">1 on the first delivery.</param>
public sealed record ServiceBusReferral(string MessageId, JsonElement Body, int DeliveryCount, string? CorrelationId)
{
    public string IdempotencyKey => $"servicebus:{MessageId}";

    /// <summary>Who raised it, for the timeline: the hospital system behind the queue.</summary>
    public static readonly Actor Actor = new("servicebus:hospital-referrals", Roles.DischargeTeam, DisplayName: "Hospital system (Service Bus)");
}

/// <summary>The outcome of taking a referral off the queue.</summary>
public sealed record IntakeResult(bool Accepted, string? Reference, string? Reason)
{
    public static IntakeResult Started(string reference) => new(true, reference, null);

    /// <summary>Refused for good (bad content, unknown hospital...): the message is recorded as a dead letter and not retried.
    /// Write the reason without personal data (no names, NHS numbers or health details).</summary>
    public static IntakeResult Rejected(string reason) => new(false, null, reason);
}

/// <summary>
/// Turns a queued hospital referral into a D2A referral instance. The D2A work registers its implementation
/// (<c>services.AddSingleton&lt;IServiceBusReferralIntake, ...&gt;()</c>); throw for a transient failure (the message
/// is redelivered), return <see cref="IntakeResult.Rejected"/> for a permanent one.
/// </summary>
public interface IServiceBusReferralIntake
{
    Task<IntakeResult> AcceptAsync(ServiceBusReferral referral, CancellationToken ct);
}

/// <summary>Until D2A referral intake is registered: every queued referral is refused with a clear reason (and kept as a dead letter).</summary>
public sealed class ReferralIntakeNotAvailable : IServiceBusReferralIntake
{
    public const string Reason = "D2A referral intake over Service Bus is not available in this build: no IServiceBusReferralIntake is registered.";

    public Task<IntakeResult> AcceptAsync(ServiceBusReferral referral, CancellationToken ct) => Task.FromResult(IntakeResult.Rejected(Reason));
}
