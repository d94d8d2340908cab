using NodaTime;
using static CareWorkflows.Definitions.Incidents.SeriousIncident;
using static CareWorkflows.Definitions.Incidents.SeriousIncidentRules;

namespace CareWorkflows.Definitions.Incidents;

/// <summary>
/// What a serious incident says, and to whom (pure wording). Every recipient is an organisation's mailbox. Council emails
/// carry the facts with the service user by id only (B 12.4 content, minimum data per recipient); the provider's own
/// emails carry its signed links as placeholders, signed when sent.
/// </summary>
public static class SeriousIncidentMessages
{
    private static string Local(Instant i) => WorkflowContext.Local(i);

    private static OutboundMessage Email(string to, string purpose, string subject, string body) => new(MessageChannel.Email, to, purpose, subject, body);

    /// <summary>An email to the provider's contact with a signed link for <paramref name="action"/> on a line of its own.</summary>
    private static OutboundMessage ToProvider(State s, string purpose, string subject, Func<string, string> body, string action, Instant linkExpires)
    {
        var link = new LinkRequest(action, s.Report.ProviderId, action, linkExpires);
        return new(MessageChannel.Email, s.Report.ContactEmail, purpose, subject, body(link.Placeholder), Links: [link.Placeholder], Sign: [link]);
    }

    /// <summary>What council staff need to act (B 12.4). The service user appears by id only: names stay in the record.</summary>
    public static string Facts(Report r, string reference) =>
        $"Reference: {reference}\nProvider: {r.ProviderName}\nCategory: {Label(r.Category)}\n" +
        $"Occurred: {Local(r.OccurredAt)}\nProvider aware: {Local(r.BecameAwareAt)}\n" +
        $"Service user id: {r.ServiceUserId} ({r.ServiceUserGroup})\nEmergency services: {(r.EmergencyServicesInvolved ? "yes" : "no")}{(r.EmergencyServicesDetail is { Length: > 0 } esd ? $" – {esd}" : "")}\n" +
        $"What happened: {r.Description}\nParties: {r.Parties}\nImmediate action: {r.ImmediateAction}\nFurther action: {r.FurtherAction}";

    // ---------------------------------------------------------------- the initial report (B 12.2–12.4, B 10.5, X 13.3)

    public static OutboundMessage Reported(string reference, State s, string compliance) =>
        Email(compliance, "incident-reported", $"{reference}: serious incident reported ({Label(s.Report.Category)})", Facts(s.Report, reference));

    public static OutboundMessage SafeguardingAlert(string reference, State s, string safeguarding) =>
        Email(safeguarding, "safeguarding-alert", $"URGENT {reference}: safeguarding-type serious incident ({Label(s.Report.Category)})", Facts(s.Report, reference));

    public static OutboundMessage BrokerageNotice(string reference, State s, string brokerage) =>
        Email(brokerage, "brokerage-notice", $"{reference}: {Label(s.Report.Category)} reported by {s.Report.ProviderName}", Facts(s.Report, reference));

    public static OutboundMessage LateReport(string reference, State s, string to)
    {
        var after = Hours(s.ReportedAt - s.Report.OccurredAt);
        return Email(to, "late-report-escalation", $"{reference}: serious incident reported late ({after} after it occurred)",
            $"{s.Report.ProviderName} reported serious incident {reference} {after} after it occurred; the contract requires 12 hours (B 12.4).\n\n{Facts(s.Report, reference)}");
    }

    public static OutboundMessage Acknowledgement(string reference, State s) =>
        ToProvider(s, "acknowledgement", $"{reference}: serious incident report received", link =>
            $"Thank you: serious incident {reference} is recorded.\n\nPlease send the full serious-incident report by {Local(s.FullReportDueAt)} " +
            $"(48 hours after the incident, B 12.5):\n{link}\n\n" +
            "Please then send status updates until the council closes or escalates the incident." +
            (s.ReportedLate ? "\n\nThis initial report was made more than 12 hours after the incident and is recorded as late." : ""),
            FullReportAction, s.FullReportDueAt + LinkValidAfterDue);

    // ---------------------------------------------------------------- the full report (B 12.5)

    public static OutboundMessage FullReportReminder(string reference, State s) =>
        ToProvider(s, "full-report-reminder", $"{reference}: full serious-incident report due by {Local(s.FullReportDueAt)}", link =>
            $"Reminder: the full report for serious incident {reference} is due by {Local(s.FullReportDueAt)} (B 12.5).\n{link}",
            FullReportAction, s.FullReportDueAt + LinkValidAfterDue);

    public static OutboundMessage FullReportOverdue(string reference, State s, string to) =>
        Email(to, "full-report-overdue", $"{reference}: full serious-incident report overdue{(s.FullReportEscalations > 1 ? $" (reminder {s.FullReportEscalations})" : "")}",
            $"{s.Report.ProviderName} has not sent the full report for serious incident {reference}. It was due by {Local(s.FullReportDueAt)} (B 12.5).\n\n{Facts(s.Report, reference)}");

    public static OutboundMessage FullReportChaser(string reference, State s, Instant now) =>
        ToProvider(s, "full-report-chaser", $"{reference}: full serious-incident report overdue", link =>
            $"The full report for serious incident {reference} was due by {Local(s.FullReportDueAt)} and has not been received. " +
            $"The council's safeguarding lead and contract compliance team have been told. Please send it now:\n{link}",
            FullReportAction, now + LinkValidAfterDue);

    public static OutboundMessage FullReportReceived(string reference, State s, string compliance, SubmitFullReport f) =>
        Email(compliance, "full-report-received", $"{reference}: full serious-incident report received{(s.FullReportLate ? " (late)" : "")}",
            $"{s.Report.ProviderName} sent the full report for {reference}{(s.FullReportLate ? $", after its deadline of {Local(s.FullReportDueAt)}" : "")}. " +
            $"Please review it and close or escalate the incident.\n\nDetails:\n{f.Details.Trim()}\n\nActions taken:\n{f.ActionsTaken.Trim()}");

    /// <summary>The safeguarding lead, told it was overdue, hears that it came.</summary>
    public static OutboundMessage OverdueFullReportReceived(string reference, string safeguarding) =>
        Email(safeguarding, "full-report-received", $"{reference}: overdue full report now received",
            $"The overdue full report for {reference} has been received. Escalations for it have stopped.");

    // ---------------------------------------------------------------- status updates (B 12.5)

    public static OutboundMessage UpdateRequest(string reference, State s, Instant next) =>
        ToProvider(s, "update-request", $"{reference}: next status update due by {Local(next)}", link =>
            $"Please send the next status update on serious incident {reference} by {Local(next)}:\n{link}",
            UpdateAction, next + LinkValidAfterDue);

    public static OutboundMessage UpdateMissed(string reference, State s, string to, Instant missedDue) =>
        Email(to, "update-missed", $"{reference}: serious-incident status update missed",
            $"{s.Report.ProviderName} has not sent a status update on serious incident {reference}; one was due by {Local(missedDue)} (B 12.5).");

    /// <summary>The provider is asked again after a missed update; <paramref name="next"/> is null while the cadence waits for calendar data.</summary>
    public static OutboundMessage UpdateOverdue(string reference, State s, Instant missedDue, Instant? next, Instant now) =>
        ToProvider(s, "update-request", $"{reference}: status update overdue", link =>
            $"A status update on serious incident {reference} was due by {Local(missedDue)}. Please send one now" +
            (next is { } n ? $"; the next is due by {Local(n)}" : "") + $":\n{link}",
            UpdateAction, (next ?? now) + LinkValidAfterDue);

    // ---------------------------------------------------------------- the council's decision (B 12.5)

    public static OutboundMessage Closed(string reference, State s, string reason) =>
        Email(s.Report.ContactEmail, "closed", $"{reference}: serious incident closed",
            $"The council has closed serious incident {reference}: {reason}\nNo further updates are needed.");

    public static OutboundMessage Escalation(string reference, State s, IncidentEscalationRoute route, Contacts contacts, string reason)
    {
        var (to, what) = route switch
        {
            IncidentEscalationRoute.SafeguardingEnquiry => (contacts.Email("safeguarding-lead"), "a safeguarding enquiry (Care Act 2014 s42)"),
            IncidentEscalationRoute.Cqc => (contacts.Email("cqc-liaison"), "notification to the Care Quality Commission"),
            _ => (contacts.Email("contract-compliance"), "a contract review"),
        };
        return Email(to, $"escalation-{route.ToString().ToLowerInvariant()}", $"{reference}: serious incident escalated for {what}",
            $"Serious incident {reference} ({s.Report.ProviderName}) is escalated for {what}.\nReason: {reason}\n\n{Facts(s.Report, reference)}");
    }

    public static OutboundMessage Escalated(string reference, State s, IReadOnlyList<IncidentEscalationRoute> routes) =>
        Email(s.Report.ContactEmail, "escalated", $"{reference}: serious incident escalated",
            $"The council has escalated serious incident {reference} ({string.Join(", ", routes.Select(RouteLabel))}). The council team will contact you about next steps.");

    /// <summary>A message could not be delivered: contract compliance is asked to reach the recipient another way.</summary>
    public static OutboundMessage DeliveryFailed(string reference, string compliance, MessageResult failed) =>
        Email(compliance, "delivery-failed", $"{reference}: a message could not be delivered",
            $"The {failed.Purpose} message for serious incident {reference} to {failed.To} could not be delivered ({failed.Error}). Please contact the recipient another way.");
}
