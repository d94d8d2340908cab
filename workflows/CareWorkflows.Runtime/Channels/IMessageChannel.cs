using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;

namespace CareWorkflows.Runtime.Channels;

/// <summary>A way to deliver email or SMS (SendGrid, Graph, Notify, SMTP, Twilio, or the dev outbox).</summary>
public interface IMessageChannel
{
    /// <summary>Provider name recorded on the message, e.g. "SendGrid", "Dev".</summary>
    string Name { get; }
    MessageChannel Kind { get; }

    /// <summary>
    /// Sends the message and returns the provider's message id. <see cref="OutboxMessage.Id"/> is stable across
    /// retries and is passed as the idempotency key where the provider supports one.
    /// Throws <see cref="ChannelException"/> on failure.
    /// </summary>
    Task<string> SendAsync(OutboxMessage message, CancellationToken ct);
}

/// <summary>A send failed. Permanent failures (e.g. 4xx: bad address) are not retried.</summary>
public sealed class ChannelException(string message, bool permanent, Exception? inner = null) : Exception(message, inner)
{
    public bool Permanent { get; } = permanent;
}

/// <summary>Picks the configured channel for a message's kind.</summary>
public sealed class ChannelRouter(IEnumerable<IMessageChannel> channels)
{
    private readonly Dictionary<MessageChannel, IMessageChannel> _byKind = channels.GroupBy(c => c.Kind).ToDictionary(g => g.Key, g => g.Last());

    public IMessageChannel For(MessageChannel kind) =>
        _byKind.TryGetValue(kind, out var c) ? c : throw new ChannelException($"No {kind} channel is configured.", permanent: true);
}

/// <summary>
/// The dev channel: delivers nothing; the message stays in the database marked sent by "Dev" and is listed by
/// GET /api/dev/outbox. The embedded default for both email and SMS.
/// </summary>
public sealed class DevChannel(MessageChannel kind) : IMessageChannel
{
    public string Name => "Dev";
    public MessageChannel Kind => kind;
    public Task<string> SendAsync(OutboxMessage message, CancellationToken ct) => Task.FromResult($"dev-{message.Id:N}");
}
