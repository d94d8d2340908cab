using static CareWorkflows.Definitions.Visits.NoReply;
using static CareWorkflows.Definitions.Visits.VisitRules;

namespace CareWorkflows.Definitions.Visits;

/// <summary>
/// What a no-reply says, and to whom (pure wording). Council mailboxes get the reference, the council's person id, the
/// visit id and the link; SMS get the reference and the link only. No names, addresses or health details.
/// </summary>
public static class NoReplyMessages
{
    private static string Link => InstancePage.Placeholder;

    private static OutboundMessage Email(string to, string purpose, string subject, string body) =>
        new(MessageChannel.Email, to, purpose, subject, body, Links: [Link]);

    /// <summary>At once: the council's duty contact for the time (B App E; X 21.3), by email, and by SMS where a mobile is set.</summary>
    public static IEnumerable<OutboundMessage> ToCouncil(string reference, State s, CouncilContact contact, Contacts contacts)
    {
        var key = CouncilDuty.ContactKey(contact);
        yield return Email(contacts.Email(key), "no-reply", $"{reference}: NO REPLY at a visit to person {s.PersonId}",
            $"For {CouncilDuty.Label(contact)} ({s.CouncilRoute}). {s.ProviderName}'s carer got no reply at visit {s.VisitId} to person {s.PersonId} " +
            $"at {Local(s.OccurredAt)}, reported at {Local(s.ReportedAt)} (B Appendix E). The provider is making the checks; the outcome will follow.\n" +
            $"The record: {Link}");
        if (contacts.Emails.TryGetValue(key + "-sms", out var mobile) && mobile.Length > 0)
            yield return new(MessageChannel.Sms, mobile, "no-reply", "", $"{reference}: NO REPLY at a visit. Details: {Link}", Links: [Link]);
    }

    /// <summary>App E: the no-reply is followed at once by an email to the care manager.</summary>
    public static OutboundMessage ToCareManager(string reference, State s, string to) =>
        Email(to, "no-reply-care-manager", $"{reference}: no reply at a visit to person {s.PersonId}",
            $"For the care manager. {s.ProviderName} reports no reply at visit {s.VisitId} to person {s.PersonId} at {Local(s.OccurredAt)} " +
            $"(B Appendix E). The council's duty contact has been told ({s.CouncilRoute}). The record: {Link}");

    /// <summary>No outcome within the hour, or not located: the safeguarding lead.</summary>
    public static OutboundMessage ToSafeguardingLead(string reference, State s, string to, string why) =>
        Email(to, "no-reply-safeguarding", $"{reference}: no-reply for person {s.PersonId} – {why}",
            $"The carer of {s.ProviderName} got no reply at visit {s.VisitId} to person {s.PersonId} at {Local(s.OccurredAt)}: {why}. " +
            $"The council was told at {Local(s.ReportedAt)} ({s.CouncilRoute}).\nChecks recorded: " +
            (s.Checks.Count == 0 ? "none" : string.Join(", ", s.Checks.Select(c => NoReplyRules.Label(c.Check)))) + $".\nThe record: {Link}");

    /// <summary>The outcome, to those told of the no-reply.</summary>
    public static OutboundMessage Outcome(string reference, State s, string to) =>
        Email(to, "no-reply-outcome", $"{reference}: no-reply outcome – {NoReplyRules.Label(s.Outcome!.Value)}",
            $"Outcome of the no-reply at visit {s.VisitId} to person {s.PersonId}: {NoReplyRules.Label(s.Outcome!.Value)} ({Local(s.OutcomeAt!.Value)}). The record: {Link}");

    /// <summary>The provider is told the council has it (so the office knows the escalation was made).</summary>
    public static OutboundMessage Received(string reference, State s) =>
        Email(s.ProviderEmail, "no-reply-received", $"{reference}: no-reply reported for visit {s.VisitId}",
            $"Your no-reply report for visit {s.VisitId} is with the council ({s.CouncilRoute}). Record the checks (B Appendix E 1, 3) and the outcome here: {Link}\n" +
            $"Or reply with one line, e.g. OUTCOME {reference} found safe 14:35.");

    public static OutboundMessage DeliveryFailed(string reference, string to, MessageResult failed) =>
        Email(to, "delivery-failed", $"{reference}: a no-reply message could not be delivered",
            $"The {failed.Purpose} message for no-reply {reference} to {failed.To} could not be delivered ({failed.Error}). Please make contact another way: {Link}");
}
