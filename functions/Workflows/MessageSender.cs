using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Links;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Functions.Workflows;

/// <summary>
/// The SendMessage activity's work: sign the links the message asks for, log it, send it through the channel for its
/// kind, record what the provider said. A transient failure is thrown (the orchestration's retry policy tries again,
/// with the same message id, which is the provider's idempotency key); a permanent one is returned as failed.
/// </summary>
public sealed class MessageSender(ChannelRouter router, HmacLinkIssuer links, IWorkflowStore log, IClock clock, IConfiguration config, ILogger<MessageSender> logger) : IMessageSender
{
    /// <summary>Attempts before a message counts as failed (Outbox:MaxAttempts; the orchestrations' retry policy reads the same).</summary>
    private int MaxAttempts => config.GetValue("Outbox:MaxAttempts", WorkflowScope.MessageAttempts);

    public async Task<MessageResult> SendAsync(MessageToSend request, CancellationToken ct)
    {
        var m = request.Message;
        var (body, html, urls) = Sign(request.Reference, m);
        var now = clock.GetCurrentInstant();
        var row = new OutboxMessage(request.Id, request.Reference, m.Channel, m.To, m.RecipientId, m.Purpose, m.Subject, body, html, urls,
            OutboxStatus.InProgress, 0, now, now, null, null, null, null, null);
        await log.LogMessageAsync(row, ct);
        IMessageChannel channel;
        try { channel = router.For(m.Channel); }
        catch (ChannelException e) { return await FailedAsync(request, e.Message, permanent: true, ct); }
        try
        {
            var providerId = await channel.SendAsync(row, ct);
            await log.MarkSentAsync(request.Id, "orchestration", channel.Name, providerId, clock.GetCurrentInstant(), ct);
            RuntimeMetrics.MessagesSent.Add(1, new KeyValuePair<string, object?>("channel", channel.Name));
            return new MessageResult(request.Id, m.Purpose, m.To, true, channel.Name, providerId, null);
        }
        catch (ChannelException e) when (e.Permanent)
        {
            return await FailedAsync(request, e.Message, permanent: true, ct);
        }
        catch (Exception e) when (e is ChannelException or HttpRequestException or TaskCanceledException or IOException)
        {
            var attempts = await log.MarkAttemptFailedAsync(request.Id, e.Message, permanent: false, MaxAttempts, ct);
            RuntimeMetrics.MessagesFailed.Add(1, new KeyValuePair<string, object?>("channel", channel.Name), new KeyValuePair<string, object?>("final", attempts >= MaxAttempts));
            logger.LogWarning("{Reference}: {Purpose} message to {Channel} failed (attempt {Attempt}): {Error}", request.Reference, m.Purpose, channel.Name, attempts, e.Message);
            throw new InvalidOperationException($"{channel.Name} could not take the message (attempt {attempts}): {e.Message}", e);
        }
    }

    private async Task<MessageResult> FailedAsync(MessageToSend request, string error, bool permanent, CancellationToken ct)
    {
        await log.MarkAttemptFailedAsync(request.Id, error, permanent, MaxAttempts, ct);
        RuntimeMetrics.MessagesFailed.Add(1, new KeyValuePair<string, object?>("channel", request.Message.Channel.ToString()), new KeyValuePair<string, object?>("final", true));
        logger.LogWarning("{Reference}: {Purpose} message refused for good: {Error}", request.Reference, request.Message.Purpose, error);
        return new MessageResult(request.Id, request.Message.Purpose, request.Message.To, false, null, null, error);
    }

    /// <summary>Puts a signed link where each {{key}} placeholder stands.</summary>
    private (string Body, string? Html, IReadOnlyList<string> Links) Sign(string reference, OutboundMessage m)
    {
        var body = m.Body;
        var html = m.HtmlBody;
        var urls = (m.Links ?? []).ToList();
        if (body.Contains(InstancePage.Placeholder, StringComparison.Ordinal) || html?.Contains(InstancePage.Placeholder, StringComparison.Ordinal) == true
            || urls.Any(u => u.Contains(InstancePage.Placeholder, StringComparison.Ordinal)))
        {
            var page = $"{links.BaseUrl}/instances/{Uri.EscapeDataString(reference)}";
            body = body.Replace(InstancePage.Placeholder, page, StringComparison.Ordinal);
            html = html?.Replace(InstancePage.Placeholder, page, StringComparison.Ordinal);
            for (var i = 0; i < urls.Count; i++) urls[i] = urls[i].Replace(InstancePage.Placeholder, page, StringComparison.Ordinal);
        }
        foreach (var request in m.Sign ?? [])
        {
            var url = links.Issue(reference, request.RecipientId, request.Action, request.ExpiresAt);
            if (request.PathPrefix is { } prefix) url = url.Replace("/l/", prefix, StringComparison.Ordinal);
            body = body.Replace(request.Placeholder, url, StringComparison.Ordinal);
            html = html?.Replace(request.Placeholder, url, StringComparison.Ordinal);
            for (var i = 0; i < urls.Count; i++) urls[i] = urls[i].Replace(request.Placeholder, url, StringComparison.Ordinal);
        }
        return (body, html, urls);
    }
}

/// <summary>The setup orchestrations start with: the service's policy settings, contacts and the calendar in use now.</summary>
public sealed class WorkflowSetupSource(RuntimeEnvironment environment, IDocumentStore documents, IConfiguration config) : IWorkflowSetupSource
{
    public WorkflowSetup Current => WorkflowSetup.From(Policy(), environment.Contacts, environment.Calendar);

    public async Task<WorkflowSetup> ReadAsync(CancellationToken ct)
    {
        await environment.RefreshCalendarAsync(documents, ct);
        return Current;
    }

    /// <summary>The policy settings, with the message retry settings (Outbox:*) the orchestrations' sends use.</summary>
    private PolicySettings Policy()
    {
        var values = new Dictionary<string, string>(environment.Policy.Values);
        foreach (var key in new[] { "MaxAttempts", "BaseDelaySeconds", "MaxDelaySeconds" })
            if (config[$"Outbox:{key}"] is { Length: > 0 } v) values[$"Outbox:{key}"] = v;
        return new PolicySettings(values);
    }
}

/// <summary>Held deadlines go on the list operators see (GET /api/calendar/bank-holidays, the operations page).</summary>
public sealed class CalendarAlertsForOperators(RuntimeEnvironment environment, IClock clock) : ICalendarAlerts
{
    public void Held(string reference, string deadline, NodaTime.LocalDate date) =>
        environment.CalendarAlerts.TimerHeld(reference, deadline, date.ToString("yyyy-MM-dd", null), clock.GetCurrentInstant());

    public void Released(string reference, string deadline) => environment.CalendarAlerts.TimerReleased(reference, deadline);
}

/// <summary>Integration facts from orchestrations, published as the service's integration events.</summary>
public sealed class IntegrationPublisher(Runtime.Integration.IIntegrationEvents events) : IIntegrationPublisher
{
    public Task PublishAsync(IntegrationFact fact, CancellationToken ct) =>
        events.PublishAsync(Runtime.Integration.IntegrationEvent.Of(fact.Name, fact.Reference, fact.Outcome, fact.OccurredAt, fact.Occurrence, fact.Times), ct);
}
