using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Functions.Channels;

/// <summary>Recorded on an instance's timeline when someone who is not the ask's recipient replies to it.</summary>

/// <summary>What the webhook answers: 200 (handled, including "not understood" and duplicates) or 403 (wrong sender).</summary>
public sealed record ReplyHandling(int Status, string Outcome, string? Reference, string? Reply);

/// <summary>
/// Turns an inbound SMS or email into an answer to an open ask. Every message is stored once (unique on the provider's
/// message id) before anything else; the answer goes through the workflow's ParseReply and WorkflowClient.ApplyAsync
/// with the provider's message id as idempotency key, so a redelivered webhook is one input. Replies that cannot be read
/// or are ambiguous get a helpful message straight back through the channel and never reach a workflow.
/// The sender must be the recipient the ask was sent to (its mobile or email), else 403 and a note on the timeline.
/// </summary>
public sealed class InboundReplies(Workflows.WorkflowClient workflows, IWorkflowStore store, IInboundStore inbound, ChannelRouter router, IClock clock, ILogger<InboundReplies> logger)
{
    private IWorkflowStore Store => store;
    private IInboundStore Inbound => inbound;

    public async Task<ReplyHandling> HandleSmsAsync(string provider, string providerMessageId, string from, string body, CancellationToken ct)
    {
        var line = (body ?? "").Replace("\r\n", "\n").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
        return await HandleAsync(new InboundMessage(provider, providerMessageId, MessageChannel.Sms, ReplyGrammar.NormalisePhone(from), Cap(body ?? ""), clock.GetCurrentInstant()),
            line, subjectReference: null, ct);
    }

    public async Task<ReplyHandling> HandleEmailAsync(string provider, string providerMessageId, string from, string? subject, string? text, CancellationToken ct)
    {
        var line = ReplyGrammar.FirstLineOfEmail(text);
        return await HandleAsync(new InboundMessage(provider, providerMessageId, MessageChannel.Email, from.Trim().ToLowerInvariant(),
            Cap($"Subject: {subject}\n\n{text}"), clock.GetCurrentInstant()), line, ReplyGrammar.FindReference(subject), ct);
    }

    private static string Cap(string s) => s.Length > 8000 ? s[..8000] : s;

    private async Task<ReplyHandling> HandleAsync(InboundMessage m, string line, string? subjectReference, CancellationToken ct)
    {
        var (inserted, stored) = await Inbound.RecordInboundAsync(m, ct);
        // A redelivery of a message already handled changes nothing. One stored but not finished (a crash half-way) is handled
        // again: the idempotency key below keeps that to one input.
        if (!inserted && stored.Outcome != InboundOutcomes.Received)
            return new(200, stored.Outcome, stored.Reference, stored.Reply);

        var result = await DecideAsync(m, line, subjectReference, ct);
        await Inbound.SetInboundOutcomeAsync(m.Provider, m.ProviderMessageId, result.Reference, result.Outcome, result.Reply, ct);
        if (result.Reply is not null) await SendHelpAsync(m, result.Reference, result.Reply, ct);
        return result;
    }

    private async Task<ReplyHandling> DecideAsync(InboundMessage m, string line, string? subjectReference, CancellationToken ct)
    {
        var read = ReplyGrammar.Read(line);
        var reference = read.Reference ?? subjectReference;
        var senderAsks = await AsksOfSenderAsync(m, ct);

        if (read.Action is null)
            return NotUnderstood(reference, $"Sorry, we could not read your reply. {Examples(senderAsks)}");

        AskRow? ask;
        if (reference is not null)
        {
            var asks = await workflows.FindAsksAsync(reference: reference, ct: ct);
            if (asks.Count == 0)
                return NotUnderstood(reference, $"{reference} is not waiting for a reply. {Examples(senderAsks)}");
            var fromSender = asks.Where(a => SenderMatches(m, a.Ask)).ToList();
            if (fromSender.Count == 0)
            {
                // Someone this instance wrote to, with nothing open now (typically a provider replying a second time after its
                // answer was recorded): help, not a refusal.
                if (await WasWrittenToAsync(reference, m, ct))
                    return NotUnderstood(reference, $"{reference} is not waiting for {read.Action.ToUpperInvariant()} from you: your answer may already be recorded. {Examples(senderAsks)}");
                await NoteWrongSenderAsync(reference, m, read.Action, ct);
                return new(403, InboundOutcomes.SenderMismatch, reference, null);
            }
            ask = fromSender.FirstOrDefault(a => a.Ask.Action == read.Action);
            if (ask is null)
                return NotUnderstood(reference, $"{reference} is not waiting for {read.Action.ToUpperInvariant()} from you. {Examples(fromSender)}");
        }
        else
        {
            // YES / NO / a bare verb: only when the sender has open asks on exactly one instance.
            var references = senderAsks.Select(a => a.Reference).Distinct().ToList();
            if (references.Count == 0)
                return NotUnderstood(null, "There is nothing waiting for a reply from you. Please contact the council team if you need help.");
            if (references.Count > 1)
                return NotUnderstood(null, $"You have more than one request open, so please include the reference. {Examples(senderAsks)}");
            ask = senderAsks.FirstOrDefault(a => a.Ask.Action == read.Action);
            if (ask is null)
                return NotUnderstood(references[0], $"Sorry, we could not read your reply. {Examples(senderAsks)}");
            reference = ask.Reference;
        }

        var instance = await workflows.LoadAsync(reference, withTimeline: false, ct);
        if (instance is null)
            return NotUnderstood(reference, $"{reference} is not waiting for a reply.");
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["text"] = read.Rest, ["reply"] = read.Line };
        // An ask with one field (e.g. the first-call time on an accept) takes the rest of the line as that field.
        if (ask.Ask.Fields is [var only] && read.Rest.Length > 0) fields[only.Name] = read.Rest;
        var parsed = workflows.ParseReply(instance, ask.Ask, fields);
        if (parsed.Input is null)
            return new(200, InboundOutcomes.Refused, reference, $"{reference}: {parsed.Error ?? "your answer could not be read."} {Examples([ask])}");

        var a = ask.Ask;
        var actor = new Actor(a.RecipientId, a.RecipientRole, a.RecipientRole == Roles.Provider ? a.RecipientId : null,
            m.Channel == MessageChannel.Sms ? $"SMS reply ({a.Action})" : $"email reply ({a.Action})");
        var outcome = await workflows.ApplyAsync(reference, parsed.Input, actor, idempotencyKey: $"inbound:{m.Provider}:{m.ProviderMessageId}",
            via: m.Channel == MessageChannel.Sms ? "sms" : "email", ct: ct);
        return outcome.Kind switch
        {
            OutcomeKind.Applied or OutcomeKind.Replayed => new(200, InboundOutcomes.Applied, reference, null),
            OutcomeKind.Rejected => new(200, InboundOutcomes.Refused, reference, $"{reference}: {outcome.Rejection!.Detail}"),
            _ => new(200, InboundOutcomes.Refused, reference, $"{reference} is no longer waiting for this answer."),
        };
    }

    private static ReplyHandling NotUnderstood(string? reference, string reply) => new(200, InboundOutcomes.NotUnderstood, reference, reply);

    /// <summary>How to answer, for the asks the sender has open. References and verbs only: no personal data.</summary>
    private static string Examples(IReadOnlyList<AskRow> asks)
    {
        if (asks.Count == 0) return "Replies look like: ACCEPT D2A-7K3QX 14:30 or DECLINE D2A-7K3QX.";
        var shown = asks.Take(4).Select(a => a.Ask.Fields is [var f] ? $"{a.Ask.Action.ToUpperInvariant()} {a.Reference} <{f.Label.ToLowerInvariant()}>" : $"{a.Ask.Action.ToUpperInvariant()} {a.Reference}");
        return $"Reply {string.Join(" or ", shown)}.";
    }

    private async Task<IReadOnlyList<AskRow>> AsksOfSenderAsync(InboundMessage m, CancellationToken ct)
    {
        if (m.Channel == MessageChannel.Email) return await workflows.FindAsksAsync(email: m.Sender, ct: ct);
        var all = new List<AskRow>();
        foreach (var form in ReplyGrammar.PhoneForms(m.Sender)) all.AddRange(await workflows.FindAsksAsync(mobile: form, ct: ct));
        return all.DistinctBy(a => (a.Reference, a.Ask.RecipientId, a.Ask.Action)).ToList();
    }

    private static bool SenderMatches(InboundMessage m, OpenAsk a) => m.Channel == MessageChannel.Sms
        ? a.Mobile is { Length: > 0 } mobile && ReplyGrammar.NormalisePhone(mobile) == m.Sender
        : a.Email is { Length: > 0 } email && string.Equals(email.Trim(), m.Sender, StringComparison.OrdinalIgnoreCase);

    private async Task<bool> WasWrittenToAsync(string reference, InboundMessage m, CancellationToken ct) =>
        (await Store.GetMessagesAsync(reference: reference, limit: 5000, ct: ct))
            .Any(x => x.Channel == m.Channel && (m.Channel == MessageChannel.Sms
                ? ReplyGrammar.NormalisePhone(x.To) == m.Sender
                : string.Equals(x.To.Trim(), m.Sender, StringComparison.OrdinalIgnoreCase)));

    /// <summary>
    /// A note on the timeline (the instance's state is unchanged). The sender is partly masked. One note per sender per
    /// instance: a number that keeps texting a reference it was never sent does not fill the timeline.
    /// </summary>
    private async Task NoteWrongSenderAsync(string reference, InboundMessage m, string action, CancellationToken ct)
    {
        var senderKey = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{m.Channel}:{m.Sender}")))[..16];
        var key = $"inbound-note:{reference}:{senderKey}";
        if (await Store.FindCommandResultAsync(key, ct) is not null) return;
        await workflows.NoticeAsync(reference, $"A {m.Channel.ToString().ToLowerInvariant()} reply ({action.ToUpperInvariant()}) came from {Mask(m.Sender)}, who is not the one asked: it was not taken.",
            new Actor("inbound", Roles.System, DisplayName: $"{m.Provider} webhook"), $"inbound-note:{m.Provider}:{m.ProviderMessageId}", ct);
        await Store.SaveCommandResultIfAbsentAsync(key, reference, "{}", clock.GetCurrentInstant(), ct); // one note per sender
    }

    private static string Mask(string sender)
    {
        var at = sender.IndexOf('@');
        if (at > 0) return sender[..1] + "***" + sender[at..];
        return sender.Length > 6 ? sender[..4] + new string('*', sender.Length - 7) + sender[^3..] : "***";
    }

    private async Task SendHelpAsync(InboundMessage m, string? reference, string reply, CancellationToken ct)
    {
        // Straight through the channel, not the outbox: the help goes to the sender, never to a workflow.
        var help = new OutboxMessage(Guid.NewGuid(), reference ?? "", m.Channel, m.Sender, null, "reply-help",
            reference is null ? "Your reply" : $"{reference}: your reply", reply, null, [], OutboxStatus.Pending, 0,
            clock.GetCurrentInstant(), clock.GetCurrentInstant(), null, null, null, null, null);
        try { await router.For(m.Channel).SendAsync(help, ct); }
        catch (ChannelException e) { logger.LogWarning("Help reply to an inbound {Channel} message ({Provider} {Id}) failed: {Error}", m.Channel, m.Provider, m.ProviderMessageId, e.Message); }
    }
}
