using CareWorkflows.Definitions;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;

namespace CareWorkflows.Functions.Workflows;

/// <summary>
/// An operator's retry of a failed message (the API and the operations page): the stored message — its body and signed
/// links as first sent — goes through its channel again now, with the same id (the provider's idempotency key). One
/// operator's retry takes it (a second gets 409); the result is recorded on the message and noted on the instance's timeline.
/// </summary>
public sealed class MessageResender(IWorkflowStore store, ChannelRouter router, WorkflowClient workflows, NodaTime.IClock clock, ILogger<MessageResender> logger)
{
    public async Task<(MessageRetried? Result, (int Status, string Title, string Detail)? Problem)> RetryAsync(string id, Actor by, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var guid)) return (null, (404, "Not found", $"There is no message {id}."));
        var message = await store.GetMessageAsync(guid, ct);
        if (message is null) return (null, (404, "Not found", $"There is no message {id}."));
        if (message.Status != OutboxStatus.Failed || !await store.ReopenFailedMessageAsync(guid, ct))
            return (null, (409, "Not possible in the current state", $"Message {id} is {message.Status}, not Failed: only failed messages are retried."));

        string? error = null;
        try
        {
            var channel = router.For(message.Channel);
            var providerId = await channel.SendAsync(message with { Status = OutboxStatus.InProgress }, ct);
            await store.MarkSentAsync(guid, "operator", channel.Name, providerId, clock.GetCurrentInstant(), ct);
            RuntimeMetrics.MessagesSent.Add(1, new KeyValuePair<string, object?>("channel", channel.Name));
        }
        catch (Exception e) when (e is ChannelException or HttpRequestException or TaskCanceledException or IOException)
        {
            error = e.Message;
            await store.MarkAttemptFailedAsync(guid, e.Message, permanent: true, maxAttempts: 1, ct);
            RuntimeMetrics.MessagesFailed.Add(1, new KeyValuePair<string, object?>("channel", message.Channel.ToString()), new KeyValuePair<string, object?>("final", true));
            logger.LogWarning("{Reference}: operator retry of the {Purpose} message failed: {Error}", message.Reference, message.Purpose, e.Message);
        }
        var what = $"The {message.Channel.ToString().ToLowerInvariant()} to {message.To} ({message.Purpose}) was sent again by {by.DisplayName ?? by.Id}";
        await workflows.NoticeAsync(message.Reference, error is null ? $"{what}." : $"{what}, and failed again: {error}.", by, $"message-retry:{guid}:{Guid.NewGuid():N}", ct);
        return (new MessageRetried(guid, message.Reference, (error is null ? OutboxStatus.Sent : OutboxStatus.Failed).ToString(), error), null);
    }
}
