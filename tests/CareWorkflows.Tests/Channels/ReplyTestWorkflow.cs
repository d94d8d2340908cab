using System.Collections.Immutable;
using CareWorkflows.Definitions;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Tests.Channels;

/// <summary>
/// A small offer workflow for the channel tests (independent of D2A's rules): offers a care request to providers (SMS + email with signed links),
/// each may ACCEPT (with a first-call time) or DECLINE; the first accept is awarded. It holds personal data (a name,
/// an NHS number, a postcode) so tests can show none of it reaches an SMS. Its messages are kept together, as each
/// workflow's are.
/// </summary>
public sealed class ReplyTestWorkflow : Workflow<ReplyTestWorkflow.State, ReplyTestWorkflow.Offer>
{
    public sealed record Provider(string Id, string Mobile, string Email);
    public sealed record State(string PersonName, string NhsNumber, string Postcode, ImmutableList<Provider> Providers, Instant Deadline,
        string? AwardedTo, LocalTime? FirstCall, ImmutableList<string> Declined, ImmutableList<string> Failures, bool Expired);

    public sealed record Offer(string PersonName, string NhsNumber, string Postcode, IReadOnlyList<Provider> Providers, Duration Window) : WorkflowInput;
    public sealed record Accept(string ProviderId, LocalTime FirstCall) : WorkflowInput;
    public sealed record Decline(string ProviderId) : WorkflowInput;

    public sealed record Offered(string PersonName, string NhsNumber, string Postcode, ImmutableList<Provider> Providers, Instant Deadline) : WorkflowEvent;
    public sealed record Awarded(string ProviderId, LocalTime FirstCall) : WorkflowEvent;
    public sealed record DeclinedBy(string ProviderId) : WorkflowEvent;
    public sealed record DeliveryFailed(Guid MessageId, string Channel, string Error) : WorkflowEvent;
    public sealed record OfferExpired : WorkflowEvent;

    /// <summary>The workflow's messages, in one place (as D2AReferralMessages does). SMS: reference, ask, deadline, link. Never the person's details.</summary>
    public static class Messages
    {
        public static OutboundMessage OfferSms(string reference, Provider p, string deadline, string link)
        {
            var body = $"{reference}: new home care request. Reply ACCEPT {reference} HH:MM (first call) or DECLINE {reference} by {deadline}. {link}";
            return new(MessageChannel.Sms, p.Mobile, "offer", body.Length > 60 ? body[..60] : body, body, null, p.Id, [link]);
        }

        public static OutboundMessage OfferEmail(string reference, Provider p, string deadline, string link, string person, string postcode) =>
            new(MessageChannel.Email, p.Email, "offer", $"{reference}: new home care request",
                $"{reference}: a new home care request for {person} ({postcode}).\n\nAccept: {link}\nReply by {deadline}.",
                $"<p><strong>{H(reference)}</strong>: a new home care request for {H(person)} ({H(postcode)}).</p><p><a href=\"{H(link)}\">Accept</a> by {H(deadline)}.</p>",
                p.Id, [link]);

        private static string H(string s) => System.Net.WebUtility.HtmlEncode(s);
    }

    public override string Type => "RPL";
    public override State Initial => new("", "", "", [], default, null, null, [], [], false);

    public override Decision Decide(State s, WorkflowInput input, WorkflowContext ctx) => input switch
    {
        Offer o => OnOffer(o, ctx),
        Accept or Decline when s.AwardedTo is not null || s.Expired => Decision.Conflict("This request is no longer open."),
        Accept a when s.Declined.Contains(a.ProviderId) => Decision.Conflict("You declined this request."),
        Accept a => new DecisionBuilder().Record(new Awarded(a.ProviderId, a.FirstCall)).CancelTimer("deadline").Build(),
        Decline d => new DecisionBuilder().Record(new DeclinedBy(d.ProviderId)).Build(),
        TimerFired { Name: "deadline" } => new DecisionBuilder().Record(new OfferExpired()).Build(),
        MessageFailed f => new DecisionBuilder().Record(new DeliveryFailed(f.MessageId, f.Channel, f.Error)).Build(),
        _ => Decision.Invalid($"{input.GetType().Name} is not an input of RPL."),
    };

    private static Decision OnOffer(Offer o, WorkflowContext ctx)
    {
        var deadline = ctx.Now + o.Window;
        var d = new DecisionBuilder().Record(new Offered(o.PersonName, o.NhsNumber, o.Postcode, [.. o.Providers], deadline)).SetTimer("deadline", deadline);
        foreach (var p in o.Providers)
        {
            var link = ctx.Links.Issue(ctx.Reference, p.Id, "accept", deadline);
            d.Send(Messages.OfferSms(ctx.Reference, p, WorkflowContext.Local(deadline), link));
            d.Send(Messages.OfferEmail(ctx.Reference, p, WorkflowContext.Local(deadline), link, o.PersonName, o.Postcode));
        }
        return d.Build();
    }

    public override State Evolve(State s, WorkflowEvent e) => e switch
    {
        Offered o => s with { PersonName = o.PersonName, NhsNumber = o.NhsNumber, Postcode = o.Postcode, Providers = o.Providers, Deadline = o.Deadline },
        Awarded a => s with { AwardedTo = a.ProviderId, FirstCall = a.FirstCall },
        DeclinedBy d => s with { Declined = s.Declined.Add(d.ProviderId) },
        DeliveryFailed f => s with { Failures = s.Failures.Add($"{f.Channel}: {f.Error}") },
        OfferExpired => s with { Expired = true },
        _ => s,
    };

    public override string Status(State s) => s.AwardedTo is not null ? "Awarded" : s.Expired ? "Expired" : "AwaitingAcceptance";
    public override bool IsCompleted(State s) => s.AwardedTo is not null || s.Expired;

    private static readonly AskField FirstCallField = new("firstCall", "First call time", "time", Required: true, Hint: "For example 14:30");

    public override IReadOnlyList<OpenAsk> OpenAsks(State s) => s.AwardedTo is not null || s.Expired ? [] :
        s.Providers.Where(p => !s.Declined.Contains(p.Id)).SelectMany(p => new[]
        {
            new OpenAsk(p.Id, "accept", "Accept this home care request", s.Deadline, p.Email, p.Mobile, Roles.Provider, [FirstCallField]),
            new OpenAsk(p.Id, "decline", "Decline this home care request", s.Deadline, p.Email, p.Mobile, Roles.Provider),
        }).ToList();

    public override ReplyResult ParseReply(State s, OpenAsk ask, IReadOnlyDictionary<string, string> fields)
    {
        if (ask.Action == "decline") return ReplyResult.Ok(new Decline(ask.RecipientId));
        var text = fields.TryGetValue("firstCall", out var t) && t.Length > 0 ? t : fields.GetValueOrDefault("text") ?? "";
        var parsed = LocalTimePattern.CreateWithInvariantCulture("H:mm").Parse(text.Trim());
        return parsed.Success ? ReplyResult.Ok(new Accept(ask.RecipientId, parsed.Value)) : ReplyResult.Fail("Please give the first call time as HH:MM, for example 14:30.");
    }
}
