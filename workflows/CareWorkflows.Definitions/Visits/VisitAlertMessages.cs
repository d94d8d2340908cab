using NodaTime;
using static CareWorkflows.Definitions.Visits.VisitAlert;
using static CareWorkflows.Definitions.Visits.VisitRules;

namespace CareWorkflows.Definitions.Visits;

/// <summary>
/// What a visit alert says, and to whom (pure wording). SMS carry the reference, a time and the page link — never a name,
/// an address or a health detail. Emails carry the reference, the link and the system ids: the visit id for the provider,
/// the council's person id for council staff. The replacement carer's name is never sent.
/// </summary>
public static class VisitAlertMessages
{
    private static string Link => InstancePage.Placeholder;

    private static OutboundMessage Email(string to, string purpose, string subject, string body) =>
        new(MessageChannel.Email, to, purpose, subject, body, Links: [Link]);

    private static OutboundMessage Sms(string to, string purpose, string body) =>
        new(MessageChannel.Sms, to, purpose, "", body, Links: [Link]);

    private static string Time(Instant i) => i.InZone(WorkingCalendar.London).ToString("HH:mm", null);

    /// <summary>The alert to the provider's alert desk (B 21.3, 22.2): contact the person now.</summary>
    public static IEnumerable<OutboundMessage> AlertToProvider(string reference, State s)
    {
        var what = Words(s.Kind.ToString()).ToLowerInvariant();
        if (s.Kind == MonitoringKind.Short)
        {
            yield return Email(s.ProviderEmail, "alert", $"{reference}: short call alert for visit {s.VisitId}",
                $"Call monitoring reports visit {s.VisitId} (planned {Local(s.PlannedStart)}) as a short call. " +
                $"Please speak to the carer and record why it was short (B 21.2, 22.1): {Link}");
            yield break;
        }
        yield return Email(s.ProviderEmail, "alert", $"{reference}: {what} visit alert for visit {s.VisitId} – contact the person now",
            $"Call monitoring reports visit {s.VisitId} (planned {Local(s.PlannedStart)}) as {what}.\n\n" +
            "Contact the person now to check they are all right and reassure them the carer is coming; never ask if they still need the call (B 22.2). " +
            "Then contact the carer (B 22.3); if the carer cannot make it, send a replacement within the hour (B 22.4) and tell the person who is coming (B 22.5). " +
            "If you cannot reach the person, record it: the council is told at once, and you must tell their next of kin (B 22.6).\n\n" +
            $"Record each action, with its time, here: {Link}\n" +
            $"Or reply to this email with one line, e.g. REASSURED {reference} 14:35, CARER-CONTACTED {reference}, REPLACEMENT {reference} <carer's name> 14:50, UNREACHABLE {reference}, NOREPLY {reference}.");
        if (s.ProviderMobile.Length > 0)
            yield return Sms(s.ProviderMobile, "alert",
                $"{reference}: {what} call planned {Time(s.PlannedStart)}. Contact the person now (B 22.2). Reply REASSURED {reference} or UNREACHABLE {reference}, or record it at {Link}");
    }

    /// <summary>Nothing recorded within the time (default 15 minutes): the provider's manager.</summary>
    public static OutboundMessage ToProviderManager(string reference, State s, string to, Duration after) =>
        Email(to, "manager-escalation", $"{reference}: nothing recorded on a {Words(s.Kind.ToString()).ToLowerInvariant()} visit alert after {after.TotalMinutes:0} minutes",
            $"For the provider's manager. The alert for visit {s.VisitId} (planned {Local(s.PlannedStart)}) came at {Local(s.AlertedAt)}, " +
            $"and no action has been recorded for it after {after.TotalMinutes:0} minutes (B 22.1–22.2, 22.7). Please make sure the person has been contacted: {Link}");

    /// <summary>No carer on site an hour after the alert: the council's duty contact (B 22.4, 22.6).</summary>
    public static IEnumerable<OutboundMessage> ToCouncil(string reference, State s, CouncilContact contact, Contacts contacts, string why, bool personContacted, Duration after)
    {
        var key = CouncilDuty.ContactKey(contact);
        yield return Email(contacts.Email(key), "council-escalation", $"{reference}: no carer with person {s.PersonId} {After(after)} after a missed-call alert",
            $"For {CouncilDuty.Label(contact)} ({why}). Call monitoring raised a {Words(s.Kind.ToString()).ToLowerInvariant()} alert for person {s.PersonId} " +
            $"(visit {s.VisitId}, {s.ProviderName}, planned {Local(s.PlannedStart)}) at {Local(s.AlertedAt)}, and no carer is on site yet.\n" +
            (personContacted ? "The provider has recorded contact with the person.\n" : "The provider has NOT recorded any contact with the person.\n") +
            $"Actions recorded so far and their times: {Link}");
        if (contacts.Emails.TryGetValue(key + "-sms", out var mobile) && mobile.Length > 0)
            yield return Sms(mobile, "council-escalation", $"{reference}: no carer on site after a missed-call alert. Details: {Link}");
    }

    private static string After(Duration d) => d == Duration.FromHours(1) ? "an hour" : $"{d.TotalMinutes:0} minutes";

    /// <summary>The person could not be contacted (B 22.6): the council is told at once.</summary>
    public static IEnumerable<OutboundMessage> UnreachableToCouncil(string reference, State s, CouncilContact contact, Contacts contacts, string why, Instant at)
    {
        var key = CouncilDuty.ContactKey(contact);
        yield return Email(contacts.Email(key), "person-unreachable", $"{reference}: provider cannot contact person {s.PersonId} after a missed-call alert",
            $"For {CouncilDuty.Label(contact)} ({why}). {s.ProviderName} could not contact person {s.PersonId} at {Local(at)} after a " +
            $"{Words(s.Kind.ToString()).ToLowerInvariant()} alert for visit {s.VisitId} (planned {Local(s.PlannedStart)}). The provider must also tell the next of kin (B 22.6).\n" +
            $"The record: {Link}");
        if (contacts.Emails.TryGetValue(key + "-sms", out var mobile) && mobile.Length > 0)
            yield return Sms(mobile, "person-unreachable", $"{reference}: provider cannot contact the person after a missed-call alert. Details: {Link}");
    }

    /// <summary>No carer on site and the person not contacted: the safeguarding lead too.</summary>
    public static OutboundMessage ToSafeguardingLead(string reference, State s, string to) =>
        Email(to, "safeguarding-escalation", $"{reference}: person {s.PersonId} neither visited nor contacted after a missed-call alert",
            $"Call monitoring raised an alert for person {s.PersonId} (visit {s.VisitId}, {s.ProviderName}, planned {Local(s.PlannedStart)}) at {Local(s.AlertedAt)}. " +
            $"An hour on, no carer is on site and the provider has not recorded contact with the person. The council's duty contact has been told.\nThe record: {Link}");

    /// <summary>X 10.6: the call is an hour late: the provider tells the person.</summary>
    public static IEnumerable<OutboundMessage> TellPersonOfDelay(string reference, State s)
    {
        yield return Email(s.ProviderEmail, "tell-person-of-delay", $"{reference}: visit {s.VisitId} is an hour late – tell the person",
            $"Visit {s.VisitId} was planned for {Local(s.PlannedStart)} and has not started. Please tell the person the call is delayed (X 10.6), and record it: {Link}");
        if (s.ProviderMobile.Length > 0)
            yield return Sms(s.ProviderMobile, "tell-person-of-delay", $"{reference}: call planned {Time(s.PlannedStart)} is an hour late. Tell the person (X 10.6), then reply DELAY-TOLD {reference}. {Link}");
    }

    /// <summary>Those told of the alert hear how it ended.</summary>
    public static OutboundMessage Ended(string reference, State s, string to, string how) =>
        Email(to, "alert-ended", $"{reference}: {how}", $"The alert for visit {s.VisitId} (planned {Local(s.PlannedStart)}) has ended: {how}.\nThe record: {Link}");

    /// <summary>A message could not be delivered: the council's home-care monitoring team reaches the provider another way.</summary>
    public static OutboundMessage DeliveryFailed(string reference, string to, MessageResult failed) =>
        Email(to, "delivery-failed", $"{reference}: a missed-call alert message could not be delivered",
            $"The {failed.Purpose} message for visit alert {reference} to {failed.To} could not be delivered ({failed.Error}). Please make contact another way: {Link}");
}
