using System.Collections.Immutable;
using NodaTime;

namespace CareWorkflows.Definitions.Incidents;

/// <summary>The kinds of serious incident a provider must report (B 12.3), plus welfare concerns (B 10.5). Numbered: values are published.</summary>
public enum IncidentCategory
{
    SeriousCrimeOrViolence = 1,
    SeriousThreat = 2,
    UnexpectedDeathOrSeriousInjury = 3,
    EmergencyHospitalAdmission = 4,
    SafeguardingAlert = 5,
    ServiceDeliveryCompromised = 6,
    WelfareConcern = 7,
}

/// <summary>Where the council sends an incident it does not close (B 12.5).</summary>
public enum IncidentEscalationRoute
{
    /// <summary>A safeguarding enquiry under section 42 of the Care Act 2014.</summary>
    SafeguardingEnquiry = 1,
    Cqc = 2,
    ContractReview = 3,
}

/// <summary>Where an incident is. Numbered: values are published.</summary>
public enum IncidentPhase { None = 0, AwaitingFullReport = 1, Open = 2, Closed = 3, Escalated = 4 }

/// <summary>
/// Serious incident (B 12, B 10.5, X 13.3, B App C §5): the public names — type, orchestration name and version, roles,
/// policy keys with their defaults, deadline names, inputs and the state it publishes. Used by the orchestration, the
/// API, the pages and authorisation alike.
/// </summary>
public static class SeriousIncident
{
    /// <summary>Type name and reference prefix (SI-7K3QX).</summary>
    public const string Type = "SI";
    public const string Orchestration = "SeriousIncident";
    public const string Version = "1";

    /// <summary>Council staff who may close or escalate an incident (B 12.5).</summary>
    public static readonly string[] CouncilDeciders = [Roles.SafeguardingLead, Roles.QualityAssurance, Roles.SeniorCareManager, Roles.Admin];

    /// <summary>Policy settings (section "Policy") and their defaults. Hour windows are elapsed time; the update cadence is in working days.</summary>
    public static class Policy
    {
        public const string InitialReportWindow = "Incidents:InitialReportWindow";        // B 12.4: 12 hours of it occurring
        public const string FullReportWindow = "Incidents:FullReportWindow";              // B 12.5: 48 hours of it occurring
        public const string FullReportReminderBefore = "Incidents:FullReportReminderBefore";
        public const string OverdueRepeat = "Incidents:OverdueRepeat";
        public const string UpdateWorkingDays = "Incidents:UpdateWorkingDays";            // B 12.5: regular status updates
        public const string MaxAgeAtReport = "Incidents:MaxAgeAtReport";

        public static readonly Duration DefaultInitialReportWindow = Duration.FromHours(12);
        public static readonly Duration DefaultFullReportWindow = Duration.FromHours(48);
        public static readonly Duration DefaultFullReportReminderBefore = Duration.FromHours(12);
        public static readonly Duration DefaultOverdueRepeat = Duration.FromHours(24);
        public const int DefaultUpdateWorkingDays = 5;
        /// <summary>B 12.4 expects the report within 12 hours: an incident a year or more back (0001-01-01, 1900) is a typing error.</summary>
        public static readonly Duration DefaultMaxAgeAtReport = Duration.FromDays(365);
    }

    /// <summary>App C 5.2 counts reports made within 12 hours of the provider becoming aware (the KPI; not a setting).</summary>
    public static readonly Duration AwarenessKpiWindow = Duration.FromHours(12);

    /// <summary>Clock skew tolerated on "occurred at" and "became aware at" before calling them future times.</summary>
    public static readonly Duration Skew = Duration.FromMinutes(5);

    /// <summary>How long a signed link stays valid after the date it asks for.</summary>
    public static readonly Duration LinkValidAfterDue = Duration.FromDays(14);

    // Deadline names (published with the instance, so operators and tests see what is due).
    public const string FullReportReminderDeadline = "full-report-reminder", FullReportOverdueDeadline = "full-report-overdue", UpdateDueDeadline = "update-due";
    /// <summary>The update cadence waiting for bank-holiday data (looked for again every few minutes; operators see it held).</summary>
    public const string UpdateScheduleDeadline = "update-schedule";

    // Answers the provider gives by signed link or reply.
    public const string FullReportAction = "full-report", UpdateAction = "update";

    /// <summary>The integration fact published each time the incident is escalated (occurrence 1, 2, …).</summary>
    public const string EscalatedFact = "incident.escalated";

    /// <summary>The initial report, with what B 12.4 asks for. The provider is the reporting user's own.</summary>
    public sealed record Report(
        IncidentCategory Category,
        Instant OccurredAt,
        Instant BecameAwareAt,
        string Description,
        string Parties,
        bool EmergencyServicesInvolved,
        string? EmergencyServicesDetail,
        string ImmediateAction,
        string FurtherAction,
        string ServiceUserGroup,
        string ServiceUserId,
        string? ServiceUserName,
        string ProviderId,
        string ProviderName,
        string ContactEmail) : WorkflowInput;

    public sealed record SubmitFullReport(string Details, string ActionsTaken, string? LessonsLearned) : WorkflowInput;
    public sealed record SubmitUpdate(string Text) : WorkflowInput;
    public sealed record Close(string Reason) : WorkflowInput;
    public sealed record Escalate(IReadOnlyList<IncidentEscalationRoute> Routes, string Reason) : WorkflowInput;

    public static readonly InputTypes Inputs = new(typeof(SubmitFullReport), typeof(SubmitUpdate), typeof(Close), typeof(Escalate));

    /// <summary>The incident as it stands: published with every step (the API's checks, the pages and the KPIs read it).</summary>
    public sealed record State(
        IncidentPhase Phase,
        Report Report,
        Instant ReportedAt,
        bool ReportedLate,
        bool ReportedWithinTwelveHoursOfAwareness,
        Instant FullReportDueAt,
        Instant? FullReportReceivedAt,
        bool FullReportLate,
        int FullReportEscalations,
        Instant? NextUpdateDueAt,
        int UpdatesReceived,
        int UpdatesMissed,
        string? OutcomeReason,
        ImmutableList<IncidentEscalationRoute> EscalatedTo)
    {
        public bool Ended => Phase is IncidentPhase.Closed or IncidentPhase.Escalated;
    }
}
