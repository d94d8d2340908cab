using System.Collections.Immutable;
using CareWorkflows.Definitions;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Tests.Channels;

/// <summary>
/// A stand-in for the D2A referral until it lands: offers a care request to providers (SMS + email with signed links),
/// each may ACCEPT (with a first-call time) or DECLINE; the first accept is awarded. It holds personal data (a name,
/// an NHS number, a postcode) so tests can show none of it reaches an SMS. Templates are kept together, as each
/// workflow should.
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

    /// <summary>The workflow's templates, in one place. SMS: reference, ask, deadline, link. Never the person's details.</summary>
    public static class Messages
    {
        public static readonly SmsTemplate OfferSms = new("offer",
            "{reference}: new home care request. Reply ACCEPT {reference} HH:MM (first call) or DECLINE {reference} by {deadline}. {link}");
        public static readonly EmailTemplate OfferEmail = new("offer",
            "{reference}: new home care request",
            "{reference}: a new home care request for {person} ({postcode}).\n\nAccept: {link}\nReply by {deadline}.",
            "<p><strong>{reference}</strong>: a new home care request for {person} ({postcode}).</p><p><a href=\"{link}\">Accept</a> by {deadline}.</p>");
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
            var values = new Dictionary<string, string>
            {
                ["reference"] = ctx.Reference, ["deadline"] = WorkflowContext.Local(deadline), ["link"] = link,
                ["person"] = o.PersonName, ["postcode"] = o.Postcode,
            };
            d.Send(Messages.OfferSms.Render(p.Mobile, values, p.Id, [link]));
            d.Send(Messages.OfferEmail.Render(p.Email, values, p.Id, [link]));
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
