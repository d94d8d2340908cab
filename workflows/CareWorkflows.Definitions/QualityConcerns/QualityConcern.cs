using NodaTime;

namespace CareWorkflows.Definitions.QualityConcerns;

/// <summary>What the council decides on a provider's response (B 15.3–15.4).</summary>
public enum ConcernOutcome
{
    Accepted = 1,
    ActionPlanRequired = 2,
    DefaultNotice = 3,
    SafeguardingReferral = 4,
}

/// <summary>Where a concern is. Numbered: values are published.</summary>
public enum ConcernStage { None = 0, AwaitingResponse = 1, AwaitingDecision = 2, AwaitingActionPlan = 3, Closed = 4 }

/// <summary>
/// Quality concern (B 15): the public names — type, orchestration name and version, roles, policy keys with their
/// defaults, inputs and the state it publishes. Used by the orchestration, the API, the pages and authorisation alike.
/// </summary>
public static class QualityConcern
{
    /// <summary>Type name and reference prefix (QC-7K3QX).</summary>
    public const string Type = "QC";
    public const string Orchestration = "QualityConcern";
    public const string Version = "1";

    public static readonly string[] CouncilRoles = [Roles.QualityAssurance, Roles.Admin];

    /// <summary>Policy settings (section "Policy") and their defaults.</summary>
    public static class Policy
    {
        public const string ResponseWorkingDays = "QualityConcerns:ResponseWorkingDays";            // B 15.2: 7 working days
        public const string ActionPlanWorkingDays = "QualityConcerns:ActionPlanWorkingDays";        // detailed action plan (B 15.3)
        public const string ReminderWorkingDaysBefore = "QualityConcerns:ReminderWorkingDaysBefore";
        public const string ReminderTimeOfDay = "QualityConcerns:ReminderTimeOfDay";
        public const string QaLeadAfterWorkingDays = "QualityConcerns:QaLeadAfterWorkingDays";
        public const string LinkValidAfterDue = "QualityConcerns:LinkValidAfterDue";

        public const int DefaultResponseWorkingDays = 7;
        public const int DefaultActionPlanWorkingDays = 10;
        public const int DefaultReminderWorkingDaysBefore = 2;
        public const int DefaultQaLeadAfterWorkingDays = 1;
        public static readonly Duration DefaultReminderTimeOfDay = Duration.FromHours(9);
        public static readonly Duration DefaultLinkValidAfterDue = Duration.FromDays(30);
    }

    public const int MaxWorkingDays = 60;
    /// <summary>A new due date given as a date may be at most this many days ahead (B 15.2 lets the council extend, not indefinitely).</summary>
    public const int MaxDueDateDaysAhead = 365;

    // Deadline names (published with the instance, so operators and tests see what is due).
    public const string ReminderDeadline = "reminder", OverdueDeadline = "overdue", QaLeadDeadline = "overdue-qa-lead";

    // Answers a provider gives by signed link or reply.
    public const string RespondAction = "respond", ActionPlanAction = "action-plan";

    /// <summary>The council raises a concern with a provider (the API resolves the provider from the directory).</summary>
    public sealed record Raise(string ProviderId, string ProviderName, string ProviderEmail, string Concern, int? ResponseWorkingDays) : WorkflowInput;
    public sealed record Respond(string Investigation, bool IssueFound, string? Actions) : WorkflowInput;
    public sealed record SubmitActionPlan(string Plan) : WorkflowInput;
    /// <summary>Moves the deadline: N working days from when the request was sent, or the end of a given working day (B 15.2).</summary>
    public sealed record ChangeDueDate(int? WorkingDays, LocalDate? DueDate, string Reason) : WorkflowInput;
    public sealed record RecordDecision(IReadOnlyList<ConcernOutcome> Outcomes, string Reason, int? ActionPlanWorkingDays) : WorkflowInput;

    public static readonly InputTypes Inputs = new(typeof(Respond), typeof(SubmitActionPlan), typeof(ChangeDueDate), typeof(RecordDecision));

    /// <summary>The concern as it stands: published with every step (the API's checks and the pages read it).</summary>
    public sealed record State(
        ConcernStage Stage,
        string ProviderId,
        string ProviderName,
        string ProviderEmail,
        string Concern,
        Instant RequestedAt,
        int WorkingDays,
        LocalDate DueDate,
        Instant DueAt,
        int Escalation,
        string? Investigation,
        bool? IssueFound,
        string? Actions,
        bool ResponseLate,
        string? ActionPlan,
        IReadOnlyList<ConcernOutcome> Outcomes,
        string? DecisionReason)
    {
        public bool Waiting => Stage is ConcernStage.AwaitingResponse or ConcernStage.AwaitingActionPlan;
        public string What => Stage == ConcernStage.AwaitingActionPlan ? "action plan" : "response";
        public string Action => Stage == ConcernStage.AwaitingActionPlan ? ActionPlanAction : RespondAction;
    }
}
