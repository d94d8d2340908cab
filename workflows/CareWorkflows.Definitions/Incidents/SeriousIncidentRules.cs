using CareWorkflows.Definitions.Privacy;
using NodaTime;
using static CareWorkflows.Definitions.Incidents.SeriousIncident;

namespace CareWorkflows.Definitions.Incidents;

/// <summary>
/// The rules of a serious incident (B 12, B 10.5, X 13.3), pure: who may do what in which phase, the elapsed-time
/// arithmetic of the 12 h and 48 h deadlines (across BST/GMT changes), the working-day cadence of status updates and
/// the personal-data guards on text that goes into council emails. The API runs the same checks at once against the
/// published state; the orchestration has the last word.
/// </summary>
public static class SeriousIncidentRules
{
    private static Rejection Invalid(string detail, string? field = null) => new(RejectionKind.Invalid, "The request is not valid", detail, field);
    private static Rejection Conflict(string detail) => new(RejectionKind.Conflict, "Not possible in the current state", detail);
    private static Rejection Forbidden(string detail) => new(RejectionKind.Forbidden, "Not allowed", detail);
    private static bool Blank(string? s) => string.IsNullOrWhiteSpace(s);

    // ---------------------------------------------------------------- the initial report (B 12.4)

    /// <summary>How long ago an incident may have occurred and still be reported here (policy, default a year).</summary>
    public static Duration MaxAgeAtReport(PolicySettings policy) => policy.Duration(SeriousIncident.Policy.MaxAgeAtReport, SeriousIncident.Policy.DefaultMaxAgeAtReport);

    /// <summary>
    /// The initial report: only the provider itself reports; the times are plausible (not in the future beyond
    /// <see cref="Skew"/>, not before <see cref="MaxAgeAtReport"/>; aware no earlier than occurred); and the text that
    /// goes to council teams names the service user by id only. Each refusal names its field.
    /// </summary>
    public static Rejection? CheckReport(Report r, Actor actor, Instant now, PolicySettings policy)
    {
        if (!actor.IsIn(Roles.Provider) || actor.ProviderId != r.ProviderId)
            return Forbidden("Only the provider itself can report a serious incident for that provider.");
        if (Rules.TimeBounds.InPlausiblePast("occurredAt", r.OccurredAt, now, Skew, MaxAgeAtReport(policy)) is { } when) return Invalid(when, "occurredAt");
        if (PersonalDataInReport(r) is [var (field, message), ..]) return Invalid(message, field);
        if (r.BecameAwareAt < r.OccurredAt)
            return Invalid("becameAwareAt is before occurredAt: the provider cannot become aware of an incident before it happens.", "becameAwareAt");
        if (r.BecameAwareAt > now + Skew) return Invalid("becameAwareAt is in the future.", "becameAwareAt");
        return null;
    }

    /// <summary>
    /// Council emails about an incident name the service user by id only (<see cref="SeriousIncidentMessages.Facts"/>): the
    /// free text that goes into them must not carry the service user's name or an NHS-number-shaped string. Field errors
    /// (API names), empty when the text is clean. Time-independent, so the API and the page run it before anything starts.
    /// </summary>
    public static IReadOnlyList<(string Field, string Message)> PersonalDataInReport(Report r) =>
        PersonalData(r.ServiceUserName, ("description", r.Description), ("parties", r.Parties), ("emergencyServicesDetail", r.EmergencyServicesDetail),
            ("immediateAction", r.ImmediateAction), ("furtherAction", r.FurtherAction));

    public static IReadOnlyList<(string Field, string Message)> PersonalData(string? serviceUserName, params (string Field, string? Text)[] texts) =>
        texts.Select(t => (t.Field, Kind: PersonalDataGuard.Find(t.Text, new PersonIdentifiers(Name: serviceUserName))))
            .Where(t => t.Kind is not null)
            .Select(t => (t.Field, $"{t.Field} contains {PersonalDataGuard.Describe(t.Kind!.Value)}. It is emailed to council teams, which name the service user " +
                "by their id only: refer to them by their id."))
            .ToList();

    private static Rejection? RefusePersonalData(IReadOnlyList<(string Field, string Message)> found) =>
        found is [var (field, message), ..] ? Invalid(message, field) : null;

    /// <summary>B 12.4: the initial report is late when made more than 12 hours (policy) after the incident occurred.</summary>
    public static bool ReportedLate(Instant occurredAt, Instant reportedAt, PolicySettings policy) =>
        reportedAt - occurredAt > policy.Duration(SeriousIncident.Policy.InitialReportWindow, SeriousIncident.Policy.DefaultInitialReportWindow);

    /// <summary>App C 5.2: the KPI counts from becoming aware, 12 hours.</summary>
    public static bool WithinTwelveHoursOfAwareness(Instant becameAwareAt, Instant reportedAt) => reportedAt - becameAwareAt <= AwarenessKpiWindow;

    /// <summary>B 12.5: the full report is due 48 hours (policy) after the incident occurred — elapsed time, across BST/GMT changes.</summary>
    public static Instant FullReportDue(Instant occurredAt, PolicySettings policy) =>
        occurredAt + policy.Duration(SeriousIncident.Policy.FullReportWindow, SeriousIncident.Policy.DefaultFullReportWindow);

    /// <summary>The reminder, 12 hours (policy) before the full report is due; null when that has already passed.</summary>
    public static Instant? FullReportReminderAt(Instant dueAt, Instant now, PolicySettings policy) =>
        dueAt - policy.Duration(SeriousIncident.Policy.FullReportReminderBefore, SeriousIncident.Policy.DefaultFullReportReminderBefore) is var at && at > now ? at : null;

    /// <summary>The first overdue alarm: at the due time, or at once for a report made after it.</summary>
    public static Instant FullReportOverdueAt(Instant dueAt, Instant now) => dueAt > now ? dueAt : now;

    /// <summary>Still no full report: the escalation is repeated every 24 hours (policy) until it comes.</summary>
    public static Instant NextOverdueRound(Instant now, PolicySettings policy) =>
        now + policy.Duration(SeriousIncident.Policy.OverdueRepeat, SeriousIncident.Policy.DefaultOverdueRepeat);

    /// <summary>The incident as reported at <paramref name="now"/>.</summary>
    public static State Reported(Report r, Instant now, PolicySettings policy) =>
        new(IncidentPhase.AwaitingFullReport, r, now, ReportedLate(r.OccurredAt, now, policy), WithinTwelveHoursOfAwareness(r.BecameAwareAt, now),
            FullReportDue(r.OccurredAt, policy), null, false, 0, null, 0, 0, null, []);

    /// <summary>Categories that go to the safeguarding lead at once (B 10.5, B 12.3).</summary>
    public static bool IsSafeguarding(IncidentCategory c) => c is IncidentCategory.SafeguardingAlert or IncidentCategory.WelfareConcern
        or IncidentCategory.SeriousCrimeOrViolence or IncidentCategory.SeriousThreat or IncidentCategory.UnexpectedDeathOrSeriousInjury;

    /// <summary>Events the social worker / brokerage team must hear of at once (X 13.3).</summary>
    public static bool TellsBrokerage(IncidentCategory c) => c is IncidentCategory.EmergencyHospitalAdmission or IncidentCategory.UnexpectedDeathOrSeriousInjury;

    // ---------------------------------------------------------------- status updates (B 12.5)

    public static int UpdateWorkingDays(PolicySettings policy) =>
        Math.Max(1, policy.Int(SeriousIncident.Policy.UpdateWorkingDays, SeriousIncident.Policy.DefaultUpdateWorkingDays));

    /// <summary>
    /// The next status update is due at the end of the Nth working day (policy, default 5) after <paramref name="from"/>
    /// (the report, the full report, the last update or the update missed). Throws <see cref="CalendarOutOfRangeException"/>
    /// beyond the loaded bank-holiday data (never a guess).
    /// </summary>
    public static Instant NextUpdateDue(Instant from, WorkingCalendar calendar, PolicySettings policy) => calendar.DueAfterWorkingDays(from, UpdateWorkingDays(policy));

    /// <summary>Who hears of a missed update: contract compliance, and the safeguarding lead for a safeguarding-type incident.</summary>
    public static IReadOnlyList<string> UpdateMissedTargets(State s, Contacts contacts) => IsSafeguarding(s.Report.Category)
        ? [contacts.Email("contract-compliance"), contacts.Email("safeguarding-lead")]
        : [contacts.Email("contract-compliance")];

    // ---------------------------------------------------------------- the provider's reports

    private static Rejection? NotTheProvider(State s, Actor actor) =>
        actor.IsIn(Roles.Provider) && actor.ProviderId == s.Report.ProviderId ? null
        : Forbidden("Only the provider that reported this incident can send its reports and updates.");

    private static Rejection? Ended(State s, string reference, string already = "") =>
        s.Ended ? Conflict($"{reference} is {already}{s.Phase.ToString().ToLowerInvariant()}.") : null;

    public static Rejection? CheckFullReport(State s, Actor actor, SubmitFullReport f, string reference)
    {
        if ((NotTheProvider(s, actor) ?? Ended(s, reference)) is { } no) return no;
        if (s.FullReportReceivedAt is not null) return Conflict("The full report has already been received; send status updates instead.");
        if (Blank(f.Details) || Blank(f.ActionsTaken)) return Invalid("details and actionsTaken are required.", Blank(f.Details) ? "details" : "actionsTaken");
        return RefusePersonalData(PersonalData(s.Report.ServiceUserName, ("details", f.Details), ("actionsTaken", f.ActionsTaken), ("lessonsLearned", f.LessonsLearned)));
    }

    public static Rejection? CheckUpdate(State s, Actor actor, SubmitUpdate u, string reference)
    {
        if ((NotTheProvider(s, actor) ?? Ended(s, reference)) is { } no) return no;
        return Blank(u.Text) ? Invalid("text is required.", "text") : null;
    }

    // ---------------------------------------------------------------- the council (B 12.5)

    public static Rejection? CheckClose(State s, Actor actor, Close c, string reference)
    {
        if (!actor.IsIn(CouncilDeciders)) return Forbidden("Only council safeguarding, quality or senior care-management staff can close an incident.");
        if (Ended(s, reference, "already ") is { } no) return no;
        return Blank(c.Reason) ? Invalid("A reason is required to close an incident.", "reason") : null;
    }

    public static Rejection? CheckEscalate(State s, Actor actor, Escalate e, string reference)
    {
        if (!actor.IsIn(CouncilDeciders)) return Forbidden("Only council safeguarding, quality or senior care-management staff can escalate an incident.");
        if (Ended(s, reference, "already ") is { } no) return no;
        if (e.Routes.Count == 0) return Invalid("Choose at least one route: SafeguardingEnquiry, Cqc or ContractReview.", "to");
        if (Blank(e.Reason)) return Invalid("A reason is required to escalate an incident.", "reason");
        // The reason goes to the escalation mailboxes (including CQC liaison) with the facts, which name the service user by id only.
        return RefusePersonalData(PersonalData(s.Report.ServiceUserName, ("reason", e.Reason)));
    }

    // ---------------------------------------------------------------- what is published

    public static string Summary(State s) =>
        $"{Label(s.Report.Category)} at {s.Report.ProviderName}, occurred {WorkflowContext.Local(s.Report.OccurredAt)}{(s.ReportedLate ? "; reported late" : "")}";

    /// <summary>The provider is asked for the full report, then for status updates, by signed link.</summary>
    public static IReadOnlyList<OpenAsk> Asks(State s)
    {
        if (s.Ended) return [];
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

    /// <summary>Turns an answer (link form fields, or an email reply) into an input, or says what is wrong with it.</summary>
    public static ReplyResult ParseReply(OpenAsk ask, IReadOnlyDictionary<string, string> fields)
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

    public static string RouteLabel(IncidentEscalationRoute r) => r switch
    {
        IncidentEscalationRoute.SafeguardingEnquiry => "safeguarding enquiry",
        IncidentEscalationRoute.Cqc => "Care Quality Commission",
        _ => "contract review",
    };

    /// <summary>"13 h 05 min".</summary>
    public static string Hours(Duration d) => $"{Math.Floor(d.TotalHours):0} h {d.Minutes:00} min";
}
