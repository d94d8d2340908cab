using System.Text.Json;
using CareWorkflows.Functions.ServiceBus;

namespace CareWorkflows.Functions.Hosting;

/// <summary>
/// The Service Bus queue trigger (FunctionApp/ReferralQueue): hospital systems push D2A referrals; the Functions host
/// owns the Service Bus connection and POSTs each message here as <c>{"Data": {"message": ...}, "Metadata": {MessageId,
/// DeliveryCount, ...}}</c>. The message goes to the shared <see cref="ReferralQueueHandler"/> (poison messages, retries
/// and the last delivery are decided there, as for the standalone host's receiver).
/// </summary>
public static class ReferralQueueFunction
{
    public const string MessageBinding = "message";

    public static async Task<IResult> HandleAsync(HttpRequest request, ReferralQueueHandler handler, CancellationToken ct)
    {
        var invocation = await InvocationRequest.ReadAsync(request, ct);
        if (invocation is null) return InvocationResponse.Failed("The invocation payload is not a {Data, Metadata} JSON object.");
        var messageId = invocation.MetadataString("MessageId") is { Length: > 0 } id ? id : $"unknown-{Guid.NewGuid():N}";
        var raw = InvocationRequest.Property(invocation.Data, MessageBinding);
        var text = raw.ValueKind == JsonValueKind.String ? raw.GetString() ?? "" : raw.ValueKind == JsonValueKind.Undefined ? "" : raw.GetRawText();
        var outcome = await handler.HandleAsync(
            new ReferralDelivery(messageId, text, invocation.MetadataInt("DeliveryCount") ?? 1, invocation.MetadataString("CorrelationId")), ct);
        // The host completes on success; a refused message is recorded and completed (retrying cannot help). A failure
        // answers 500, so Service Bus redelivers it, and moves it to its dead-letter queue after the last delivery.
        return outcome.Action switch
        {
            ReferralSettlementAction.Complete => InvocationResponse.Ok($"Message {messageId}: {outcome.Detail}."),
            ReferralSettlementAction.DeadLetter => InvocationResponse.Ok($"Message {messageId}: refused ({outcome.Detail}); recorded as a dead letter."),
            _ => InvocationResponse.Failed($"Message {messageId}: {outcome.Detail}; Service Bus will redeliver or dead-letter it."),
        };
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
