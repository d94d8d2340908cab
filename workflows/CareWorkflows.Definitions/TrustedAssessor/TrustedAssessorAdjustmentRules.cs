using System.Globalization;
using NodaTime;
using static CareWorkflows.Definitions.TrustedAssessor.TrustedAssessorAdjustment;

namespace CareWorkflows.Definitions.TrustedAssessor;

/// <summary>
/// The within-parameters rule for trusted-assessor adjustments (App G.6, G.10 §1). Defaults: reduce by up to 25%, increase by up
/// to 10%, increases only for low-level packages; anything else needs care-manager approval first (G.7, G.10 §5).
/// </summary>
public sealed record ParameterPolicy(decimal MaxReductionPercent, decimal MaxIncreasePercent, bool IncreaseLowLevelOnly)
{
    public static readonly ParameterPolicy AppendixG = new(Policy.DefaultMaxReductionPercent, Policy.DefaultMaxIncreasePercent, Policy.DefaultIncreaseLowLevelOnly);

    public static ParameterPolicy From(PolicySettings p) => new(
        p.Decimal(Policy.MaxReductionPercent, AppendixG.MaxReductionPercent),
        p.Decimal(Policy.MaxIncreasePercent, AppendixG.MaxIncreasePercent),
        p.Bool(Policy.IncreaseLowLevelOnly, AppendixG.IncreaseLowLevelOnly));
}

/// <summary>The outcome of the parameter rule: within or not, the change in percent (display, 2 dp) and why.</summary>
public sealed record ParameterCheck(bool Within, decimal ChangePercent, string Explanation);

/// <summary>
/// Rounding and comparison, written down once:
/// <list type="bullet">
/// <item>Weekly hours are rounded to 2 decimal places, midpoints away from zero (7.495 → 7.50), when they enter the workflow;
/// the rounded figures are the ones recorded, compared and paid.</item>
/// <item>The limit is compared exactly in decimal arithmetic without dividing: a reduction is within when
/// proposed × 100 ≥ current × (100 − max reduction %), an increase when proposed × 100 ≤ current × (100 + max increase %).
/// So −25% and +10% exactly are within and −25.1% or +10.1% are not; no floating point and no rounded percentage decide it.</item>
/// <item>The percentage shown to people is (proposed − current) / current × 100 rounded to 2 dp; it never decides anything.</item>
/// </list>
/// </summary>
public static class AdjustmentParameters
{
    public static decimal RoundHours(decimal hours) => Math.Round(hours, 2, MidpointRounding.AwayFromZero);

    public static decimal ChangePercent(decimal current, decimal proposed) =>
        current == 0 ? 0 : Math.Round((proposed - current) * 100m / current, 2, MidpointRounding.AwayFromZero);

    public static ParameterCheck Evaluate(decimal currentHours, decimal proposedHours, bool lowLevel, ParameterPolicy policy)
    {
        var current = RoundHours(currentHours);
        var proposed = RoundHours(proposedHours);
        var pct = ChangePercent(current, proposed);
        if (current <= 0 || proposed <= 0) return new(false, pct, "Weekly hours must be more than zero.");
        if (proposed == current) return new(false, 0, "The proposed hours are the same as the current hours.");
        if (proposed < current)
        {
            var within = proposed * 100m >= current * (100m - policy.MaxReductionPercent);
            return new(within, pct, within
                ? $"A reduction of {-pct:0.##}% is within the {policy.MaxReductionPercent:0.##}% a trusted assessor may make (App G.6)."
                : $"A reduction of {-pct:0.##}% is more than the {policy.MaxReductionPercent:0.##}% a trusted assessor may make: care-manager approval is needed first (App G.7).");
        }
        if (policy.IncreaseLowLevelOnly && !lowLevel)
            return new(false, pct, "Trusted assessors may increase low-level packages only: care-manager approval is needed first (App G.6–G.7).");
        var ok = proposed * 100m <= current * (100m + policy.MaxIncreasePercent);
        return new(ok, pct, ok
            ? $"An increase of {pct:0.##}% is within the {policy.MaxIncreasePercent:0.##}% a trusted assessor may make (App G.6)."
            : $"An increase of {pct:0.##}% is more than the {policy.MaxIncreasePercent:0.##}% a trusted assessor may make: care-manager approval is needed first (App G.7).");
    }
}

/// <summary>
/// The rules of a trusted-assessor adjustment, pure: who may propose, sign off, approve, raise a concern, pause and
/// review, in which stage; the windows' working-day arithmetic; what is asked of whom and how answers read. The API runs
/// the same checks at once against the published state; the orchestration has the last word.
/// </summary>
public static class TrustedAssessorAdjustmentRules
{
    private static Rejection Invalid(string detail, string? field = null) => new(RejectionKind.Invalid, "The request is not valid", detail, field);
    private static Rejection Conflict(string detail, string? field = null) => new(RejectionKind.Conflict, "Not possible in the current state", detail, field);
    private static Rejection Forbidden(string detail, string? field = null) => new(RejectionKind.Forbidden, "Not allowed", detail, field);

    /// <summary>"7.50": hours as people read them and as the money is worked out.</summary>
    public static string H(decimal hours) => hours.ToString("0.00", CultureInfo.InvariantCulture);
    public static string Percent(decimal pct) => pct.ToString("+0.##;-0.##;0", CultureInfo.InvariantCulture);
    public static string Date(LocalDate date) => date.ToString("d MMM yyyy", CultureInfo.InvariantCulture);

    private static Rejection? TextError(string name, string? value, string field, bool required = true) =>
        string.IsNullOrWhiteSpace(value) ? (required ? Invalid($"{name} is required.", field) : null)
        : value.Length > MaxTextLength ? Invalid($"{name} is longer than {MaxTextLength:N0} characters.", field) : null;

    // ---------------------------------------------------------------- proposing (App G.1, G.6, G.10 §1, §4.2, B 9.8)

    /// <summary>
    /// Only the provider delivering the package, through its own active and qualified trusted assessor (App G.1,
    /// G.10 §4.2), with the person's agreement (B 9.8), from the hours in effect, to new hours, effective within the policy.
    /// The registry facts come with the proposal (the API read them); nothing here reads anything.
    /// </summary>
    public static Rejection? CheckPropose(ProposeAdjustment p, Actor actor, Instant now, PolicySettings policy)
    {
        var (a, pkg) = (p.Assessor, p.Package);
        if (actor.Role != Roles.Provider || actor.ProviderId != pkg.ProviderId)
            return Forbidden($"Only the provider delivering {pkg.Id} may propose an adjustment to it.", "packageId");
        if (a.ProviderId != pkg.ProviderId) return Forbidden($"Trusted assessor {a.Id} does not work for {pkg.ProviderId}, which delivers {pkg.Id}.", "assessorId");
        if (!a.Active) return Invalid($"Trusted assessor {a.Id} is not active.", "assessorId");
        if (!a.Qualified)
            return Invalid($"Trusted assessor {a.Id} is not qualified: LBB trusted-assessor training and at least a Level 2 diploma are required (App G.1).", "assessorId");
        if (!p.PersonAgreed) return Invalid("The person (or their representative) has not agreed to the change (B 9.8); it cannot be made.", "personAgreed");
        var texts = new[] { TextError("Goals", p.Goals, "goals"), TextError("Rationale", p.Rationale, "rationale"), TextError("Evidence", p.Evidence, "evidence"),
            TextError("Agreed by", p.AgreedBy, "agreedBy") }.OfType<Rejection>().ToList();
        if (texts.Count > 0) return Invalid(string.Join(" ", texts.Select(t => t.Detail)), texts[0].Field);

        var current = AdjustmentParameters.RoundHours(p.CurrentWeeklyHours);
        var proposed = AdjustmentParameters.RoundHours(p.ProposedWeeklyHours);
        if (proposed <= 0) return Invalid("The proposed weekly hours must be more than zero.", "proposedWeeklyHours");
        if (proposed > MaxWeeklyHours) return Invalid($"The proposed weekly hours cannot be more than {MaxWeeklyHours}.", "proposedWeeklyHours");
        if (current != AdjustmentParameters.RoundHours(pkg.WeeklyHours))
            return Conflict($"{pkg.Id} is now {H(pkg.WeeklyHours)} hours a week, not {H(current)}: propose from the hours in effect.", "currentWeeklyHours");
        if (proposed == current) return Invalid("The proposed hours are the same as the current hours.", "proposedWeeklyHours");

        var today = WorkingCalendar.LocalDateOf(now);
        var backdate = policy.Int(Policy.MaxBackdatingDays, Policy.DefaultMaxBackdatingDays);
        var ahead = policy.Int(Policy.MaxDaysAhead, Policy.DefaultMaxDaysAhead);
        if (p.EffectiveDate < today.PlusDays(-backdate))
            return Invalid($"The effective date {p.EffectiveDate:yyyy-MM-dd} is more than {backdate} days in the past.", "effectiveDate");
        if (p.EffectiveDate > today.PlusDays(ahead))
            return Invalid($"The effective date {p.EffectiveDate:yyyy-MM-dd} is more than {ahead} days ahead.", "effectiveDate");
        return null;
    }

    public static ParameterCheck Evaluate(ProposeAdjustment p, PolicySettings policy) =>
        AdjustmentParameters.Evaluate(p.CurrentWeeklyHours, p.ProposedWeeklyHours, p.Package.LowLevel, ParameterPolicy.From(policy));

    /// <summary>
    /// The adjustment as proposed. Within parameters it is in effect at once (G.10 §4.2); outside, nothing changes until
    /// approved (G.7, G.10 §5). Moving-and-handling sign-off when the package or the change involves it; OT approval when
    /// flagged on a change outside parameters.
    /// </summary>
    public static State Proposed(ProposeAdjustment p, ParameterCheck check)
    {
        var current = AdjustmentParameters.RoundHours(p.CurrentWeeklyHours);
        var proposed = AdjustmentParameters.RoundHours(p.ProposedWeeklyHours);
        return new State(AdjustmentStage.New, p.Package.Id, p.Package.ProviderId, p.Assessor.Id, p.Assessor.Email, current, proposed,
            check.Within ? proposed : current, check.ChangePercent, p.EffectiveDate, check.Within, p.Package.MovingAndHandling || p.TouchesMovingAndHandling,
            p.NeedsOtReview && !check.Within, false, false, false, false, null, null, []);
    }

    // ---------------------------------------------------------------- windows (no deadline is written in App G: policy)

    public static int SignOffDays(PolicySettings policy) => Math.Max(1, policy.Int(Policy.SignOffWorkingDays, Policy.DefaultSignOffWorkingDays));
    public static int ApprovalDays(PolicySettings policy) => Math.Max(1, policy.Int(Policy.ApprovalWorkingDays, Policy.DefaultApprovalWorkingDays));
    public static int ConcernDays(PolicySettings policy) => Math.Max(1, policy.Int(Policy.ConcernResponseWorkingDays, Policy.DefaultConcernResponseWorkingDays));

    /// <summary>
    /// A working-day window opened at <paramref name="now"/>: due at the end of the Nth working day after today (Europe/London,
    /// England and Wales bank holidays); the reminder at the reminder hour on that last day, if still ahead. Throws
    /// <see cref="CalendarOutOfRangeException"/> beyond the loaded bank-holiday data (never a guess).
    /// </summary>
    public static (Instant? RemindAt, Instant Due) Window(Instant now, int workingDays, WorkingCalendar calendar, PolicySettings policy)
    {
        var lastDay = calendar.AddWorkingDays(WorkingCalendar.LocalDateOf(now), workingDays);
        var due = calendar.EndOf(lastDay);
        var hour = Math.Clamp(policy.Int(Policy.ReminderHour, Policy.DefaultReminderHour), 0, 23);
        var remind = lastDay.At(new LocalTime(hour, 0)).InZoneLeniently(WorkingCalendar.London).ToInstant();
        return (remind > now && remind < due ? remind : null, due);
    }

    /// <summary>After a pause: the provider confirms the original hours are back within an elapsed window (24 h), reminded at 12 h.</summary>
    public static (Instant? RemindAt, Instant Due) Reinstatement(Instant now, PolicySettings policy)
    {
        var due = now + ReinstatementWindowOf(policy);
        var remind = now + policy.Duration(Policy.ReinstatementReminder, Policy.DefaultReinstatementReminder);
        return (remind > now && remind < due ? remind : null, due);
    }

    public static Duration ReinstatementWindowOf(PolicySettings policy) => policy.Duration(Policy.ReinstatementWindow, Policy.DefaultReinstatementWindow);

    public static Instant LinkExpiry(Instant due) => due + LinkValidAfterDue;

    // ---------------------------------------------------------------- people's inputs

    /// <summary>Every input's checks against the state the adjustment is in; null when it may be taken.</summary>
    public static Rejection? Check(State s, Actor actor, WorkflowInput input, string reference)
    {
        if (s.Stage == AdjustmentStage.New) return Invalid("The adjustment has not been proposed yet.");
        if (s.Closed) return Conflict($"{reference} is closed ({s.Stage}); nothing more can be done to it.");
        return input switch
        {
            SignOff x => CheckSignOff(s, actor, x, reference),
            RaiseConcern x => CheckRaiseConcern(s, actor, x, reference),
            RespondToConcern x => CheckRespond(s, actor, x, reference),
            PausePendingReview x => CheckPause(s, actor, x, reference),
            ConfirmReinstatement x => CheckReinstated(s, actor, x, reference),
            RecordReviewOutcome x => CheckReviewOutcome(s, actor, x, reference),
            Approve x => CheckApprove(s, actor, x, reference),
            Reject x => CheckReject(s, actor, x, reference),
            _ => Invalid($"{input.GetType().Name} is not an input of a trusted-assessor adjustment."),
        };
    }

    private static bool IsOwnProvider(State s, Actor actor) => actor.Role == Roles.Provider && actor.ProviderId == s.ProviderId;

    /// <summary>G.10 §4.2: the senior care manager signs off; the moving-and-handling assessor too where the package or change involves it.</summary>
    public static Rejection? CheckSignOff(State s, Actor actor, SignOff x, string reference)
    {
        if (TextError("Note", x.Note, "note", required: false) is { } e) return e;
        if (actor.Role is not (Roles.SeniorCareManager or MovingAndHandlingAssessorRole))
            return Forbidden("Only the senior care manager (or the moving-and-handling assessor, for their part) may sign off a trusted-assessor adjustment (App G.10 §4.2).");
        if (s.Stage is not (AdjustmentStage.AwaitingSignOff or AdjustmentStage.ConcernRaised)) return Conflict($"{reference} is not awaiting sign-off ({s.Stage}).");
        if (actor.Role == Roles.SeniorCareManager)
            return s.SeniorSignedOff ? Conflict("The senior care manager has already signed this off.") : null;
        if (!s.NeedsMovingAndHandlingSignOff) return Conflict("This adjustment does not need moving-and-handling sign-off.");
        return s.MovingAndHandlingSignedOff ? Conflict("The moving-and-handling assessor has already signed this off.") : null;
    }

    public static Rejection? CheckRaiseConcern(State s, Actor actor, RaiseConcern x, string reference)
    {
        if (actor.Role != Roles.SeniorCareManager) return Forbidden("Only the senior care manager may raise a concern about an adjustment (App G.10 §4.2).");
        if (TextError("The concern", x.Concern, "concern") is { } e) return e;
        return s.Stage != AdjustmentStage.AwaitingSignOff ? Conflict($"{reference} is not awaiting sign-off ({s.Stage}).") : null;
    }

    public static Rejection? CheckRespond(State s, Actor actor, RespondToConcern x, string reference)
    {
        if (!IsOwnProvider(s, actor)) return Forbidden($"Only {s.ProviderId} may respond to a concern about this adjustment.");
        if (TextError("The response", x.Response, "response") is { } e) return e;
        return s.Stage != AdjustmentStage.ConcernRaised ? Conflict($"{reference} has no open concern ({s.Stage}).") : null;
    }

    public static Rejection? CheckPause(State s, Actor actor, PausePendingReview x, string reference)
    {
        if (actor.Role != Roles.SeniorCareManager) return Forbidden("Only the senior care manager may pause an adjustment pending review (App G.10 §4.2).");
        if (TextError("The reason", x.Reason, "reason") is { } e) return e;
        return s.Stage is not (AdjustmentStage.AwaitingSignOff or AdjustmentStage.ConcernRaised) ? Conflict($"{reference} cannot be paused now ({s.Stage}).") : null;
    }

    public static Rejection? CheckReinstated(State s, Actor actor, ConfirmReinstatement x, string reference)
    {
        if (!IsOwnProvider(s, actor)) return Forbidden($"Only {s.ProviderId} may confirm the original hours are back.");
        if (TextError("Note", x.Note, "note", required: false) is { } e) return e;
        return s.Stage != AdjustmentStage.AwaitingReinstatement ? Conflict($"{reference} is not waiting for reinstatement ({s.Stage}).") : null;
    }

    public static Rejection? CheckReviewOutcome(State s, Actor actor, RecordReviewOutcome x, string reference)
    {
        if (!actor.IsIn(CareManagementRoles)) return Forbidden("Only care management may record the outcome of the review.");
        if (TextError("The reason", x.Reason, "reason") is { } e) return e;
        return s.Stage is not (AdjustmentStage.AwaitingReinstatement or AdjustmentStage.PausedPendingReview) ? Conflict($"{reference} is not paused pending review ({s.Stage}).") : null;
    }

    /// <summary>G.7, G.10 §5: the care manager approves a change outside parameters before it takes effect; the OT too where flagged.</summary>
    public static Rejection? CheckApprove(State s, Actor actor, Approve x, string reference)
    {
        if (TextError("The reason", x.Reason, "reason", required: false) is { } e) return e;
        var by = ApproverOf(actor);
        if (by is null) return Forbidden("Only a care manager (or the OT, where flagged) may approve a change outside trusted-assessor parameters (App G.7).");
        if (s.Stage != AdjustmentStage.AwaitingApproval) return Conflict($"{reference} is not awaiting approval ({s.Stage}).");
        if (by == People.OccupationalTherapist && !s.NeedsOtApproval) return Conflict("This adjustment does not need OT approval.");
        return (by == People.CareManager ? s.CareManagerApproved : s.OtApproved) ? Conflict("Already approved.") : null;
    }

    public static Rejection? CheckReject(State s, Actor actor, Reject x, string reference)
    {
        var by = ApproverOf(actor);
        if (by is null) return Forbidden("Only a care manager (or the OT, where flagged) may reject a change outside trusted-assessor parameters.");
        if (TextError("The reason", x.Reason, "reason") is { } e) return e;
        if (s.Stage != AdjustmentStage.AwaitingApproval) return Conflict($"{reference} is not awaiting approval ({s.Stage}).");
        return by == People.OccupationalTherapist && !s.NeedsOtApproval ? Conflict("This adjustment does not need OT approval.") : null;
    }

    /// <summary>Whose approval an actor gives: the care manager's (a senior care manager may give it) or the OT's.</summary>
    public static string? ApproverOf(Actor actor) => actor.Role switch
    {
        Roles.CareManager or Roles.SeniorCareManager => People.CareManager,
        OccupationalTherapistRole => People.OccupationalTherapist,
        _ => null,
    };

    // ---------------------------------------------------------------- what an accepted input does to the state

    /// <summary>A sign-off given; true when every sign-off needed is in (G.10 §4.2).</summary>
    public static (State State, string By, bool Complete) SignedOff(State s, Actor actor)
    {
        s = actor.Role == Roles.SeniorCareManager ? s with { SeniorSignedOff = true } : s with { MovingAndHandlingSignedOff = true };
        return (s, actor.Role == Roles.SeniorCareManager ? People.SeniorCareManager : People.MovingAndHandling,
            s.SeniorSignedOff && (s.MovingAndHandlingSignedOff || !s.NeedsMovingAndHandlingSignOff));
    }

    /// <summary>An approval given; true when every approval needed is in (G.7, G.10 §5).</summary>
    public static (State State, string By, bool Complete) Approved(State s, Actor actor)
    {
        var by = ApproverOf(actor)!;
        s = by == People.CareManager ? s with { CareManagerApproved = true } : s with { OtApproved = true };
        return (s, by, s.CareManagerApproved && (s.OtApproved || !s.NeedsOtApproval));
    }

    /// <summary>Signed off or approved: the proposed hours stand from the effective date and the payment follows (App N).</summary>
    public static State Completed(State s, Instant at, string why) =>
        s with { Stage = AdjustmentStage.SignedOff, HoursInEffect = s.ProposedHours, Outcome = why, Due = null, SignedOffAt = at };

    public static IReadOnlyList<string> PendingSignOff(State s) =>
        [.. s.SeniorSignedOff ? Array.Empty<string>() : [People.SeniorCareManager],
         .. s.NeedsMovingAndHandlingSignOff && !s.MovingAndHandlingSignedOff ? [People.MovingAndHandling] : Array.Empty<string>()];

    public static IReadOnlyList<string> PendingApproval(State s) =>
        [.. s.CareManagerApproved ? Array.Empty<string>() : [People.CareManager],
         .. s.NeedsOtApproval && !s.OtApproved ? [People.OccupationalTherapist] : Array.Empty<string>()];

    // ---------------------------------------------------------------- what is published

    public static string Summary(State s) => s.Stage == AdjustmentStage.New ? "" :
        $"{s.PackageId} ({s.ProviderId}): {H(s.OriginalHours)} → {H(s.ProposedHours)} h/week ({Percent(s.ChangePercent)}%), " +
        $"{(s.WithinParameters ? "within" : "outside")} parameters; {H(s.HoursInEffect)} h/week in effect";

    public static string What(State s) => $"{s.PackageId}: {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week from {Date(s.EffectiveDate)}";

    private static readonly AskField RequiredText = new("text", "Your reasons", "textarea", Required: true);
    private static readonly AskField OptionalNote = new("text", "Note (optional)", "textarea");

    /// <summary>What is awaited from whom: answerable by signed link, reply or the instance page.</summary>
    public static IReadOnlyList<OpenAsk> Asks(State s)
    {
        var asks = new List<OpenAsk>();
        var what = What(s);
        switch (s.Stage)
        {
            case AdjustmentStage.AwaitingSignOff or AdjustmentStage.ConcernRaised:
                if (!s.SeniorSignedOff)
                {
                    asks.Add(new(People.SeniorCareManager, SignOffAction, $"Sign off the trusted-assessor adjustment {what}.", s.Due, RecipientRole: Roles.SeniorCareManager, Fields: [OptionalNote]));
                    if (s.Stage == AdjustmentStage.AwaitingSignOff)
                        asks.Add(new(People.SeniorCareManager, ConcernAction, $"Raise a concern with the provider about {what}.", s.Due, RecipientRole: Roles.SeniorCareManager, Fields: [RequiredText]));
                    asks.Add(new(People.SeniorCareManager, PauseAction, $"Pause {what} pending a care-management review (the provider reinstates the original hours).", s.Due,
                        RecipientRole: Roles.SeniorCareManager, Fields: [RequiredText]));
                }
                if (s.NeedsMovingAndHandlingSignOff && !s.MovingAndHandlingSignedOff && s.Stage == AdjustmentStage.AwaitingSignOff)
                    asks.Add(new(People.MovingAndHandling, SignOffAction, $"Moving-and-handling sign-off of {what}.", s.Due, RecipientRole: MovingAndHandlingAssessorRole, Fields: [OptionalNote]));
                if (s.Stage == AdjustmentStage.ConcernRaised)
                    asks.Add(new(s.ProviderId, RespondAction, $"Respond to the council's concern about {what}.", s.Due, Email: s.AssessorEmail, Fields: [RequiredText]));
                break;
            case AdjustmentStage.AwaitingApproval:
                foreach (var (who, role, pending) in new[] { (People.CareManager, Roles.CareManager, !s.CareManagerApproved), (People.OccupationalTherapist, OccupationalTherapistRole, s.NeedsOtApproval && !s.OtApproved) })
                {
                    if (!pending) continue;
                    asks.Add(new(who, ApproveAction, $"Approve the change outside trusted-assessor parameters: {what}.", s.Due, RecipientRole: role, Fields: [OptionalNote]));
                    asks.Add(new(who, RejectAction, $"Reject the change outside trusted-assessor parameters: {what}.", s.Due, RecipientRole: role, Fields: [RequiredText]));
                }
                break;
            case AdjustmentStage.AwaitingReinstatement:
                asks.Add(new(s.ProviderId, ReinstatedAction, $"Confirm {s.PackageId} is back to its original {H(s.OriginalHours)} hours a week.", s.Due, Email: s.AssessorEmail, Fields: [OptionalNote]));
                break;
        }
        return asks;
    }

    /// <summary>Turns an answer (link form, SMS/email reply, the instance page; free text in "text") into an input.</summary>
    public static ReplyResult ParseReply(OpenAsk ask, IReadOnlyDictionary<string, string> fields)
    {
        var text = fields.TryGetValue("text", out var t) && !string.IsNullOrWhiteSpace(t) ? t.Trim() : null;
        return ask.Action switch
        {
            SignOffAction => ReplyResult.Ok(new SignOff(text)),
            ApproveAction => ReplyResult.Ok(new Approve(text)),
            ReinstatedAction => ReplyResult.Ok(new ConfirmReinstatement(text)),
            ConcernAction => text is null ? ReplyResult.Fail("Please describe the concern.") : ReplyResult.Ok(new RaiseConcern(text)),
            PauseAction => text is null ? ReplyResult.Fail("Please give the reason for the pause.") : ReplyResult.Ok(new PausePendingReview(text)),
            RespondAction => text is null ? ReplyResult.Fail("Please write your response.") : ReplyResult.Ok(new RespondToConcern(text)),
            RejectAction => text is null ? ReplyResult.Fail("Please give the reasons for rejecting the change.") : ReplyResult.Ok(new Reject(text)),
            _ => ReplyResult.Fail($"'{ask.Action}' is not an answer this adjustment takes."),
        };
    }
}
