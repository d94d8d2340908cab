using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;

namespace CareWorkflows.Functions.Channels;

/// <summary>
/// Delivery-status callbacks: the provider's status goes on the message (shown with the instance); a final failure
/// becomes MessageFailed for the workflow, once (its idempotency key is the message id), so the workflow can fall back
/// (e.g. SMS failed → email the duty inbox).
/// </summary>
public sealed class DeliveryReports(OutboxDispatcher dispatcher, IWorkflowStore store, ILogger<DeliveryReports> logger)
{
    /// <param name="outboxId">Our message id when the provider echoes it (SendGrid custom_args, Notify reference).</param>
    public async Task<bool> RecordAsync(string provider, string? providerMessageId, Guid? outboxId, string status, bool failed, string? error, CancellationToken ct)
    {
        var m = outboxId is { } id ? await store.GetMessageAsync(id, ct) : null;
        if (m is null && providerMessageId is { Length: > 0 }) m = await ((ISentMessageLookup)store).FindMessageByProviderIdAsync(provider, providerMessageId, ct);
        if (m is null || m.Provider != provider || m.ProviderMessageId is null)
        {
            logger.LogInformation("{Provider} status {Status} for unknown message {Id}: ignored", provider, status, providerMessageId ?? outboxId?.ToString());
            return false;
        }
        await store.UpdateDeliveryStatusAsync(provider, m.ProviderMessageId, status, ct);
        if (failed && m.Status != OutboxStatus.Failed)
            await dispatcher.ReportFailureAsync(m, $"{provider} reported {status}{(string.IsNullOrWhiteSpace(error) ? "" : ": " + error)}", ct);
        return true;
    }
}
