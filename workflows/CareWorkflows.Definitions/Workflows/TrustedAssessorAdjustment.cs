using System.Collections.Immutable;
using System.Globalization;
using NodaTime;

namespace CareWorkflows.Definitions.Workflows;

/// <summary>
/// The within-parameters rule for trusted-assessor adjustments (App G.6, G.10 §1). Defaults: reduce by up to 25%, increase by up
/// to 10%, increases only for low-level packages; anything else needs care-manager approval first (G.7, G.10 §5).
/// </summary>
public sealed record ParameterPolicy(decimal MaxReductionPercent, decimal MaxIncreasePercent, bool IncreaseLowLevelOnly)
{
    public static readonly ParameterPolicy AppendixG = new(25m, 10m, true);

    public static ParameterPolicy From(PolicySettings p) => new(
        p.Decimal(TrustedAssessorAdjustment.Keys.MaxReductionPercent, AppendixG.MaxReductionPercent),
        p.Decimal(TrustedAssessorAdjustment.Keys.MaxIncreasePercent, AppendixG.MaxIncreasePercent),
        p.Bool(TrustedAssessorAdjustment.Keys.IncreaseLowLevelOnly, AppendixG.IncreaseLowLevelOnly));
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
/// Trusted-assessor adjustment and sign-off (B 4.2.7–4.2.9, B 9.8, App G, App N). A provider's qualified trusted assessor
/// proposes new weekly hours for a package. Within parameters the change takes effect at once and goes to the senior care
/// manager (and the moving-and-handling assessor when relevant) for sign-off (G.10 §4.2); outside parameters it waits for
/// care-manager (and, if flagged, OT) approval (G.7, G.10 §5). Sign-off requests a payment adjustment (App N). The senior
/// care manager may raise a concern or pause the change pending a care-management review, in which case the provider
/// reinstates the original hours (G.10 §4.2). The state keeps the hours in effect; the API edge copies them to the package.
/// </summary>
public sealed class TrustedAssessorAdjustment : Workflow<TrustedAssessorAdjustment.State, TrustedAssessorAdjustment.ProposeAdjustment>
{
    public const string TypeName = "TA";

    /// <summary>Council people who answer only by signed link; they have no app role of their own.</summary>
    public const string OccupationalTherapistRole = "OccupationalTherapist";
    public const string MovingAndHandlingAssessorRole = "MovingAndHandlingAssessor";

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

    /// <summary>Policy keys (settings under Policy:), defaults in brackets.</summary>
    public static class Keys
    {
        /// <summary>[25] App G.6.</summary>
        public const string MaxReductionPercent = "TA:MaxReductionPercent";
        /// <summary>[10] App G.6.</summary>
        public const string MaxIncreasePercent = "TA:MaxIncreasePercent";
        /// <summary>[true] App G.6: the increase limit is for low-level packages.</summary>
        public const string IncreaseLowLevelOnly = "TA:IncreaseLowLevelOnly";
        /// <summary>[5] No deadline is written in App G: the council's own choice.</summary>
        public const string SignOffWorkingDays = "TA:SignOffWorkingDays";
        /// <summary>[5] Window for care-manager / OT approval of an outside-parameter change.</summary>
        public const string ApprovalWorkingDays = "TA:ApprovalWorkingDays";
        /// <summary>[5] Window for the provider to answer a concern.</summary>
        public const string ConcernResponseWorkingDays = "TA:ConcernResponseWorkingDays";
        /// <summary>[9] Local hour on the last working day of a window when the reminder goes.</summary>
        public const string ReminderHour = "TA:ReminderHour";
        /// <summary>[PT24H] Elapsed time for the provider to confirm the original hours are back.</summary>
        public const string ReinstatementWindow = "TA:ReinstatementWindow";
        /// <summary>[PT12H] When the provider is reminded to confirm reinstatement.</summary>
        public const string ReinstatementReminder = "TA:ReinstatementReminder";
        /// <summary>[7] How many days before today an effective date may be.</summary>
        public const string MaxBackdatingDays = "TA:MaxBackdatingDays";
        /// <summary>[90] How many days after today an effective date may be.</summary>
        public const string MaxDaysAhead = "TA:MaxDaysAhead";
    }

    public const decimal MaxWeeklyHours = 168m;
    public const int MaxTextLength = 4000;

    public enum Stage { New, AwaitingApproval, AwaitingSignOff, ConcernRaised, AwaitingReinstatement, PausedPendingReview, SignedOff, Rejected, Reversed }

    // ---------------- inputs ----------------

    /// <summary>The assessor as the registry holds them (resolved by the API, never typed in by the provider).</summary>
    public sealed record RegisteredAssessor(string Id, string ProviderId, string Name, string Email, bool Qualified, bool Active);

    /// <summary>The package as the registry holds it.</summary>
    public sealed record RegisteredPackage(string Id, string ProviderId, decimal WeeklyHours, bool LowLevel, bool MovingAndHandling);

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

    // ---------------- events ----------------
    // Who decided is the timeline row's actor. Decisions carry HoursBefore/HoursAfter: for a decision about the change
    // (sign-off, approval, concern) that is the change decided on (original → proposed); for events that move the hours in
    // effect (implemented, pause, reinstatement, review) it is that movement. Why is the why/reason/note/concern field.

    public sealed record AdjustmentProposed(
        string PackageId, string ProviderId, string AssessorId, string AssessorName, string AssessorEmail,
        decimal HoursBefore, decimal HoursAfter, decimal SubmittedHours, decimal ChangePercent, LocalDate EffectiveDate,
        bool WithinParameters, string Why, bool LowLevel, bool MovingAndHandlingSignOff, bool OtReview,
        string AgreedBy, string Goals, string Rationale, string Evidence) : WorkflowEvent;
    public sealed record AdjustmentImplemented(decimal HoursBefore, decimal HoursAfter, LocalDate EffectiveDate, string Why) : WorkflowEvent;
    public sealed record SentForSignOff(Instant Due, IReadOnlyList<string> To) : WorkflowEvent;
    public sealed record SentForApproval(Instant Due, IReadOnlyList<string> To) : WorkflowEvent;
    public sealed record ApprovalGiven(string By, string? Reason, decimal HoursBefore, decimal HoursAfter) : WorkflowEvent;
    public sealed record ApprovalRefused(string By, string Reason, decimal HoursBefore, decimal HoursAfter, decimal HoursInEffect) : WorkflowEvent;
    public sealed record SignOffGiven(string By, string? Note, decimal HoursBefore, decimal HoursAfter) : WorkflowEvent;
    public sealed record AdjustmentSignedOff(decimal HoursBefore, decimal HoursAfter, LocalDate EffectiveDate, string Why) : WorkflowEvent;
    /// <summary>App N: sign-off leads to a payment adjustment, new weekly hours from the effective date.</summary>
    public sealed record PaymentAdjustmentRequested(string PackageId, string ProviderId, decimal HoursBefore, decimal HoursAfter, LocalDate EffectiveDate) : WorkflowEvent;
    public sealed record ConcernRaised(string Concern, Instant Due, decimal HoursBefore, decimal HoursAfter) : WorkflowEvent;
    public sealed record ConcernAnswered(string Response, Instant SignOffDue, decimal HoursBefore, decimal HoursAfter) : WorkflowEvent;
    public sealed record PauseRequested(string Reason, decimal HoursBefore, decimal HoursAfter, Instant ConfirmBy) : WorkflowEvent;
    public sealed record ReinstatementConfirmed(decimal HoursBefore, decimal HoursAfter, string? Note) : WorkflowEvent;
    public sealed record ReviewConcluded(bool Approved, string Reason, decimal HoursBefore, decimal HoursAfter) : WorkflowEvent;
    public sealed record ReminderSent(string About, IReadOnlyList<string> To) : WorkflowEvent;
    public sealed record Escalated(string About, IReadOnlyList<string> To, string Why) : WorkflowEvent;

    // ---------------- state ----------------

    public sealed record State(
        Stage Stage,
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
        ImmutableList<string> Concerns);

    public override string Type => TypeName;

    public override State Initial => new(Stage.New, "", "", "", "", 0, 0, 0, 0, default, false, false, false, false, false, false, false, null, null, []);

    public override string Status(State s) => s.Stage.ToString();

    public override bool IsCompleted(State s) => s.Stage is Stage.SignedOff or Stage.Rejected or Stage.Reversed;

    public override string Summary(State s) => s.Stage == Stage.New ? "" :
        $"{s.PackageId} ({s.ProviderId}): {H(s.OriginalHours)} → {H(s.ProposedHours)} h/week ({s.ChangePercent.ToString("+0.##;-0.##", CultureInfo.InvariantCulture)}%), " +
        $"{(s.WithinParameters ? "within" : "outside")} parameters; {H(s.HoursInEffect)} h/week in effect";

    private static string H(decimal hours) => hours.ToString("0.00", CultureInfo.InvariantCulture);

    // ---------------- decide ----------------

    public override Decision Decide(State s, WorkflowInput input, WorkflowContext ctx)
    {
        if (input is ProposeAdjustment p)
            return s.Stage == Stage.New ? Propose(p, ctx) : Decision.Conflict($"{ctx.Reference} has already been proposed.");
        if (s.Stage == Stage.New) return Decision.Invalid("The adjustment has not been proposed yet.");
        if (IsCompleted(s) && input is not TimerFired)
            return Decision.Conflict($"{ctx.Reference} is closed ({s.Stage}); nothing more can be done to it.");
        return input switch
        {
            SignOff x => OnSignOff(s, x, ctx),
            RaiseConcern x => OnRaiseConcern(s, x, ctx),
            RespondToConcern x => OnRespond(s, x, ctx),
            PausePendingReview x => OnPause(s, x, ctx),
            ConfirmReinstatement x => OnReinstated(s, x, ctx),
            RecordReviewOutcome x => OnReviewOutcome(s, x, ctx),
            Approve x => OnApprove(s, x, ctx),
            Reject x => OnReject(s, x, ctx),
            TimerFired t => OnTimer(s, t, ctx),
            MessageFailed => Decision.Nothing,
            _ => Decision.Invalid($"{input.GetType().Name} is not an input of a trusted-assessor adjustment."),
        };
    }

    private static string? TextError(string name, string? value, bool required = true) =>
        string.IsNullOrWhiteSpace(value) ? (required ? $"{name} is required." : null)
        : value.Length > MaxTextLength ? $"{name} is longer than {MaxTextLength:N0} characters." : null;

    private Decision Propose(ProposeAdjustment p, WorkflowContext ctx)
    {
        var a = p.Assessor;
        var pkg = p.Package;
        // Only the provider delivering the package, through its own active and qualified trusted assessor (App G.1, G.10 §4.2).
        if (ctx.Actor.Role != Roles.Provider || ctx.Actor.ProviderId != pkg.ProviderId)
            return Decision.Forbidden($"Only the provider delivering {pkg.Id} may propose an adjustment to it.");
        if (a.ProviderId != pkg.ProviderId)
            return Decision.Forbidden($"Trusted assessor {a.Id} does not work for {pkg.ProviderId}, which delivers {pkg.Id}.");
        if (!a.Active) return Decision.Invalid($"Trusted assessor {a.Id} is not active.");
        if (!a.Qualified)
            return Decision.Invalid($"Trusted assessor {a.Id} is not qualified: LBB trusted-assessor training and at least a Level 2 diploma are required (App G.1).");
        // B 9.8: only with the person's agreement.
        if (!p.PersonAgreed) return Decision.Invalid("The person (or their representative) has not agreed to the change (B 9.8); it cannot be made.");
        var errors = new[]
        {
            TextError("Goals", p.Goals), TextError("Rationale", p.Rationale), TextError("Evidence", p.Evidence), TextError("Agreed by", p.AgreedBy),
        }.Where(e => e is not null).ToList();
        if (errors.Count > 0) return Decision.Invalid(string.Join(" ", errors));

        var current = AdjustmentParameters.RoundHours(p.CurrentWeeklyHours);
        var proposed = AdjustmentParameters.RoundHours(p.ProposedWeeklyHours);
        if (proposed <= 0) return Decision.Invalid("The proposed weekly hours must be more than zero.");
        if (proposed > MaxWeeklyHours) return Decision.Invalid($"The proposed weekly hours cannot be more than {MaxWeeklyHours}.");
        if (current != AdjustmentParameters.RoundHours(pkg.WeeklyHours))
            return Decision.Conflict($"{pkg.Id} is now {H(pkg.WeeklyHours)} hours a week, not {H(current)}: propose from the hours in effect.");
        if (proposed == current) return Decision.Invalid("The proposed hours are the same as the current hours.");

        var today = WorkingCalendar.LocalDateOf(ctx.Now);
        var backdate = ctx.Policy.Int(Keys.MaxBackdatingDays, 7);
        var ahead = ctx.Policy.Int(Keys.MaxDaysAhead, 90);
        if (p.EffectiveDate < today.PlusDays(-backdate))
            return Decision.Invalid($"The effective date {p.EffectiveDate:yyyy-MM-dd} is more than {backdate} days in the past.");
        if (p.EffectiveDate > today.PlusDays(ahead))
            return Decision.Invalid($"The effective date {p.EffectiveDate:yyyy-MM-dd} is more than {ahead} days ahead.");

        var check = AdjustmentParameters.Evaluate(current, proposed, pkg.LowLevel, ParameterPolicy.From(ctx.Policy));
        var mh = pkg.MovingAndHandling || p.TouchesMovingAndHandling;
        var d = new DecisionBuilder().Record(new AdjustmentProposed(pkg.Id, pkg.ProviderId, a.Id, a.Name, a.Email, current, proposed, p.ProposedWeeklyHours,
            check.ChangePercent, p.EffectiveDate, check.Within, check.Explanation, pkg.LowLevel, mh, p.NeedsOtReview && !check.Within,
            p.AgreedBy.Trim(), p.Goals.Trim(), p.Rationale.Trim(), p.Evidence.Trim()));
        var what = $"{pkg.Id}: {H(current)} → {H(proposed)} hours a week ({check.ChangePercent.ToString("+0.##;-0.##", CultureInfo.InvariantCulture)}%) from {p.EffectiveDate:d MMM yyyy}";
        var detail = $"{what}\nProposed by trusted assessor {a.Name} ({a.Id}) of {pkg.ProviderId}.\nAgreed by: {p.AgreedBy.Trim()}\n" +
                     $"Goals: {p.Goals.Trim()}\nRationale: {p.Rationale.Trim()}\nEvidence: {p.Evidence.Trim()}\n{check.Explanation}";
        if (check.Within)
        {
            // G.10 §4.2: within parameters and agreed by the person → implemented at once, then reviewed and signed off.
            d.Record(new AdjustmentImplemented(current, proposed, p.EffectiveDate, "Within trusted-assessor parameters and agreed by the person: takes effect at once (App G.10 §4.2)."));
            var due = ctx.Calendar.DueAfterWorkingDays(ctx.Now, ctx.Policy.Int(Keys.SignOffWorkingDays, 5));
            var to = mh ? new[] { People.SeniorCareManager, People.MovingAndHandling } : [People.SeniorCareManager];
            d.Record(new SentForSignOff(due, to));
            SignOffRequests(d, ctx, detail, due, senior: true, mh);
            SetWindowTimers(d, ctx, "signoff", ctx.Policy.Int(Keys.SignOffWorkingDays, 5), due);
            d.Send(ToProvider(a.Email, pkg.ProviderId, "implemented", $"{ctx.Reference}: adjustment recorded, in effect",
                $"{what} is within parameters and takes effect as proposed. It has gone to the council for sign-off by {WorkflowContext.Local(due)}."));
        }
        else
        {
            // G.7, G.10 §5: outside parameters → care-manager (and OT if flagged) approval before anything changes.
            var due = ctx.Calendar.DueAfterWorkingDays(ctx.Now, ctx.Policy.Int(Keys.ApprovalWorkingDays, 5));
            var ot = p.NeedsOtReview;
            var to = ot ? new[] { People.CareManager, People.OccupationalTherapist } : [People.CareManager];
            d.Record(new SentForApproval(due, to));
            ApprovalRequests(d, ctx, detail, due, careManager: true, ot);
            SetWindowTimers(d, ctx, "approval", ctx.Policy.Int(Keys.ApprovalWorkingDays, 5), due);
            d.Send(ToProvider(a.Email, pkg.ProviderId, "awaiting-approval", $"{ctx.Reference}: adjustment needs approval first",
                $"{what} is outside trusted-assessor parameters. {check.Explanation} Keep delivering {H(current)} hours a week until the council approves it."));
        }
        return d.Build();
    }

    private Decision OnSignOff(State s, SignOff x, WorkflowContext ctx)
    {
        if (TextError("Note", x.Note, required: false) is { } e) return Decision.Invalid(e);
        var role = ctx.Actor.Role;
        if (role != Roles.SeniorCareManager && role != MovingAndHandlingAssessorRole)
            return Decision.Forbidden("Only the senior care manager (or the moving-and-handling assessor, for their part) may sign off a trusted-assessor adjustment (App G.10 §4.2).");
        if (s.Stage is not (Stage.AwaitingSignOff or Stage.ConcernRaised))
            return Decision.Conflict($"{ctx.Reference} is not awaiting sign-off ({s.Stage}).");
        var d = new DecisionBuilder();
        bool senior = s.SeniorSignedOff, mh = s.MovingAndHandlingSignedOff;
        if (role == Roles.SeniorCareManager)
        {
            if (senior) return Decision.Conflict("The senior care manager has already signed this off.");
            senior = true;
            d.Record(new SignOffGiven(People.SeniorCareManager, x.Note?.Trim(), s.OriginalHours, s.ProposedHours));
        }
        else
        {
            if (!s.NeedsMovingAndHandlingSignOff) return Decision.Conflict("This adjustment does not need moving-and-handling sign-off.");
            if (mh) return Decision.Conflict("The moving-and-handling assessor has already signed this off.");
            mh = true;
            d.Record(new SignOffGiven(People.MovingAndHandling, x.Note?.Trim(), s.OriginalHours, s.ProposedHours));
        }
        if (s.Stage == Stage.ConcernRaised && role == Roles.SeniorCareManager) d.CancelTimer("concern-reminder").CancelTimer("concern-escalation");
        if (senior && (mh || !s.NeedsMovingAndHandlingSignOff))
            Complete(s, d, ctx, "Signed off by the senior care manager" + (s.NeedsMovingAndHandlingSignOff ? " and the moving-and-handling assessor" : "") + " (App G.10 §4.2).");
        return d.Build();
    }

    /// <summary>Signed off or approved: the proposed hours stand, finance adjusts payment from the effective date (App N).</summary>
    private static void Complete(State s, DecisionBuilder d, WorkflowContext ctx, string why)
    {
        if (s.HoursInEffect != s.ProposedHours)
            d.Record(new AdjustmentImplemented(s.HoursInEffect, s.ProposedHours, s.EffectiveDate, why));
        d.Record(new AdjustmentSignedOff(s.OriginalHours, s.ProposedHours, s.EffectiveDate, why));
        d.Record(new PaymentAdjustmentRequested(s.PackageId, s.ProviderId, s.OriginalHours, s.ProposedHours, s.EffectiveDate));
        CancelAllWindowTimers(d);
        d.Send(new OutboundMessage(MessageChannel.Email, ctx.Contacts.Email(People.Finance), "payment-adjustment",
            $"{ctx.Reference}: payment adjustment for {s.PackageId}",
            $"Please adjust payment for package {s.PackageId} delivered by {s.ProviderId}: {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week " +
            $"from {s.EffectiveDate:d MMM yyyy} (trusted-assessor adjustment {ctx.Reference}, signed off {WorkflowContext.Local(ctx.Now)}).",
            RecipientId: People.Finance));
        d.Send(ToProvider(s.AssessorEmail, s.ProviderId, "signed-off", $"{ctx.Reference}: adjustment signed off",
            $"The adjustment of {s.PackageId} to {H(s.ProposedHours)} hours a week from {s.EffectiveDate:d MMM yyyy} is signed off. {why}"));
    }

    private Decision OnRaiseConcern(State s, RaiseConcern x, WorkflowContext ctx)
    {
        if (ctx.Actor.Role != Roles.SeniorCareManager) return Decision.Forbidden("Only the senior care manager may raise a concern about an adjustment (App G.10 §4.2).");
        if (TextError("The concern", x.Concern) is { } e) return Decision.Invalid(e);
        if (s.Stage != Stage.AwaitingSignOff) return Decision.Conflict($"{ctx.Reference} is not awaiting sign-off ({s.Stage}).");
        var days = ctx.Policy.Int(Keys.ConcernResponseWorkingDays, 5);
        var due = ctx.Calendar.DueAfterWorkingDays(ctx.Now, days);
        var d = new DecisionBuilder().Record(new ConcernRaised(x.Concern.Trim(), due, s.OriginalHours, s.ProposedHours))
            .CancelTimer("signoff-reminder").CancelTimer("signoff-escalation");
        SetWindowTimers(d, ctx, "concern", days, due);
        d.Send(ToProvider(s.AssessorEmail, s.ProviderId, "concern", $"{ctx.Reference}: the council has a concern about an adjustment",
            $"The senior care manager has a concern about the adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week):\n{x.Concern.Trim()}\n" +
            $"Please respond by {WorkflowContext.Local(due)}.",
            [ctx.Links.Issue(ctx.Reference, s.ProviderId, "respond", due + Duration.FromDays(30))]));
        return d.Build();
    }

    private Decision OnRespond(State s, RespondToConcern x, WorkflowContext ctx)
    {
        if (!IsOwnProvider(s, ctx)) return Decision.Forbidden($"Only {s.ProviderId} may respond to a concern about this adjustment.");
        if (TextError("The response", x.Response) is { } e) return Decision.Invalid(e);
        if (s.Stage != Stage.ConcernRaised) return Decision.Conflict($"{ctx.Reference} has no open concern ({s.Stage}).");
        var days = ctx.Policy.Int(Keys.SignOffWorkingDays, 5);
        var due = ctx.Calendar.DueAfterWorkingDays(ctx.Now, days);
        var d = new DecisionBuilder().Record(new ConcernAnswered(x.Response.Trim(), due, s.OriginalHours, s.ProposedHours))
            .CancelTimer("concern-reminder").CancelTimer("concern-escalation");
        SetWindowTimers(d, ctx, "signoff", days, due);
        SignOffRequests(d, ctx, $"The provider responded to your concern about {s.PackageId}:\n{x.Response.Trim()}", due,
            senior: !s.SeniorSignedOff, mh: false);
        return d.Build();
    }

    private Decision OnPause(State s, PausePendingReview x, WorkflowContext ctx)
    {
        if (ctx.Actor.Role != Roles.SeniorCareManager) return Decision.Forbidden("Only the senior care manager may pause an adjustment pending review (App G.10 §4.2).");
        if (TextError("The reason", x.Reason) is { } e) return Decision.Invalid(e);
        if (s.Stage is not (Stage.AwaitingSignOff or Stage.ConcernRaised)) return Decision.Conflict($"{ctx.Reference} cannot be paused now ({s.Stage}).");
        var confirmBy = ctx.Now + ctx.Policy.Duration(Keys.ReinstatementWindow, Duration.FromHours(24));
        var d = new DecisionBuilder().Record(new PauseRequested(x.Reason.Trim(), s.HoursInEffect, s.OriginalHours, confirmBy));
        CancelAllWindowTimers(d);
        // Hour deadlines run on elapsed time (DOMAIN.md time rules).
        var reminder = ctx.Now + ctx.Policy.Duration(Keys.ReinstatementReminder, Duration.FromHours(12));
        if (reminder < confirmBy) d.SetTimer("reinstatement-reminder", reminder);
        d.SetTimer("reinstatement-escalation", confirmBy);
        d.Send(ToProvider(s.AssessorEmail, s.ProviderId, "reinstate", $"{ctx.Reference}: reinstate the original hours",
            $"The adjustment of {s.PackageId} is paused pending a care-management review. Reason: {x.Reason.Trim()}\n" +
            $"Please reinstate the original {H(s.OriginalHours)} hours a week now and confirm by {WorkflowContext.Local(confirmBy)}.",
            [ctx.Links.Issue(ctx.Reference, s.ProviderId, "reinstated", confirmBy + Duration.FromDays(30))]));
        d.Send(new OutboundMessage(MessageChannel.Email, ctx.Contacts.Email(People.CareManager), "review-requested",
            $"{ctx.Reference}: care-management review requested for {s.PackageId}",
            $"The senior care manager paused the trusted-assessor adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week) " +
            $"pending a care-management review. Reason: {x.Reason.Trim()}", RecipientId: People.CareManager));
        return d.Build();
    }

    private Decision OnReinstated(State s, ConfirmReinstatement x, WorkflowContext ctx)
    {
        if (!IsOwnProvider(s, ctx)) return Decision.Forbidden($"Only {s.ProviderId} may confirm the original hours are back.");
        if (TextError("Note", x.Note, required: false) is { } e) return Decision.Invalid(e);
        if (s.Stage != Stage.AwaitingReinstatement) return Decision.Conflict($"{ctx.Reference} is not waiting for reinstatement ({s.Stage}).");
        var d = new DecisionBuilder().Record(new ReinstatementConfirmed(s.HoursInEffect, s.OriginalHours, x.Note?.Trim()))
            .CancelTimer("reinstatement-reminder").CancelTimer("reinstatement-escalation");
        d.Send(new OutboundMessage(MessageChannel.Email, ctx.Contacts.Email(People.SeniorCareManager), "reinstated",
            $"{ctx.Reference}: original hours reinstated for {s.PackageId}",
            $"{s.ProviderId} confirms {s.PackageId} is back to {H(s.OriginalHours)} hours a week pending the care-management review.", RecipientId: People.SeniorCareManager));
        return d.Build();
    }

    private Decision OnReviewOutcome(State s, RecordReviewOutcome x, WorkflowContext ctx)
    {
        if (ctx.Actor.Role is not (Roles.CareManager or Roles.SeniorCareManager))
            return Decision.Forbidden("Only care management may record the outcome of the review.");
        if (TextError("The reason", x.Reason) is { } e) return Decision.Invalid(e);
        if (s.Stage is not (Stage.AwaitingReinstatement or Stage.PausedPendingReview)) return Decision.Conflict($"{ctx.Reference} is not paused pending review ({s.Stage}).");
        var after = x.Approve ? s.ProposedHours : s.OriginalHours;
        var d = new DecisionBuilder().Record(new ReviewConcluded(x.Approve, x.Reason.Trim(), s.HoursInEffect, after));
        if (x.Approve)
            Complete(s with { HoursInEffect = after }, d, ctx, $"Approved by care-management review: {x.Reason.Trim()}");
        else
        {
            CancelAllWindowTimers(d);
            d.Send(ToProvider(s.AssessorEmail, s.ProviderId, "reversed", $"{ctx.Reference}: adjustment reversed",
                $"The care-management review reversed the adjustment of {s.PackageId}: it stays at {H(s.OriginalHours)} hours a week. Reason: {x.Reason.Trim()}"));
        }
        return d.Build();
    }

    private Decision OnApprove(State s, Approve x, WorkflowContext ctx)
    {
        if (TextError("The reason", x.Reason, required: false) is { } e) return Decision.Invalid(e);
        var by = ApproverOf(ctx.Actor);
        if (by is null) return Decision.Forbidden("Only a care manager (or the OT, where flagged) may approve a change outside trusted-assessor parameters (App G.7).");
        if (s.Stage != Stage.AwaitingApproval) return Decision.Conflict($"{ctx.Reference} is not awaiting approval ({s.Stage}).");
        if (by == People.OccupationalTherapist && !s.NeedsOtApproval) return Decision.Conflict("This adjustment does not need OT approval.");
        if (by == People.CareManager ? s.CareManagerApproved : s.OtApproved) return Decision.Conflict("Already approved.");
        var d = new DecisionBuilder().Record(new ApprovalGiven(by, x.Reason?.Trim(), s.OriginalHours, s.ProposedHours));
        var cm = s.CareManagerApproved || by == People.CareManager;
        var ot = s.OtApproved || by == People.OccupationalTherapist;
        if (cm && (ot || !s.NeedsOtApproval))
            Complete(s, d, ctx, "Outside parameters; approved by the care manager" + (s.NeedsOtApproval ? " and the OT" : "") + " before taking effect (App G.7, G.10 §5).");
        return d.Build();
    }

    private Decision OnReject(State s, Reject x, WorkflowContext ctx)
    {
        var by = ApproverOf(ctx.Actor);
        if (by is null) return Decision.Forbidden("Only a care manager (or the OT, where flagged) may reject a change outside trusted-assessor parameters.");
        if (TextError("The reason", x.Reason) is { } e) return Decision.Invalid(e);
        if (s.Stage != Stage.AwaitingApproval) return Decision.Conflict($"{ctx.Reference} is not awaiting approval ({s.Stage}).");
        if (by == People.OccupationalTherapist && !s.NeedsOtApproval) return Decision.Conflict("This adjustment does not need OT approval.");
        var d = new DecisionBuilder().Record(new ApprovalRefused(by, x.Reason.Trim(), s.OriginalHours, s.ProposedHours, s.HoursInEffect));
        CancelAllWindowTimers(d);
        d.Send(ToProvider(s.AssessorEmail, s.ProviderId, "rejected", $"{ctx.Reference}: adjustment not approved",
            $"The proposed change of {s.PackageId} to {H(s.ProposedHours)} hours a week was not approved; it stays at {H(s.OriginalHours)} hours a week.\nReasons: {x.Reason.Trim()}"));
        return d.Build();
    }

    private static string? ApproverOf(Actor actor) => actor.Role switch
    {
        Roles.CareManager or Roles.SeniorCareManager => People.CareManager,
        OccupationalTherapistRole => People.OccupationalTherapist,
        _ => null,
    };

    private static bool IsOwnProvider(State s, WorkflowContext ctx) => ctx.Actor.Role == Roles.Provider && ctx.Actor.ProviderId == s.ProviderId;

    private Decision OnTimer(State s, TimerFired t, WorkflowContext ctx)
    {
        var d = new DecisionBuilder();
        var teamLead = ctx.Contacts.Email(People.TeamLead);
        switch (t.Name)
        {
            case "signoff-reminder" when s.Stage == Stage.AwaitingSignOff:
            {
                var to = PendingSignOff(s);
                d.Record(new ReminderSent("sign-off", to));
                foreach (var who in to)
                    d.Send(new OutboundMessage(MessageChannel.Email, ctx.Contacts.Email(who), "signoff-reminder", $"{ctx.Reference}: sign-off due {WorkflowContext.Local(s.Due!.Value)}",
                        $"Reminder: the trusted-assessor adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week) is in effect and awaits your sign-off.",
                        RecipientId: who));
                break;
            }
            case "signoff-escalation" when s.Stage == Stage.AwaitingSignOff:
                d.Record(new Escalated("sign-off", [People.TeamLead], $"Not signed off by {WorkflowContext.Local(s.Due!.Value)} (pending: {string.Join(", ", PendingSignOff(s))})."));
                d.Send(new OutboundMessage(MessageChannel.Email, teamLead, "signoff-escalation", $"{ctx.Reference}: trusted-assessor adjustment not signed off in time",
                    $"The adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week, in effect) was due for sign-off by " +
                    $"{WorkflowContext.Local(s.Due!.Value)}. Still pending: {string.Join(", ", PendingSignOff(s))}.", RecipientId: People.TeamLead));
                break;
            case "approval-reminder" when s.Stage == Stage.AwaitingApproval:
            {
                var to = PendingApproval(s);
                d.Record(new ReminderSent("approval", to));
                foreach (var who in to)
                    d.Send(new OutboundMessage(MessageChannel.Email, ctx.Contacts.Email(who), "approval-reminder", $"{ctx.Reference}: approval due {WorkflowContext.Local(s.Due!.Value)}",
                        $"Reminder: the proposed adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week) awaits your decision.", RecipientId: who));
                break;
            }
            case "approval-escalation" when s.Stage == Stage.AwaitingApproval:
                d.Record(new Escalated("approval", [People.TeamLead], $"No decision by {WorkflowContext.Local(s.Due!.Value)} (pending: {string.Join(", ", PendingApproval(s))})."));
                d.Send(new OutboundMessage(MessageChannel.Email, teamLead, "approval-escalation", $"{ctx.Reference}: outside-parameter adjustment not decided in time",
                    $"The proposed adjustment of {s.PackageId} ({H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week) was due a decision by {WorkflowContext.Local(s.Due!.Value)}.",
                    RecipientId: People.TeamLead));
                break;
            case "concern-reminder" when s.Stage == Stage.ConcernRaised:
                d.Record(new ReminderSent("concern response", [s.ProviderId]));
                d.Send(ToProvider(s.AssessorEmail, s.ProviderId, "concern-reminder", $"{ctx.Reference}: please respond to the council's concern",
                    $"Reminder: please respond to the concern about {s.PackageId} by {WorkflowContext.Local(s.Due!.Value)}.",
                    [ctx.Links.Issue(ctx.Reference, s.ProviderId, "respond", s.Due!.Value + Duration.FromDays(30))]));
                break;
            case "concern-escalation" when s.Stage == Stage.ConcernRaised:
                d.Record(new Escalated("concern response", [People.SeniorCareManager, People.TeamLead], $"The provider did not respond by {WorkflowContext.Local(s.Due!.Value)}."));
                foreach (var who in new[] { People.SeniorCareManager, People.TeamLead })
                    d.Send(new OutboundMessage(MessageChannel.Email, ctx.Contacts.Email(who), "concern-escalation", $"{ctx.Reference}: no response to the concern",
                        $"{s.ProviderId} did not respond by {WorkflowContext.Local(s.Due!.Value)} to the concern about {s.PackageId}. Consider pausing the adjustment pending review.",
                        RecipientId: who));
                break;
            case "reinstatement-reminder" when s.Stage == Stage.AwaitingReinstatement:
                d.Record(new ReminderSent("reinstatement", [s.ProviderId]));
                d.Send(ToProvider(s.AssessorEmail, s.ProviderId, "reinstate-reminder", $"{ctx.Reference}: confirm the original hours are reinstated",
                    $"Reminder: reinstate {s.PackageId} to {H(s.OriginalHours)} hours a week and confirm by {WorkflowContext.Local(s.Due!.Value)}.",
                    [ctx.Links.Issue(ctx.Reference, s.ProviderId, "reinstated", s.Due!.Value + Duration.FromDays(30))]));
                break;
            case "reinstatement-escalation" when s.Stage == Stage.AwaitingReinstatement:
                d.Record(new Escalated("reinstatement", [People.TeamLead, People.SeniorCareManager],
                    $"{s.ProviderId} did not confirm within {ctx.Policy.Duration(Keys.ReinstatementWindow, Duration.FromHours(24)).TotalHours:0.##} hours that the original hours are back."));
                foreach (var who in new[] { People.TeamLead, People.SeniorCareManager })
                    d.Send(new OutboundMessage(MessageChannel.Email, ctx.Contacts.Email(who), "reinstatement-escalation", $"{ctx.Reference}: original hours not confirmed",
                        $"{s.ProviderId} was asked to reinstate {s.PackageId} to {H(s.OriginalHours)} hours a week and has not confirmed by {WorkflowContext.Local(s.Due!.Value)}. " +
                        "Please contact the provider.", RecipientId: who));
                break;
            default:
                return Decision.Invalid($"Timer {t.Name} has nothing to do in {s.Stage}.");
        }
        return d.Build();
    }

    private static IReadOnlyList<string> PendingSignOff(State s) =>
        [.. s.SeniorSignedOff ? Array.Empty<string>() : [People.SeniorCareManager],
         .. s.NeedsMovingAndHandlingSignOff && !s.MovingAndHandlingSignedOff ? [People.MovingAndHandling] : Array.Empty<string>()];

    private static IReadOnlyList<string> PendingApproval(State s) =>
        [.. s.CareManagerApproved ? Array.Empty<string>() : [People.CareManager],
         .. s.NeedsOtApproval && !s.OtApproved ? [People.OccupationalTherapist] : Array.Empty<string>()];

    /// <summary>Reminder at the reminder hour on the last working day of the window; escalation at the end of that day.</summary>
    private static void SetWindowTimers(DecisionBuilder d, WorkflowContext ctx, string prefix, int workingDays, Instant due)
    {
        var lastDay = ctx.Calendar.AddWorkingDays(WorkingCalendar.LocalDateOf(ctx.Now), workingDays);
        var reminder = lastDay.At(new LocalTime(Math.Clamp(ctx.Policy.Int(Keys.ReminderHour, 9), 0, 23), 0)).InZoneLeniently(WorkflowContext.London).ToInstant();
        if (reminder > ctx.Now && reminder < due) d.SetTimer($"{prefix}-reminder", reminder);
        d.SetTimer($"{prefix}-escalation", due);
    }

    private static void CancelAllWindowTimers(DecisionBuilder d)
    {
        foreach (var p in new[] { "signoff", "approval", "concern", "reinstatement" })
            d.CancelTimer($"{p}-reminder").CancelTimer($"{p}-escalation");
    }

    private static void SignOffRequests(DecisionBuilder d, WorkflowContext ctx, string detail, Instant due, bool senior, bool mh)
    {
        var expires = due + Duration.FromDays(30);
        if (senior)
            d.Send(new OutboundMessage(MessageChannel.Email, ctx.Contacts.Email(People.SeniorCareManager), "signoff-request",
                $"{ctx.Reference}: trusted-assessor adjustment for sign-off by {WorkflowContext.Local(due)}", detail,
                RecipientId: People.SeniorCareManager,
                Links: [ctx.Links.Issue(ctx.Reference, People.SeniorCareManager, "signoff", expires),
                        ctx.Links.Issue(ctx.Reference, People.SeniorCareManager, "concern", expires),
                        ctx.Links.Issue(ctx.Reference, People.SeniorCareManager, "pause", expires)]));
        if (mh)
            d.Send(new OutboundMessage(MessageChannel.Email, ctx.Contacts.Email(People.MovingAndHandling), "signoff-request",
                $"{ctx.Reference}: trusted-assessor adjustment for moving-and-handling sign-off by {WorkflowContext.Local(due)}", detail,
                RecipientId: People.MovingAndHandling, Links: [ctx.Links.Issue(ctx.Reference, People.MovingAndHandling, "signoff", expires)]));
    }

    private static void ApprovalRequests(DecisionBuilder d, WorkflowContext ctx, string detail, Instant due, bool careManager, bool ot)
    {
        var expires = due + Duration.FromDays(30);
        foreach (var who in (careManager ? new[] { People.CareManager } : []).Concat(ot ? [People.OccupationalTherapist] : []))
            d.Send(new OutboundMessage(MessageChannel.Email, ctx.Contacts.Email(who), "approval-request",
                $"{ctx.Reference}: adjustment outside parameters for approval by {WorkflowContext.Local(due)}", detail, RecipientId: who,
                Links: [ctx.Links.Issue(ctx.Reference, who, "approve", expires), ctx.Links.Issue(ctx.Reference, who, "reject", expires)]));
    }

    private static OutboundMessage ToProvider(string email, string providerId, string purpose, string subject, string body, IReadOnlyList<string>? links = null) =>
        new(MessageChannel.Email, email, purpose, subject, body, RecipientId: providerId, Links: links);

    // ---------------- asks (answerable by signed link) ----------------

    private static readonly AskField RequiredText = new("text", "Your reasons", "textarea", Required: true);
    private static readonly AskField OptionalNote = new("text", "Note (optional)", "textarea");

    public override IReadOnlyList<OpenAsk> OpenAsks(State s)
    {
        var asks = new List<OpenAsk>();
        var what = $"{s.PackageId}: {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week from {s.EffectiveDate:d MMM yyyy}";
        switch (s.Stage)
        {
            case Stage.AwaitingSignOff or Stage.ConcernRaised:
                if (!s.SeniorSignedOff)
                {
                    asks.Add(new(People.SeniorCareManager, "signoff", $"Sign off the trusted-assessor adjustment {what}.", s.Due, RecipientRole: Roles.SeniorCareManager, Fields: [OptionalNote]));
                    if (s.Stage == Stage.AwaitingSignOff)
                        asks.Add(new(People.SeniorCareManager, "concern", $"Raise a concern with the provider about {what}.", s.Due, RecipientRole: Roles.SeniorCareManager, Fields: [RequiredText]));
                    asks.Add(new(People.SeniorCareManager, "pause", $"Pause {what} pending a care-management review (the provider reinstates the original hours).", s.Due,
                        RecipientRole: Roles.SeniorCareManager, Fields: [RequiredText]));
                }
                if (s.NeedsMovingAndHandlingSignOff && !s.MovingAndHandlingSignedOff && s.Stage == Stage.AwaitingSignOff)
                    asks.Add(new(People.MovingAndHandling, "signoff", $"Moving-and-handling sign-off of {what}.", s.Due, RecipientRole: MovingAndHandlingAssessorRole, Fields: [OptionalNote]));
                if (s.Stage == Stage.ConcernRaised)
                    asks.Add(new(s.ProviderId, "respond", $"Respond to the council's concern about {what}.", s.Due, Email: s.AssessorEmail, Fields: [RequiredText]));
                break;
            case Stage.AwaitingApproval:
                foreach (var (who, role, pending) in new[] { (People.CareManager, Roles.CareManager, !s.CareManagerApproved), (People.OccupationalTherapist, OccupationalTherapistRole, s.NeedsOtApproval && !s.OtApproved) })
                {
                    if (!pending) continue;
                    asks.Add(new(who, "approve", $"Approve the change outside trusted-assessor parameters: {what}.", s.Due, RecipientRole: role, Fields: [OptionalNote]));
                    asks.Add(new(who, "reject", $"Reject the change outside trusted-assessor parameters: {what}.", s.Due, RecipientRole: role, Fields: [RequiredText]));
                }
                break;
            case Stage.AwaitingReinstatement:
                asks.Add(new(s.ProviderId, "reinstated", $"Confirm {s.PackageId} is back to its original {H(s.OriginalHours)} hours a week.", s.Due, Email: s.AssessorEmail, Fields: [OptionalNote]));
                break;
        }
        return asks;
    }

    public override ReplyResult ParseReply(State s, OpenAsk ask, IReadOnlyDictionary<string, string> fields)
    {
        var text = fields.TryGetValue("text", out var t) && !string.IsNullOrWhiteSpace(t) ? t.Trim() : null;
        return ask.Action switch
        {
            "signoff" => ReplyResult.Ok(new SignOff(text)),
            "approve" => ReplyResult.Ok(new Approve(text)),
            "reinstated" => ReplyResult.Ok(new ConfirmReinstatement(text)),
            "concern" => text is null ? ReplyResult.Fail("Please describe the concern.") : ReplyResult.Ok(new RaiseConcern(text)),
            "pause" => text is null ? ReplyResult.Fail("Please give the reason for the pause.") : ReplyResult.Ok(new PausePendingReview(text)),
            "respond" => text is null ? ReplyResult.Fail("Please write your response.") : ReplyResult.Ok(new RespondToConcern(text)),
            "reject" => text is null ? ReplyResult.Fail("Please give the reasons for rejecting the change.") : ReplyResult.Ok(new Reject(text)),
            _ => ReplyResult.Fail($"'{ask.Action}' is not an answer this adjustment takes."),
        };
    }

    // ---------------- evolve ----------------

    public override State Evolve(State s, WorkflowEvent e) => e switch
    {
        AdjustmentProposed x => s with
        {
            Stage = Stage.AwaitingApproval, PackageId = x.PackageId, ProviderId = x.ProviderId, AssessorId = x.AssessorId, AssessorEmail = x.AssessorEmail,
            OriginalHours = x.HoursBefore, ProposedHours = x.HoursAfter, HoursInEffect = x.HoursBefore, ChangePercent = x.ChangePercent,
            EffectiveDate = x.EffectiveDate, WithinParameters = x.WithinParameters, NeedsMovingAndHandlingSignOff = x.MovingAndHandlingSignOff, NeedsOtApproval = x.OtReview,
        },
        AdjustmentImplemented x => s with { HoursInEffect = x.HoursAfter },
        SentForSignOff x => s with { Stage = Stage.AwaitingSignOff, Due = x.Due },
        SentForApproval x => s with { Stage = Stage.AwaitingApproval, Due = x.Due },
        ApprovalGiven x => x.By == People.OccupationalTherapist ? s with { OtApproved = true } : s with { CareManagerApproved = true },
        ApprovalRefused x => s with { Stage = Stage.Rejected, Outcome = x.Reason, Due = null },
        SignOffGiven x => x.By == People.MovingAndHandling ? s with { MovingAndHandlingSignedOff = true } : s with { SeniorSignedOff = true },
        AdjustmentSignedOff x => s with { Stage = Stage.SignedOff, HoursInEffect = x.HoursAfter, Outcome = x.Why, Due = null },
        ConcernRaised x => s with { Stage = Stage.ConcernRaised, Due = x.Due, Concerns = s.Concerns.Add(x.Concern) },
        ConcernAnswered x => s with { Stage = Stage.AwaitingSignOff, Due = x.SignOffDue },
        PauseRequested x => s with { Stage = Stage.AwaitingReinstatement, Due = x.ConfirmBy },
        ReinstatementConfirmed x => s with { Stage = Stage.PausedPendingReview, HoursInEffect = x.HoursAfter, Due = null },
        ReviewConcluded { Approved: false } x => s with { Stage = Stage.Reversed, HoursInEffect = x.HoursAfter, Outcome = x.Reason, Due = null },
        ReviewConcluded x => s with { HoursInEffect = x.HoursAfter },
        _ => s,
    };
}
