using System.Collections.Immutable;
using NodaTime;

namespace CareWorkflows.Definitions.Workflows;

/// <summary>What the council decides on a provider's response (B 15.3–15.4).</summary>
public enum ConcernOutcome
{
    Accepted = 1,
    ActionPlanRequired = 2,
    DefaultNotice = 3,
    SafeguardingReferral = 4,
}

public enum ConcernStage { None = 0, AwaitingResponse = 1, AwaitingDecision = 2, AwaitingActionPlan = 3, Closed = 4 }

/// <summary>
/// Quality concern (B 15). The council asks a provider for information; the provider investigates and answers in
/// writing within 7 working days (the council may shorten or extend that, B 15.2); the council decides: accepted,
/// detailed action plan required, default notice, and/or safeguarding referral (B 15.3–15.4).
/// A deadline is the end of its working day in Europe/London (WorkingCalendar). Reminder 2 working days before;
/// overdue → contract compliance manager, then the QA lead after a further working day.
/// </summary>
public sealed class QualityConcern : Workflow<QualityConcern.State, QualityConcern.Raise>
{
    // ---- policy settings (Policy:QualityConcerns:...) ----
    public const int DefaultResponseWorkingDays = 7;     // B 15.2
    public const int DefaultActionPlanWorkingDays = 10;
    public const int DefaultReminderWorkingDaysBefore = 2;
    public const int DefaultQaLeadAfterWorkingDays = 1;
    public static readonly Duration DefaultReminderTimeOfDay = Duration.FromHours(9);
    public const int MaxWorkingDays = 60;
    /// <summary>A new due date given as a date may be at most this many days ahead (B 15.2 lets the council extend, not indefinitely).</summary>
    public const int MaxDueDateDaysAhead = 365;

    public const string ReminderTimer = "reminder";
    public const string OverdueTimer = "overdue";
    public const string QaLeadTimer = "overdue-qa-lead";
    public const string QaLeadScheduleTimer = "overdue-qa-lead-schedule";

    public const string RespondAction = "respond";
    public const string ActionPlanAction = "action-plan";

    public static readonly string[] CouncilRoles = [Roles.QualityAssurance, Roles.Admin];

    // ---- inputs ----
    /// <summary>Raises a concern. The API fills the provider's name and contact email from the provider directory.</summary>
    public sealed record Raise(string ProviderId, string ProviderName, string ProviderEmail, string Concern, int? ResponseWorkingDays) : WorkflowInput;
    public sealed record Respond(string Investigation, bool IssueFound, string? Actions) : WorkflowInput;
    public sealed record SubmitActionPlan(string Plan) : WorkflowInput;
    /// <summary>Moves the deadline: either N working days from when the request was sent, or the end of a given working day.</summary>
    public sealed record ChangeDueDate(int? WorkingDays, LocalDate? DueDate, string Reason) : WorkflowInput;
    public sealed record RecordDecision(IReadOnlyList<ConcernOutcome> Outcomes, string Reason, int? ActionPlanWorkingDays) : WorkflowInput;

    // ---- events ----
    public sealed record ConcernRaised(string ProviderId, string ProviderName, string ProviderEmail, string Concern, Instant RaisedAt, int WorkingDays, LocalDate DueDate, Instant DueAt) : WorkflowEvent;
    public sealed record ReminderSent(ConcernStage Stage, Instant DueAt) : WorkflowEvent;
    public sealed record ResponseOverdue(ConcernStage Stage, Instant DueAt, string EscalatedTo) : WorkflowEvent;
    public sealed record OverdueEscalatedToQaLead(ConcernStage Stage, Instant DueAt, string EscalatedTo) : WorkflowEvent;
    public sealed record ResponseReceived(string Investigation, bool IssueFound, string? Actions, bool Late) : WorkflowEvent;
    public sealed record ActionPlanReceived(string Plan, bool Late) : WorkflowEvent;
    public sealed record DueDateChanged(Instant From, LocalDate DueDate, Instant DueAt, string Reason) : WorkflowEvent;
    public sealed record ConcernDecided(IReadOnlyList<ConcernOutcome> Outcomes, string Reason, Instant DecidedAt, LocalDate? ActionPlanDueDate, Instant? ActionPlanDueAt) : WorkflowEvent;

    // ---- state ----
    public sealed record State(
        ConcernStage Stage,
        string ProviderId,
        string ProviderName,
        string ProviderEmail,
        string Concern,
        Instant RequestedAt,
        LocalDate DueDate,
        Instant DueAt,
        int Escalation,
        string? Investigation,
        bool? IssueFound,
        string? Actions,
        bool ResponseLate,
        string? ActionPlan,
        ImmutableList<ConcernOutcome> Outcomes,
        string? DecisionReason);

    public override string Type => "QC";
    public override State Initial => new(ConcernStage.None, "", "", "", "", default, default, default, 0, null, null, null, false, null, [], null);

    public override Decision Decide(State s, WorkflowInput input, WorkflowContext ctx) => input switch
    {
        Raise r when s.Stage != ConcernStage.None => Decision.Conflict("This concern has already been raised."),
        Raise r => OnRaise(r, ctx),
        _ when s.Stage == ConcernStage.None => Decision.Conflict("This concern has not been raised."),
        Respond r => OnRespond(s, r, ctx),
        SubmitActionPlan p => OnActionPlan(s, p, ctx),
        ChangeDueDate c => OnChangeDueDate(s, c, ctx),
        RecordDecision d => OnDecision(s, d, ctx),
        TimerFired { Name: ReminderTimer } => OnReminder(s, ctx),
        TimerFired { Name: OverdueTimer } => OnOverdue(s, ctx),
        TimerFired { Name: QaLeadTimer } => OnQaLead(s, ctx),
        TimerFired { Name: QaLeadScheduleTimer } => OnScheduleQaLead(s, ctx),
        // A failed failure notice is not chased again (that would loop); the outbox keeps it for operators to retry.
        MessageFailed { Purpose: "delivery-failed" } => Decision.Nothing,
        MessageFailed m => new DecisionBuilder()
            .Send(Email(ctx.Contacts.Email("quality-assurance"), "delivery-failed", $"{ctx.Reference}: a message could not be delivered",
                $"The {m.Purpose} message for quality concern {ctx.Reference} to {m.To} could not be delivered ({m.Error}). Please contact the provider another way."))
            .Build(),
        _ => Decision.Invalid($"{input.GetType().Name} is not an input of a quality concern."),
    };

    private static Decision OnRaise(Raise r, WorkflowContext ctx)
    {
        if (!ctx.Actor.IsIn(CouncilRoles)) return Decision.Forbidden("Only the Quality Assurance team can raise a quality concern.");
        if (Blank(r.ProviderId) || Blank(r.ProviderName) || Blank(r.ProviderEmail) || Blank(r.Concern))
            return Decision.Invalid("providerId, providerName, providerEmail and concern are required.");
        var days = r.ResponseWorkingDays ?? ctx.Policy.Int("QualityConcerns:ResponseWorkingDays", DefaultResponseWorkingDays);
        if (days is < 1 or > MaxWorkingDays) return Decision.Invalid($"responseWorkingDays must be between 1 and {MaxWorkingDays}.");
        // B 15.2: "within N working days" of the request = end of the Nth working day after the day it is sent.
        var dueDate = ctx.Calendar.AddWorkingDays(WorkingCalendar.LocalDateOf(ctx.Now), days);
        var dueAt = ctx.Calendar.EndOf(dueDate);
        var d = new DecisionBuilder().Record(new ConcernRaised(r.ProviderId.Trim(), r.ProviderName.Trim(), r.ProviderEmail.Trim(), r.Concern.Trim(), ctx.Now, days, dueDate, dueAt));
        Schedule(d, dueDate, dueAt, ctx);
        d.Send(ToProvider(r.ProviderEmail.Trim(), "request", $"{ctx.Reference}: quality concern – please respond by {WorkflowContext.Local(dueAt)}",
            $"The council has a quality concern about the service {r.ProviderName.Trim()} provides, and asks you to investigate it.\n\n{r.Concern.Trim()}\n\n" +
            $"Please reply in writing by {WorkflowContext.Local(dueAt)} ({days} working days, B 15.2): say what you investigated, whether you found an issue, " +
            "and if so the actions you have taken and their timescales.",
            ctx.Links.Issue(ctx.Reference, r.ProviderId.Trim(), RespondAction, LinkExpiry(dueAt, ctx))));
        return d.Build();
    }

    private static Decision OnRespond(State s, Respond r, WorkflowContext ctx)
    {
        if (NotTheProvider(s, ctx) is { } no) return no;
        if (s.Stage == ConcernStage.AwaitingActionPlan) return Decision.Conflict("The council has asked for an action plan: send it as the action plan.");
        if (s.Stage != ConcernStage.AwaitingResponse) return Decision.Conflict($"{ctx.Reference} is not waiting for a response ({s.Stage}).");
        if (Blank(r.Investigation)) return Decision.Invalid("investigation is required: say what was investigated (B 15.2).");
        if (r.IssueFound && Blank(r.Actions)) return Decision.Invalid("actions are required when an issue was found: the actions taken and their timescales (B 15.2).");
        var late = ctx.Now > s.DueAt;
        var d = new DecisionBuilder().Record(new ResponseReceived(r.Investigation.Trim(), r.IssueFound, r.Actions?.Trim(), late));
        Unschedule(d);
        d.Send(Email(ctx.Contacts.Email("quality-assurance"), "response-received", $"{ctx.Reference}: provider response received{(late ? " (late)" : "")}",
            $"{s.ProviderName} has responded to quality concern {ctx.Reference}{(late ? $" after its deadline of {WorkflowContext.Local(s.DueAt)}" : "")}.\n\n" +
            $"Investigation:\n{r.Investigation.Trim()}\n\nIssue found: {(r.IssueFound ? "yes" : "no")}\n" +
            (r.IssueFound ? $"\nActions and timescales:\n{r.Actions!.Trim()}\n" : "") + "\nPlease record the council's decision (B 15.3)."));
        if (s.Escalation > 0) NotifyEscalatedOfAnswer(d, s, ctx, "response");
        return d.Build();
    }

    private static Decision OnActionPlan(State s, SubmitActionPlan p, WorkflowContext ctx)
    {
        if (NotTheProvider(s, ctx) is { } no) return no;
        if (s.Stage != ConcernStage.AwaitingActionPlan) return Decision.Conflict($"{ctx.Reference} is not waiting for an action plan ({s.Stage}).");
        if (Blank(p.Plan)) return Decision.Invalid("plan is required.");
        var late = ctx.Now > s.DueAt;
        var d = new DecisionBuilder().Record(new ActionPlanReceived(p.Plan.Trim(), late));
        Unschedule(d);
        d.Send(Email(ctx.Contacts.Email("quality-assurance"), "action-plan-received", $"{ctx.Reference}: action plan received{(late ? " (late)" : "")}",
            $"{s.ProviderName} has sent the action plan for quality concern {ctx.Reference}.\n\n{p.Plan.Trim()}\n\nPlease record the council's decision (B 15.3)."));
        if (s.Escalation > 0) NotifyEscalatedOfAnswer(d, s, ctx, "action plan");
        return d.Build();
    }

    /// <summary>B 15.2: the council may shorten or extend the time to respond; the reason goes on the timeline.</summary>
    private static Decision OnChangeDueDate(State s, ChangeDueDate c, WorkflowContext ctx)
    {
        if (!ctx.Actor.IsIn(CouncilRoles)) return Decision.Forbidden("Only the Quality Assurance team can change the due date.");
        if (s.Stage is not (ConcernStage.AwaitingResponse or ConcernStage.AwaitingActionPlan))
            return Decision.Conflict($"{ctx.Reference} is not waiting for the provider ({s.Stage}).");
        if (Blank(c.Reason)) return Decision.Invalid("A reason is required to change the due date.");
        if ((c.WorkingDays is null) == (c.DueDate is null)) return Decision.Invalid("Give either workingDays or dueDate.");
        LocalDate dueDate;
        if (c.WorkingDays is { } n)
        {
            if (n is < 1 or > MaxWorkingDays) return Decision.Invalid($"workingDays must be between 1 and {MaxWorkingDays}.");
            dueDate = ctx.Calendar.AddWorkingDays(WorkingCalendar.LocalDateOf(s.RequestedAt), n);
        }
        else
        {
            dueDate = c.DueDate!.Value;
            // Bounded before the calendar is asked: 9999-12-31 or 0001-01-01 is a typing error (422), not missing bank-holiday data (503).
            if (Rules.TimeBounds.DueDate("dueDate", dueDate, WorkingCalendar.LocalDateOf(ctx.Now), MaxDueDateDaysAhead) is { } bad) return Decision.Invalid(bad, "dueDate");
            if (!ctx.Calendar.IsWorkingDay(dueDate)) return Decision.Invalid($"{dueDate:yyyy-MM-dd} is not a working day.", "dueDate");
        }
        var dueAt = ctx.Calendar.EndOf(dueDate);
        if (dueAt <= ctx.Now) return Decision.Invalid($"The new due date ({WorkflowContext.Local(dueAt)}) has already passed.");
        var d = new DecisionBuilder().Record(new DueDateChanged(s.DueAt, dueDate, dueAt, c.Reason.Trim()));
        Schedule(d, dueDate, dueAt, ctx);
        var action = s.Stage == ConcernStage.AwaitingActionPlan ? ActionPlanAction : RespondAction;
        d.Send(ToProvider(s.ProviderEmail, "due-date-changed", $"{ctx.Reference}: new due date {WorkflowContext.Local(dueAt)}",
            $"The council has changed the date your {(action == RespondAction ? "response" : "action plan")} for quality concern {ctx.Reference} is due: " +
            $"it is now due by {WorkflowContext.Local(dueAt)} (was {WorkflowContext.Local(s.DueAt)}).\nReason: {c.Reason.Trim()}",
            ctx.Links.Issue(ctx.Reference, s.ProviderId, action, LinkExpiry(dueAt, ctx))));
        return d.Build();
    }

    /// <summary>B 15.3–15.4: accepted; action plan required; default notice; safeguarding referral (the last three may combine).</summary>
    private static Decision OnDecision(State s, RecordDecision c, WorkflowContext ctx)
    {
        if (!ctx.Actor.IsIn(CouncilRoles)) return Decision.Forbidden("Only the Quality Assurance team can decide on a quality concern.");
        if (s.Stage != ConcernStage.AwaitingDecision)
            return Decision.Conflict(s.Stage == ConcernStage.Closed ? $"{ctx.Reference} is already decided and closed."
                : $"There is no provider {(s.Stage == ConcernStage.AwaitingActionPlan ? "action plan" : "response")} to decide on yet.");
        var outcomes = c.Outcomes.Distinct().ToList();
        if (outcomes.Count == 0) return Decision.Invalid("Give at least one outcome: Accepted, ActionPlanRequired, DefaultNotice or SafeguardingReferral.");
        if (outcomes.Contains(ConcernOutcome.Accepted) && outcomes.Count > 1) return Decision.Invalid("Accepted cannot be combined with other outcomes.");
        if (Blank(c.Reason)) return Decision.Invalid("A reason is required for the decision.");
        var planRequired = outcomes.Contains(ConcernOutcome.ActionPlanRequired);
        if (c.ActionPlanWorkingDays is not null && !planRequired) return Decision.Invalid("actionPlanWorkingDays applies only when an action plan is required.");
        var days = c.ActionPlanWorkingDays ?? ctx.Policy.Int("QualityConcerns:ActionPlanWorkingDays", DefaultActionPlanWorkingDays);
        if (days is < 1 or > MaxWorkingDays) return Decision.Invalid($"actionPlanWorkingDays must be between 1 and {MaxWorkingDays}.");

        LocalDate? planDate = planRequired ? ctx.Calendar.AddWorkingDays(WorkingCalendar.LocalDateOf(ctx.Now), days) : null;
        Instant? planDue = planDate is { } pd ? ctx.Calendar.EndOf(pd) : null;
        var reason = c.Reason.Trim();
        var d = new DecisionBuilder().Record(new ConcernDecided(outcomes, reason, ctx.Now, planDate, planDue));
        var summary = $"Concern: {s.Concern}\n\nProvider's investigation: {s.Investigation}\nIssue found: {(s.IssueFound == true ? "yes" : "no")}" +
                      (s.Actions is { } a ? $"\nActions: {a}" : "") + (s.ActionPlan is { } p ? $"\nAction plan: {p}" : "");
        if (outcomes.Contains(ConcernOutcome.DefaultNotice))
            d.Send(Email(ctx.Contacts.Email("contract-compliance"), "default-notice", $"{ctx.Reference}: serve a default notice on {s.ProviderName}",
                $"The Quality Assurance team decided that the outcome of quality concern {ctx.Reference} is a default or breach of contract (B 15.4). " +
                $"Please serve notice under the contract.\nReason: {reason}\n\n{summary}"));
        if (outcomes.Contains(ConcernOutcome.SafeguardingReferral))
            d.Send(Email(ctx.Contacts.Email("safeguarding-lead"), "safeguarding-referral", $"{ctx.Reference}: safeguarding referral from a quality concern",
                $"The Quality Assurance team refers quality concern {ctx.Reference} ({s.ProviderName}) under the council's safeguarding procedures (B 15.4).\nReason: {reason}\n\n{summary}"));

        var body = outcomes switch
        {
            [ConcernOutcome.Accepted] => $"The council has accepted your {(s.ActionPlan is null ? "response" : "action plan")} to quality concern {ctx.Reference}. It is now closed.",
            _ => $"The council has decided on quality concern {ctx.Reference}: {string.Join(", ", outcomes.Select(Label))}.\nReason: {reason}",
        };
        if (planRequired)
        {
            Schedule(d, planDate!.Value, planDue!.Value, ctx);
            d.Send(ToProvider(s.ProviderEmail, "decision", $"{ctx.Reference}: detailed action plan required by {WorkflowContext.Local(planDue.Value)}",
                body + $"\n\nPlease send a detailed action plan by {WorkflowContext.Local(planDue.Value)} ({days} working days, B 15.3).",
                ctx.Links.Issue(ctx.Reference, s.ProviderId, ActionPlanAction, LinkExpiry(planDue.Value, ctx))));
        }
        else d.Send(Email(s.ProviderEmail, "decision", $"{ctx.Reference}: council decision on the quality concern", body));
        return d.Build();
    }

    private static Decision OnReminder(State s, WorkflowContext ctx)
    {
        if (!IsWaiting(s)) return Decision.Nothing;
        var action = s.Stage == ConcernStage.AwaitingActionPlan ? ActionPlanAction : RespondAction;
        return new DecisionBuilder().Record(new ReminderSent(s.Stage, s.DueAt))
            .Send(ToProvider(s.ProviderEmail, "reminder", $"{ctx.Reference}: {What(s)} due by {WorkflowContext.Local(s.DueAt)}",
                $"Reminder: your {What(s)} for quality concern {ctx.Reference} is due by {WorkflowContext.Local(s.DueAt)}.",
                ctx.Links.Issue(ctx.Reference, s.ProviderId, action, LinkExpiry(s.DueAt, ctx))))
            .Build();
    }

    /// <summary>Overdue: the contract compliance manager now; the QA lead after a further working day.</summary>
    private static Decision OnOverdue(State s, WorkflowContext ctx)
    {
        if (!IsWaiting(s)) return Decision.Nothing;
        var to = ctx.Contacts.Email("contract-compliance");
        var d = new DecisionBuilder().Record(new ResponseOverdue(s.Stage, s.DueAt, to))
            .Send(Email(to, "overdue-escalation", $"{ctx.Reference}: {What(s)} overdue from {s.ProviderName}",
                $"{s.ProviderName} has not sent the {What(s)} to quality concern {ctx.Reference}; it was due by {WorkflowContext.Local(s.DueAt)} (B 15.2).\n\nConcern: {s.Concern}"));
        var action = s.Stage == ConcernStage.AwaitingActionPlan ? ActionPlanAction : RespondAction;
        d.Send(ToProvider(s.ProviderEmail, "overdue", $"{ctx.Reference}: {What(s)} overdue",
            $"Your {What(s)} to quality concern {ctx.Reference} was due by {WorkflowContext.Local(s.DueAt)} and has not been received. " +
            "The council's contract compliance manager has been told. Please send it now.",
            ctx.Links.Issue(ctx.Reference, s.ProviderId, action, LinkExpiry(s.DueAt, ctx))));
        // The contract compliance escalation must not wait for calendar data: if the QA-lead date is beyond the data,
        // a scheduling timer takes over, and the pump holds it and alerts operators until newer data is loaded.
        try { d.SetTimer(QaLeadTimer, QaLeadAt(s, ctx)); }
        catch (CalendarOutOfRangeException) { d.SetTimer(QaLeadScheduleTimer, ctx.Now); }
        return d.Build();
    }

    private static Instant QaLeadAt(State s, WorkflowContext ctx) =>
        ctx.Calendar.EndOf(ctx.Calendar.AddWorkingDays(s.DueDate, ctx.Policy.Int("QualityConcerns:QaLeadAfterWorkingDays", DefaultQaLeadAfterWorkingDays)));

    private static Decision OnScheduleQaLead(State s, WorkflowContext ctx) =>
        IsWaiting(s) && s.Escalation == 1 ? new DecisionBuilder().SetTimer(QaLeadTimer, QaLeadAt(s, ctx)).Build() : Decision.Nothing;

    private static Decision OnQaLead(State s, WorkflowContext ctx)
    {
        if (!IsWaiting(s)) return Decision.Nothing;
        var to = ctx.Contacts.Email("qa-lead");
        return new DecisionBuilder().Record(new OverdueEscalatedToQaLead(s.Stage, s.DueAt, to))
            .Send(Email(to, "overdue-qa-lead", $"{ctx.Reference}: {What(s)} still overdue from {s.ProviderName}",
                $"{s.ProviderName} has still not sent the {What(s)} to quality concern {ctx.Reference}, due by {WorkflowContext.Local(s.DueAt)}. " +
                $"The contract compliance manager was told when it became overdue.\n\nConcern: {s.Concern}"))
            .Build();
    }

    /// <summary>Reminder at the start of the working day N working days before the due day (policy); the overdue alarm at the deadline.</summary>
    private static void Schedule(DecisionBuilder d, LocalDate dueDate, Instant dueAt, WorkflowContext ctx)
    {
        Unschedule(d);
        var before = ctx.Policy.Int("QualityConcerns:ReminderWorkingDaysBefore", DefaultReminderWorkingDaysBefore);
        var timeOfDay = ctx.Policy.Duration("QualityConcerns:ReminderTimeOfDay", DefaultReminderTimeOfDay);
        var remindAt = ctx.Calendar.SubtractWorkingDays(dueDate, before).AtMidnight().PlusTicks(timeOfDay.BclCompatibleTicks)
            .InZoneLeniently(WorkingCalendar.London).ToInstant();
        if (remindAt > ctx.Now) d.SetTimer(ReminderTimer, remindAt);
        d.SetTimer(OverdueTimer, dueAt);
    }

    private static void Unschedule(DecisionBuilder d) => d.CancelTimer(ReminderTimer).CancelTimer(OverdueTimer).CancelTimer(QaLeadTimer).CancelTimer(QaLeadScheduleTimer);

    private static void NotifyEscalatedOfAnswer(DecisionBuilder d, State s, WorkflowContext ctx, string what)
    {
        d.Send(Email(ctx.Contacts.Email("contract-compliance"), "overdue-answered", $"{ctx.Reference}: overdue {what} now received",
            $"The overdue {what} to quality concern {ctx.Reference} from {s.ProviderName} has been received."));
        if (s.Escalation > 1)
            d.Send(Email(ctx.Contacts.Email("qa-lead"), "overdue-answered", $"{ctx.Reference}: overdue {what} now received",
                $"The overdue {what} to quality concern {ctx.Reference} from {s.ProviderName} has been received."));
    }

    public override State Evolve(State s, WorkflowEvent e) => e switch
    {
        ConcernRaised r => s with
        {
            Stage = ConcernStage.AwaitingResponse, ProviderId = r.ProviderId, ProviderName = r.ProviderName, ProviderEmail = r.ProviderEmail,
            Concern = r.Concern, RequestedAt = r.RaisedAt, DueDate = r.DueDate, DueAt = r.DueAt,
        },
        ResponseOverdue => s with { Escalation = Math.Max(s.Escalation, 1) },
        OverdueEscalatedToQaLead => s with { Escalation = 2 },
        ResponseReceived r => s with { Stage = ConcernStage.AwaitingDecision, Investigation = r.Investigation, IssueFound = r.IssueFound, Actions = r.Actions, ResponseLate = r.Late, Escalation = 0 },
        ActionPlanReceived p => s with { Stage = ConcernStage.AwaitingDecision, ActionPlan = p.Plan, Escalation = 0 },
        DueDateChanged c => s with { DueDate = c.DueDate, DueAt = c.DueAt, Escalation = 0 },
        ConcernDecided c when c.ActionPlanDueAt is { } due => s with
        {
            Stage = ConcernStage.AwaitingActionPlan, Outcomes = [.. c.Outcomes], DecisionReason = c.Reason, RequestedAt = c.DecidedAt, DueDate = c.ActionPlanDueDate!.Value, DueAt = due, Escalation = 0,
        },
        ConcernDecided c => s with { Stage = ConcernStage.Closed, Outcomes = [.. c.Outcomes], DecisionReason = c.Reason },
        _ => s,
    };

    public override string Status(State s) => s.Stage.ToString();
    public override bool IsCompleted(State s) => s.Stage == ConcernStage.Closed;
    public override string Summary(State s) => s.Stage == ConcernStage.None ? "" : $"{s.ProviderName}: {What(s)} due {WorkflowContext.Local(s.DueAt)}";

    /// <summary>The provider answers by signed link: the response, or later the action plan.</summary>
    public override IReadOnlyList<OpenAsk> OpenAsks(State s) => s.Stage switch
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

    public override ReplyResult ParseReply(State s, OpenAsk ask, IReadOnlyDictionary<string, string> fields)
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

    // ---- helpers ----
    private static bool IsWaiting(State s) => s.Stage is ConcernStage.AwaitingResponse or ConcernStage.AwaitingActionPlan;
    private static string What(State s) => s.Stage == ConcernStage.AwaitingActionPlan ? "action plan" : "response";
    private static bool Blank(string? s) => string.IsNullOrWhiteSpace(s);
    private static Instant LinkExpiry(Instant dueAt, WorkflowContext ctx) => dueAt + ctx.Policy.Duration("QualityConcerns:LinkValidAfterDue", Duration.FromDays(30));

    private static Decision? NotTheProvider(State s, WorkflowContext ctx) =>
        ctx.Actor.IsIn(Roles.Provider) && ctx.Actor.ProviderId == s.ProviderId ? null
        : Decision.Forbidden("Only the provider the concern was raised with can answer it.");

    private static string Label(ConcernOutcome o) => o switch
    {
        ConcernOutcome.Accepted => "accepted",
        ConcernOutcome.ActionPlanRequired => "detailed action plan required",
        ConcernOutcome.DefaultNotice => "default notice to be served",
        _ => "safeguarding referral",
    };

    private static OutboundMessage Email(string to, string purpose, string subject, string body) => new(MessageChannel.Email, to, purpose, subject, body);

    private static OutboundMessage ToProvider(string to, string purpose, string subject, string body, string link) =>
        new(MessageChannel.Email, to, purpose, subject, $"{body}\n\nAnswer here: {link}", Links: [link]);
}
