using System.Collections.Immutable;
using CareWorkflows.Definitions.Privacy;
using NodaTime;

namespace CareWorkflows.Definitions.Workflows;

/// <summary>The kinds of serious incident a provider must report (B 12.3), plus welfare concerns (B 10.5).</summary>
public enum IncidentCategory
{
    SeriousCrimeOrViolence = 1,
    SeriousThreat = 2,
    UnexpectedDeathOrSeriousInjury = 3,
    EmergencyHospitalAdmission = 4,
    SafeguardingAlert = 5,
    ServiceDeliveryCompromised = 6,
    WelfareConcern = 7,
}

/// <summary>Where the council sends an incident it does not close (B 12.5).</summary>
public enum IncidentEscalationRoute
{
    /// <summary>A safeguarding enquiry under section 42 of the Care Act 2014.</summary>
    SafeguardingEnquiry = 1,
    Cqc = 2,
    ContractReview = 3,
}

public enum IncidentPhase { None = 0, AwaitingFullReport = 1, Open = 2, Closed = 3, Escalated = 4 }

/// <summary>
/// Serious incident (B 12, B 10.5, X 13.3). A provider reports it (initial report within 12 h of it occurring),
/// sends the full report within 48 h of it occurring, then status updates on a working-day cadence until the
/// council closes it or escalates it (s42 enquiry, CQC, contract review).
/// Hour deadlines are elapsed time (DOMAIN.md, time rules); the update cadence is in working days.
/// </summary>
public sealed class SeriousIncident : Workflow<SeriousIncident.State, SeriousIncident.Report>
{
    // ---- policy settings (Policy:Incidents:...) ----
    public static readonly Duration DefaultInitialReportWindow = Duration.FromHours(12);  // B 12.4
    public static readonly Duration DefaultFullReportWindow = Duration.FromHours(48);     // B 12.5
    public static readonly Duration DefaultReminderBefore = Duration.FromHours(12);
    public static readonly Duration DefaultOverdueRepeat = Duration.FromHours(24);
    public const int DefaultUpdateWorkingDays = 5;
    /// <summary>Clock skew we tolerate on "occurred at" and "became aware at" before calling them future times.</summary>
    public static readonly Duration Skew = Duration.FromMinutes(5);

    public const string FullReportReminderTimer = "full-report-reminder";
    public const string FullReportOverdueTimer = "full-report-overdue";
    public const string UpdateDueTimer = "update-due";
    /// <summary>Set when the update cadence could not be computed (calendar data missing): retried by the timer pump, which alerts operators.</summary>
    public const string UpdateScheduleTimer = "update-schedule";

    public const string FullReportAction = "full-report";
    public const string UpdateAction = "update";

    /// <summary>Staff who may close or escalate an incident.</summary>
    public static readonly string[] CouncilDeciders = [Roles.SafeguardingLead, Roles.QualityAssurance, Roles.SeniorCareManager, Roles.Admin];

    // ---- inputs ----
    /// <summary>The initial report, with what B 12.4 asks for.</summary>
    public sealed record Report(
        IncidentCategory Category,
        Instant OccurredAt,
        Instant BecameAwareAt,
        string Description,
        string Parties,
        bool EmergencyServicesInvolved,
        string? EmergencyServicesDetail,
        string ImmediateAction,
        string FurtherAction,
        string ServiceUserGroup,
        string ServiceUserId,
        string? ServiceUserName,
        string ProviderId,
        string ProviderName,
        string ContactEmail) : WorkflowInput;

    public sealed record SubmitFullReport(string Details, string ActionsTaken, string? LessonsLearned) : WorkflowInput;
    public sealed record SubmitUpdate(string Text) : WorkflowInput;
    public sealed record Close(string Reason) : WorkflowInput;
    public sealed record Escalate(IReadOnlyList<IncidentEscalationRoute> Routes, string Reason) : WorkflowInput;

    // ---- events ----
    public sealed record IncidentReported(Report Report, Instant ReportedAt, Duration ReportedAfter, bool ReportedLate,
        bool ReportedWithinTwelveHoursOfAwareness, Instant FullReportDueAt) : WorkflowEvent;
    public sealed record EscalationSent(string Why, IReadOnlyList<string> To) : WorkflowEvent;
    public sealed record FullReportReminderSent(Instant DueAt) : WorkflowEvent;
    public sealed record FullReportOverdue(Instant DueAt, int Escalation) : WorkflowEvent;
    public sealed record FullReportReceived(string Details, string ActionsTaken, string? LessonsLearned, Instant ReceivedAt, bool Late) : WorkflowEvent;
    public sealed record NextUpdateScheduled(Instant DueAt) : WorkflowEvent;
    public sealed record UpdateCadenceHeld(string Why) : WorkflowEvent;
    public sealed record UpdateReceived(string Text) : WorkflowEvent;
    public sealed record UpdateMissed(Instant DueAt, int Missed) : WorkflowEvent;
    public sealed record IncidentClosed(string Reason) : WorkflowEvent;
    public sealed record IncidentEscalated(IReadOnlyList<IncidentEscalationRoute> Routes, string Reason) : WorkflowEvent;

    // ---- state ----
    public sealed record State(
        IncidentPhase Phase,
        Report? Report,
        Instant ReportedAt,
        bool ReportedLate,
        bool ReportedWithinTwelveHoursOfAwareness,
        Instant FullReportDueAt,
        Instant? FullReportReceivedAt,
        bool FullReportLate,
        int FullReportEscalations,
        Instant? NextUpdateDueAt,
        int UpdatesReceived,
        int UpdatesMissed,
        string? OutcomeReason,
        ImmutableList<IncidentEscalationRoute> EscalatedTo);

    public override string Type => "SI";
    public override State Initial => new(IncidentPhase.None, null, default, false, false, default, null, false, 0, null, 0, 0, null, []);

    /// <summary>Categories that go to the safeguarding lead at once (B 10.5, B 12.3).</summary>
    public static bool IsSafeguarding(IncidentCategory c) => c is IncidentCategory.SafeguardingAlert or IncidentCategory.WelfareConcern
        or IncidentCategory.SeriousCrimeOrViolence or IncidentCategory.SeriousThreat or IncidentCategory.UnexpectedDeathOrSeriousInjury;

    /// <summary>Events the social worker / brokerage team must hear of at once (X 13.3).</summary>
    public static bool TellsBrokerage(IncidentCategory c) => c is IncidentCategory.EmergencyHospitalAdmission or IncidentCategory.UnexpectedDeathOrSeriousInjury;

    public override Decision Decide(State s, WorkflowInput input, WorkflowContext ctx) => input switch
    {
        Report r when s.Phase != IncidentPhase.None => Decision.Conflict("This incident has already been reported."),
        Report r => OnReport(r, ctx),
        _ when s.Phase == IncidentPhase.None => Decision.Conflict("This incident has not been reported."),
        SubmitFullReport f => OnFullReport(s, f, ctx),
        SubmitUpdate u => OnUpdate(s, u, ctx),
        Close c => OnClose(s, c, ctx),
        Escalate e => OnEscalate(s, e, ctx),
        TimerFired { Name: FullReportReminderTimer } => OnReminder(s, ctx),
        TimerFired { Name: FullReportOverdueTimer } => OnFullReportOverdue(s, ctx),
        TimerFired { Name: UpdateDueTimer } => OnUpdateMissed(s, ctx),
        TimerFired { Name: UpdateScheduleTimer } => OnScheduleUpdate(s, ctx),
        // A failed failure notice is not chased again (that would loop); the outbox keeps it for operators to retry.
        MessageFailed { Purpose: "delivery-failed" } => Decision.Nothing,
        MessageFailed m => new DecisionBuilder().Record(new EscalationSent($"A message could not be delivered ({m.Purpose} to {m.To}: {m.Error})", [ctx.Contacts.Email("contract-compliance")]))
            .Send(Email(ctx.Contacts.Email("contract-compliance"), "delivery-failed", $"{ctx.Reference}: a message could not be delivered",
                $"The {m.Purpose} message for serious incident {ctx.Reference} to {m.To} could not be delivered ({m.Error}). Please contact the recipient another way."))
            .Build(),
        _ => Decision.Invalid($"{input.GetType().Name} is not an input of a serious incident."),
    };

    /// <summary>
    /// Council emails about an incident name the service user by id only (see Facts): the free text that goes into them must
    /// not carry the service user's name or an NHS-number-shaped string. Field errors (API names), empty when the text is
    /// clean. Time-independent, so the API runs it before starting anything.
    /// </summary>
    public static IReadOnlyList<(string Field, string Message)> PersonalDataInReport(Report r) =>
        PersonalData(r.ServiceUserName, ("description", r.Description), ("parties", r.Parties), ("emergencyServicesDetail", r.EmergencyServicesDetail),
            ("immediateAction", r.ImmediateAction), ("furtherAction", r.FurtherAction));

    private static IReadOnlyList<(string Field, string Message)> PersonalData(string? serviceUserName, params (string Field, string? Text)[] texts) =>
        texts.Select(t => (t.Field, Kind: PersonalDataGuard.Find(t.Text, new PersonIdentifiers(Name: serviceUserName))))
            .Where(t => t.Kind is not null)
            .Select(t => (t.Field, $"{t.Field} contains {PersonalDataGuard.Describe(t.Kind!.Value)}. It is emailed to council teams, which name the service user " +
                "by their id only: refer to them by their id."))
            .ToList();

    private static Decision? RefusePersonalData(IReadOnlyList<(string Field, string Message)> found) =>
        found.Count == 0 ? null : Decision.Invalid(found[0].Message, found[0].Field);

    /// <summary>
    /// How long ago an incident may have occurred and still be reported here (policy, default a year). B 12.4 expects the
    /// report within 12 hours; a date decades back (0001-01-01, 1900) is a typing error, not a late report.
    /// </summary>
    public static Duration MaxAgeAtReport(WorkflowContext ctx) => ctx.Policy.Duration("Incidents:MaxAgeAtReport", DefaultMaxAgeAtReport);
    public static readonly Duration DefaultMaxAgeAtReport = Duration.FromDays(365);

    private static Decision OnReport(Report r, WorkflowContext ctx)
    {
        if (!ctx.Actor.IsIn(Roles.Provider) || ctx.Actor.ProviderId != r.ProviderId)
            return Decision.Forbidden("Only the provider itself can report a serious incident for that provider.");
        if (Rules.TimeBounds.InPlausiblePast("occurredAt", r.OccurredAt, ctx.Now, Skew, MaxAgeAtReport(ctx)) is { } when)
            return Decision.Invalid(when, "occurredAt");
        if (RefusePersonalData(PersonalDataInReport(r)) is { } leak) return leak;
        if (r.BecameAwareAt < r.OccurredAt) return Decision.Invalid("becameAwareAt is before occurredAt: the provider cannot become aware of an incident before it happens.", "becameAwareAt");
        if (r.BecameAwareAt > ctx.Now + Skew) return Decision.Invalid("becameAwareAt is in the future.", "becameAwareAt");

        var now = ctx.Now;
        var after = now - r.OccurredAt;
        // B 12.4: initial report within 12 h of the incident occurring. App C 5.2 counts from becoming aware.
        var late = after > ctx.Policy.Duration("Incidents:InitialReportWindow", DefaultInitialReportWindow);
        var withinOfAware = now - r.BecameAwareAt <= Duration.FromHours(12);
        // B 12.5: full report within 48 h of the incident occurring (elapsed time, across BST/GMT changes).
        var due = r.OccurredAt + ctx.Policy.Duration("Incidents:FullReportWindow", DefaultFullReportWindow);
        var d = new DecisionBuilder().Record(new IncidentReported(r, now, after, late, withinOfAware, due));

        var facts = Facts(r, ctx.Reference);
        var compliance = ctx.Contacts.Email("contract-compliance");
        var safeguarding = ctx.Contacts.Email("safeguarding-lead");
        // B 12.2: the council hears of every serious incident at once.
        d.Send(Email(compliance, "incident-reported", $"{ctx.Reference}: serious incident reported ({Label(r.Category)})", facts));
        if (IsSafeguarding(r.Category))
        {
            // B 10.5, B 12.3: safeguarding-type incidents go to the safeguarding lead without waiting.
            d.Record(new EscalationSent("Safeguarding-type incident", [safeguarding]));
            d.Send(Email(safeguarding, "safeguarding-alert", $"URGENT {ctx.Reference}: safeguarding-type serious incident ({Label(r.Category)})", facts));
        }
        if (TellsBrokerage(r.Category))
        {
            // X 13.3: hospital admission, death and serious injury are told to the social worker / brokerage team at once.
            var brokerage = ctx.Contacts.Email("brokerage-duty");
            d.Record(new EscalationSent("Hospital admission, death or serious injury (X 13.3)", [brokerage]));
            d.Send(Email(brokerage, "brokerage-notice", $"{ctx.Reference}: {Label(r.Category)} reported by {r.ProviderName}", facts));
        }
        if (late)
        {
            // B 12.4: a late initial report is a contract KPI failure; it is escalated at once.
            d.Record(new EscalationSent($"Initial report made {Hours(after)} after the incident (more than 12 hours)", [safeguarding, compliance]));
            foreach (var to in new[] { safeguarding, compliance })
                d.Send(Email(to, "late-report-escalation", $"{ctx.Reference}: serious incident reported late ({Hours(after)} after it occurred)",
                    $"{r.ProviderName} reported serious incident {ctx.Reference} {Hours(after)} after it occurred; the contract requires 12 hours (B 12.4).\n\n{facts}"));
        }

        var remindAt = due - ctx.Policy.Duration("Incidents:FullReportReminderBefore", DefaultReminderBefore);
        if (remindAt > now) d.SetTimer(FullReportReminderTimer, remindAt);
        d.SetTimer(FullReportOverdueTimer, due > now ? due : now);

        d.Send(Email(r.ContactEmail, "acknowledgement", $"{ctx.Reference}: serious incident report received",
            $"Thank you: serious incident {ctx.Reference} is recorded.\n\nPlease send the full serious-incident report by {WorkflowContext.Local(due)} " +
            $"(48 hours after the incident, B 12.5):\n{ctx.Links.Issue(ctx.Reference, r.ProviderId, FullReportAction, due + Duration.FromDays(14))}\n\n" +
            "Please then send status updates until the council closes or escalates the incident." +
            (late ? "\n\nThis initial report was made more than 12 hours after the incident and is recorded as late." : "")));
        ScheduleNextUpdate(d, r.ContactEmail, r.ProviderId, ctx);
        return d.Build();
    }

    private static Decision OnFullReport(State s, SubmitFullReport f, WorkflowContext ctx)
    {
        if (NotTheProvider(s, ctx) is { } no) return no;
        if (IsEnded(s)) return Decision.Conflict($"{ctx.Reference} is {s.Phase.ToString().ToLowerInvariant()}.");
        if (s.FullReportReceivedAt is not null) return Decision.Conflict("The full report has already been received; send status updates instead.");
        if (Blank(f.Details) || Blank(f.ActionsTaken)) return Decision.Invalid("details and actionsTaken are required.");
        if (RefusePersonalData(PersonalData(s.Report!.ServiceUserName, ("details", f.Details), ("actionsTaken", f.ActionsTaken), ("lessonsLearned", f.LessonsLearned))) is { } leak)
            return leak;
        var late = ctx.Now > s.FullReportDueAt;
        var d = new DecisionBuilder().Record(new FullReportReceived(f.Details.Trim(), f.ActionsTaken.Trim(), f.LessonsLearned?.Trim(), ctx.Now, late))
            .CancelTimer(FullReportReminderTimer).CancelTimer(FullReportOverdueTimer);
        d.Send(Email(ctx.Contacts.Email("contract-compliance"), "full-report-received", $"{ctx.Reference}: full serious-incident report received{(late ? " (late)" : "")}",
            $"{s.Report!.ProviderName} sent the full report for {ctx.Reference}{(late ? $", after its deadline of {WorkflowContext.Local(s.FullReportDueAt)}" : "")}. " +
            $"Please review it and close or escalate the incident.\n\nDetails:\n{f.Details.Trim()}\n\nActions taken:\n{f.ActionsTaken.Trim()}"));
        if (s.FullReportEscalations > 0)
            d.Send(Email(ctx.Contacts.Email("safeguarding-lead"), "full-report-received", $"{ctx.Reference}: overdue full report now received",
                $"The overdue full report for {ctx.Reference} has been received. Escalations for it have stopped."));
        ScheduleNextUpdate(d, s.Report.ContactEmail, s.Report.ProviderId, ctx); // the full report counts as an update
        return d.Build();
    }

    private static Decision OnUpdate(State s, SubmitUpdate u, WorkflowContext ctx)
    {
        if (NotTheProvider(s, ctx) is { } no) return no;
        if (IsEnded(s)) return Decision.Conflict($"{ctx.Reference} is {s.Phase.ToString().ToLowerInvariant()}.");
        if (Blank(u.Text)) return Decision.Invalid("text is required.");
        var d = new DecisionBuilder().Record(new UpdateReceived(u.Text.Trim()));
        ScheduleNextUpdate(d, s.Report!.ContactEmail, s.Report.ProviderId, ctx);
        return d.Build();
    }

    private static Decision OnClose(State s, Close c, WorkflowContext ctx)
    {
        if (!ctx.Actor.IsIn(CouncilDeciders)) return Decision.Forbidden("Only council safeguarding, quality or senior care-management staff can close an incident.");
        if (IsEnded(s)) return Decision.Conflict($"{ctx.Reference} is already {s.Phase.ToString().ToLowerInvariant()}.");
        if (Blank(c.Reason)) return Decision.Invalid("A reason is required to close an incident.");
        return new DecisionBuilder().Record(new IncidentClosed(c.Reason.Trim()))
            .Send(Email(s.Report!.ContactEmail, "closed", $"{ctx.Reference}: serious incident closed",
                $"The council has closed serious incident {ctx.Reference}: {c.Reason.Trim()}\nNo further updates are needed."))
            .Build();
    }

    private static Decision OnEscalate(State s, Escalate e, WorkflowContext ctx)
    {
        if (!ctx.Actor.IsIn(CouncilDeciders)) return Decision.Forbidden("Only council safeguarding, quality or senior care-management staff can escalate an incident.");
        if (IsEnded(s)) return Decision.Conflict($"{ctx.Reference} is already {s.Phase.ToString().ToLowerInvariant()}.");
        if (e.Routes.Count == 0) return Decision.Invalid("Choose at least one route: SafeguardingEnquiry, Cqc or ContractReview.");
        if (Blank(e.Reason)) return Decision.Invalid("A reason is required to escalate an incident.");
        // The reason goes to the escalation mailboxes (including CQC liaison) with the facts, which name the service user by id only.
        if (RefusePersonalData(PersonalData(s.Report!.ServiceUserName, ("reason", e.Reason))) is { } leak) return leak;
        var routes = e.Routes.Distinct().ToList();
        var d = new DecisionBuilder().Record(new IncidentEscalated(routes, e.Reason.Trim()));
        var facts = Facts(s.Report!, ctx.Reference);
        foreach (var route in routes)
        {
            var (to, what) = route switch
            {
                IncidentEscalationRoute.SafeguardingEnquiry => (ctx.Contacts.Email("safeguarding-lead"), "a safeguarding enquiry (Care Act 2014 s42)"),
                IncidentEscalationRoute.Cqc => (ctx.Contacts.Email("cqc-liaison"), "notification to the Care Quality Commission"),
                _ => (ctx.Contacts.Email("contract-compliance"), "a contract review"),
            };
            d.Send(Email(to, $"escalation-{route.ToString().ToLowerInvariant()}", $"{ctx.Reference}: serious incident escalated for {what}",
                $"Serious incident {ctx.Reference} ({s.Report!.ProviderName}) is escalated for {what}.\nReason: {e.Reason.Trim()}\n\n{facts}"));
        }
        d.Send(Email(s.Report!.ContactEmail, "escalated", $"{ctx.Reference}: serious incident escalated",
            $"The council has escalated serious incident {ctx.Reference} ({string.Join(", ", routes.Select(RouteLabel))}). The council team will contact you about next steps."));
        return d.Build();
    }

    private static Decision OnReminder(State s, WorkflowContext ctx)
    {
        if (IsEnded(s) || s.FullReportReceivedAt is not null) return Decision.Nothing;
        return new DecisionBuilder().Record(new FullReportReminderSent(s.FullReportDueAt))
            .Send(Email(s.Report!.ContactEmail, "full-report-reminder", $"{ctx.Reference}: full serious-incident report due by {WorkflowContext.Local(s.FullReportDueAt)}",
                $"Reminder: the full report for serious incident {ctx.Reference} is due by {WorkflowContext.Local(s.FullReportDueAt)} (B 12.5).\n" +
                ctx.Links.Issue(ctx.Reference, s.Report.ProviderId, FullReportAction, s.FullReportDueAt + Duration.FromDays(14))))
            .Build();
    }

    /// <summary>B 12.5: no full report by 48 h → safeguarding lead and contract compliance, again and again until it arrives.</summary>
    private static Decision OnFullReportOverdue(State s, WorkflowContext ctx)
    {
        if (IsEnded(s) || s.FullReportReceivedAt is not null) return Decision.Nothing;
        var n = s.FullReportEscalations + 1;
        var targets = new[] { ctx.Contacts.Email("safeguarding-lead"), ctx.Contacts.Email("contract-compliance") };
        var d = new DecisionBuilder().Record(new FullReportOverdue(s.FullReportDueAt, n))
            .Record(new EscalationSent($"Full report overdue (escalation {n})", targets));
        foreach (var to in targets)
            d.Send(Email(to, "full-report-overdue", $"{ctx.Reference}: full serious-incident report overdue{(n > 1 ? $" (reminder {n})" : "")}",
                $"{s.Report!.ProviderName} has not sent the full report for serious incident {ctx.Reference}. It was due by {WorkflowContext.Local(s.FullReportDueAt)} (B 12.5)." +
                $"\n\n{Facts(s.Report, ctx.Reference)}"));
        d.Send(Email(s.Report!.ContactEmail, "full-report-chaser", $"{ctx.Reference}: full serious-incident report overdue",
            $"The full report for serious incident {ctx.Reference} was due by {WorkflowContext.Local(s.FullReportDueAt)} and has not been received. " +
            $"The council's safeguarding lead and contract compliance team have been told. Please send it now:\n" +
            ctx.Links.Issue(ctx.Reference, s.Report.ProviderId, FullReportAction, ctx.Now + Duration.FromDays(14))));
        d.SetTimer(FullReportOverdueTimer, ctx.Now + ctx.Policy.Duration("Incidents:OverdueRepeat", DefaultOverdueRepeat));
        return d.Build();
    }

    /// <summary>No status update within the cadence: the council is told and the provider asked again.</summary>
    private static Decision OnUpdateMissed(State s, WorkflowContext ctx)
    {
        if (IsEnded(s)) return Decision.Nothing;
        var targets = new List<string> { ctx.Contacts.Email("contract-compliance") };
        if (IsSafeguarding(s.Report!.Category)) targets.Add(ctx.Contacts.Email("safeguarding-lead"));
        var missedDue = s.NextUpdateDueAt ?? ctx.Now;
        var d = new DecisionBuilder().Record(new UpdateMissed(missedDue, s.UpdatesMissed + 1))
            .Record(new EscalationSent("Status update missed", targets));
        foreach (var to in targets)
            d.Send(Email(to, "update-missed", $"{ctx.Reference}: serious-incident status update missed",
                $"{s.Report.ProviderName} has not sent a status update on serious incident {ctx.Reference}; one was due by {WorkflowContext.Local(missedDue)} (B 12.5)."));
        // Computed now, not earlier: if the calendar lacks the dates, the timer pump holds this timer and alerts operators.
        var next = ctx.Calendar.DueAfterWorkingDays(ctx.Now, UpdateWorkingDays(ctx));
        d.Record(new NextUpdateScheduled(next)).SetTimer(UpdateDueTimer, next);
        d.Send(Email(s.Report.ContactEmail, "update-request", $"{ctx.Reference}: status update overdue",
            $"A status update on serious incident {ctx.Reference} was due by {WorkflowContext.Local(missedDue)}. Please send one now; the next is due by {WorkflowContext.Local(next)}:\n" +
            ctx.Links.Issue(ctx.Reference, s.Report.ProviderId, UpdateAction, next + Duration.FromDays(14))));
        return d.Build();
    }

    private static Decision OnScheduleUpdate(State s, WorkflowContext ctx)
    {
        if (IsEnded(s)) return Decision.Nothing;
        var next = ctx.Calendar.DueAfterWorkingDays(ctx.Now, UpdateWorkingDays(ctx)); // throws → held and alerted by the pump
        return new DecisionBuilder().Record(new NextUpdateScheduled(next)).SetTimer(UpdateDueTimer, next).Build();
    }

    /// <summary>
    /// The next status update is due N working days (policy, default 5) after now. A report must never be refused for
    /// want of calendar data, so if the date is beyond the data the cadence is left to a timer the pump will hold.
    /// </summary>
    private static void ScheduleNextUpdate(DecisionBuilder d, string contactEmail, string providerId, WorkflowContext ctx)
    {
        Instant next;
        try { next = ctx.Calendar.DueAfterWorkingDays(ctx.Now, UpdateWorkingDays(ctx)); }
        catch (CalendarOutOfRangeException e)
        {
            d.Record(new UpdateCadenceHeld(e.Message)).CancelTimer(UpdateDueTimer).SetTimer(UpdateScheduleTimer, ctx.Now);
            return;
        }
        d.Record(new NextUpdateScheduled(next)).SetTimer(UpdateDueTimer, next);
        d.Send(Email(contactEmail, "update-request", $"{ctx.Reference}: next status update due by {WorkflowContext.Local(next)}",
            $"Please send the next status update on serious incident {ctx.Reference} by {WorkflowContext.Local(next)}:\n" +
            ctx.Links.Issue(ctx.Reference, providerId, UpdateAction, next + Duration.FromDays(14))));
    }

    private static int UpdateWorkingDays(WorkflowContext ctx) => Math.Max(1, ctx.Policy.Int("Incidents:UpdateWorkingDays", DefaultUpdateWorkingDays));

    public override State Evolve(State s, WorkflowEvent e) => e switch
    {
        IncidentReported r => s with
        {
            Phase = IncidentPhase.AwaitingFullReport, Report = r.Report, ReportedAt = r.ReportedAt, ReportedLate = r.ReportedLate,
            ReportedWithinTwelveHoursOfAwareness = r.ReportedWithinTwelveHoursOfAwareness, FullReportDueAt = r.FullReportDueAt,
        },
        FullReportOverdue o => s with { FullReportEscalations = o.Escalation },
        FullReportReceived f => s with { Phase = IncidentPhase.Open, FullReportLate = f.Late, FullReportReceivedAt = f.ReceivedAt },
        NextUpdateScheduled n => s with { NextUpdateDueAt = n.DueAt },
        UpdateCadenceHeld => s with { NextUpdateDueAt = null },
        UpdateReceived => s with { UpdatesReceived = s.UpdatesReceived + 1 },
        UpdateMissed m => s with { UpdatesMissed = m.Missed },
        IncidentClosed c => s with { Phase = IncidentPhase.Closed, OutcomeReason = c.Reason },
        IncidentEscalated x => s with { Phase = IncidentPhase.Escalated, OutcomeReason = x.Reason, EscalatedTo = [.. x.Routes] },
        _ => s,
    };

    public override string Status(State s) => s.Phase.ToString();
    public override bool IsCompleted(State s) => IsEnded(s);
    public override string Summary(State s) => s.Report is null ? "" :
        $"{Label(s.Report.Category)} at {s.Report.ProviderName}, occurred {WorkflowContext.Local(s.Report.OccurredAt)}{(s.ReportedLate ? "; reported late" : "")}";

    /// <summary>The provider is asked for the full report, then for status updates, by signed link.</summary>
    public override IReadOnlyList<OpenAsk> OpenAsks(State s)
    {
        if (s.Report is null || IsEnded(s)) return [];
        var asks = new List<OpenAsk>();
        if (s.FullReportReceivedAt is null)
            asks.Add(new OpenAsk(s.Report.ProviderId, FullReportAction, "Send the full serious-incident report", s.FullReportDueAt, s.Report.ContactEmail,
                Fields: [
                    new AskField("details", "What happened, as fully as is now known", "textarea", Required: true),
                    new AskField("actionsTaken", "Actions taken and planned", "textarea", Required: true),
                    new AskField("lessonsLearned", "What will reduce the chance of it happening again", "textarea"),
                ]));
        asks.Add(new OpenAsk(s.Report.ProviderId, UpdateAction, "Send a status update on the serious incident", s.NextUpdateDueAt, s.Report.ContactEmail,
            Fields: [new AskField("text", "Status update: what has happened since, and how it is being handled", "textarea", Required: true)]));
        return asks;
    }

    public override ReplyResult ParseReply(State s, OpenAsk ask, IReadOnlyDictionary<string, string> fields)
    {
        string? F(string k) => fields.TryGetValue(k, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        return ask.Action switch
        {
            FullReportAction when F("details") is { } details && F("actionsTaken") is { } actions => ReplyResult.Ok(new SubmitFullReport(details, actions, F("lessonsLearned"))),
            FullReportAction => ReplyResult.Fail("Please fill in what happened and the actions taken."),
            UpdateAction when (F("text") ?? F("update")) is { } text => ReplyResult.Ok(new SubmitUpdate(text)),
            UpdateAction => ReplyResult.Fail("Please write the status update."),
            _ => ReplyResult.Fail($"'{ask.Action}' is not an answer a serious incident takes."),
        };
    }

    // ---- helpers ----
    private static bool IsEnded(State s) => s.Phase is IncidentPhase.Closed or IncidentPhase.Escalated;
    private static bool Blank(string? s) => string.IsNullOrWhiteSpace(s);

    private static Decision? NotTheProvider(State s, WorkflowContext ctx) =>
        ctx.Actor.IsIn(Roles.Provider) && ctx.Actor.ProviderId == s.Report?.ProviderId ? null
        : Decision.Forbidden("Only the provider that reported this incident can send its reports and updates.");

    public static string Label(IncidentCategory c) => c switch
    {
        IncidentCategory.SeriousCrimeOrViolence => "serious crime or violence",
        IncidentCategory.SeriousThreat => "serious threat",
        IncidentCategory.UnexpectedDeathOrSeriousInjury => "unexpected death or serious injury",
        IncidentCategory.EmergencyHospitalAdmission => "emergency hospital admission",
        IncidentCategory.SafeguardingAlert => "safeguarding alert",
        IncidentCategory.ServiceDeliveryCompromised => "service delivery compromised",
        IncidentCategory.WelfareConcern => "welfare concern",
        _ => c.ToString(),
    };

    private static string RouteLabel(IncidentEscalationRoute r) => r switch
    {
        IncidentEscalationRoute.SafeguardingEnquiry => "safeguarding enquiry",
        IncidentEscalationRoute.Cqc => "Care Quality Commission",
        _ => "contract review",
    };

    private static string Hours(Duration d) => $"{Math.Floor(d.TotalHours):0} h {d.Minutes:00} min";

    /// <summary>What council staff need to act (B 12.4). The service user appears by id only: names stay in the record.</summary>
    private static string Facts(Report r, string reference) =>
        $"Reference: {reference}\nProvider: {r.ProviderName}\nCategory: {Label(r.Category)}\n" +
        $"Occurred: {WorkflowContext.Local(r.OccurredAt)}\nProvider aware: {WorkflowContext.Local(r.BecameAwareAt)}\n" +
        $"Service user id: {r.ServiceUserId} ({r.ServiceUserGroup})\nEmergency services: {(r.EmergencyServicesInvolved ? "yes" : "no")}{(r.EmergencyServicesDetail is { Length: > 0 } esd ? $" – {esd}" : "")}\n" +
        $"What happened: {r.Description}\nParties: {r.Parties}\nImmediate action: {r.ImmediateAction}\nFurther action: {r.FurtherAction}";

    private static OutboundMessage Email(string to, string purpose, string subject, string body) =>
        new(MessageChannel.Email, to, purpose, subject, body);
}
