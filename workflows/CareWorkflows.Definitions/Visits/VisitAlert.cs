using NodaTime;

namespace CareWorkflows.Definitions.Visits;

/// <summary>What the provider's electronic call monitoring reports about a planned visit (B 21.2). Numbered: values are published.</summary>
public enum MonitoringKind
{
    /// <summary>Not started within 30 minutes of the planned start (B 21.2).</summary>
    Late = 1,
    Missed = 2,
    /// <summary>Made, but shorter than planned (B 21.2 exception reports).</summary>
    Short = 3,
    /// <summary>A carer logged the call as started: someone is with the person.</summary>
    Started = 4,
    Completed = 5,
}

/// <summary>What the provider's alert desk records, each with its time (B 22.1–22.7, X 10.6, B 7.27).</summary>
public enum VisitStep
{
    /// <summary>The person was contacted and reassured that the carer will come (B 22.2).</summary>
    Reassured = 1,
    /// <summary>The carer was contacted (B 22.3).</summary>
    CarerContacted = 2,
    /// <summary>A replacement carer was sent (B 22.4); the carer's name is recorded.</summary>
    ReplacementSent = 3,
    /// <summary>The person was told a replacement is coming, and the carer's name (B 22.5).</summary>
    ReplacementTold = 4,
    /// <summary>The person could not be contacted (B 22.6): the council is told at once.</summary>
    PersonUnreachable = 5,
    /// <summary>The next of kin was told the person could not be contacted (B 22.6).</summary>
    NextOfKinTold = 6,
    /// <summary>The person was told the call is delayed by an hour or more (X 10.6).</summary>
    DelayTold = 7,
}

/// <summary>Where an alert is. Numbered: values are published.</summary>
public enum AlertStage { None = 0, Open = 1, Ended = 2 }

/// <summary>How the visit ended.</summary>
public enum VisitEnding
{
    /// <summary>Monitoring reported the call started.</summary>
    CallStarted = 1,
    CallCompleted = 2,
    /// <summary>Cancelled, confirmed with the person or next of kin by a senior member of staff (B 7.27).</summary>
    Cancelled = 3,
    /// <summary>The carer got no reply at the door: the no-reply procedure took over (B App E).</summary>
    NoReply = 4,
    /// <summary>A short call's reason was recorded (nothing more to chase).</summary>
    ShortCallExplained = 5,
}

/// <summary>Who confirmed a cancellation was wanted (B 7.27).</summary>
public enum ConfirmedWith { Person = 1, NextOfKin = 2 }

/// <summary>
/// Late or missed visit (B 21.2, 22.1–22.7, X 10.6, B 7.27): the public names — type, orchestration and version, roles,
/// policy keys with their defaults, inputs, answers and the state it publishes. Used by the orchestration, the API, the
/// pages and the call-monitoring intake alike.
/// </summary>
public static class VisitAlert
{
    /// <summary>Type name and reference prefix (VA-7K3QX).</summary>
    public const string Type = "VA";
    public const string Orchestration = "VisitAlert";
    public const string Version = "1";

    /// <summary>Council staff who may read alerts (the provider sees its own).</summary>
    public static readonly string[] CouncilRoles = [Roles.CareManager, Roles.SeniorCareManager, Roles.SafeguardingLead, Roles.QualityAssurance, Roles.Brokerage, Roles.Admin];

    /// <summary>Policy settings (section "Policy") and their defaults (the clauses').</summary>
    public static class Policy
    {
        /// <summary>Nothing recorded this long after the alert: the provider's manager is told.</summary>
        public const string ManagerAfter = "VisitAlerts:ManagerAfter";
        /// <summary>No carer on site this long after the alert: the council (and the safeguarding lead if the person was not contacted).</summary>
        public const string CouncilAfter = "VisitAlerts:CouncilAfter";
        /// <summary>A call this late against its planned start: the provider is prompted to tell the person (X 10.6).</summary>
        public const string TellPersonAfterDelay = "VisitAlerts:TellPersonAfterDelay";
        /// <summary>A replacement is due within this of the alert (B 22.4), for the record and the KPI.</summary>
        public const string ReplacementWithin = "VisitAlerts:ReplacementWithin";
        /// <summary>The alert's time may be this far before it reaches us (a queue's delay) and no more.</summary>
        public const string MaxAlertAge = "VisitAlerts:MaxAlertAge";

        public static readonly Duration DefaultManagerAfter = Duration.FromMinutes(15);
        public static readonly Duration DefaultCouncilAfter = Duration.FromHours(1);      // B 22.4: a replacement within the hour
        public static readonly Duration DefaultTellPersonAfterDelay = Duration.FromHours(1); // X 10.6
        public static readonly Duration DefaultReplacementWithin = Duration.FromHours(1);   // B 22.4
        public static readonly Duration DefaultMaxAlertAge = Duration.FromHours(12);
    }

    // Deadline names (published with the instance).
    public const string ManagerDeadline = "manager", CouncilDeadline = "council", DelayDeadline = "tell-person-of-delay";

    // Answers the provider's alert desk gives (page, API, SMS/email reply: "REASSURED VA-7K3QX").
    public const string ReassuredAction = "reassured", CarerAction = "carer-contacted", ReplacementAction = "replacement",
        ReplacementToldAction = "replacement-told", UnreachableAction = "unreachable", KinToldAction = "kin-told",
        DelayToldAction = "delay-told", CancelAction = "cancel", NoReplyAction = "noreply";

    public static string ActionOf(VisitStep step) => step switch
    {
        VisitStep.Reassured => ReassuredAction,
        VisitStep.CarerContacted => CarerAction,
        VisitStep.ReplacementSent => ReplacementAction,
        VisitStep.ReplacementTold => ReplacementToldAction,
        VisitStep.PersonUnreachable => UnreachableAction,
        VisitStep.NextOfKinTold => KinToldAction,
        _ => DelayToldAction,
    };

    /// <summary>The alert as call monitoring sent it, with the provider from the directory. The person by the council's id only.</summary>
    public sealed record Raise(string AlertId, string SystemId, string ProviderId, string ProviderName, string ProviderEmail, string ProviderMobile,
        string VisitId, string PersonId, Instant PlannedStart, MonitoringKind Kind, Instant ReportedAt) : WorkflowInput;

    /// <summary>A later report from call monitoring on the same visit (another alert, or the call started or completed).</summary>
    public sealed record Monitoring(string AlertId, MonitoringKind Kind, Instant ReportedAt) : WorkflowInput;

    /// <summary>
    /// A step the alert desk recorded. <see cref="At"/> is when it happened (an instant); a reply or page may give only a
    /// UK time of day (<see cref="AtLocal"/>), read as the latest such time not after now; neither means now.
    /// </summary>
    public sealed record RecordStep(VisitStep Step, Instant? At, LocalTime? AtLocal, string? CarerName, string? Note) : WorkflowInput;

    /// <summary>A cancellation, confirmed with the person or next of kin by a senior member of staff (B 7.27).</summary>
    public sealed record RecordCancellation(ConfirmedWith ConfirmedWith, string ConfirmedBy, Instant? At, LocalTime? AtLocal, string? Note) : WorkflowInput;

    /// <summary>The carer got no reply at the door: the no-reply procedure starts (B App E).</summary>
    public sealed record ReportNoReply(Instant? At, LocalTime? AtLocal, string? Note) : WorkflowInput;

    public static readonly InputTypes Inputs = new(typeof(Monitoring), typeof(RecordStep), typeof(RecordCancellation), typeof(ReportNoReply));

    /// <summary>One recorded action, with when it happened and when it was recorded (B 22.7).</summary>
    public sealed record StepRecord(VisitStep Step, Instant At, Instant RecordedAt, string By, string Via, string? CarerName, string? Note);

    /// <summary>One report from call monitoring.</summary>
    public sealed record MonitoringRecord(string AlertId, MonitoringKind Kind, Instant ReportedAt, Instant ReceivedAt);

    /// <summary>The alert as it stands: published with every step (the API's checks, the pages and the KPIs read it).</summary>
    public sealed record State(
        AlertStage Stage,
        string ProviderId,
        string ProviderName,
        string ProviderEmail,
        string ProviderMobile,
        string SystemId,
        string VisitId,
        string PersonId,
        Instant PlannedStart,
        MonitoringKind Kind,
        Instant AlertedAt,
        IReadOnlyList<MonitoringRecord> Reports,
        IReadOnlyList<StepRecord> Steps,
        Instant? CarerOnSiteAt,
        Instant? ManagerToldAt,
        Instant? CouncilToldAt,
        IReadOnlyList<CouncilContact> CouncilTold,
        Instant? SafeguardingToldAt,
        Instant? DelayPromptAt,
        VisitEnding? Ending,
        Instant? EndedAt,
        string? Cancellation,
        string? NoReplyReference)
    {
        public bool Has(VisitStep step) => Steps.Any(x => x.Step == step);
        public StepRecord? First(VisitStep step) => Steps.Where(x => x.Step == step).OrderBy(x => x.At).FirstOrDefault();
        /// <summary>Someone is with the person: the call started (or was made, for a short call).</summary>
        public bool CarerOnSite => CarerOnSiteAt is not null;
        /// <summary>Missed, as call monitoring last said.</summary>
        public bool Missed => Kind == MonitoringKind.Missed || Reports.Any(r => r.Kind == MonitoringKind.Missed);
        public string? ReplacementCarer => Steps.LastOrDefault(x => x.Step == VisitStep.ReplacementSent)?.CarerName;
    }
}
