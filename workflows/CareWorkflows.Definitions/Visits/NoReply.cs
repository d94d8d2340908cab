using NodaTime;

namespace CareWorkflows.Definitions.Visits;

/// <summary>The checks a carer and the office make when no one answers the door (B Appendix E 1.1–1.5, 3.1–3.5).</summary>
public enum DoorCheck { Letterbox = 1, Windows = 2, BackDoor = 3, Neighbours = 4, Warden = 5, NextOfKin = 6, Hospitals = 7 }

/// <summary>How a no-reply ended (B Appendix E, "No Reply Emergency"). Numbered: values are published.</summary>
public enum NoReplyOutcome
{
    FoundSafe = 1,
    /// <summary>Found, with cause for concern: the ambulance service was called (App E emergency 2.2).</summary>
    FoundEmergencyServicesCalled = 2,
    /// <summary>The hospitals' check found the person admitted (App E 3.5).</summary>
    AdmittedToHospital = 3,
    /// <summary>Not located after every check: the safeguarding lead is told at once.</summary>
    NotLocated = 4,
}

public enum NoReplyStage { None = 0, AwaitingOutcome = 1, Closed = 2 }

/// <summary>
/// No reply at the door (B Appendix E; X 21.3): the public names — type, orchestration and version, policy keys with
/// their defaults, inputs, answers and the state it publishes.
/// </summary>
public static class NoReply
{
    /// <summary>Type name and reference prefix (NR-7K3QX).</summary>
    public const string Type = "NR";
    public const string Orchestration = "NoReply";
    public const string Version = "1";

    /// <summary>Policy settings (section "Policy") and their defaults.</summary>
    public static class Policy
    {
        /// <summary>No outcome recorded this long after the report: the safeguarding lead is told.</summary>
        public const string OutcomeWithin = "NoReply:OutcomeWithin";
        public static readonly Duration DefaultOutcomeWithin = Duration.FromHours(1);
    }

    /// <summary>Contact key (section "Contacts") of the care manager's mailbox the no-reply is emailed to (App E: AEIS).</summary>
    public const string CareManagerContact = "care-manager";
    public const string SafeguardingContact = "safeguarding-lead";

    public const string OutcomeDeadline = "outcome-overdue";

    // Answers the provider gives (page, API, reply "OUTCOME NR-7K3QX safe").
    public const string ChecksAction = "checks", OutcomeAction = "outcome";

    /// <summary>
    /// The carer or office reports no reply for a visit (B App E 2; 7.24). The person by the council's id only. A report
    /// from a visit alert names it (<see cref="AlertReference"/>). <see cref="At"/>/<see cref="AtLocal"/>: when the carer
    /// found no reply (default: now).
    /// </summary>
    public sealed record Report(string ProviderId, string ProviderName, string ProviderEmail, string ProviderMobile, string VisitId, string PersonId,
        string? AlertReference, Instant? At, LocalTime? AtLocal, string? Note) : WorkflowInput;

    public sealed record RecordChecks(IReadOnlyList<DoorCheck> Checks, string? Note) : WorkflowInput;

    public sealed record RecordOutcome(NoReplyOutcome Outcome, IReadOnlyList<DoorCheck>? Checks, Instant? At, LocalTime? AtLocal, string? Note) : WorkflowInput;

    public static readonly InputTypes Inputs = new(typeof(RecordChecks), typeof(RecordOutcome));

    public sealed record CheckRecord(DoorCheck Check, Instant RecordedAt, string By);

    /// <summary>The no-reply as it stands: published with every step.</summary>
    public sealed record State(
        NoReplyStage Stage,
        string ProviderId,
        string ProviderName,
        string ProviderEmail,
        string ProviderMobile,
        string VisitId,
        string PersonId,
        string? AlertReference,
        Instant OccurredAt,
        Instant ReportedAt,
        IReadOnlyList<CouncilContact> CouncilTold,
        string CouncilRoute,
        IReadOnlyList<CheckRecord> Checks,
        IReadOnlyList<string> Notes,
        NoReplyOutcome? Outcome,
        Instant? OutcomeAt,
        Instant? OutcomeRecordedAt,
        Instant? SafeguardingToldAt,
        string? SafeguardingWhy);
}
