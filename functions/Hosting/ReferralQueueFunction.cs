using System.Text.Json;

namespace CareWorkflows.Functions.Hosting;

/// <summary>
/// The Service Bus queue trigger (FunctionApp/ReferralQueue): hospital systems push D2A referrals; the Functions host
/// owns the Service Bus connection and POSTs each message here as <c>{"Data": {"message": ...}, "Metadata": {MessageId,
/// DeliveryCount, ...}}</c>.
/// Poison messages: a body that is not JSON, or a referral the intake refuses, is recorded as a dead letter and
/// completed (retrying cannot help). A failure that may pass (database down) answers 500, so Service Bus redelivers;
/// on the last delivery (ServiceBus:MaxDeliveryCount, the queue's maxDeliveryCount) it is recorded as a dead letter
/// too before Service Bus moves it to its own dead-letter queue.
/// </summary>
public static class ReferralQueueFunction
{
    public const string MessageBinding = "message";
    public const int MaxBodyChars = 256 * 1024; // Service Bus standard tier's message limit

    public static async Task<IResult> HandleAsync(HttpRequest request, IServiceBusReferralIntake intake, IntakeDeadLetters deadLetters,
        IConfiguration config, ILoggerFactory loggers, CancellationToken ct)
    {
        var invocation = await InvocationRequest.ReadAsync(request, ct);
        if (invocation is null) return InvocationResponse.Failed("The invocation payload is not a {Data, Metadata} JSON object.");
        var messageId = invocation.MetadataString("MessageId") is { Length: > 0 } id ? id : $"unknown-{Guid.NewGuid():N}";
        var deliveryCount = invocation.MetadataInt("DeliveryCount") ?? 1;
        var correlationId = invocation.MetadataString("CorrelationId");
        var raw = InvocationRequest.Property(invocation.Data, MessageBinding);
        var text = raw.ValueKind == JsonValueKind.String ? raw.GetString() ?? "" : raw.ValueKind == JsonValueKind.Undefined ? "" : raw.GetRawText();
        if (text.Length > MaxBodyChars) text = text[..MaxBodyChars];

        try
        {
            if (!TryReadBody(raw, out var body))
            {
                await deadLetters.RecordAsync(messageId, "The message body is not a JSON object.", deliveryCount, gaveUp: false, correlationId, text, ct);
                return InvocationResponse.Ok($"Message {messageId}: not a JSON object; recorded as a dead letter.");
            }
            var result = await intake.AcceptAsync(new ServiceBusReferral(messageId, body, deliveryCount, correlationId), ct);
            if (result.Accepted) return InvocationResponse.Ok($"Message {messageId}: referral {result.Reference} accepted.");
            await deadLetters.RecordAsync(messageId, result.Reason ?? "Refused.", deliveryCount, gaveUp: false, correlationId, text, ct);
            return InvocationResponse.Ok($"Message {messageId}: refused ({result.Reason}); recorded as a dead letter.");
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var max = config.GetValue("ServiceBus:MaxDeliveryCount", 10);
            loggers.CreateLogger(typeof(ReferralQueueFunction)).LogWarning(e, "Service Bus referral {MessageId} failed on delivery {DeliveryCount} of {Max}", messageId, deliveryCount, max);
            if (deliveryCount >= max)
            {
                try { await deadLetters.RecordAsync(messageId, $"Failed on every delivery ({deliveryCount}); last error: {e.GetType().Name}: {e.Message}", deliveryCount, gaveUp: true, correlationId, text, ct); }
                catch (Exception recordError) when (recordError is not OperationCanceledException)
                {
                    loggers.CreateLogger(typeof(ReferralQueueFunction)).LogError(recordError, "Could not record dead letter {MessageId}", messageId);
                }
            }
            return InvocationResponse.Failed($"Message {messageId}: failed on delivery {deliveryCount} of {max} ({e.GetType().Name}); Service Bus will redeliver or dead-letter it.");
        }
    }

    /// <summary>
    /// The host hands the body over as a JSON string (sometimes a string of a string) or, for JSON content, as the
    /// object itself. Unwraps to the object.
    /// </summary>
    public static bool TryReadBody(JsonElement raw, out JsonElement body)
    {
        body = raw;
        for (var depth = 0; depth < 3 && body.ValueKind == JsonValueKind.String; depth++)
        {
            try { using var doc = JsonDocument.Parse(body.GetString()!); body = doc.RootElement.Clone(); }
            catch (JsonException) { return false; }
        }
        return body.ValueKind == JsonValueKind.Object;
    }
}
