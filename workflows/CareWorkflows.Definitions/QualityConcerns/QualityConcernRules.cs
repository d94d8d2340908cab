using NodaTime;
using static CareWorkflows.Definitions.QualityConcerns.QualityConcern;

namespace CareWorkflows.Definitions.QualityConcerns;

/// <summary>
/// The rules of a quality concern (B 15), pure: who may do what in which stage, and the working-day arithmetic of its
/// deadlines. The API runs the same checks at once against the published state; the orchestration has the last word.
/// </summary>
public static class QualityConcernRules
{
    private static Rejection Invalid(string detail, string? field = null) => new(RejectionKind.Invalid, "The request is not valid", detail, field);
    private static Rejection Conflict(string detail) => new(RejectionKind.Conflict, "Not possible in the current state", detail);
    private static Rejection Forbidden(string detail) => new(RejectionKind.Forbidden, "Not allowed", detail);
    private static bool Blank(string? s) => string.IsNullOrWhiteSpace(s);

    // ---------------------------------------------------------------- raising (B 15.1–15.2)

    public static Rejection? CheckRaise(Raise r, Actor actor, PolicySettings policy)
    {
        if (!actor.IsIn(CouncilRoles)) return Forbidden("Only the Quality Assurance team can raise a quality concern.");
        if (Blank(r.ProviderId) || Blank(r.ProviderName) || Blank(r.ProviderEmail) || Blank(r.Concern))
            return Invalid("providerId, providerName, providerEmail and concern are required.");
        var days = ResponseDays(r, policy);
        if (days is < 1 or > MaxWorkingDays) return Invalid($"responseWorkingDays must be between 1 and {MaxWorkingDays}.");
        return null;
    }

    public static int ResponseDays(Raise r, PolicySettings policy) =>
        r.ResponseWorkingDays ?? policy.Int(QualityConcern.Policy.ResponseWorkingDays, QualityConcern.Policy.DefaultResponseWorkingDays);

    /// <summary>
    /// B 15.2: "within N working days" of the request is the end of the Nth working day after the day it is sent.
    /// Throws <see cref="CalendarOutOfRangeException"/> beyond the loaded bank-holiday data (never a guess).
    /// </summary>
    public static (LocalDate Date, Instant At) Due(Instant sentAt, int workingDays, WorkingCalendar calendar)
    {
        var date = calendar.AddWorkingDays(WorkingCalendar.LocalDateOf(sentAt), workingDays);
        return (date, calendar.EndOf(date));
    }

    public static State Raised(Raise r, Instant now, int days, (LocalDate Date, Instant At) due) =>
        new(ConcernStage.AwaitingResponse, r.ProviderId.Trim(), r.ProviderName.Trim(), r.ProviderEmail.Trim(), r.Concern.Trim(), now, days,
            due.Date, due.At, 0, null, null, null, false, null, [], null);

    /// <summary>The reminder: the start of the working day N working days before the due day (policy: 2 days, 09:00).</summary>
    public static Instant ReminderAt(LocalDate dueDate, WorkingCalendar calendar, PolicySettings policy)
    {
        var before = policy.Int(QualityConcern.Policy.ReminderWorkingDaysBefore, QualityConcern.Policy.DefaultReminderWorkingDaysBefore);
        var timeOfDay = policy.Duration(QualityConcern.Policy.ReminderTimeOfDay, QualityConcern.Policy.DefaultReminderTimeOfDay);
        return calendar.SubtractWorkingDays(dueDate, before).AtMidnight().PlusTicks(timeOfDay.BclCompatibleTicks).InZoneLeniently(WorkingCalendar.London).ToInstant();
    }

    /// <summary>Still overdue this many working days after the due day: the QA lead hears too (end of that day).</summary>
    public static Instant QaLeadAt(LocalDate dueDate, WorkingCalendar calendar, PolicySettings policy) =>
        calendar.EndOf(calendar.AddWorkingDays(dueDate, policy.Int(QualityConcern.Policy.QaLeadAfterWorkingDays, QualityConcern.Policy.DefaultQaLeadAfterWorkingDays)));

    public static Instant LinkExpiry(Instant dueAt, PolicySettings policy) =>
        dueAt + policy.Duration(QualityConcern.Policy.LinkValidAfterDue, QualityConcern.Policy.DefaultLinkValidAfterDue);

    // ---------------------------------------------------------------- the provider's answers

    private static Rejection? NotTheProvider(State s, Actor actor) =>
        actor.IsIn(Roles.Provider) && actor.ProviderId == s.ProviderId ? null : Forbidden("Only the provider the concern was raised with can answer it.");

    public static Rejection? CheckRespond(State s, Actor actor, Respond r, string reference)
    {
        if (NotTheProvider(s, actor) is { } no) return no;
        if (s.Stage == ConcernStage.AwaitingActionPlan) return Conflict("The council has asked for an action plan: send it as the action plan.");
        if (s.Stage != ConcernStage.AwaitingResponse) return Conflict($"{reference} is not waiting for a response ({s.Stage}).");
        if (Blank(r.Investigation)) return Invalid("investigation is required: say what was investigated (B 15.2).");
        if (r.IssueFound && Blank(r.Actions)) return Invalid("actions are required when an issue was found: the actions taken and their timescales (B 15.2).");
        return null;
    }

    public static Rejection? CheckActionPlan(State s, Actor actor, SubmitActionPlan p, string reference)
    {
        if (NotTheProvider(s, actor) is { } no) return no;
        if (s.Stage != ConcernStage.AwaitingActionPlan) return Conflict($"{reference} is not waiting for an action plan ({s.Stage}).");
        if (Blank(p.Plan)) return Invalid("plan is required.");
        return null;
    }

    // ---------------------------------------------------------------- the council

    /// <summary>B 15.2: the council may shorten or extend the time to respond. Returns the new due day, or why not.</summary>
    public static (Rejection? Refused, LocalDate Date, Instant At) CheckChangeDueDate(State s, Actor actor, ChangeDueDate c, Instant now, WorkingCalendar calendar, string reference)
    {
        if (!actor.IsIn(CouncilRoles)) return (Forbidden("Only the Quality Assurance team can change the due date."), default, default);
        if (!s.Waiting) return (Conflict($"{reference} is not waiting for the provider ({s.Stage})."), default, default);
        if (Blank(c.Reason)) return (Invalid("A reason is required to change the due date."), default, default);
        if ((c.WorkingDays is null) == (c.DueDate is null)) return (Invalid("Give either workingDays or dueDate."), default, default);
        LocalDate date;
        if (c.WorkingDays is { } n)
        {
            if (n is < 1 or > MaxWorkingDays) return (Invalid($"workingDays must be between 1 and {MaxWorkingDays}."), default, default);
            date = calendar.AddWorkingDays(WorkingCalendar.LocalDateOf(s.RequestedAt), n);
        }
        else
        {
            date = c.DueDate!.Value;
            // Bounded before the calendar is asked: 9999-12-31 or 0001-01-01 is a typing error (422), not missing bank-holiday data.
            if (Rules.TimeBounds.DueDate("dueDate", date, WorkingCalendar.LocalDateOf(now), MaxDueDateDaysAhead) is { } bad) return (Invalid(bad, "dueDate"), default, default);
            if (!calendar.IsWorkingDay(date)) return (Invalid($"{date:yyyy-MM-dd} is not a working day.", "dueDate"), default, default);
        }
        var at = calendar.EndOf(date);
        if (at <= now) return (Invalid($"The new due date ({WorkflowContext.Local(at)}) has already passed."), default, default);
        return (null, date, at);
    }

    /// <summary>B 15.3–15.4: accepted; action plan required; default notice; safeguarding referral (the last three may combine).</summary>
    public static Rejection? CheckDecision(State s, Actor actor, RecordDecision c, PolicySettings policy, string reference)
    {
        if (!actor.IsIn(CouncilRoles)) return Forbidden("Only the Quality Assurance team can decide on a quality concern.");
        if (s.Stage != ConcernStage.AwaitingDecision)
            return Conflict(s.Stage == ConcernStage.Closed ? $"{reference} is already decided and closed."
                : $"There is no provider {(s.Stage == ConcernStage.AwaitingActionPlan ? "action plan" : "response")} to decide on yet.");
        var outcomes = c.Outcomes.Distinct().ToList();
        if (outcomes.Count == 0) return Invalid("Give at least one outcome: Accepted, ActionPlanRequired, DefaultNotice or SafeguardingReferral.");
        if (outcomes.Contains(ConcernOutcome.Accepted) && outcomes.Count > 1) return Invalid("Accepted cannot be combined with other outcomes.");
        if (Blank(c.Reason)) return Invalid("A reason is required for the decision.");
        if (c.ActionPlanWorkingDays is not null && !outcomes.Contains(ConcernOutcome.ActionPlanRequired))
            return Invalid("actionPlanWorkingDays applies only when an action plan is required.");
        if (ActionPlanDays(c, policy) is < 1 or > MaxWorkingDays) return Invalid($"actionPlanWorkingDays must be between 1 and {MaxWorkingDays}.");
        return null;
    }

    public static int ActionPlanDays(RecordDecision c, PolicySettings policy) =>
        c.ActionPlanWorkingDays ?? policy.Int(QualityConcern.Policy.ActionPlanWorkingDays, QualityConcern.Policy.DefaultActionPlanWorkingDays);

    // ---------------------------------------------------------------- what is published

    public static string Summary(State s) => s.Stage == ConcernStage.None ? "" : $"{s.ProviderName}: {s.What} due {WorkflowContext.Local(s.DueAt)}";

    /// <summary>The provider answers by signed link or reply: the response, or later the action plan.</summary>
    public static IReadOnlyList<OpenAsk> Asks(State s) => s.Stage switch
    {
        ConcernStage.AwaitingResponse => [new OpenAsk(s.ProviderId, RespondAction, $"Respond to the council's quality concern: {s.Concern}", s.DueAt, s.ProviderEmail,
            Fields: [
                new AskField("investigation", "What you investigated and what you found", "textarea", Required: true),
                new AskField("issueFound", "Did you find an issue with the service? (yes or no)", Required: true, Hint: "Answer yes or no."),
                new AskField("actions", "Actions taken and timescales", "textarea", Hint: "Required if you found an issue."),
            ])],
        ConcernStage.AwaitingActionPlan => [new OpenAsk(s.ProviderId, ActionPlanAction, $"Send a detailed action plan for the council's quality concern: {s.Concern}", s.DueAt, s.ProviderEmail,
            Fields: [new AskField("plan", "Detailed action plan, with owners and timescales", "textarea", Required: true)])],
        _ => [],
    };

    /// <summary>Turns an answer (link form fields, or an SMS/email reply) into an input, or says what is wrong with it.</summary>
    public static ReplyResult ParseReply(OpenAsk ask, IReadOnlyDictionary<string, string> fields)
    {
        string? F(string k) => fields.TryGetValue(k, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        switch (ask.Action)
        {
            case RespondAction:
                if (F("investigation") is not { } investigation) return ReplyResult.Fail("Please say what you investigated.");
                if (ParseYesNo(F("issueFound")) is not { } found) return ReplyResult.Fail("Please answer yes or no: did you find an issue?");
                if (found && F("actions") is null) return ReplyResult.Fail("You found an issue: please give the actions taken and their timescales.");
                return ReplyResult.Ok(new Respond(investigation, found, F("actions")));
            case ActionPlanAction:
                return F("plan") is { } plan ? ReplyResult.Ok(new SubmitActionPlan(plan)) : ReplyResult.Fail("Please write the action plan.");
            default:
                return ReplyResult.Fail($"'{ask.Action}' is not an answer a quality concern takes.");
        }
    }

    public static bool? ParseYesNo(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "yes" or "y" or "true" or "on" => true,
        "no" or "n" or "false" or "off" => false,
        _ => null,
    };

    public static string Label(ConcernOutcome o) => o switch
    {
        ConcernOutcome.Accepted => "accepted",
        ConcernOutcome.ActionPlanRequired => "detailed action plan required",
        ConcernOutcome.DefaultNotice => "default notice to be served",
        _ => "safeguarding referral",
    };
}
