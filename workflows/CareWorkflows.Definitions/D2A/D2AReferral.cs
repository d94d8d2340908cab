using System.Collections.Immutable;
using System.Text.Json.Serialization;
using NodaTime;

namespace CareWorkflows.Definitions.D2A;

// ======================================================================================================
// D2A (Discharge to Assess) referral — B 4.6, B 1.5.2–1.5.3, App A, App H, App M. See docs/d2a.md.
//
//   raise ─► OfferedToPatch ──(all decline / window ends, no bid)──► OfferedToFramework ──(same)──► NoProviderFound
//                 │  accept meeting discharge: award at once            │                                │
//                 └──────────────────────────────► Awarded ◄────────────┴──── brokerage award ───────────┘
//                                                     │ discharge confirmed
//                                                   Active ── week 5: ask end date · 6 weeks: cap · 48 h: plan revision
//                                                     │ close (outcome)
//                                                   Closed
// ======================================================================================================

/// <summary>Where a referral is. Numbered: values are published.</summary>
public enum D2AStatus { New = 0, OfferedToPatch = 1, OfferedToFramework = 2, NoProviderFound = 3, Awarded = 4, Active = 5, Closed = 6 }

/// <summary>How a D2A package ended (App M §2, DOMAIN.md).</summary>
public enum D2AOutcome { Reablement = 1, LongTermPackage = 2, NoOngoingNeed = 3, Readmitted = 4, Died = 5, Other = 6 }

// ---------- data carried by the start input (the API resolves providers from the directory) ----------

/// <summary>The person. Only in the start input: never published, never in an offer, reminder or SMS.</summary>
/// <param name="NhsNumberMissingReason">Why there is no NHS number (required when <paramref name="NhsNumber"/> is empty).</param>
public sealed record Patient(string Name, string? NhsNumber, LocalDate DateOfBirth, string Address, string Postcode, string? NhsNumberMissingReason = null);

/// <summary>A provider as the workflow needs it: who to tell and how (an organisation's contacts, not a person's).</summary>
public sealed record ProviderContact(string Id, string Name, string Email, string Mobile);

/// <summary>The person in the discharge team who raised the referral.</summary>
public sealed record Referrer(string Name, string Email, string? Phone = null);

// ---------- inputs, and who may send them ----------

/// <summary>
/// Start (discharge team, admin). <paramref name="PatchProviders"/> are the eligible patch providers of the patch and
/// <paramref name="FrameworkProviders"/> the eligible framework providers, both resolved by the API from the directory.
/// </summary>
public sealed record RaiseReferral(
    Patient Patient,
    string Hospital,
    string Ward,
    string Patch,
    Instant ExpectedDischargeAt,
    int CallsPerDay,
    int MinutesPerCall,
    bool DoubleHanded,
    string NeedsSummary,
    bool SupportedBeforeAdmission,
    ProviderContact? PreviousProvider,
    Referrer Referrer,
    IReadOnlyList<ProviderContact> PatchProviders,
    IReadOnlyList<ProviderContact> FrameworkProviders) : WorkflowInput;

/// <summary>
/// A provider accepts (with the earliest first call it can make) or declines (provider for itself; brokerage on its behalf).
/// The first call is an instant, or a local time of day meaning its next occurrence in Europe/London.
/// </summary>
public sealed record ProviderResponse(string ProviderId, bool Accept, Instant? FirstCallAt = null, LocalTime? FirstCallTime = null, string? Reason = null) : WorkflowInput;

/// <summary>
/// Brokerage awards (or re-awards) to a provider: a bidder, or any provider placed by hand (then <paramref name="Provider"/>
/// and <paramref name="FirstCallAt"/> are needed). The reason is kept (App A: fair share and exceptions must be explainable).
/// </summary>
public sealed record AwardPackage(string ProviderId, string Reason, ProviderContact? Provider = null, Instant? FirstCallAt = null) : WorkflowInput;

/// <summary>The person has left hospital (discharge team, brokerage): the package is active.</summary>
public sealed record ConfirmDischarge(Instant? DischargedAt = null) : WorkflowInput;

/// <summary>
/// The discharge time changed (App M §7). Before discharge: the expected time (must be in the future). After: a
/// correction of the recorded discharge time (not in the future); the week-5, cap and plan-revision deadlines move with it.
/// </summary>
public sealed record ChangeDischargeTime(Instant NewTime, string? Reason = null) : WorkflowInput;

/// <summary>Care-and-support-plan revisions from the provider who supported the person before admission (B 4.6.8).</summary>
public sealed record ReceiveCarePlanRevision(string Summary, string? ProviderId = null) : WorkflowInput;

/// <summary>The D2A team confirms the end date and expected outcome (App M §5), at most 6 weeks after the start.</summary>
public sealed record PlanEnd(LocalDate EndDate, D2AOutcome ExpectedOutcome) : WorkflowInput;

/// <summary>The provider with the package reports an improvement or deterioration (App M §3); the D2A team is told.</summary>
public sealed record ReportConditionChange(bool Improved, string Summary, string? ProviderId = null) : WorkflowInput;

/// <summary>Close with an outcome (D2A team, discharge team, brokerage). "Other" needs notes.</summary>
public sealed record CloseReferral(D2AOutcome Outcome, string? Notes = null) : WorkflowInput;

/// <summary>
/// D2A referral: the public names — type, orchestration name and version, roles, policy keys with their defaults,
/// deadline and ask names, inputs and the state it publishes. Used by the orchestration, the API, the pages and
/// authorisation alike.
/// </summary>
public static class D2AReferral
{
    /// <summary>Type name and reference prefix (D2A-7K3QX).</summary>
    public const string Type = "D2A";
    public const string Orchestration = "D2AReferral";
    public const string Version = "1";

    // Who may send what.
    public static readonly string[] Raisers = [Roles.DischargeTeam, Roles.Admin];
    public static readonly string[] Brokers = [Roles.Brokerage, Roles.Admin];
    public static readonly string[] DischargeStaff = [Roles.DischargeTeam, Roles.Brokerage, Roles.Admin];
    public static readonly string[] D2ATeam = [Roles.DischargeTeam, Roles.Brokerage, Roles.CareManager, Roles.SeniorCareManager, Roles.Admin];
    public static readonly string[] PlanRecorders = [Roles.CareManager, Roles.SeniorCareManager, Roles.Brokerage, Roles.Admin];

    /// <summary>Policy settings (section "Policy"): ISO-8601 durations (PT1H) or hh:mm:ss; times of day as HH:mm.</summary>
    public static class Policy
    {
        public const string AcceptanceWindow = "D2A:AcceptanceWindow";       // App M §4, §6: 1 hour (App A says 30 min: a setting)
        public const string ReminderAfter = "D2A:ReminderAfter";             // reminder to non-responders
        public const string FrameworkWindow = "D2A:FrameworkWindow";         // second round, B 1.5.3 (default: the acceptance window)
        public const string FirstCallWithin = "D2A:FirstCallWithin";         // an accept "meets" discharge when its first call is this soon after it
        public const string InterimCareWithin = "D2A:InterimCareWithin";     // B 4.6.4: interim care within 24 hours at most
        public const string DischargeCheckAfter = "D2A:DischargeCheckAfter"; // discharge not confirmed this long after expected → tell brokerage
        public const string CarePlanRevisionWithin = "D2A:CarePlanRevisionWithin"; // B 4.6.8: 48 hours after discharge
        public const string SameDayCutOff = "D2A:SameDayCutOff";             // App M §6: 15:00 weekdays
        public const string NextMorningCutOff = "D2A:NextMorningCutOff";     // App M §6: 17:00 weekdays
        public const string WeekendCutOff = "D2A:WeekendCutOff";             // App M §6: 13:00 Sat/Sun
        public const string LatestCall = "D2A:LatestCall";                   // B 4.6.7: 20:30
        public const string BrokerageOpens = "D2A:BrokerageOpens", BrokerageCloses = "D2A:BrokerageCloses",   // App M §6: 09:00–17:00 Mon–Fri
            BrokerageWeekendOpens = "D2A:BrokerageWeekendOpens", BrokerageWeekendCloses = "D2A:BrokerageWeekendCloses"; // 10:00–14:00 Sat–Sun
        public const string MaxWeeks = "D2A:MaxWeeks";                       // App M §5, App H: 6 weeks
        public const string EndDatePromptWeek = "D2A:EndDatePromptWeek";     // week 5
        public const string AdassHoursCap = "D2A:AdassHoursCap";             // App A ii: 3,000 hours a week

        public static readonly Duration DefaultAcceptanceWindow = Duration.FromHours(1);
        public static readonly Duration DefaultReminderAfter = Duration.FromMinutes(30);
        public static readonly Duration DefaultFirstCallWithin = Duration.FromHours(4);
        public static readonly Duration DefaultInterimCareWithin = Duration.FromHours(24);
        public static readonly Duration DefaultDischargeCheckAfter = Duration.FromHours(12);
        public static readonly Duration DefaultCarePlanRevisionWithin = Duration.FromHours(48);
        public static readonly LocalTime DefaultSameDayCutOff = new(15, 0), DefaultNextMorningCutOff = new(17, 0), DefaultWeekendCutOff = new(13, 0),
            DefaultLatestCall = new(20, 30), DefaultBrokerageOpens = new(9, 0), DefaultBrokerageCloses = new(17, 0),
            DefaultBrokerageWeekendOpens = new(10, 0), DefaultBrokerageWeekendCloses = new(14, 0);
        public const int DefaultMaxWeeks = 6, DefaultEndDatePromptWeek = 5;
        public const decimal DefaultAdassHoursCap = 3000m;
    }

    /// <summary>How far ahead an expected discharge may be booked.</summary>
    public static readonly Duration DischargeHorizon = Duration.FromDays(28);

    // Deadline names (published with the instance, so operators and tests see what is due).
    public const string ReminderDeadline = "reminder", WindowDeadline = "window", DischargeCheckDeadline = "discharge-check",
        Week5Deadline = "week-5", CapDeadline = "cap", CarePlanDeadline = "care-plan";

    // Answers a provider gives by signed link or reply; "details" opens the winner's full referral (/d2a/details/{token}).
    public const string AcceptAction = "accept", DeclineAction = "decline", CarePlanAction = "care-plan", DetailsAction = "details";
    public const string DetailsPath = "/d2a/details/";

    public static readonly InputTypes Inputs = new(typeof(ProviderResponse), typeof(AwardPackage), typeof(ConfirmDischarge), typeof(ChangeDischargeTime),
        typeof(ReceiveCarePlanRevision), typeof(PlanEnd), typeof(ReportConditionChange), typeof(CloseReferral));

    /// <summary>
    /// The package as every offered provider sees it (App A: anonymised): patch, postcode district, timings, calls and
    /// care needs (checked free of the person's data when raised). No name, NHS number, date of birth or address.
    /// </summary>
    public sealed record Package(string Patch, string PostcodeDistrict, int CallsPerDay, int MinutesPerCall, bool DoubleHanded, string NeedsSummary);

    /// <summary>One offer to one provider in one round, and its answer.</summary>
    public sealed record Offer(ProviderContact Provider, int Round, Instant OfferedAt, Instant Deadline, bool Reminded = false,
        bool? Accepted = null, Instant? AnsweredAt = null, Instant? FirstCallAt = null, string? Reason = null)
    {
        [JsonIgnore] public bool Answered => Accepted is not null;
    }

    /// <summary>Who has the package and when the first call is.</summary>
    public sealed record AwardInfo(ProviderContact Provider, Instant FirstCallAt, Instant AwardedAt, string By, string? Reason);

    /// <summary>
    /// The referral as it stands, published with every step (the API's checks, the pages and the KPIs read it). It holds
    /// the anonymised package, providers (organisations) and times — never the person: the referral with the patient
    /// stays in the start input, read only by the winner's details page (and staff see it in the timeline's start entry).
    /// </summary>
    public sealed record State
    {
        public D2AStatus Status { get; init; }
        public Instant RaisedAt { get; init; }
        public Package? Package { get; init; }
        public Instant ExpectedDischargeAt { get; init; }
        /// <summary>1 = patch providers, 2 = framework providers (B 1.5.3).</summary>
        public int Round { get; init; }
        public Instant? RoundDeadline { get; init; }
        public ImmutableList<Offer> Offers { get; init; } = [];
        public AwardInfo? Award { get; init; }
        public ImmutableList<string> Flags { get; init; } = [];
        public Instant? DischargedAt { get; init; }
        public bool DischargeOverdue { get; init; }
        public bool EndDatePrompted { get; init; }
        public LocalDate? PlannedEndDate { get; init; }
        public D2AOutcome? PlannedOutcome { get; init; }
        public bool CapReached { get; init; }
        /// <summary>The provider who supported the person before admission (B 4.6.8), when one did.</summary>
        public ProviderContact? PreviousProvider { get; init; }
        /// <summary>When the plan revision is due (B 4.6.8), if a provider supported the person before admission.</summary>
        public Instant? CarePlanDueAt { get; init; }
        public bool CarePlanReceived { get; init; }
        public bool CarePlanOverdue { get; init; }
        public D2AOutcome? Outcome { get; init; }
        public string? ClosingNotes { get; init; }

        [JsonIgnore] public IEnumerable<Offer> CurrentRound => Offers.Where(o => o.Round == Round);
        [JsonIgnore] public bool Offering => Status is D2AStatus.OfferedToPatch or D2AStatus.OfferedToFramework;
        [JsonIgnore] public bool CarePlanApplies => PreviousProvider is not null;
    }
}
