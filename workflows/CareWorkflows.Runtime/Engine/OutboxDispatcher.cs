using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Store;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace CareWorkflows.Runtime.Engine;

public sealed record OutboxOptions(string WorkerId, int MaxAttempts = 5, Duration? BaseDelay = null, Duration? MaxDelay = null, int BatchSize = 100, Duration? Lease = null)
{
    public Duration Base => BaseDelay ?? Duration.FromSeconds(5);
    public Duration Max => MaxDelay ?? Duration.FromMinutes(15);
    public Duration LeaseDuration => Lease ?? Duration.FromMinutes(2);
}

/// <summary>
/// Sends outbox messages. Claims with a lease, sends through the channel for the message's kind, records the
/// provider's id. Transient failure: retry with exponential backoff and jitter. Permanent failure or the last
/// attempt: the message is marked failed and <see cref="MessageFailed"/> goes to its instance in one transaction.
/// </summary>
public sealed class OutboxDispatcher(WorkflowRuntime runtime, ChannelRouter router, OutboxOptions options, ILogger<OutboxDispatcher> logger)
{
    public async Task<int> RunOnceAsync(CancellationToken ct = default)
    {
        var done = 0;
        while (!ct.IsCancellationRequested)
        {
            var now = runtime.Clock.GetCurrentInstant();
            var batch = await runtime.Store.ClaimOutboxAsync(now, options.BatchSize, options.WorkerId, options.LeaseDuration, ct);
            if (batch.Count == 0) break;
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (m, token) =>
            {
                await SendAsync(m, token);
                Interlocked.Increment(ref done);
            });
            if (batch.Count < options.BatchSize) break;
        }
        return done;
    }

    /// <summary>Delay before attempt n+1 after n failures: base·2^(n−1), capped, ±20% jitter.</summary>
    public Duration Backoff(int failures)
    {
        var raw = options.Base.TotalMilliseconds * Math.Pow(2, Math.Max(0, failures - 1));
        var capped = Math.Min(raw, options.Max.TotalMilliseconds);
        var jitter = 0.8 + Random.Shared.NextDouble() * 0.4;
        return Duration.FromMilliseconds(capped * jitter);
    }

    private async Task SendAsync(OutboxMessage m, CancellationToken ct)
    {
        IMessageChannel? channel = null;
        try
        {
            channel = router.For(m.Channel);
            var providerId = await channel.SendAsync(m, ct);
            await runtime.Store.MarkSentAsync(m.Id, options.WorkerId, channel.Name, providerId, runtime.Clock.GetCurrentInstant(), ct);
            RuntimeMetrics.MessagesSent.Add(1, new KeyValuePair<string, object?>("channel", channel.Name));
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var permanent = e is ChannelException { Permanent: true };
            var attempts = m.Attempts + 1;
            RuntimeMetrics.MessagesFailed.Add(1, new KeyValuePair<string, object?>("channel", channel?.Name ?? m.Channel.ToString()),
                new KeyValuePair<string, object?>("final", permanent || attempts >= options.MaxAttempts));
            if (!permanent && attempts < options.MaxAttempts)
            {
                var next = runtime.Clock.GetCurrentInstant() + Backoff(attempts);
                logger.LogWarning("Message {Id} for {Reference} via {Channel} failed (attempt {Attempt}/{Max}): {Error}; retry at {Next}",
                    m.Id, m.Reference, channel?.Name ?? m.Channel.ToString(), attempts, options.MaxAttempts, e.Message, next);
                await runtime.Store.MarkRetryAsync(m.Id, options.WorkerId, attempts, next, e.Message, ct);
                return;
            }
            logger.LogError("Message {Id} for {Reference} failed for good after {Attempts} attempt(s): {Error}", m.Id, m.Reference, attempts, e.Message);
            await ReportFailureAsync(m, e.Message, ct);
        }
    }

    /// <summary>Marks the message failed and tells its workflow, in one transaction (also used by delivery webhooks).</summary>
    public Task<TransitionOutcome> ReportFailureAsync(OutboxMessage m, string error, CancellationToken ct) =>
        runtime.ApplyAsync(m.Reference, new MessageFailed(m.Id, m.Purpose, m.Channel.ToString(), m.To, error), Actor.System,
            idempotencyKey: $"message-failed:{m.Id}", failMessageId: m.Id, failError: error, ct: ct);
}
