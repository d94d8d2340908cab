using NodaTime;
using static CareWorkflows.Definitions.QualityConcerns.QualityConcern;

namespace CareWorkflows.Definitions.QualityConcerns;

/// <summary>
/// What a quality concern says, and to whom (pure wording). Every recipient is an organisation's mailbox; the concern
/// text is the council's own words about the service, so it may go to the provider and council teams.
/// </summary>
public static class QualityConcernMessages
{
    private static string Local(Instant i) => WorkflowContext.Local(i);

    private static OutboundMessage Email(string to, string purpose, string subject, string body) => new(MessageChannel.Email, to, purpose, subject, body);

    /// <summary>An email to the provider with its signed link to answer (<paramref name="action"/>) until <paramref name="linkExpires"/>.</summary>
    private static OutboundMessage ToProvider(State s, string purpose, string subject, string body, string action, Instant linkExpires)
    {
        var link = new LinkRequest("answer", s.ProviderId, action, linkExpires);
        return new(MessageChannel.Email, s.ProviderEmail, purpose, subject, $"{body}\n\nAnswer here: {link.Placeholder}", Links: [link.Placeholder], Sign: [link]);
    }

    public static OutboundMessage Request(string reference, State s, Instant linkExpires) =>
        ToProvider(s, "request", $"{reference}: quality concern – please respond by {Local(s.DueAt)}",
            $"The council has a quality concern about the service {s.ProviderName} provides, and asks you to investigate it.\n\n{s.Concern}\n\n" +
            $"Please reply in writing by {Local(s.DueAt)} ({s.WorkingDays} working days, B 15.2): say what you investigated, whether you found an issue, " +
            "and if so the actions you have taken and their timescales.", RespondAction, linkExpires);

    public static OutboundMessage ResponseReceived(string reference, State s, string qaMailbox, Respond r, bool late) =>
        Email(qaMailbox, "response-received", $"{reference}: provider response received{(late ? " (late)" : "")}",
            $"{s.ProviderName} has responded to quality concern {reference}{(late ? $" after its deadline of {Local(s.DueAt)}" : "")}.\n\n" +
            $"Investigation:\n{r.Investigation.Trim()}\n\nIssue found: {(r.IssueFound ? "yes" : "no")}\n" +
            (r.IssueFound ? $"\nActions and timescales:\n{r.Actions!.Trim()}\n" : "") + "\nPlease record the council's decision (B 15.3).");

    public static OutboundMessage ActionPlanReceived(string reference, State s, string qaMailbox, SubmitActionPlan p, bool late) =>
        Email(qaMailbox, "action-plan-received", $"{reference}: action plan received{(late ? " (late)" : "")}",
            $"{s.ProviderName} has sent the action plan for quality concern {reference}.\n\n{p.Plan.Trim()}\n\nPlease record the council's decision (B 15.3).");

    /// <summary>Those told it was overdue hear that the answer came (the QA lead only if it had gone that far).</summary>
    public static IEnumerable<OutboundMessage> OverdueAnswered(string reference, State s, Contacts contacts, string what)
    {
        yield return Email(contacts.Email("contract-compliance"), "overdue-answered", $"{reference}: overdue {what} now received",
            $"The overdue {what} to quality concern {reference} from {s.ProviderName} has been received.");
        if (s.Escalation > 1)
            yield return Email(contacts.Email("qa-lead"), "overdue-answered", $"{reference}: overdue {what} now received",
                $"The overdue {what} to quality concern {reference} from {s.ProviderName} has been received.");
    }

    public static OutboundMessage DueDateChanged(string reference, State s, Instant previous, string reason, Instant linkExpires) =>
        ToProvider(s, "due-date-changed", $"{reference}: new due date {Local(s.DueAt)}",
            $"The council has changed the date your {s.What} for quality concern {reference} is due: " +
            $"it is now due by {Local(s.DueAt)} (was {Local(previous)}).\nReason: {reason}", s.Action, linkExpires);

    public static OutboundMessage Reminder(string reference, State s, Instant linkExpires) =>
        ToProvider(s, "reminder", $"{reference}: {s.What} due by {Local(s.DueAt)}",
            $"Reminder: your {s.What} for quality concern {reference} is due by {Local(s.DueAt)}.", s.Action, linkExpires);

    public static OutboundMessage OverdueToCompliance(string reference, State s, string to) =>
        Email(to, "overdue-escalation", $"{reference}: {s.What} overdue from {s.ProviderName}",
            $"{s.ProviderName} has not sent the {s.What} to quality concern {reference}; it was due by {Local(s.DueAt)} (B 15.2).\n\nConcern: {s.Concern}");

    public static OutboundMessage OverdueToProvider(string reference, State s, Instant linkExpires) =>
        ToProvider(s, "overdue", $"{reference}: {s.What} overdue",
            $"Your {s.What} to quality concern {reference} was due by {Local(s.DueAt)} and has not been received. " +
            "The council's contract compliance manager has been told. Please send it now.", s.Action, linkExpires);

    public static OutboundMessage OverdueToQaLead(string reference, State s, string to) =>
        Email(to, "overdue-qa-lead", $"{reference}: {s.What} still overdue from {s.ProviderName}",
            $"{s.ProviderName} has still not sent the {s.What} to quality concern {reference}, due by {Local(s.DueAt)}. " +
            $"The contract compliance manager was told when it became overdue.\n\nConcern: {s.Concern}");

    private static string Summary(State s) =>
        $"Concern: {s.Concern}\n\nProvider's investigation: {s.Investigation}\nIssue found: {(s.IssueFound == true ? "yes" : "no")}" +
        (s.Actions is { } a ? $"\nActions: {a}" : "") + (s.ActionPlan is { } p ? $"\nAction plan: {p}" : "");

    public static OutboundMessage DefaultNotice(string reference, State s, string to, string reason) =>
        Email(to, "default-notice", $"{reference}: serve a default notice on {s.ProviderName}",
            $"The Quality Assurance team decided that the outcome of quality concern {reference} is a default or breach of contract (B 15.4). " +
            $"Please serve notice under the contract.\nReason: {reason}\n\n{Summary(s)}");

    public static OutboundMessage SafeguardingReferral(string reference, State s, string to, string reason) =>
        Email(to, "safeguarding-referral", $"{reference}: safeguarding referral from a quality concern",
            $"The Quality Assurance team refers quality concern {reference} ({s.ProviderName}) under the council's safeguarding procedures (B 15.4).\nReason: {reason}\n\n{Summary(s)}");

    /// <summary>The decision to the provider: closed, or a detailed action plan wanted by a date (with the link to send it).</summary>
    public static OutboundMessage Decision(string reference, State decided, IReadOnlyList<ConcernOutcome> outcomes, string reason, int planDays, Instant? planLinkExpires)
    {
        var body = outcomes switch
        {
            [ConcernOutcome.Accepted] => $"The council has accepted your {(decided.ActionPlan is null ? "response" : "action plan")} to quality concern {reference}. It is now closed.",
            _ => $"The council has decided on quality concern {reference}: {string.Join(", ", outcomes.Select(QualityConcernRules.Label))}.\nReason: {reason}",
        };
        if (decided.Stage == ConcernStage.AwaitingActionPlan)
            return ToProvider(decided, "decision", $"{reference}: detailed action plan required by {Local(decided.DueAt)}",
                body + $"\n\nPlease send a detailed action plan by {Local(decided.DueAt)} ({planDays} working days, B 15.3).", ActionPlanAction, planLinkExpires!.Value);
        return Email(decided.ProviderEmail, "decision", $"{reference}: council decision on the quality concern", body);
    }

    /// <summary>A message could not be delivered: the QA mailbox is asked to reach the provider another way.</summary>
    public static OutboundMessage DeliveryFailed(string reference, string qaMailbox, MessageResult failed) =>
        Email(qaMailbox, "delivery-failed", $"{reference}: a message could not be delivered",
            $"The {failed.Purpose} message for quality concern {reference} to {failed.To} could not be delivered ({failed.Error}). Please contact the provider another way.");
}
