using System.Text.Json;
using Azure.Messaging.ServiceBus;
using CareWorkflows.Functions.Hosting;

namespace CareWorkflows.Functions.ServiceBus;

/// <summary>One delivery of a message from the hospital-referrals queue, whoever received it.</summary>
public sealed record ReferralDelivery(string MessageId, string Body, int DeliveryCount, string? CorrelationId)
{
    public static ReferralDelivery From(ServiceBusReceivedMessage m) => new(
        string.IsNullOrEmpty(m.MessageId) ? $"unknown-{Guid.NewGuid():N}" : m.MessageId, m.Body?.ToString() ?? "", m.DeliveryCount, m.CorrelationId);
}

/// <summary>What to do with the message after handling it.</summary>
public enum ReferralSettlementAction
{
    /// <summary>Done: the referral was started (or had been, for a redelivery).</summary>
    Complete,
    /// <summary>Refused for good (not JSON, not a valid referral): retrying cannot help.</summary>
    DeadLetter,
    /// <summary>Failed in a way that may pass (database down): deliver it again.</summary>
    Abandon,
    /// <summary>Failed that way on the queue's last delivery: dead-letter it rather than let it vanish.</summary>
    GiveUp,
}

/// <param name="DeadLetterReason">Short code for Service Bus' DeadLetterReason (NotJson, ReferralRefused, FailedOnEveryDelivery).</param>
/// <param name="Detail">What happened, without personal data (dead-letter description, logs).</param>
public sealed record ReferralSettlement(ReferralSettlementAction Action, string Detail, string? DeadLetterReason = null);

/// <summary>Settles a received message: the Service Bus processor's event args or a Functions trigger's message actions.</summary>
public interface IReferralMessageSettler
{
    Task CompleteAsync(CancellationToken ct);
    Task DeadLetterAsync(string reason, string description, CancellationToken ct);
    Task AbandonAsync(CancellationToken ct);
}

/// <summary>
/// The one handler for queued hospital referrals, shared by every receiver: the standalone host's
/// <see cref="ReferralQueueReceiver"/> (ServiceBusProcessor; in the standalone host and inside the Functions worker) and a
/// Functions Service Bus trigger once its extension is available (<c>handler.HandleAsync(message, settler, ct)</c>). A body that is not a JSON object, or
/// a referral the intake refuses, is dead-lettered with a reason and recorded (<see cref="IntakeDeadLetters"/>, for
/// GET /api/intake/dead-letters); a failure that may pass is abandoned for redelivery, and on the last delivery
/// (ServiceBus:MaxDeliveryCount, the queue's maxDeliveryCount) given up and recorded too. Never retried forever.
/// </summary>
public sealed class ReferralQueueHandler(IServiceBusReferralIntake intake, IntakeDeadLetters deadLetters, IConfiguration config, ILogger<ReferralQueueHandler> logger)
{
    public const int MaxBodyChars = 256 * 1024; // Service Bus standard tier's message limit
    public const string NotJson = "NotJson";
    public const string ReferralRefused = "ReferralRefused";
    public const string FailedOnEveryDelivery = "FailedOnEveryDelivery";

    public async Task<ReferralSettlement> HandleAsync(ReferralDelivery d, CancellationToken ct)
    {
        var kept = d.Body.Length > MaxBodyChars ? d.Body[..MaxBodyChars] : d.Body;
        try
        {
            if (!TryReadBody(d.Body, out var body))
            {
                const string reason = "The message body is not a JSON object.";
                await deadLetters.RecordAsync(d.MessageId, reason, d.DeliveryCount, gaveUp: false, d.CorrelationId, kept, ct);
                return new(ReferralSettlementAction.DeadLetter, reason, NotJson);
            }
            var result = await intake.AcceptAsync(new ServiceBusReferral(d.MessageId, body, d.DeliveryCount, d.CorrelationId), ct);
            if (result.Accepted) return new(ReferralSettlementAction.Complete, $"referral {result.Reference} accepted");
            var refused = result.Reason ?? "Refused.";
            await deadLetters.RecordAsync(d.MessageId, refused, d.DeliveryCount, gaveUp: false, d.CorrelationId, kept, ct);
            return new(ReferralSettlementAction.DeadLetter, refused, ReferralRefused);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var max = config.GetValue("ServiceBus:MaxDeliveryCount", 10);
            logger.LogWarning(e, "Service Bus referral {MessageId} failed on delivery {DeliveryCount} of {Max}", d.MessageId, d.DeliveryCount, max);
            if (d.DeliveryCount < max)
                return new(ReferralSettlementAction.Abandon, $"failed on delivery {d.DeliveryCount} of {max} ({e.GetType().Name}); it will be delivered again");
            var gaveUp = $"Failed on every delivery ({d.DeliveryCount}); last error: {e.GetType().Name}: {e.Message}";
            try { await deadLetters.RecordAsync(d.MessageId, gaveUp, d.DeliveryCount, gaveUp: true, d.CorrelationId, kept, ct); }
            catch (Exception recordError) when (recordError is not OperationCanceledException)
            {
                logger.LogError(recordError, "Could not record dead letter {MessageId}", d.MessageId);
            }
            return new(ReferralSettlementAction.GiveUp, gaveUp, FailedOnEveryDelivery);
        }
    }

    /// <summary>Handles a received message and settles it (a Functions Service Bus trigger is this one call).</summary>
    public async Task<ReferralSettlement> HandleAsync(ServiceBusReceivedMessage message, IReferralMessageSettler settle, CancellationToken ct)
    {
        var outcome = await HandleAsync(ReferralDelivery.From(message), ct);
        switch (outcome.Action)
        {
            case ReferralSettlementAction.Complete: await settle.CompleteAsync(ct); break;
            case ReferralSettlementAction.Abandon: await settle.AbandonAsync(ct); break;
            default: await settle.DeadLetterAsync(outcome.DeadLetterReason!, Description(outcome.Detail), ct); break;
        }
        return outcome;
    }

    /// <summary>Service Bus keeps at most 4,096 characters of a dead-letter description.</summary>
    private static string Description(string detail) => detail.Length > 4000 ? detail[..4000] : detail;

    /// <summary>
    /// Hospital systems send the referral as a JSON object; some senders (and the Functions host for a string message)
    /// wrap it in a JSON string, sometimes twice. Unwraps to the object.
    /// </summary>
    public static bool TryReadBody(string text, out JsonElement body)
    {
        body = default;
        try
        {
            using (var doc = JsonDocument.Parse(text)) body = doc.RootElement.Clone();
            for (var depth = 0; depth < 3 && body.ValueKind == JsonValueKind.String; depth++)
            {
                using var inner = JsonDocument.Parse(body.GetString()!);
                body = inner.RootElement.Clone();
            }
        }
        catch (JsonException) { return false; }
        return body.ValueKind == JsonValueKind.Object;
    }
}
