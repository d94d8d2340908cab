using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Definitions.Workflows;

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

/// <summary>Where a referral is. Numbered: values are stored.</summary>
public enum D2AStatus { New = 0, OfferedToPatch = 1, OfferedToFramework = 2, NoProviderFound = 3, Awarded = 4, Active = 5, Closed = 6 }

/// <summary>How a D2A package ended (App M §2, DOMAIN.md).</summary>
public enum D2AOutcome { Reablement = 1, LongTermPackage = 2, NoOngoingNeed = 3, Readmitted = 4, Died = 5, Other = 6 }

// ---------- data carried by the start input (the API resolves providers from the directory) ----------

/// <summary>The person. Stays on the instance; never goes into an offer, reminder or SMS.</summary>
/// <param name="NhsNumberMissingReason">Why there is no NHS number (required when <paramref name="NhsNumber"/> is empty).</param>
public sealed record Patient(string Name, string? NhsNumber, LocalDate DateOfBirth, string Address, string Postcode, string? NhsNumberMissingReason = null);

/// <summary>A provider as the workflow needs it: who to tell and how.</summary>
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
/// correction of the recorded discharge time (not in the future); the week-5, cap and plan-revision timers move with it.
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

// ---------- events (the timeline) ----------

public sealed record ReferralRaised(RaiseReferral Referral, Instant At) : WorkflowEvent;
public sealed record OffersSent(int Round, IReadOnlyList<ProviderContact> Providers, Instant OfferedAt, Instant Deadline) : WorkflowEvent;
public sealed record RemindersSent(int Round, IReadOnlyList<string> ProviderIds) : WorkflowEvent;
public sealed record OfferAccepted(string ProviderId, Instant FirstCallAt, bool MeetsDischarge, Instant At) : WorkflowEvent;
public sealed record OfferDeclined(string ProviderId, string? Reason, Instant At) : WorkflowEvent;
public sealed record BrokerageAlerted(string Why) : WorkflowEvent;
public sealed record NoProviderFound(string Why) : WorkflowEvent;
public sealed record PackageAwarded(ProviderContact Provider, Instant FirstCallAt, string By, string? Reason, Instant At) : WorkflowEvent;
public sealed record CutOffsFlagged(IReadOnlyList<string> Flags) : WorkflowEvent;
public sealed record DischargeTimeChanged(Instant From, Instant To, string? Reason, Instant? CarePlanDueAt = null) : WorkflowEvent;
public sealed record DischargeOverdue(Instant ExpectedAt) : WorkflowEvent;
public sealed record Discharged(Instant At, Instant? CarePlanDueAt = null) : WorkflowEvent;
public sealed record EndDatePrompted(LocalDate CapDate) : WorkflowEvent;
public sealed record EndDatePlanned(LocalDate EndDate, D2AOutcome ExpectedOutcome) : WorkflowEvent;
public sealed record CapReached(Instant CapAt) : WorkflowEvent;
public sealed record CarePlanRevisionReceived(string Summary) : WorkflowEvent;
public sealed record CarePlanRevisionOverdue(Instant DueAt) : WorkflowEvent;
public sealed record ConditionChangeReported(bool Improved, string Summary) : WorkflowEvent;
public sealed record MessageUndelivered(string Purpose, string Channel, string To, string Error) : WorkflowEvent;
public sealed record ReferralClosed(D2AOutcome Outcome, string? Notes) : WorkflowEvent;

// ---------- state ----------

/// <summary>One offer to one provider in one round, and its answer.</summary>
public sealed record Offer(ProviderContact Provider, int Round, Instant OfferedAt, Instant Deadline, bool Reminded = false,
    bool? Accepted = null, Instant? AnsweredAt = null, Instant? FirstCallAt = null, string? Reason = null)
{
    [JsonIgnore] public bool Answered => Accepted is not null;
}

/// <summary>Who has the package and when the first call is.</summary>
public sealed record AwardInfo(ProviderContact Provider, Instant FirstCallAt, Instant AwardedAt, string By, string? Reason);

public sealed record D2AState
{
    public D2AStatus Status { get; init; }
    public RaiseReferral? Referral { get; init; }
    public Instant RaisedAt { get; init; }
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
    /// <summary>When the plan revision is due (B 4.6.8), if a provider supported the person before admission.</summary>
    public Instant? CarePlanDueAt { get; init; }
    public bool CarePlanReceived { get; init; }
    public bool CarePlanOverdue { get; init; }
    public D2AOutcome? Outcome { get; init; }
    public string? ClosingNotes { get; init; }

    [JsonIgnore] public IEnumerable<Offer> CurrentRound => Offers.Where(o => o.Round == Round);
    [JsonIgnore] public bool Offering => Status is D2AStatus.OfferedToPatch or D2AStatus.OfferedToFramework;
    [JsonIgnore] public bool CarePlanApplies => Referral is { SupportedBeforeAdmission: true, PreviousProvider: not null };
}

/// <summary>The D2A referral workflow. Pure: time, policy and links come from the context.</summary>
public sealed class D2AReferral : Workflow<D2AState, RaiseReferral>
{
    public const string TypeName = "D2A";
    public override string Type => TypeName;
    public override D2AState Initial => new();

    // Timer names.
    public const string ReminderTimer = "reminder", WindowTimer = "window", DischargeCheckTimer = "discharge-check",
        Week5Timer = "week-5", CapTimer = "cap", CarePlanTimer = "care-plan";

    // Who may send what.
    private static readonly string[] Raisers = [Roles.DischargeTeam, Roles.Admin];
    private static readonly string[] Brokers = [Roles.Brokerage, Roles.Admin];
    private static readonly string[] DischargeStaff = [Roles.DischargeTeam, Roles.Brokerage, Roles.Admin];
    private static readonly string[] D2ATeam = [Roles.DischargeTeam, Roles.Brokerage, Roles.CareManager, Roles.SeniorCareManager, Roles.Admin];
    private static readonly string[] PlanRecorders = [Roles.CareManager, Roles.SeniorCareManager, Roles.Brokerage, Roles.Admin];

    /// <summary>Policy settings (section "Policy"): ISO-8601 durations (PT1H) or hh:mm:ss; times of day as HH:mm.</summary>
    public static class Policy
    {
        public const string AcceptanceWindow = "D2A:AcceptanceWindow";       // App M §4, §6: 1 hour (App A says 30 min: a setting)
        public const string ReminderAfter = "D2A:ReminderAfter";             // reminder to non-responders
        public const string FrameworkWindow = "D2A:FrameworkWindow";         // second round, B 1.5.3
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

        public static Duration Window(WorkflowContext c) => D(c, AcceptanceWindow, Duration.FromHours(1));
        public static Duration Reminder(WorkflowContext c) => D(c, ReminderAfter, Duration.FromMinutes(30));
        public static Duration Framework(WorkflowContext c) => D(c, FrameworkWindow, Window(c));
        public static Duration FirstCall(WorkflowContext c) => D(c, FirstCallWithin, Duration.FromHours(4));
        public static Duration InterimCare(WorkflowContext c) => D(c, InterimCareWithin, Duration.FromHours(24));
        public static Duration DischargeCheck(WorkflowContext c) => D(c, DischargeCheckAfter, Duration.FromHours(12));
        public static Duration CarePlan(WorkflowContext c) => D(c, CarePlanRevisionWithin, Duration.FromHours(48));
        public static LocalTime SameDay(WorkflowContext c) => T(c, SameDayCutOff, new LocalTime(15, 0));
        public static LocalTime NextMorning(WorkflowContext c) => T(c, NextMorningCutOff, new LocalTime(17, 0));
        public static LocalTime Weekend(WorkflowContext c) => T(c, WeekendCutOff, new LocalTime(13, 0));
        public static LocalTime Latest(WorkflowContext c) => T(c, LatestCall, new LocalTime(20, 30));
        public static LocalTime Opens(WorkflowContext c) => T(c, BrokerageOpens, new LocalTime(9, 0));
        public static LocalTime Closes(WorkflowContext c) => T(c, BrokerageCloses, new LocalTime(17, 0));
        public static LocalTime WeekendOpens(WorkflowContext c) => T(c, BrokerageWeekendOpens, new LocalTime(10, 0));
        public static LocalTime WeekendCloses(WorkflowContext c) => T(c, BrokerageWeekendCloses, new LocalTime(14, 0));
        public static int Weeks(WorkflowContext c) => c.Policy.Int(MaxWeeks, 6);
        public static int PromptWeek(WorkflowContext c) => c.Policy.Int(EndDatePromptWeek, 5);

        private static Duration D(WorkflowContext c, string key, Duration fallback)
        {
            if (c.Policy.Values.TryGetValue(key, out var v) && PeriodPattern.NormalizingIso.Parse(v.Trim()) is { Success: true } p
                && p.Value.Years == 0 && p.Value.Months == 0)
                return p.Value.Normalize().ToDuration();
            return c.Policy.Duration(key, fallback);
        }

        private static LocalTime T(WorkflowContext c, string key, LocalTime fallback) =>
            c.Policy.Values.TryGetValue(key, out var v) && LocalTimePattern.CreateWithInvariantCulture("HH:mm").Parse(v.Trim()) is { Success: true } r ? r.Value : fallback;
    }

    // ================================================================ decide

    public override Decision Decide(D2AState s, WorkflowInput input, WorkflowContext ctx) => input switch
    {
        RaiseReferral r => Raise(s, r, ctx),
        _ when s.Status == D2AStatus.New => Decision.Conflict($"{ctx.Reference} has not been raised."),
        TimerFired t => OnTimer(s, t.Name, ctx),
        MessageFailed f => OnMessageFailed(s, f, ctx),
        _ when s.Status == D2AStatus.Closed => Decision.Conflict($"{ctx.Reference} is closed."),
        ProviderResponse p => Respond(s, p, ctx),
        AwardPackage a => AwardByBrokerage(s, a, ctx),
        ConfirmDischarge d => Discharge(s, d, ctx),
        ChangeDischargeTime c => ChangeTime(s, c, ctx),
        ReceiveCarePlanRevision c => CarePlan(s, c, ctx),
        PlanEnd p => Plan(s, p, ctx),
        ReportConditionChange c => Condition(s, c, ctx),
        CloseReferral c => Close(s, c, ctx),
        _ => Decision.Invalid($"{input.GetType().Name} is not an input of a D2A referral."),
    };

    private static Decision? Require(WorkflowContext ctx, string[] roles, string what) =>
        ctx.Actor.IsIn(roles) ? null : Decision.Forbidden($"Only {string.Join(", ", roles)} may {what}.");

    // ---- 1. raise → 2. offer to the patch ----

    private Decision Raise(D2AState s, RaiseReferral r, WorkflowContext ctx)
    {
        if (Require(ctx, Raisers, "raise a D2A referral") is { } no) return no;
        if (s.Status != D2AStatus.New) return Decision.Conflict($"{ctx.Reference} is already raised.");
        if (Validate(r, ctx.Now) is { } error) return Decision.Invalid(error.Message, error.Field);

        var referral = r with { Patient = r.Patient with { NhsNumber = NormaliseNhsNumber(r.Patient.NhsNumber), Postcode = NormalisePostcode(r.Patient.Postcode)! } };
        var e = new ReferralRaised(referral, ctx.Now);
        var d = new DecisionBuilder().Record(e);
        var raised = Evolve(s, e);
        if (referral.PatchProviders.Count > 0) StartRound(d, raised, 1, referral.PatchProviders, ctx);
        else EndPatchRound(d, raised, ctx, $"no patch provider of {referral.Patch} can be offered the package");
        d.SetTimer(DischargeCheckTimer, referral.ExpectedDischargeAt + Policy.DischargeCheck(ctx));
        return d.Build();
    }

    /// <summary>A refusal of a referral field: the API's field name and what is wrong.</summary>
    public sealed record FieldError(string Field, string Message);

    /// <summary>Checks a referral; null when it is valid.</summary>
    public static FieldError? Validate(RaiseReferral r, Instant now)
    {
        var p = r.Patient;
        if (p is null) return new("patient", "The patient is required.");
        if (string.IsNullOrWhiteSpace(p.Name) || p.Name.Length > 200) return new("patient.name", "The patient's name is required (up to 200 characters).");
        if (string.IsNullOrWhiteSpace(p.NhsNumber))
        {
            if (string.IsNullOrWhiteSpace(p.NhsNumberMissingReason)) return new("patient.nhsNumber", "Give the NHS number, or say why it is missing.");
        }
        else if (!IsValidNhsNumber(p.NhsNumber)) return new("patient.nhsNumber", "The NHS number is not valid: it must be 10 digits with a correct check digit (modulus 11).");
        else if (IsPlaceholderNhsNumber(p.NhsNumber))
            return new("patient.nhsNumber", "The NHS number is a placeholder (the same digit ten times), not the person's: give the real number, or leave it empty and say why it is missing.");
        var today = now.InZone(WorkflowContext.London).Date;
        if (p.DateOfBirth > today || p.DateOfBirth < today.PlusYears(-130)) return new("patient.dateOfBirth", "The date of birth is not plausible.");
        if (string.IsNullOrWhiteSpace(p.Address) || p.Address.Length > 500) return new("patient.address", "The address is required (up to 500 characters).");
        if (NormalisePostcode(p.Postcode) is null) return new("patient.postcode", "The postcode is not a valid UK postcode.");
        if (string.IsNullOrWhiteSpace(r.Hospital) || r.Hospital.Length > 200) return new("hospital", "The hospital is required.");
        if (string.IsNullOrWhiteSpace(r.Ward) || r.Ward.Length > 200) return new("ward", "The ward is required.");
        if (string.IsNullOrWhiteSpace(r.Patch)) return new("patch", "The patch is required.");
        if (r.ExpectedDischargeAt <= now) return new("expectedDischargeAt", "The expected discharge time is in the past.");
        if (r.ExpectedDischargeAt > now + Duration.FromDays(28)) return new("expectedDischargeAt", "The expected discharge time is more than 28 days away.");
        if (r.CallsPerDay is < 1 or > 8) return new("callsPerDay", "Calls per day must be between 1 and 8.");
        if (r.MinutesPerCall is < 15 or > 240) return new("minutesPerCall", "Minutes per call must be between 15 and 240.");
        if (string.IsNullOrWhiteSpace(r.NeedsSummary) || r.NeedsSummary.Length > 2000) return new("needsSummary", "A needs summary is required (up to 2,000 characters).");
        if (PersonalDataInOffers(r) is { } leak) return leak;
        if (r.SupportedBeforeAdmission && r.PreviousProvider is null) return new("previousProviderId", "Say which provider supported the person before admission.");
        if (r.Referrer is null || string.IsNullOrWhiteSpace(r.Referrer.Name) || string.IsNullOrWhiteSpace(r.Referrer.Email) || !r.Referrer.Email.Contains('@'))
            return new("referrer.email", "The referrer's name and email are required.");
        if (r.PatchProviders is null || r.FrameworkProviders is null) return new("patch", "The provider lists are required.");
        return null;
    }

    /// <summary>
    /// App A: offers go, anonymised, to every provider of the patch (then borough-wide) before one is awarded; only the
    /// winner may see who the person is. The needs summary travels in every offer and reminder email and on the link page,
    /// so it must not carry the person's name, NHS number, date of birth, address or postcode (or any NHS-number-shaped
    /// string). Null when it does not. Time-independent, so the API runs it before starting anything.
    /// </summary>
    public static FieldError? PersonalDataInOffers(RaiseReferral r)
    {
        if (r.Patient is not { } p || Privacy.PersonalDataGuard.Find(r.NeedsSummary, new(p.Name, p.NhsNumber, p.DateOfBirth, p.Address, p.Postcode)) is not { } kind)
            return null;
        return new("needsSummary", $"The needs summary contains {Privacy.PersonalDataGuard.Describe(kind)}. It is sent to every provider offered the package " +
            "before one is awarded (App A), so describe the care needs without the person's name, NHS number, date of birth, address or postcode.");
    }

    /// <summary>Hours of care a week this package needs (two carers count twice), for the ADASS cap.</summary>
    public static decimal HoursPerWeek(int callsPerDay, int minutesPerCall, bool doubleHanded) =>
        callsPerDay * minutesPerCall * 7m / 60m * (doubleHanded ? 2 : 1);

    private static void StartRound(DecisionBuilder d, D2AState s, int round, IReadOnlyList<ProviderContact> providers, WorkflowContext ctx)
    {
        var window = round == 1 ? Policy.Window(ctx) : Policy.Framework(ctx);
        var deadline = ctx.Now + window;
        d.Record(new OffersSent(round, providers, ctx.Now, deadline));
        foreach (var p in providers)
        {
            var accept = ctx.Links.Issue(ctx.Reference, p.Id, "accept", deadline);
            var decline = ctx.Links.Issue(ctx.Reference, p.Id, "decline", deadline);
            foreach (var m in D2AReferralMessages.Offer(ctx.Reference, s.Referral!, s.ExpectedDischargeAt, p, deadline, accept, decline, reminder: false)) d.Send(m);
        }
        d.SetTimer(WindowTimer, deadline);
        var reminder = Policy.Reminder(ctx);
        if (reminder < window) d.SetTimer(ReminderTimer, ctx.Now + reminder);
        else d.CancelTimer(ReminderTimer);
    }

    // ---- 3. responses ----

    private Decision Respond(D2AState s, ProviderResponse p, WorkflowContext ctx)
    {
        if (ctx.Actor.Role == Roles.Provider)
        {
            // A provider only ever answers for itself (its provider_id claim, or the recipient of its signed link).
            if (!string.Equals(ctx.Actor.ProviderId, p.ProviderId, StringComparison.Ordinal))
                return Decision.Forbidden("A provider may only answer for itself.");
        }
        else if (Require(ctx, Brokers, "answer an offer on a provider's behalf") is { } no) return no;

        var offer = s.Offers.LastOrDefault(o => o.Provider.Id == p.ProviderId);
        if (offer is null) return Decision.Forbidden($"{p.ProviderId} was not offered {ctx.Reference}.");
        if (!s.Offering) return Decision.Conflict($"{ctx.Reference} is no longer open for offers ({s.Status}).");
        if (offer.Round != s.Round || ctx.Now > offer.Deadline)
            return Decision.Conflict($"The time to answer {ctx.Reference} ended at {WorkflowContext.Local(offer.Deadline)}.");
        if (offer.Answered) return Decision.Conflict($"{p.ProviderId} has already answered {ctx.Reference}.");

        var d = new DecisionBuilder();
        D2AState next;
        if (!p.Accept)
        {
            var e = new OfferDeclined(p.ProviderId, Trim(p.Reason, 1000), ctx.Now);
            d.Record(e);
            next = Evolve(s, e);
        }
        else
        {
            Instant first;
            if (p.FirstCallAt is { } at) first = at;
            else if (p.FirstCallTime is { } time) first = NextOccurrence(time, ctx.Now);
            else return Decision.Invalid("An acceptance must give the earliest first call time.");
            if (Rules.TimeBounds.FirstCall(first, ctx.Now) is { } bad) return Decision.Invalid(bad, "firstCall");
            var meets = first <= s.ExpectedDischargeAt + Policy.FirstCall(ctx);
            var e = new OfferAccepted(p.ProviderId, first, meets, ctx.Now);
            d.Record(e);
            next = Evolve(s, e);
            // Default award policy: the first acceptance that meets the discharge time wins (App A; brokerage may re-award).
            if (meets)
            {
                Award(d, next, offer.Provider, first, "policy: first acceptance meeting the discharge time", null, ctx);
                return d.Build();
            }
        }
        // Everyone in the round has answered: no need to wait for the window.
        if (next.CurrentRound.All(o => o.Answered)) EndRound(d, next, ctx);
        return d.Build();
    }

    /// <summary>The round is over (window ended, or everyone answered) without an acceptance meeting the discharge time.</summary>
    private void EndRound(DecisionBuilder d, D2AState s, WorkflowContext ctx)
    {
        d.CancelTimer(ReminderTimer).CancelTimer(WindowTimer);
        var best = s.CurrentRound.Where(o => o.Accepted == true).OrderBy(o => o.FirstCallAt).ThenBy(o => o.AnsweredAt).FirstOrDefault();
        if (best is not null)
        {
            // Bids came in but none meets the discharge time: the earliest first call is the best the market offers.
            Award(d, s, best.Provider, best.FirstCallAt!.Value, "policy: earliest first call offered in the window", null, ctx);
            return;
        }
        if (s.Round == 1) EndPatchRound(d, s, ctx, $"no patch provider of {s.Referral!.Patch} accepted within {Words(Policy.Window(ctx))}");
        else NoneFound(d, s, ctx, $"no framework provider accepted within {Words(Policy.Framework(ctx))} either");
    }

    /// <summary>4. Patch providers could not take it: framework providers borough-wide (B 1.5.3) and the brokerage duty lead is alerted.</summary>
    private void EndPatchRound(DecisionBuilder d, D2AState s, WorkflowContext ctx, string why)
    {
        var framework = s.Referral!.FrameworkProviders.Where(f => s.Offers.All(o => o.Provider.Id != f.Id)).ToList();
        if (framework.Count == 0) { NoneFound(d, s, ctx, why + ", and no framework provider can be offered it"); return; }
        d.Record(new BrokerageAlerted(why));
        foreach (var to in Brokerage(ctx, "brokerage-duty")) d.Send(D2AReferralMessages.FrameworkRoundAlert(ctx.Reference, to, s.Referral.Patch, why, framework.Count));
        var round2 = Evolve(s, new BrokerageAlerted(why));
        StartRound(d, round2, 2, framework, ctx);
    }

    /// <summary>Nobody took it: the brokerage manager and the referring discharge team are told; it stays open for manual placement.</summary>
    private static void NoneFound(DecisionBuilder d, D2AState s, WorkflowContext ctx, string why)
    {
        d.CancelTimer(ReminderTimer).CancelTimer(WindowTimer);
        d.Record(new NoProviderFound(why));
        foreach (var m in D2AReferralMessages.NoProviderFound(ctx.Reference, [.. Brokerage(ctx, "brokerage-manager"), s.Referral!.Referrer.Email], why, s.ExpectedDischargeAt))
            d.Send(m);
    }

    // ---- 3/5. award ----

    private Decision AwardByBrokerage(D2AState s, AwardPackage a, WorkflowContext ctx)
    {
        if (Require(ctx, Brokers, "award a package") is { } no) return no;
        if (s.Status is D2AStatus.Active) return Decision.Conflict($"{ctx.Reference} is already active: the person has been discharged.");
        if (string.IsNullOrWhiteSpace(a.Reason)) return Decision.Invalid("Give the reason for the award (App A: allocations must be fair and explainable).");
        if (s.Award?.Provider.Id == a.ProviderId) return Decision.Conflict($"{ctx.Reference} is already awarded to {a.ProviderId}.");
        var bid = s.Offers.LastOrDefault(o => o.Provider.Id == a.ProviderId && o.Accepted == true);
        ProviderContact provider;
        Instant first;
        if (bid is not null)
        {
            provider = bid.Provider;
            first = a.FirstCallAt ?? bid.FirstCallAt!.Value;
        }
        else
        {
            if (a.Provider is null || a.Provider.Id != a.ProviderId) return Decision.Invalid($"{a.ProviderId} did not accept {ctx.Reference}; a manual placement needs the provider's details.");
            if (a.FirstCallAt is null) return Decision.Invalid($"{a.ProviderId} did not accept {ctx.Reference}; a manual placement needs the agreed first call time.");
            provider = a.Provider;
            first = a.FirstCallAt.Value;
        }
        // The same bounds as a provider's own answer: a manual placement in year 9999 is a typing error, not a plan.
        if (Rules.TimeBounds.FirstCall(first, ctx.Now) is { } bad) return Decision.Invalid(bad, "firstCall");
        var d = new DecisionBuilder();
        Award(d, s, provider, first, "brokerage", Trim(a.Reason, 1000), ctx);
        return d.Build();
    }

    private void Award(DecisionBuilder d, D2AState s, ProviderContact winner, Instant firstCall, string by, string? reason, WorkflowContext ctx)
    {
        var previous = s.Award;
        var awarded = new PackageAwarded(winner, firstCall, by, reason, ctx.Now);
        d.Record(awarded).CancelTimer(WindowTimer).CancelTimer(ReminderTimer);
        var next = Evolve(s, awarded);
        var promised = Max(firstCall, s.ExpectedDischargeAt);

        // 5. The winner gets the full details behind a signed link only (App A: anonymised until awarded).
        var details = DetailsLink(ctx, winner.Id, DetailsLinkExpiry(s, ctx));
        foreach (var m in D2AReferralMessages.Awarded(ctx.Reference, winner, promised, s.ExpectedDischargeAt, details)) d.Send(m);
        if (previous is not null)
            d.Send(D2AReferralMessages.AwardWithdrawn(ctx.Reference, previous.Provider));
        else
        {
            // Other bidders are told they were not successful; those who had not answered, that the offer is closed.
            foreach (var o in s.Offers.Where(o => o.Provider.Id != winner.Id).GroupBy(o => o.Provider.Id).Select(g => g.Last()))
            {
                if (o.Accepted == true) d.Send(D2AReferralMessages.NotSuccessful(ctx.Reference, o.Provider));
                else if (!o.Answered && o.Round == s.Round && s.Offering) d.Send(D2AReferralMessages.OfferClosed(ctx.Reference, o.Provider));
            }
        }
        d.Send(D2AReferralMessages.PlacedToDischargeTeam(ctx.Reference, s.Referral!.Referrer.Email, winner.Name, promised, s.ExpectedDischargeAt, previous?.Provider.Name));
        FlagCutOffs(d, next, promised, ctx);
    }

    /// <summary>
    /// Flags promises that cannot be kept (App M §6, B 4.6.7, B 4.6.4): same-day start notified after 15:00 (13:00 Sat/Sun),
    /// next-morning start notified after 17:00 (13:00 Sat/Sun), first call after 20:30, interim care later than 24 hours.
    /// Notification time is now (when the provider is told).
    /// </summary>
    public static IReadOnlyList<string> CutOffFlags(Instant notifiedAt, Instant firstCall, Instant discharge, WorkflowContext ctx)
    {
        var flags = new List<string>();
        var n = notifiedAt.InZone(WorkflowContext.London).LocalDateTime;
        var f = firstCall.InZone(WorkflowContext.London).LocalDateTime;
        var weekend = n.DayOfWeek is IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday;
        if (f.Date == n.Date)
        {
            var cutOff = weekend ? Policy.Weekend(ctx) : Policy.SameDay(ctx);
            if (n.TimeOfDay > cutOff) flags.Add($"Same-day first call but the provider was told after {cutOff:HH:mm} ({(weekend ? "weekend" : "weekday")} cut-off, App M §6).");
        }
        else if (f.Date == n.Date.PlusDays(1) && f.TimeOfDay < new LocalTime(12, 0))
        {
            var cutOff = weekend ? Policy.Weekend(ctx) : Policy.NextMorning(ctx);
            if (n.TimeOfDay > cutOff) flags.Add($"Next-morning first call but the provider was told after {cutOff:HH:mm} ({(weekend ? "weekend" : "weekday")} cut-off, App M §6).");
        }
        if (f.TimeOfDay > Policy.Latest(ctx)) flags.Add($"First call at {f:HH:mm} is later than the latest discharge call of {Policy.Latest(ctx):HH:mm} (B 4.6.7).");
        if (firstCall > discharge + Policy.InterimCare(ctx)) flags.Add($"First call is more than {Words(Policy.InterimCare(ctx))} after discharge (B 4.6.4).");
        return flags;
    }

    private static void FlagCutOffs(DecisionBuilder d, D2AState s, Instant promised, WorkflowContext ctx)
    {
        var flags = CutOffFlags(ctx.Now, promised, s.ExpectedDischargeAt, ctx);
        if (flags.Count == 0) return;
        d.Record(new CutOffsFlagged(flags));
        foreach (var to in Brokerage(ctx, "brokerage-duty")) d.Send(D2AReferralMessages.CutOffsFlagged(ctx.Reference, to, flags, promised));
    }

    /// <summary>
    /// Brokerage works 09:00–17:00 Monday to Friday and 10:00–14:00 Saturday and Sunday (App M §6). Alerts always go to
    /// the brokerage mailbox; when it is closed they also go to the out-of-hours duty (Contacts:out-of-hours, the
    /// Emergency Duty Team), so a missed deadline at night is seen at night.
    /// </summary>
    public static bool BrokerageOpen(Instant at, WorkflowContext ctx)
    {
        var local = at.InZone(WorkflowContext.London).LocalDateTime;
        var weekend = local.DayOfWeek is IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday;
        var (opens, closes) = weekend ? (Policy.WeekendOpens(ctx), Policy.WeekendCloses(ctx)) : (Policy.Opens(ctx), Policy.Closes(ctx));
        return local.TimeOfDay >= opens && local.TimeOfDay < closes;
    }

    private static IReadOnlyList<string> Brokerage(WorkflowContext ctx, string key) =>
        BrokerageOpen(ctx.Now, ctx) ? [ctx.Contacts.Email(key)] : [ctx.Contacts.Email(key), ctx.Contacts.Email("out-of-hours")];

    /// <summary>
    /// Until when the winner's link to the full referral works: the end of the package, which is the 6-week cap after
    /// discharge (App M §5, App H); before discharge, after the expected discharge. The provider needs the details for as
    /// long as it delivers the package. A new link goes out when the discharge (or its expected time) moves, so the link
    /// in hand always reaches the cap; closing or re-awarding revokes it sooner (the details page checks the award).
    /// </summary>
    public static Instant DetailsLinkExpiry(D2AState s, WorkflowContext ctx) => CapAt(s.DischargedAt ?? s.ExpectedDischargeAt, ctx);

    /// <summary>The winner's link to the full referral: a signed token with action "details", served by /d2a/details/{token}.</summary>
    public static string DetailsLink(WorkflowContext ctx, string providerId, Instant expires) =>
        ctx.Links.Issue(ctx.Reference, providerId, "details", expires).Replace("/l/", "/d2a/details/", StringComparison.Ordinal);

    // ---- 6. discharge ----

    private Decision Discharge(D2AState s, ConfirmDischarge c, WorkflowContext ctx)
    {
        if (Require(ctx, DischargeStaff, "confirm a discharge") is { } no) return no;
        if (s.Status == D2AStatus.Active) return Decision.Conflict($"{ctx.Reference} is already discharged.");
        if (s.Status != D2AStatus.Awarded) return Decision.Conflict($"{ctx.Reference} has no provider yet ({s.Status}): award the package first.");
        var at = c.DischargedAt ?? ctx.Now;
        if (at > ctx.Now) return Decision.Invalid("A discharge cannot be confirmed for a time in the future.");
        if (at < s.RaisedAt) return Decision.Invalid("The discharge time is before the referral was raised.");
        var discharged = new Discharged(at, s.CarePlanApplies ? at + Policy.CarePlan(ctx) : null);
        var d = new DecisionBuilder().Record(discharged).CancelTimer(DischargeCheckTimer);
        var next = Evolve(s, discharged);
        SetPackageTimers(d, next, at, ctx);
        d.Send(D2AReferralMessages.DischargeConfirmed(ctx.Reference, s.Award!.Provider, at, CapAt(at, ctx),
            DetailsLink(ctx, s.Award.Provider.Id, DetailsLinkExpiry(next, ctx))));
        if (s.CarePlanApplies)
        {
            var prev = s.Referral!.PreviousProvider!;
            var due = at + Policy.CarePlan(ctx);
            var link = ctx.Links.Issue(ctx.Reference, prev.Id, "care-plan", due + Duration.FromDays(7));
            d.Send(D2AReferralMessages.CarePlanRevisionRequest(ctx.Reference, prev, due, link));
        }
        return d.Build();
    }

    /// <summary>Week-5 prompt and 6-week cap in calendar weeks, Europe/London (wall-clock time kept across BST changes); plan revision 48 elapsed hours.</summary>
    private static void SetPackageTimers(DecisionBuilder d, D2AState s, Instant start, WorkflowContext ctx)
    {
        if (!s.EndDatePrompted && s.PlannedEndDate is null) d.SetTimer(Week5Timer, PlusWeeks(start, Policy.PromptWeek(ctx)));
        if (!s.CapReached) d.SetTimer(CapTimer, CapAt(start, ctx));
        if (s.CarePlanApplies && !s.CarePlanReceived && !s.CarePlanOverdue && s.CarePlanDueAt is { } due) d.SetTimer(CarePlanTimer, due);
    }

    public static Instant CapAt(Instant start, WorkflowContext ctx) => PlusWeeks(start, Policy.Weeks(ctx));

    /// <summary>The same local time N calendar weeks later in Europe/London.</summary>
    public static Instant PlusWeeks(Instant start, int weeks) =>
        start.InZone(WorkflowContext.London).LocalDateTime.PlusWeeks(weeks).InZoneLeniently(WorkflowContext.London).ToInstant();

    private Decision ChangeTime(D2AState s, ChangeDischargeTime c, WorkflowContext ctx)
    {
        if (Require(ctx, DischargeStaff, "change the discharge time") is { } no) return no;
        var d = new DecisionBuilder();
        var reason = Trim(c.Reason, 1000);
        if (s.Status == D2AStatus.Active)
        {
            if (c.NewTime > ctx.Now) return Decision.Invalid("The person has been discharged: the corrected discharge time cannot be in the future.");
            if (c.NewTime < s.RaisedAt) return Decision.Invalid("The discharge time is before the referral was raised.");
            if (c.NewTime == s.DischargedAt) return Decision.Invalid("That is already the discharge time.");
            var e = new DischargeTimeChanged(s.DischargedAt!.Value, c.NewTime, reason, s.CarePlanApplies ? c.NewTime + Policy.CarePlan(ctx) : null);
            d.Record(e);
            SetPackageTimers(d, Evolve(s, e), c.NewTime, ctx);
            return d.Build();
        }
        if (c.NewTime <= ctx.Now) return Decision.Invalid("The expected discharge time is in the past.");
        if (c.NewTime > ctx.Now + Duration.FromDays(28)) return Decision.Invalid("The expected discharge time is more than 28 days away.");
        if (c.NewTime == s.ExpectedDischargeAt) return Decision.Invalid("That is already the expected discharge time.");
        var changed = new DischargeTimeChanged(s.ExpectedDischargeAt, c.NewTime, reason);
        d.Record(changed).SetTimer(DischargeCheckTimer, c.NewTime + Policy.DischargeCheck(ctx));
        var next = Evolve(s, changed);
        if (s.Status == D2AStatus.Awarded)
        {
            var promised = Max(s.Award!.FirstCallAt, c.NewTime);
            d.Send(D2AReferralMessages.DischargeTimeChanged(ctx.Reference, s.Award.Provider, c.NewTime, promised,
                DetailsLink(ctx, s.Award.Provider.Id, DetailsLinkExpiry(next, ctx))));
            FlagCutOffs(d, next, promised, ctx);
        }
        else if (s.Offering)
            foreach (var o in s.CurrentRound.Where(o => !o.Answered || o.Accepted == true))
                d.Send(D2AReferralMessages.DischargeTimeChanged(ctx.Reference, o.Provider, c.NewTime, null));
        return d.Build();
    }

    // ---- 6. plan revision, end date, cap ----

    private Decision CarePlan(D2AState s, ReceiveCarePlanRevision c, WorkflowContext ctx)
    {
        if (!s.CarePlanApplies) return Decision.Conflict($"No provider supported the person before admission, so {ctx.Reference} expects no plan revision (B 4.6.8).");
        var prev = s.Referral!.PreviousProvider!;
        if (ctx.Actor.Role == Roles.Provider)
        {
            if (ctx.Actor.ProviderId != prev.Id) return Decision.Forbidden("Only the provider who supported the person before admission may send the plan revision.");
        }
        else if (Require(ctx, PlanRecorders, "record a care-plan revision") is { } no) return no;
        if (c.ProviderId is not null && c.ProviderId != prev.Id) return Decision.Forbidden("Only the provider who supported the person before admission may send the plan revision.");
        if (s.Status != D2AStatus.Active) return Decision.Conflict($"{ctx.Reference} has not been discharged yet.");
        if (s.CarePlanReceived) return Decision.Conflict($"The plan revision for {ctx.Reference} was already received.");
        if (string.IsNullOrWhiteSpace(c.Summary) || c.Summary.Length > 4000) return Decision.Invalid("Describe the revisions (up to 4,000 characters).");
        var d = new DecisionBuilder().Record(new CarePlanRevisionReceived(c.Summary.Trim())).CancelTimer(CarePlanTimer);
        d.Send(D2AReferralMessages.CarePlanReceived(ctx.Reference, ctx.Contacts.Email("care-manager")));
        return d.Build();
    }

    private Decision Plan(D2AState s, PlanEnd p, WorkflowContext ctx)
    {
        if (Require(ctx, D2ATeam, "plan the end of a package") is { } no) return no;
        if (s.Status != D2AStatus.Active) return Decision.Conflict($"{ctx.Reference} is not an active package ({s.Status}).");
        var start = WorkingCalendar.LocalDateOf(s.DischargedAt!.Value);
        var cap = WorkingCalendar.LocalDateOf(CapAt(s.DischargedAt.Value, ctx));
        if (p.EndDate < start || p.EndDate > cap) return Decision.Invalid($"The end date must be between {start:d MMM yyyy} and {cap:d MMM yyyy} (6 weeks at most, App M §5).");
        var d = new DecisionBuilder().Record(new EndDatePlanned(p.EndDate, p.ExpectedOutcome)).CancelTimer(Week5Timer);
        d.Send(D2AReferralMessages.EndDatePlanned(ctx.Reference, s.Award!.Provider, p.EndDate));
        return d.Build();
    }

    private Decision Condition(D2AState s, ReportConditionChange c, WorkflowContext ctx)
    {
        if (ctx.Actor.Role == Roles.Provider)
        {
            if (s.Award is null || ctx.Actor.ProviderId != s.Award.Provider.Id) return Decision.Forbidden("Only the provider with the package may report a change in condition.");
        }
        else if (Require(ctx, D2ATeam, "record a change in condition") is { } no) return no;
        if (c.ProviderId is not null && c.ProviderId != s.Award?.Provider.Id) return Decision.Forbidden("Only the provider with the package may report a change in condition.");
        if (s.Status != D2AStatus.Active) return Decision.Conflict($"{ctx.Reference} is not an active package ({s.Status}).");
        if (string.IsNullOrWhiteSpace(c.Summary) || c.Summary.Length > 4000) return Decision.Invalid("Describe the change (up to 4,000 characters).");
        var d = new DecisionBuilder().Record(new ConditionChangeReported(c.Improved, c.Summary.Trim()));
        // App M §3: a change may mean D2A is no longer the right package; the D2A team decides (details stay on the timeline).
        d.Send(D2AReferralMessages.ConditionChanged(ctx.Reference, ctx.Contacts.Email("d2a-team"), s.Award!.Provider.Name, c.Improved));
        return d.Build();
    }

    // ---- 7. close ----

    private Decision Close(D2AState s, CloseReferral c, WorkflowContext ctx)
    {
        if (Require(ctx, D2ATeam, "close a referral") is { } no) return no;
        if (!Enum.IsDefined(c.Outcome)) return Decision.Invalid("Unknown outcome.");
        if (c.Outcome == D2AOutcome.Other && string.IsNullOrWhiteSpace(c.Notes)) return Decision.Invalid("Say what the outcome was when it is \"other\".");
        var d = new DecisionBuilder().Record(new ReferralClosed(c.Outcome, Trim(c.Notes, 2000)));
        if (s.Award is { } award) d.Send(D2AReferralMessages.Closed(ctx.Reference, award.Provider));
        else if (s.Offering)
            foreach (var o in s.CurrentRound.Where(o => !o.Answered || o.Accepted == true)) d.Send(D2AReferralMessages.OfferClosed(ctx.Reference, o.Provider));
        return d.Build();
    }

    // ---- timers ----

    private Decision OnTimer(D2AState s, string name, WorkflowContext ctx)
    {
        var d = new DecisionBuilder();
        switch (name)
        {
            case ReminderTimer when s.Offering:
                // Only those who have not answered are reminded; the links are the same ones (same expiry).
                var waiting = s.CurrentRound.Where(o => !o.Answered && !o.Reminded).ToList();
                if (waiting.Count == 0) return Decision.Nothing;
                d.Record(new RemindersSent(s.Round, waiting.Select(o => o.Provider.Id).ToList()));
                foreach (var o in waiting)
                    foreach (var m in D2AReferralMessages.Offer(ctx.Reference, s.Referral!, s.ExpectedDischargeAt, o.Provider, o.Deadline,
                                 ctx.Links.Issue(ctx.Reference, o.Provider.Id, "accept", o.Deadline), ctx.Links.Issue(ctx.Reference, o.Provider.Id, "decline", o.Deadline), reminder: true))
                        d.Send(m);
                return d.Build();
            case WindowTimer when s.Offering:
                EndRound(d, s, ctx);
                return d.Build();
            case DischargeCheckTimer when s.Status is D2AStatus.Awarded or D2AStatus.OfferedToPatch or D2AStatus.OfferedToFramework or D2AStatus.NoProviderFound:
                d.Record(new DischargeOverdue(s.ExpectedDischargeAt));
                foreach (var to in Brokerage(ctx, "brokerage-duty")) d.Send(D2AReferralMessages.DischargeNotConfirmed(ctx.Reference, to, s.Referral!.Referrer.Email, s.ExpectedDischargeAt));
                return d.Build();
            case Week5Timer when s.Status == D2AStatus.Active && s.PlannedEndDate is null:
                var cap = WorkingCalendar.LocalDateOf(CapAt(s.DischargedAt!.Value, ctx));
                d.Record(new EndDatePrompted(cap));
                d.Send(D2AReferralMessages.EndDatePrompt(ctx.Reference, ctx.Contacts.Email("d2a-team"), cap));
                return d.Build();
            case CapTimer when s.Status == D2AStatus.Active:
                var capAt = CapAt(s.DischargedAt!.Value, ctx);
                d.Record(new CapReached(capAt));
                foreach (var m in D2AReferralMessages.CapReached(ctx.Reference, [ctx.Contacts.Email("d2a-team-lead"), .. Brokerage(ctx, "brokerage-duty")], capAt)) d.Send(m);
                return d.Build();
            case CarePlanTimer when s.Status == D2AStatus.Active && s.CarePlanApplies && !s.CarePlanReceived:
                var due = s.CarePlanDueAt ?? s.DischargedAt!.Value + Policy.CarePlan(ctx);
                d.Record(new CarePlanRevisionOverdue(due));
                d.Send(D2AReferralMessages.CarePlanOverdue(ctx.Reference, ctx.Contacts.Email("care-manager"), s.Referral!.PreviousProvider!.Name, due));
                return d.Build();
            default:
                return Decision.Nothing;
        }
    }

    private static Decision OnMessageFailed(D2AState s, MessageFailed f, WorkflowContext ctx)
    {
        var d = new DecisionBuilder().Record(new MessageUndelivered(f.Purpose, f.Channel, f.To, Trim(f.Error, 500) ?? ""));
        // A provider we could not reach is brokerage's problem at once; staff mailboxes failing are only recorded (no loops).
        if (!f.Purpose.StartsWith("staff-", StringComparison.Ordinal) && s.Status != D2AStatus.Closed)
            foreach (var to in Brokerage(ctx, "brokerage-duty")) d.Send(D2AReferralMessages.UndeliveredAlert(ctx.Reference, to, f.Purpose, f.Channel));
        return d.Build();
    }

    // ================================================================ evolve

    public override D2AState Evolve(D2AState s, WorkflowEvent e) => e switch
    {
        ReferralRaised r => s with { Status = D2AStatus.OfferedToPatch, Referral = r.Referral, RaisedAt = r.At, ExpectedDischargeAt = r.Referral.ExpectedDischargeAt },
        OffersSent o => s with
        {
            Status = o.Round == 1 ? D2AStatus.OfferedToPatch : D2AStatus.OfferedToFramework,
            Round = o.Round,
            RoundDeadline = o.Deadline,
            Offers = s.Offers.AddRange(o.Providers.Select(p => new Offer(p, o.Round, o.OfferedAt, o.Deadline))),
        },
        RemindersSent r => s with { Offers = s.Offers.Select(o => o.Round == r.Round && r.ProviderIds.Contains(o.Provider.Id) ? o with { Reminded = true } : o).ToImmutableList() },
        OfferAccepted a => s with { Offers = Answer(s, a.ProviderId, o => o with { Accepted = true, FirstCallAt = a.FirstCallAt, AnsweredAt = a.At }) },
        OfferDeclined x => s with { Offers = Answer(s, x.ProviderId, o => o with { Accepted = false, Reason = x.Reason, AnsweredAt = x.At }) },
        BrokerageAlerted => s,
        NoProviderFound => s with { Status = D2AStatus.NoProviderFound, RoundDeadline = null },
        PackageAwarded w => s with { Status = D2AStatus.Awarded, RoundDeadline = null, Award = new AwardInfo(w.Provider, w.FirstCallAt, w.At, w.By, w.Reason) },
        CutOffsFlagged f => s with { Flags = s.Flags.AddRange(f.Flags) },
        DischargeTimeChanged c => s.Status == D2AStatus.Active ? s with { DischargedAt = c.To, CarePlanDueAt = c.CarePlanDueAt } : s with { ExpectedDischargeAt = c.To, DischargeOverdue = false },
        DischargeOverdue => s with { DischargeOverdue = true },
        Discharged x => s with { Status = D2AStatus.Active, DischargedAt = x.At, CarePlanDueAt = x.CarePlanDueAt },
        EndDatePrompted => s with { EndDatePrompted = true },
        EndDatePlanned p => s with { PlannedEndDate = p.EndDate, PlannedOutcome = p.ExpectedOutcome },
        CapReached => s with { CapReached = true },
        CarePlanRevisionReceived => s with { CarePlanReceived = true },
        CarePlanRevisionOverdue => s with { CarePlanOverdue = true },
        MessageUndelivered => s,
        ConditionChangeReported => s,
        ReferralClosed c => s with { Status = D2AStatus.Closed, Outcome = c.Outcome, ClosingNotes = c.Notes, RoundDeadline = null },
        _ => s,
    };

    private static ImmutableList<Offer> Answer(D2AState s, string providerId, Func<Offer, Offer> change)
    {
        var i = s.Offers.FindLastIndex(o => o.Provider.Id == providerId);
        return i < 0 ? s.Offers : s.Offers.SetItem(i, change(s.Offers[i]));
    }

    public override string Status(D2AState s) => s.Status.ToString();
    public override bool IsCompleted(D2AState s) => s.Status == D2AStatus.Closed;

    /// <summary>For lists: patch, discharge time, who has it. No personal data.</summary>
    public override string Summary(D2AState s) => s.Referral is null ? "" :
        $"{s.Referral.Patch} · discharge {WorkflowContext.Local(s.DischargedAt ?? s.ExpectedDischargeAt)}" +
        (s.Award is { } a ? $" · {a.Provider.Name}" : "") + (s.Flags.Count > 0 ? " · flagged" : "");

    // ================================================================ asks and replies (links, SMS, email)

    /// <summary>
    /// Offers waiting for an answer in the current round (one "accept" and one "decline" ask per provider), and the plan
    /// revision awaited from the provider who supported the person before admission ("care-plan").
    /// </summary>
    public override IReadOnlyList<OpenAsk> OpenAsks(D2AState s)
    {
        var asks = new List<OpenAsk>();
        if (s.Offering && s.Referral is { } r)
        {
            foreach (var o in s.CurrentRound.Where(o => !o.Answered))
            {
                var facts = D2AReferralMessages.OfferFacts(r, s.ExpectedDischargeAt, includeNeeds: true);
                asks.Add(new OpenAsk(o.Provider.Id, "accept", $"Accept D2A package {facts}", o.Deadline, o.Provider.Email, o.Provider.Mobile, Roles.Provider,
                    [new AskField("firstCall", "Earliest first call you can make", "datetime-local", true, "UK time. A time alone (14:30) means its next occurrence.")]));
                asks.Add(new OpenAsk(o.Provider.Id, "decline", $"Decline D2A package {facts}", o.Deadline, o.Provider.Email, o.Provider.Mobile, Roles.Provider,
                    [new AskField("reason", "Reason (optional)", "textarea")]));
            }
        }
        if (s.Status == D2AStatus.Active && s.CarePlanApplies && !s.CarePlanReceived && s.Referral!.PreviousProvider is { } prev)
            asks.Add(new OpenAsk(prev.Id, "care-plan", "Send the revisions to the care and support plan after discharge (B 4.6.8).",
                s.CarePlanDueAt, prev.Email, prev.Mobile, Roles.Provider,
                [new AskField("summary", "What changed in the care and support plan", "textarea", true)]));
        return asks;
    }

    /// <summary>
    /// Turns an answer into an input. Link forms send "firstCall" (datetime-local or HH:mm), "reason", "summary";
    /// SMS and email replies send free text in "text" (e.g. "ACCEPT D2A-7K3QX 14:30", "2.30pm", "25/11 09:00").
    /// </summary>
    public override ReplyResult ParseReply(D2AState s, OpenAsk ask, IReadOnlyDictionary<string, string> fields)
    {
        var text = Field(fields, "text");
        switch (ask.Action)
        {
            case "accept":
                var raw = Field(fields, "firstCall") ?? text;
                if (raw is null || !TryParseFirstCall(raw, s.ExpectedDischargeAt, out var at, out var time))
                    return ReplyResult.Fail("Please give the earliest first call you can make, for example 14:30 or 2026-11-24 14:30.");
                return ReplyResult.Ok(new ProviderResponse(ask.RecipientId, true, at, time));
            case "decline":
                var reason = Field(fields, "reason") ?? (text is null ? null : StripCommand(text));
                return ReplyResult.Ok(new ProviderResponse(ask.RecipientId, false, Reason: string.IsNullOrWhiteSpace(reason) ? null : reason.Trim()));
            case "care-plan":
                var summary = Field(fields, "summary") ?? (text is null ? null : StripCommand(text));
                if (string.IsNullOrWhiteSpace(summary)) return ReplyResult.Fail("Please describe what changed in the care and support plan.");
                return ReplyResult.Ok(new ReceiveCarePlanRevision(summary.Trim(), ask.RecipientId));
            default:
                return ReplyResult.Fail($"A D2A referral does not take \"{ask.Action}\" answers.");
        }
    }

    private static string? Field(IReadOnlyDictionary<string, string> fields, string name)
    {
        foreach (var (k, v) in fields)
            if (string.Equals(k, name, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(v)) return v;
        return null;
    }

    private static readonly Regex Command = new(@"^\s*(accept|yes|decline|no|revise|plan)\b|\b[A-Z0-9]{1,8}-[A-Z0-9]{5}\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static string StripCommand(string text) => Command.Replace(text, " ").Trim();

    private static readonly Regex TimeOfDay = new(
        @"(?<![\d:])(?<h>[01]?\d|2[0-3])(?:[:.](?<m>[0-5]\d))?\s*(?<ap>am|pm)?(?![\d])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly Regex DayMonth = new(@"\b(?<d>[0-3]?\d)/(?<mo>[01]?\d)(?:/(?<y>\d{2}|\d{4}))?\b", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>
    /// Reads a first-call time: an ISO local date-time ("2026-11-24T14:30", "2026-11-24 14:30") in Europe/London, or free
    /// text with a time ("14:30", "2.30pm", "9am") and optionally a day ("25/11 09:00"). A time without a day is returned
    /// as a local time (its next occurrence is taken when the answer is applied).
    /// </summary>
    public static bool TryParseFirstCall(string raw, Instant discharge, out Instant? at, out LocalTime? time)
    {
        at = null; time = null;
        raw = raw.Trim();
        if (raw.Length > 200) return false;
        foreach (var pattern in new[] { "uuuu-MM-dd'T'HH:mm", "uuuu-MM-dd'T'HH:mm:ss", "uuuu-MM-dd HH:mm" })
            if (LocalDateTimePattern.CreateWithInvariantCulture(pattern).Parse(raw) is { Success: true } ldt)
            {
                at = ldt.Value.InZoneLeniently(WorkflowContext.London).ToInstant();
                return true;
            }
        if (OffsetDateTimePattern.ExtendedIso.Parse(raw) is { Success: true } odt) { at = odt.Value.ToInstant(); return true; }

        var rest = StripCommand(raw);
        LocalDate? date = null;
        if (DayMonth.Match(rest) is { Success: true } dm)
        {
            var dischargeDate = WorkingCalendar.LocalDateOf(discharge);
            var year = dm.Groups["y"].Success ? int.Parse(dm.Groups["y"].Value, CultureInfo.InvariantCulture) : dischargeDate.Year;
            if (year < 100) year += 2000;
            try { date = new LocalDate(year, int.Parse(dm.Groups["mo"].Value, CultureInfo.InvariantCulture), int.Parse(dm.Groups["d"].Value, CultureInfo.InvariantCulture)); }
            catch (ArgumentOutOfRangeException) { return false; }
            if (!dm.Groups["y"].Success && date < dischargeDate.PlusMonths(-6)) date = date.Value.PlusYears(1);
            rest = rest.Remove(dm.Index, dm.Length);
        }
        foreach (Match m in TimeOfDay.Matches(rest))
        {
            // A bare number ("3") is not a time; "3pm", "15:00" and "3.30" are.
            if (!m.Groups["m"].Success && !m.Groups["ap"].Success) continue;
            var h = int.Parse(m.Groups["h"].Value, CultureInfo.InvariantCulture);
            var min = m.Groups["m"].Success ? int.Parse(m.Groups["m"].Value, CultureInfo.InvariantCulture) : 0;
            if (m.Groups["ap"].Success)
            {
                if (h is < 1 or > 12) continue;
                var pm = m.Groups["ap"].Value.Equals("pm", StringComparison.OrdinalIgnoreCase);
                h = h % 12 + (pm ? 12 : 0);
            }
            var t = new LocalTime(h, min);
            if (date is { } day) at = day.At(t).InZoneLeniently(WorkflowContext.London).ToInstant();
            else time = t;
            return true;
        }
        return false;
    }

    /// <summary>The next time the London clock shows <paramref name="time"/>, at or after <paramref name="now"/>.</summary>
    public static Instant NextOccurrence(LocalTime time, Instant now)
    {
        var local = now.InZone(WorkflowContext.London).LocalDateTime;
        var candidate = local.Date.At(time);
        if (candidate < local) candidate = candidate.PlusDays(1);
        return candidate.InZoneLeniently(WorkflowContext.London).ToInstant();
    }

    // ================================================================ small rules

    /// <summary>NHS number check: 10 digits; weights 10..2 on the first nine; 11 − (sum mod 11) is the check digit (11 → 0; 10 is never valid).</summary>
    public static bool IsValidNhsNumber(string? value)
    {
        var digits = NormaliseNhsNumber(value);
        if (digits is null || digits.Length != 10 || !digits.All(char.IsAsciiDigit)) return false;
        var sum = 0;
        for (var i = 0; i < 9; i++) sum += (digits[i] - '0') * (10 - i);
        var check = 11 - sum % 11;
        if (check == 11) check = 0;
        return check != 10 && check == digits[9] - '0';
    }

    /// <summary>
    /// All ten digits the same (0000000000, 1111111111, ...): every such number passes the modulus-11 check (54·d ≡ −d mod 11
    /// gives check digit d), so systems use them as fillers. They are nobody's NHS number.
    /// </summary>
    public static bool IsPlaceholderNhsNumber(string? value) =>
        NormaliseNhsNumber(value) is { Length: 10 } digits && digits.All(char.IsAsciiDigit) && digits.All(c => c == digits[0]);

    private static string? NormaliseNhsNumber(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Replace(" ", "").Replace("-", "");

    private static readonly Regex PostcodePattern = new(@"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>"br6 7jh" → "BR6 7JH"; null when it is not a UK postcode shape.</summary>
    public static string? NormalisePostcode(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 10) return null;
        var m = PostcodePattern.Match(value.Trim().ToUpperInvariant());
        return m.Success ? $"{m.Groups[1].Value} {m.Groups[2].Value}" : null;
    }

    /// <summary>The outward code ("BR6"): the only part of the address an offer carries.</summary>
    public static string PostcodeDistrict(string postcode) => NormalisePostcode(postcode) is { } p ? p[..p.IndexOf(' ')] : "";

    private static Instant Max(Instant a, Instant b) => a > b ? a : b;
    private static string? Trim(string? s, int max) => string.IsNullOrWhiteSpace(s) ? null : s.Trim().Length > max ? s.Trim()[..max] : s.Trim();

    internal static string Words(Duration d) =>
        d.TotalMinutes % 60 != 0 ? $"{d.TotalMinutes:0} minutes" : d.TotalHours == 1 ? "1 hour" : $"{d.TotalHours:0} hours";
}
