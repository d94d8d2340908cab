using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;

namespace CareWorkflows.Functions.Channels;

/// <summary>
/// Delivery-status callbacks: the provider's status goes on the logged message (shown with the instance). A final
/// failure reported after the message was handed over (a bounce, an undelivered SMS) marks it failed and is noted on the
/// instance's timeline once, for the people following it; failures while sending are the SendMessage activity's and
/// reach the orchestration as an undelivered message, which it acts on.
/// </summary>
public sealed class DeliveryReports(IWorkflowStore store, Workflows.WorkflowClient workflows, ILogger<DeliveryReports> logger)
{
    private static readonly Actor Webhook = new("delivery", Roles.System, DisplayName: "delivery report");

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
        var why = $"{provider} reported {status}{(string.IsNullOrWhiteSpace(error) ? "" : ": " + error)}";
        if (failed && await store.MarkDeliveryFailedAsync(m.Id, why, ct))
            await workflows.NoticeAsync(m.Reference, $"The {m.Channel.ToString().ToLowerInvariant()} to {m.To} ({m.Purpose}) was not delivered: {why}.", Webhook,
                $"message-failed:{m.Id}", ct);
        return true;
    }
}
