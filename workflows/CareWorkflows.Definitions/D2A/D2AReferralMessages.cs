using System.Net;
using System.Text;
using NodaTime;

using static CareWorkflows.Definitions.D2A.D2AReferral;

namespace CareWorkflows.Definitions.D2A;

/// <summary>
/// Every message the D2A referral sends, in one place. Rules (DOMAIN.md, information governance):
/// reference first; plain English; offers and reminders carry only patch, postcode district, timings and care needs (App A);
/// SMS carry the reference, the ask, the deadline in UK time and a signed link — never a name, address, NHS number,
/// date of birth or health detail. Nothing here names the person: staff open the referral in the service.
/// Purposes starting "staff-" go to council mailboxes; the rest go to providers. Signed links are placeholders
/// (<see cref="LinkRequest"/>): the SendMessage activity signs them, so no live link is ever in an orchestration's history.
/// </summary>
public static class D2AReferralMessages
{
    private const string SignOff = "Council brokerage team";

    /// <summary>The anonymised description of a package: patch, postcode district, timings, calls (and needs, never in SMS).</summary>
    public static string OfferFacts(Package r, Instant discharge, bool includeNeeds)
    {
        var s = $"in the {r.Patch} patch ({r.PostcodeDistrict}): discharge expected at {Local(discharge)}; {r.CallsPerDay} call{(r.CallsPerDay == 1 ? "" : "s")} a day of {r.MinutesPerCall} minutes, {(r.DoubleHanded ? "double-handed (two carers)" : "single-handed")}.";
        return includeNeeds ? $"{s} Care needs: {r.NeedsSummary.Trim()}" : s;
    }

    private static LinkRequest AcceptLink(ProviderContact p, Instant deadline) => new(AcceptAction, p.Id, AcceptAction, deadline);
    private static LinkRequest DeclineLink(ProviderContact p, Instant deadline) => new(DeclineAction, p.Id, DeclineAction, deadline);

    /// <summary>The winner's link to the full referral, served by /d2a/details/{token} while it holds the award.</summary>
    public static LinkRequest DetailsLink(ProviderContact p, Instant expires) => new(DetailsAction, p.Id, DetailsAction, expires, DetailsPath);

    /// <summary>Offer (or reminder) by email and SMS with signed Accept / Decline links that expire at the deadline.</summary>
    public static IEnumerable<OutboundMessage> Offer(string reference, Package r, Instant discharge, ProviderContact p, Instant deadline, bool reminder)
    {
        LinkRequest accept = AcceptLink(p, deadline), decline = DeclineLink(p, deadline);
        var acceptLink = accept.Placeholder;
        var purpose = reminder ? "reminder" : "offer";
        var lead = reminder ? "Reminder: we have not had your answer to this D2A package yet." : "A new Discharge to Assess (D2A) package is available.";
        yield return Email(reference, p.Email, p.Id, purpose,
            $"{reference}: {(reminder ? "reminder – " : "")}D2A package in {r.Patch}, answer by {Time(deadline)}",
            [
                lead,
                $"The package is {OfferFacts(r, discharge, includeNeeds: true)}",
                $"Please accept or decline by {Local(deadline)} (UK time). If you accept, give the earliest first call you can make.",
                $"The person's details are sent only to the provider the package is awarded to.",
                $"You can also reply to this email with ACCEPT {reference} 14:30 or DECLINE {reference}.",
            ],
            [("Accept this package", accept), ("Decline this package", decline)]);
        yield return Sms(reference, p.Mobile, p.Id, purpose,
            $"{reference}: {(reminder ? "REMINDER " : "")}D2A package, {r.Patch} patch, discharge {Time(discharge)}. Answer by {Time(deadline)}: {acceptLink} or reply ACCEPT {reference} 14:30 / DECLINE {reference}. {SignOff}",
            [accept]);
    }

    public static OutboundMessage FrameworkRoundAlert(string reference, string to, string patch, string why, int frameworkCount) =>
        Email(reference, to, null, "staff-framework-alert", $"{reference}: no patch provider – offered to framework providers",
            [$"The D2A package {reference} in the {patch} patch was not accepted: {why}.",
             $"It has now been offered to {frameworkCount} framework provider{(frameworkCount == 1 ? "" : "s")} borough-wide (B 1.5.3). Please keep an eye on it."]);

    public static IEnumerable<OutboundMessage> NoProviderFound(string reference, IReadOnlyList<string> to, string why, Instant discharge)
    {
        string[] text =
        [
            $"No provider has been found for the D2A package {reference}: {why}.",
            $"The expected discharge is {Local(discharge)}. The referral stays open for a manual placement by brokerage.",
        ];
        foreach (var address in to)
            yield return Email(reference, address, null, "staff-no-provider", $"{reference}: no provider found – manual placement needed", text);
    }

    /// <summary>To the winner: the award and a signed link to the full details (never the details themselves).</summary>
    public static IEnumerable<OutboundMessage> Awarded(string reference, ProviderContact p, Instant firstCall, Instant discharge, LinkRequest details)
    {
        yield return Email(reference, p.Email, p.Id, "award", $"{reference}: D2A package awarded to you – first call {Time(firstCall)}",
            [$"The D2A package {reference} is awarded to {p.Name}.",
             $"Expected discharge: {Local(discharge)}. First call: {Local(firstCall)}.",
             "The full referral (the person's details and needs) is behind the secure link below. Please read it and tell the D2A team at once if anything stops you meeting the first call."],
            [("Open the full referral", details)]);
        yield return Sms(reference, p.Mobile, p.Id, "award",
            $"{reference}: D2A package awarded to you. First call {Time(firstCall)}. Full details: {details.Placeholder} {SignOff}", [details]);
    }

    public static OutboundMessage NotSuccessful(string reference, ProviderContact p) =>
        Email(reference, p.Email, p.Id, "not-successful", $"{reference}: D2A package placed with another provider",
            [$"Thank you for accepting the D2A package {reference}. It has been placed with another provider this time, so you were not successful."]);

    public static OutboundMessage OfferClosed(string reference, ProviderContact p) =>
        Email(reference, p.Email, p.Id, "offer-closed", $"{reference}: D2A offer closed",
            [$"The D2A package {reference} is no longer available. You do not need to answer the offer."]);

    public static OutboundMessage AwardWithdrawn(string reference, ProviderContact p) =>
        Email(reference, p.Email, p.Id, "award-withdrawn", $"{reference}: D2A package re-awarded",
            [$"Brokerage has re-awarded the D2A package {reference} to another provider. Please do not start calls, and delete any copy of the referral you saved.",
             "The link to the full referral no longer works."]);

    public static OutboundMessage PlacedToDischargeTeam(string reference, string to, string providerName, Instant firstCall, Instant discharge, string? previousProvider) =>
        Email(reference, to, null, "staff-placed", $"{reference}: placed with {providerName}, first call {Time(firstCall)}",
            [$"The D2A package {reference} is placed with {providerName}{(previousProvider is null ? "" : $" (re-awarded; it was with {previousProvider})")}.",
             $"Expected discharge: {Local(discharge)}. First call: {Local(firstCall)}.",
             "Please confirm the discharge in the service when the person leaves hospital."]);

    public static OutboundMessage CutOffsFlagged(string reference, string to, IReadOnlyList<string> flags, Instant firstCall) =>
        Email(reference, to, null, "staff-cut-off", $"{reference}: first call at {Time(firstCall)} may not be met",
            [$"The first call promised for {reference} ({Local(firstCall)}) misses a D2A timescale:", .. flags.Select(f => "• " + f),
             "Please agree the start with the provider and the discharge team."]);

    /// <param name="detailsLink">To the award holder: a fresh link to the full referral, valid to the new end of the package.</param>
    public static OutboundMessage DischargeTimeChanged(string reference, ProviderContact p, Instant newTime, Instant? firstCall, LinkRequest? detailsLink = null) =>
        Email(reference, p.Email, p.Id, "discharge-time", $"{reference}: discharge time changed to {Time(newTime)}",
            [$"The expected discharge for the D2A package {reference} is now {Local(newTime)}.",
             firstCall is { } f ? $"The first call is now expected at {Local(f)}. Tell the D2A team at once if you cannot meet it." : "Please take this into account in your answer."],
            detailsLink is null ? null : [("Open the full referral", detailsLink)]);

    /// <param name="detailsLink">A link to the full referral that works until the package's 6-week cap.</param>
    public static OutboundMessage DischargeConfirmed(string reference, ProviderContact p, Instant at, Instant capAt, LinkRequest detailsLink) =>
        Email(reference, p.Email, p.Id, "discharge-confirmed", $"{reference}: discharge confirmed – package active",
            [$"The person for D2A package {reference} left hospital at {Local(at)}. The package is now active.",
             $"A D2A package lasts 6 weeks at most: until {Local(capAt)} (App M §5). The D2A team will confirm the end date.",
             "Tell the D2A team of any improvement or deterioration (App M §3).",
             "The full referral stays available behind the secure link below until the package ends."],
            [("Open the full referral", detailsLink)]);

    public static OutboundMessage CarePlanRevisionRequest(string reference, ProviderContact p, Instant due, Instant linkExpires) =>
        Email(reference, p.Email, p.Id, "care-plan-request", $"{reference}: care and support plan revisions due by {Time(due)}",
            [$"You supported the person for D2A referral {reference} before their hospital stay, and they have now been discharged.",
             "Please tell their next of kin or named representative of the discharge as soon as possible.",
             $"Send the council any revisions to the care and support plan by {Local(due)} (within 48 hours of discharge, B 4.6.8)."],
            [("Send the plan revisions", new LinkRequest(CarePlanAction, p.Id, CarePlanAction, linkExpires))]);

    public static OutboundMessage CarePlanReceived(string reference, string to) =>
        Email(reference, to, null, "staff-care-plan-received", $"{reference}: care and support plan revisions received",
            [$"The provider who supported the person before admission has sent the plan revisions for {reference}. They are on the referral's timeline."]);

    public static OutboundMessage EndDatePlanned(string reference, ProviderContact p, LocalDate end) =>
        Email(reference, p.Email, p.Id, "end-date", $"{reference}: D2A package ends on {end.ToString("ddd d MMM yyyy", Inv)}",
            [$"The D2A team has confirmed that the D2A package {reference} ends on {end.ToString("dddd d MMMM yyyy", Inv)}."]);

    public static OutboundMessage Closed(string reference, ProviderContact p) =>
        Email(reference, p.Email, p.Id, "closed", $"{reference}: D2A package closed",
            [$"The D2A package {reference} has been closed by the council. Please stop any calls not agreed with the D2A team."]);

    public static OutboundMessage DischargeNotConfirmed(string reference, string brokerage, string referrer, Instant expected) =>
        Email(reference, brokerage, null, "staff-discharge-overdue", $"{reference}: discharge not yet confirmed",
            [$"The discharge for {reference} was expected at {Local(expected)} but has not been confirmed.",
             $"Please check with the discharge team ({referrer}) and record the discharge or the new discharge time."]);

    public static OutboundMessage EndDatePrompt(string reference, string to, LocalDate capDate) =>
        Email(reference, to, null, "staff-end-date-prompt", $"{reference}: week 5 – confirm the D2A end date and outcome",
            [$"The D2A package {reference} is in its fifth week. It must end by {capDate.ToString("dddd d MMMM yyyy", Inv)} (6 weeks at most, App M §5).",
             "Please confirm the end date and the expected outcome (reablement, long-term package, no ongoing need) in the service."]);

    public static IEnumerable<OutboundMessage> CapReached(string reference, IReadOnlyList<string> to, Instant capAt)
    {
        string[] text = [$"The D2A package {reference} reached the 6-week maximum at {Local(capAt)} and is still open (App M §5, App H).",
                         "Please decide the outcome and close it, or arrange the ongoing package, today."];
        foreach (var address in to)
            yield return Email(reference, address, null, "staff-cap", $"{reference}: 6-week D2A maximum reached", text);
    }

    public static OutboundMessage CarePlanOverdue(string reference, string to, string providerName, Instant due) =>
        Email(reference, to, null, "staff-care-plan-overdue", $"{reference}: care and support plan revisions overdue",
            [$"{providerName} supported the person for {reference} before admission and should have sent the plan revisions by {Local(due)} (B 4.6.8). Nothing has been received.",
             "Please contact the provider."]);

    public static OutboundMessage ConditionChanged(string reference, string to, string providerName, bool improved) =>
        Email(reference, to, null, "staff-condition", $"{reference}: provider reports {(improved ? "an improvement" : "a deterioration")}",
            [$"{providerName} reports {(improved ? "an improvement" : "a deterioration")} in the condition of the person with D2A package {reference} (App M §3).",
             "The provider's notes are on the referral's timeline. Please review whether a D2A package is still right."]);

    public static OutboundMessage UndeliveredAlert(string reference, string to, MessageResult failed) =>
        Email(reference, to, null, "staff-undelivered", $"{reference}: a message could not be delivered",
            [$"A {failed.Purpose} message for {reference} could not be delivered by {(failed.To.Contains('@') ? "email" : "SMS")}. Please contact the recipient another way."]);

    // ---------- building blocks ----------

    private static readonly System.Globalization.CultureInfo Inv = System.Globalization.CultureInfo.InvariantCulture;

    private static string Local(Instant i) => WorkflowContext.Local(i);

    /// <summary>Short UK time for subjects and SMS: "14:30 Tue 24 Nov".</summary>
    public static string Time(Instant i) => i.InZone(WorkflowContext.London).ToString("HH:mm ddd d MMM", Inv);

    private static OutboundMessage Email(string reference, string to, string? recipientId, string purpose, string subject,
        IReadOnlyList<string> paragraphs, IReadOnlyList<(string Label, LinkRequest Link)>? links = null)
    {
        var text = new StringBuilder($"Reference: {reference}\n\n");
        var html = new StringBuilder($"<p>Reference: <strong>{H(reference)}</strong></p>\n");
        foreach (var p in paragraphs)
        {
            text.Append(p).Append("\n\n");
            html.Append("<p>").Append(H(p)).Append("</p>\n");
        }
        foreach (var (label, link) in links ?? [])
        {
            var url = link.Placeholder;
            text.Append($"{label}: {url}\n\n");
            html.Append($"<p><a href=\"{H(url)}\">{H(label)}</a></p>\n");
        }
        text.Append(SignOff);
        html.Append($"<p>{H(SignOff)}</p>");
        return new OutboundMessage(MessageChannel.Email, to, purpose, subject, text.ToString(), html.ToString(), recipientId,
            links?.Select(l => l.Link.Placeholder).ToList(), links?.Select(l => l.Link).ToList());
    }

    private static OutboundMessage Sms(string reference, string to, string? recipientId, string purpose, string text, IReadOnlyList<LinkRequest> links) =>
        new(MessageChannel.Sms, to, purpose, reference, text, null, recipientId, links.Select(l => l.Placeholder).ToList(), links);

    private static string H(string s) => WebUtility.HtmlEncode(s);
}
