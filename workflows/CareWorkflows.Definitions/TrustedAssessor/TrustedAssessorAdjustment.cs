using NodaTime;

namespace CareWorkflows.Definitions.TrustedAssessor;

/// <summary>Where an adjustment is. Numbered: values are published.</summary>
public enum AdjustmentStage
{
    /// <summary>Proposed, not yet linked to its package (the first moments of an instance).</summary>
    New = 0,
    AwaitingApproval = 1,
    AwaitingSignOff = 2,
    ConcernRaised = 3,
    AwaitingReinstatement = 4,
    PausedPendingReview = 5,
    SignedOff = 6,
    Rejected = 7,
    Reversed = 8,
}

/// <summary>
/// Trusted-assessor adjustment and sign-off (B 4.2.7–4.2.9, B 9.8, App G, App N): the public names — type,
/// orchestration name and version, roles, the council's people, policy keys with their defaults, deadline names,
/// answers, inputs and the state it publishes. Used by the orchestration, the API, the pages and authorisation alike.
/// </summary>
public static class TrustedAssessorAdjustment
{
    /// <summary>Type name and reference prefix (TA-7K3QX).</summary>
    public const string Type = "TA";
    public const string Orchestration = "TrustedAssessorAdjustment";
    public const string Version = "1";

    /// <summary>Council people who answer only by signed link; they have no app role of their own.</summary>
    public const string OccupationalTherapistRole = "OccupationalTherapist";
    public const string MovingAndHandlingAssessorRole = "MovingAndHandlingAssessor";

    /// <summary>Who may approve or reject a change outside parameters, and record a review's outcome (G.7, G.10 §5).</summary>
    public static readonly string[] CareManagementRoles = [Roles.CareManager, Roles.SeniorCareManager];

    /// <summary>Recipient ids of the council's people in asks and links; their mailboxes are Contacts with the same key.</summary>
    public static class People
    {
        public const string SeniorCareManager = "senior-care-manager";
        public const string MovingAndHandling = "moving-and-handling";
        public const string CareManager = "care-management";
        public const string OccupationalTherapist = "occupational-therapy";
        public const string TeamLead = "care-management-team-lead";
        public const string Finance = "finance";
    }

    /// <summary>Policy settings (section "Policy") and their defaults.</summary>
    public static class Policy
    {
        /// <summary>App G.6, G.10 §1.</summary>
        public const string MaxReductionPercent = "TA:MaxReductionPercent";
        /// <summary>App G.6, G.10 §1.</summary>
        public const string MaxIncreasePercent = "TA:MaxIncreasePercent";
        /// <summary>App G.6: the increase limit is for low-level packages.</summary>
        public const string IncreaseLowLevelOnly = "TA:IncreaseLowLevelOnly";
        /// <summary>No sign-off deadline is written in App G (DOMAIN.md): the council's own choice.</summary>
        public const string SignOffWorkingDays = "TA:SignOffWorkingDays";
        /// <summary>Window for care-manager / OT approval of an outside-parameter change.</summary>
        public const string ApprovalWorkingDays = "TA:ApprovalWorkingDays";
        /// <summary>Window for the provider to answer a concern.</summary>
        public const string ConcernResponseWorkingDays = "TA:ConcernResponseWorkingDays";
        /// <summary>Local hour on the last working day of a window when the reminder goes.</summary>
        public const string ReminderHour = "TA:ReminderHour";
        /// <summary>Elapsed time for the provider to confirm the original hours are back.</summary>
        public const string ReinstatementWindow = "TA:ReinstatementWindow";
        /// <summary>When the provider is reminded to confirm reinstatement (elapsed).</summary>
        public const string ReinstatementReminder = "TA:ReinstatementReminder";
        /// <summary>How many days before today an effective date may be.</summary>
        public const string MaxBackdatingDays = "TA:MaxBackdatingDays";
        /// <summary>How many days after today an effective date may be.</summary>
        public const string MaxDaysAhead = "TA:MaxDaysAhead";

        public const decimal DefaultMaxReductionPercent = 25m;
        public const decimal DefaultMaxIncreasePercent = 10m;
        public const bool DefaultIncreaseLowLevelOnly = true;
        public const int DefaultSignOffWorkingDays = 5;
        public const int DefaultApprovalWorkingDays = 5;
        public const int DefaultConcernResponseWorkingDays = 5;
        public const int DefaultReminderHour = 9;
        public static readonly Duration DefaultReinstatementWindow = Duration.FromHours(24);
        public static readonly Duration DefaultReinstatementReminder = Duration.FromHours(12);
        public const int DefaultMaxBackdatingDays = 7;
        public const int DefaultMaxDaysAhead = 90;
    }

    public const decimal MaxWeeklyHours = 168m;
    public const int MaxTextLength = 4000;
    /// <summary>A signed link works until this long after the deadline it answers.</summary>
    public static readonly Duration LinkValidAfterDue = Duration.FromDays(30);

    // Deadline names (published with the instance, so operators and tests see what is due). One window runs at a time.
    public const string SignOffWindow = "signoff", ApprovalWindow = "approval", ConcernWindow = "concern", ReinstatementWindow = "reinstatement";
    public static string ReminderOf(string window) => $"{window}-reminder";
    public static string EscalationOf(string window) => $"{window}-escalation";

    // Answers people give by signed link, reply or the instance page.
    public const string SignOffAction = "signoff", ConcernAction = "concern", PauseAction = "pause", RespondAction = "respond",
        ReinstatedAction = "reinstated", ApproveAction = "approve", RejectAction = "reject";

    /// <summary>The integration fact published when an adjustment is signed off or approved (App N: the payment changes).</summary>
    public const string ApprovedFact = "adjustment.approved";

    /// <summary>Activities that move the package's row in the registry (I/O, so never in the orchestration itself).</summary>
    public const string ClaimPackageActivity = "ClaimPackage", SetPackageHoursActivity = "SetPackageHours";

    /// <summary>
    /// Retries of a registry write: 2 s doubling to 5 min, 10 tries (about half an hour of a database being away); the
    /// people waiting on the answer get 202 meanwhile.
    /// </summary>
    public static Microsoft.DurableTask.TaskOptions RegistryRetry { get; } = new(new Microsoft.DurableTask.TaskRetryOptions(
        new Microsoft.DurableTask.RetryPolicy(10, TimeSpan.FromSeconds(2), 2.0, TimeSpan.FromMinutes(5))));

    // ---------------------------------------------------------------- inputs

    /// <summary>The assessor as the registry holds them (resolved by the API, never typed in by the provider).</summary>
    public sealed record RegisteredAssessor(string Id, string ProviderId, string Name, string Email, bool Qualified, bool Active);

    /// <summary>
    /// The package as the registry holds it when the proposal was checked, with the adjustment it was linked to then
    /// (<see cref="AdjustmentReference"/>): the orchestration takes the package only if both still hold.
    /// </summary>
    public sealed record RegisteredPackage(string Id, string ProviderId, decimal WeeklyHours, bool LowLevel, bool MovingAndHandling, string? AdjustmentReference = null);

    /// <summary>The start: a provider's trusted assessor proposes new weekly hours (the API resolves the registry facts).</summary>
    public sealed record ProposeAdjustment(
        RegisteredPackage Package,
        RegisteredAssessor Assessor,
        decimal CurrentWeeklyHours,
        decimal ProposedWeeklyHours,
        LocalDate EffectiveDate,
        bool PersonAgreed,
        string AgreedBy,
        string Goals,
        string Rationale,
        string Evidence,
        bool TouchesMovingAndHandling = false,
        bool NeedsOtReview = false) : WorkflowInput;

    public sealed record SignOff(string? Note) : WorkflowInput;
    public sealed record RaiseConcern(string Concern) : WorkflowInput;
    public sealed record RespondToConcern(string Response) : WorkflowInput;
    public sealed record PausePendingReview(string Reason) : WorkflowInput;
    public sealed record ConfirmReinstatement(string? Note) : WorkflowInput;
    public sealed record RecordReviewOutcome(bool Approve, string Reason) : WorkflowInput;
    public sealed record Approve(string? Reason) : WorkflowInput;
    public sealed record Reject(string Reason) : WorkflowInput;

    public static readonly InputTypes Inputs = new(typeof(SignOff), typeof(RaiseConcern), typeof(RespondToConcern), typeof(PausePendingReview),
        typeof(ConfirmReinstatement), typeof(RecordReviewOutcome), typeof(Approve), typeof(Reject));

    // ---------------------------------------------------------------- state

    /// <summary>
    /// The adjustment as it stands: published with every step (the API's checks, the pages and the KPIs read it). Hours
    /// are rounded to 2 dp; <see cref="HoursInEffect"/> is what the package's row shows. No personal data of the person.
    /// </summary>
    public sealed record State(
        AdjustmentStage Stage,
        string PackageId,
        string ProviderId,
        string AssessorId,
        string AssessorEmail,
        decimal OriginalHours,
        decimal ProposedHours,
        decimal HoursInEffect,
        decimal ChangePercent,
        LocalDate EffectiveDate,
        bool WithinParameters,
        bool NeedsMovingAndHandlingSignOff,
        bool NeedsOtApproval,
        bool SeniorSignedOff,
        bool MovingAndHandlingSignedOff,
        bool CareManagerApproved,
        bool OtApproved,
        Instant? Due,
        string? Outcome,
        IReadOnlyList<string> Concerns,
        Instant? FirstSignOffDue = null,
        Instant? SignedOffAt = null)
    {
        public bool Closed => Stage is AdjustmentStage.SignedOff or AdjustmentStage.Rejected or AdjustmentStage.Reversed;
    }
}
