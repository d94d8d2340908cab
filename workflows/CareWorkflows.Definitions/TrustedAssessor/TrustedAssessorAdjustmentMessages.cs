using NodaTime;
using static CareWorkflows.Definitions.TrustedAssessor.TrustedAssessorAdjustment;
using static CareWorkflows.Definitions.TrustedAssessor.TrustedAssessorAdjustmentRules;

namespace CareWorkflows.Definitions.TrustedAssessor;

/// <summary>
/// What a trusted-assessor adjustment says, and to whom (pure wording). Every recipient is an organisation's mailbox:
/// the council's teams (Contacts) and the proposing assessor at the provider delivering the package; nothing goes to
/// anyone else, and nothing by SMS. Links are placeholders the SendMessage activity signs.
/// </summary>
public static class TrustedAssessorAdjustmentMessages
{
    private static string Local(Instant i) => WorkflowContext.Local(i);

    private static OutboundMessage Email(string to, string recipientId, string purpose, string subject, string body) =>
        new(MessageChannel.Email, to, purpose, subject, body, RecipientId: recipientId);

    /// <summary>An email with signed links, one per (action, label), each valid until <paramref name="linkExpires"/>.</summary>
    private static OutboundMessage WithLinks(string to, string recipientId, string purpose, string subject, string body, Instant linkExpires,
        params (string Action, string Label)[] links)
    {
        var requests = links.Select(l => new LinkRequest(l.Action, recipientId, l.Action, linkExpires)).ToList();
        var text = body + "\n\n" + string.Join("\n", links.Zip(requests, (l, r) => $"{l.Label}: {r.Placeholder}"));
        return new(MessageChannel.Email, to, purpose, subject, text, RecipientId: recipientId, Links: requests.Select(r => r.Placeholder).ToList(), Sign: requests);
    }

    private static string Change(State s) => $"{s.PackageId}: {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week ({Percent(s.ChangePercent)}%) from {Date(s.EffectiveDate)}";

    /// <summary>What the council's reviewers read: the change, who proposed it, the person's agreement, goals, rationale and evidence (G.10 §4.2).</summary>
    public static string Detail(State s, ProposeAdjustment p, ParameterCheck check) =>
        $"{Change(s)}\nProposed by trusted assessor {p.Assessor.Name} ({p.Assessor.Id}) of {s.ProviderId}.\nAgreed by: {p.AgreedBy.Trim()}\n" +
        $"Goals: {p.Goals.Trim()}\nRationale: {p.Rationale.Trim()}\nEvidence: {p.Evidence.Trim()}\n{check.Explanation}";

    // ---------------------------------------------------------------- within parameters: in effect, then sign-off (G.10 §4.2)

    public static IEnumerable<OutboundMessage> SignOffRequests(string reference, Contacts contacts, string detail, Instant due, bool senior, bool movingAndHandling)
    {
        var expires = LinkExpiry(due);
        if (senior)
            yield return WithLinks(contacts.Email(People.SeniorCareManager), People.SeniorCareManager, "signoff-request",
                $"{reference}: trusted-assessor adjustment for sign-off by {Local(due)}", detail, expires,
                (SignOffAction, "Sign off"), (ConcernAction, "Raise a concern with the provider"), (PauseAction, "Pause pending a care-management review"));
        if (movingAndHandling)
            yield return WithLinks(contacts.Email(People.MovingAndHandling), People.MovingAndHandling, "signoff-request",
                $"{reference}: trusted-assessor adjustment for moving-and-handling sign-off by {Local(due)}", detail, expires, (SignOffAction, "Sign off"));
    }

    public static OutboundMessage Implemented(string reference, State s, Instant due) =>
        Email(s.AssessorEmail, s.ProviderId, "implemented", $"{reference}: adjustment recorded, in effect",
            $"{Change(s)} is within parameters and takes effect as proposed. It has gone to the council for sign-off by {Local(due)}.");

    // ---------------------------------------------------------------- outside parameters: approval first (G.7, G.10 §5)

    public static IEnumerable<OutboundMessage> ApprovalRequests(string reference, Contacts contacts, string detail, Instant due, bool ot)
    {
        foreach (var who in ot ? new[] { People.CareManager, People.OccupationalTherapist } : [People.CareManager])
            yield return WithLinks(contacts.Email(who), who, "approval-request", $"{reference}: adjustment outside parameters for approval by {Local(due)}", detail,
                LinkExpiry(due), (ApproveAction, "Approve"), (RejectAction, "Reject"));
    }

    public static OutboundMessage AwaitingApproval(string reference, State s, string explanation) =>
        Email(s.AssessorEmail, s.ProviderId, "awaiting-approval", $"{reference}: adjustment needs approval first",
            $"{Change(s)} is outside trusted-assessor parameters. {explanation} Keep delivering {H(s.OriginalHours)} hours a week until the council approves it.");

    public static OutboundMessage Rejected(string reference, State s, string reasons) =>
        Email(s.AssessorEmail, s.ProviderId, "rejected", $"{reference}: adjustment not approved",
            $"The proposed change of {s.PackageId} to {H(s.ProposedHours)} hours a week was not approved; it stays at {H(s.OriginalHours)} hours a week.\nReasons: {reasons}");

    // ---------------------------------------------------------------- signed off: the payment follows (App N)

    public static IEnumerable<OutboundMessage> SignedOff(string reference, State s, Contacts contacts, Instant at, string why)
    {
        yield return Email(contacts.Email(People.Finance), People.Finance, "payment-adjustment", $"{reference}: payment adjustment for {s.PackageId}",
            $"Please adjust payment for package {s.PackageId} delivered by {s.ProviderId}: {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week " +
            $"from {Date(s.EffectiveDate)} (trusted-assessor adjustment {reference}, signed off {Local(at)}).");
        yield return Email(s.AssessorEmail, s.ProviderId, "signed-off", $"{reference}: adjustment signed off",
            $"The adjustment of {s.PackageId} to {H(s.ProposedHours)} hours a week from {Date(s.EffectiveDate)} is signed off. {why}");
    }

    // ---------------------------------------------------------------- a concern (G.10 §4.2)

    public static OutboundMessage Concern(string reference, State s, string concern, Instant due) =>
        WithLinks(s.AssessorEmail, s.ProviderId, "concern", $"{reference}: the council has a concern about an adjustment",
            $"The senior care manager has a concern about the adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week):\n{concern}\n" +
            $"Please respond by {Local(due)}.", LinkExpiry(due), (RespondAction, "Respond"));

    public static string ConcernAnswered(State s, string response) => $"The provider responded to your concern about {s.PackageId}:\n{response}";

    // ---------------------------------------------------------------- pause pending review: the original service back (G.10 §4.2)

    public static OutboundMessage Reinstate(string reference, State s, string reason, Instant confirmBy) =>
        WithLinks(s.AssessorEmail, s.ProviderId, "reinstate", $"{reference}: reinstate the original hours",
            $"The adjustment of {s.PackageId} is paused pending a care-management review. Reason: {reason}\n" +
            $"Please reinstate the original {H(s.OriginalHours)} hours a week now and confirm by {Local(confirmBy)}.", LinkExpiry(confirmBy),
            (ReinstatedAction, "Confirm the original hours are back"));

    public static OutboundMessage ReviewRequested(string reference, State s, Contacts contacts, string reason) =>
        Email(contacts.Email(People.CareManager), People.CareManager, "review-requested", $"{reference}: care-management review requested for {s.PackageId}",
            $"The senior care manager paused the trusted-assessor adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week) " +
            $"pending a care-management review. Reason: {reason}");

    public static OutboundMessage Reinstated(string reference, State s, Contacts contacts) =>
        Email(contacts.Email(People.SeniorCareManager), People.SeniorCareManager, "reinstated", $"{reference}: original hours reinstated for {s.PackageId}",
            $"{s.ProviderId} confirms {s.PackageId} is back to {H(s.OriginalHours)} hours a week pending the care-management review.");

    public static OutboundMessage Reversed(string reference, State s, string reason) =>
        Email(s.AssessorEmail, s.ProviderId, "reversed", $"{reference}: adjustment reversed",
            $"The care-management review reversed the adjustment of {s.PackageId}: it stays at {H(s.OriginalHours)} hours a week. Reason: {reason}");

    // ---------------------------------------------------------------- reminders and escalations

    /// <summary>The reminder of the window that runs: what the timeline says, and who is reminded.</summary>
    public static (string Note, IEnumerable<OutboundMessage> Messages) Reminder(string window, string reference, State s, Contacts contacts)
    {
        var due = Local(s.Due!.Value);
        return window switch
        {
            SignOffWindow => ($"Reminder sent: sign-off due by {due} (pending: {string.Join(", ", PendingSignOff(s))}).", SignOffReminders(reference, s, contacts)),
            ApprovalWindow => ($"Reminder sent: approval due by {due} (pending: {string.Join(", ", PendingApproval(s))}).", ApprovalReminders(reference, s, contacts)),
            ConcernWindow => ($"Reminder sent: {s.ProviderId}'s response to the concern is due by {due}.", [ConcernReminder(reference, s)]),
            _ => ($"Reminder sent: {s.ProviderId} to confirm the original hours are back by {due}.", [ReinstatementReminder(reference, s)]),
        };
    }

    /// <summary>The escalation at the end of the window that runs (to the care-management team lead; for a concern or a pause, the senior care manager too).</summary>
    public static (string Note, IEnumerable<OutboundMessage> Messages) Escalation(string window, string reference, State s, Contacts contacts, PolicySettings policy)
    {
        var due = Local(s.Due!.Value);
        return window switch
        {
            SignOffWindow => ($"Escalated (sign-off) to {People.TeamLead}: not signed off by {due} (pending: {string.Join(", ", PendingSignOff(s))}).",
                [SignOffEscalation(reference, s, contacts)]),
            ApprovalWindow => ($"Escalated (approval) to {People.TeamLead}: no decision by {due} (pending: {string.Join(", ", PendingApproval(s))}).",
                [ApprovalEscalation(reference, s, contacts)]),
            ConcernWindow => ($"Escalated (concern response) to {People.SeniorCareManager} and {People.TeamLead}: {s.ProviderId} did not respond by {due}.",
                ConcernEscalation(reference, s, contacts)),
            _ => ($"Escalated (reinstatement) to {People.TeamLead} and {People.SeniorCareManager}: {s.ProviderId} did not confirm within " +
                  $"{ReinstatementWindowOf(policy).TotalHours:0.##} hours that the original hours are back.", ReinstatementEscalation(reference, s, contacts)),
        };
    }


    public static IEnumerable<OutboundMessage> SignOffReminders(string reference, State s, Contacts contacts) =>
        PendingSignOff(s).Select(who => Email(contacts.Email(who), who, "signoff-reminder", $"{reference}: sign-off due {Local(s.Due!.Value)}",
            $"Reminder: the trusted-assessor adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week) is in effect and awaits your sign-off."));

    public static OutboundMessage SignOffEscalation(string reference, State s, Contacts contacts) =>
        Email(contacts.Email(People.TeamLead), People.TeamLead, "signoff-escalation", $"{reference}: trusted-assessor adjustment not signed off in time",
            $"The adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week, in effect) was due for sign-off by " +
            $"{Local(s.Due!.Value)}. Still pending: {string.Join(", ", PendingSignOff(s))}.");

    public static IEnumerable<OutboundMessage> ApprovalReminders(string reference, State s, Contacts contacts) =>
        PendingApproval(s).Select(who => Email(contacts.Email(who), who, "approval-reminder", $"{reference}: approval due {Local(s.Due!.Value)}",
            $"Reminder: the proposed adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week) awaits your decision."));

    public static OutboundMessage ApprovalEscalation(string reference, State s, Contacts contacts) =>
        Email(contacts.Email(People.TeamLead), People.TeamLead, "approval-escalation", $"{reference}: outside-parameter adjustment not decided in time",
            $"The proposed adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week) was due a decision by {Local(s.Due!.Value)}.");

    public static OutboundMessage ConcernReminder(string reference, State s) =>
        WithLinks(s.AssessorEmail, s.ProviderId, "concern-reminder", $"{reference}: please respond to the council's concern",
            $"Reminder: please respond to the concern about {s.PackageId} by {Local(s.Due!.Value)}.", LinkExpiry(s.Due!.Value), (RespondAction, "Respond"));

    public static IEnumerable<OutboundMessage> ConcernEscalation(string reference, State s, Contacts contacts) =>
        new[] { People.SeniorCareManager, People.TeamLead }.Select(who => Email(contacts.Email(who), who, "concern-escalation", $"{reference}: no response to the concern",
            $"{s.ProviderId} did not respond by {Local(s.Due!.Value)} to the concern about {s.PackageId}. Consider pausing the adjustment pending review."));

    public static OutboundMessage ReinstatementReminder(string reference, State s) =>
        WithLinks(s.AssessorEmail, s.ProviderId, "reinstate-reminder", $"{reference}: confirm the original hours are reinstated",
            $"Reminder: reinstate {s.PackageId} to {H(s.OriginalHours)} hours a week and confirm by {Local(s.Due!.Value)}.", LinkExpiry(s.Due!.Value),
            (ReinstatedAction, "Confirm the original hours are back"));

    public static IEnumerable<OutboundMessage> ReinstatementEscalation(string reference, State s, Contacts contacts) =>
        new[] { People.TeamLead, People.SeniorCareManager }.Select(who => Email(contacts.Email(who), who, "reinstatement-escalation", $"{reference}: original hours not confirmed",
            $"{s.ProviderId} was asked to reinstate {s.PackageId} to {H(s.OriginalHours)} hours a week and has not confirmed by {Local(s.Due!.Value)}. " +
            "Please contact the provider."));

    /// <summary>A message could not be delivered: the care-management team lead is asked to reach the recipient another way.</summary>
    public static OutboundMessage DeliveryFailed(string reference, Contacts contacts, MessageResult failed) =>
        Email(contacts.Email(People.TeamLead), People.TeamLead, "delivery-failed", $"{reference}: a message could not be delivered",
            $"The {failed.Purpose} message for trusted-assessor adjustment {reference} to {failed.To} could not be delivered ({failed.Error}). Please reach them another way.");
}
