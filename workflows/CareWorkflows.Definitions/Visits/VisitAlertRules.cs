using NodaTime;
using static CareWorkflows.Definitions.Visits.VisitAlert;
using static CareWorkflows.Definitions.Visits.VisitRules;

namespace CareWorkflows.Definitions.Visits;

/// <summary>
/// The rules of a late or missed visit alert (B 21.2, 22.1–22.7, X 10.6, B 7.27), pure: what an alert must carry, who
/// records what and when, the escalation times, what is asked of the alert desk. The API runs the same checks at once
/// against the published state; the orchestration has the last word.
/// </summary>
public static class VisitAlertRules
{
    /// <summary>How far ahead of our clock a planned start or report may be (a call-monitoring clock a little fast).</summary>
    public static readonly Duration ClockSkew = Duration.FromMinutes(5);
    /// <summary>A planned start more than this before the alert is not a visit of today (a typing or system error).</summary>
    public static readonly Duration MaxPlannedStartAge = Duration.FromHours(48);

    // ---------------------------------------------------------------- the alert (B 21.2)

    /// <summary>Checks an alert from call monitoring. Field names are the intake's JSON names.</summary>
    public static Rejection? CheckRaise(Raise r, Instant now, PolicySettings policy)
    {
        if (!IsId(r.AlertId)) return Invalid("alertId is required: 1–64 letters, digits and . _ : / -.", "alertId");
        if (!IsId(r.VisitId)) return Invalid("visitId is required: 1–64 letters, digits and . _ : / -.", "visitId");
        if (!IsPersonId(r.PersonId)) return Invalid("personId must be the council's person id (letters, digits and dashes, with a digit): never a name.", "personId");
        if (r.Kind is not (MonitoringKind.Late or MonitoringKind.Missed or MonitoringKind.Short))
            return Invalid("kind must be Late, Missed or Short to raise an alert; Started and Completed report on an alert already raised.", "kind");
        return CheckTimes(r.PlannedStart, r.ReportedAt, now, policy);
    }

    /// <summary>The planned start and the report's time, against now (a report from the future or long ago is refused).</summary>
    public static Rejection? CheckTimes(Instant plannedStart, Instant reportedAt, Instant now, PolicySettings policy)
    {
        if (plannedStart > now + ClockSkew) return Invalid($"plannedStart ({Local(plannedStart)}) is in the future: an alert comes after the planned start.", "plannedStart");
        if (plannedStart < now - MaxPlannedStartAge) return Invalid($"plannedStart ({Local(plannedStart)}) is more than {MaxPlannedStartAge.TotalHours:0} hours ago.", "plannedStart");
        if (reportedAt > now + ClockSkew) return Invalid($"reportedAt ({Local(reportedAt)}) is in the future.", "reportedAt");
        var maxAge = policy.Duration(VisitAlert.Policy.MaxAlertAge, VisitAlert.Policy.DefaultMaxAlertAge);
        if (reportedAt < now - maxAge) return Invalid($"reportedAt ({Local(reportedAt)}) is older than {maxAge.TotalHours:0.#} hours: too stale to act on.", "reportedAt");
        return null;
    }

    public static State Raised(Raise r, Instant now) =>
        new(AlertStage.Open, r.ProviderId, r.ProviderName, r.ProviderEmail, r.ProviderMobile, r.SystemId, r.VisitId, r.PersonId, r.PlannedStart, r.Kind, now,
            [new MonitoringRecord(r.AlertId, r.Kind, r.ReportedAt, now)], [],
            // A short call was made: a carer was there.
            r.Kind == MonitoringKind.Short ? r.ReportedAt : null,
            null, null, [], null, null, null, null, null, null);

    /// <summary>Nothing recorded by then: the provider's manager (policy, default 15 minutes after the alert).</summary>
    public static Instant ManagerAt(State s, PolicySettings policy) => s.AlertedAt + policy.Duration(VisitAlert.Policy.ManagerAfter, VisitAlert.Policy.DefaultManagerAfter);

    /// <summary>No carer on site by then: the council (policy, default an hour after the alert, B 22.4).</summary>
    public static Instant CouncilAt(State s, PolicySettings policy) => s.AlertedAt + policy.Duration(VisitAlert.Policy.CouncilAfter, VisitAlert.Policy.DefaultCouncilAfter);

    /// <summary>The call an hour late against its planned start: the person must be told (X 10.6). At once when that has passed.</summary>
    public static Instant DelayPromptAt(State s, Instant now, PolicySettings policy)
    {
        var at = s.PlannedStart + policy.Duration(VisitAlert.Policy.TellPersonAfterDelay, VisitAlert.Policy.DefaultTellPersonAfterDelay);
        return at > now ? at : now;
    }

    public static Instant ReplacementDue(State s, PolicySettings policy) => s.AlertedAt + policy.Duration(VisitAlert.Policy.ReplacementWithin, VisitAlert.Policy.DefaultReplacementWithin);

    /// <summary>Anyone from the provider has spoken to the person (B 22.2, 22.5, X 10.6).</summary>
    public static bool PersonContacted(State s) => s.Has(VisitStep.Reassured) || s.Has(VisitStep.ReplacementTold) || s.Has(VisitStep.DelayTold);

    /// <summary>Steps before this are refused: an hour before the planned start (the desk may ring ahead of a late call).</summary>
    public static Instant EarliestStep(State s) => s.PlannedStart - Duration.FromHours(1);

    // ---------------------------------------------------------------- the alert desk's records (B 22.1–22.7)

    private static Rejection? NotTheProvider(State s, Actor actor) =>
        actor.IsIn(Roles.Admin) || (actor.IsIn(Roles.Provider) && actor.ProviderId == s.ProviderId) ? null
        : Forbidden("Only the provider the alert was raised for can record its actions.");

    private static Rejection? NotOpen(State s, string reference) =>
        s.Stage == AlertStage.Open ? null : Conflict($"{reference} has ended ({(s.Ending is { } e ? Words(e.ToString()).ToLowerInvariant() : "ended")}).");

    private static Rejection? Note(string? note) => note is { Length: > MaxNote } ? Invalid($"note is longer than {MaxNote:N0} characters.", "note") : null;

    /// <summary>Checks a recorded step, without its time (the orchestration resolves that with its own now).</summary>
    public static Rejection? CheckStep(State s, Actor actor, RecordStep r, string reference)
    {
        if (NotTheProvider(s, actor) is { } no) return no;
        if (NotOpen(s, reference) is { } ended) return ended;
        if (!Enum.IsDefined(r.Step)) return Invalid("step is not one of the alert's steps.", "step");
        if (Note(r.Note) is { } bad) return bad;
        switch (r.Step)
        {
            case VisitStep.ReplacementSent when Blank(r.CarerName):
                return Invalid("carerName is required: the name of the replacement carer (B 22.4–22.5).", "carerName");
            case VisitStep.ReplacementSent when r.CarerName!.Trim().Length > MaxName:
                return Invalid($"carerName is longer than {MaxName} characters.", "carerName");
            case not VisitStep.ReplacementSent when !Blank(r.CarerName):
                return Invalid("carerName goes with a replacement only.", "carerName");
            case VisitStep.ReplacementTold when !s.Has(VisitStep.ReplacementSent):
                return Conflict("No replacement carer is recorded yet: record the replacement first (B 22.4), then that the person was told (B 22.5).");
            // Calling the carer or sending another replacement may happen more than once; the rest are recorded once.
            case not (VisitStep.CarerContacted or VisitStep.ReplacementSent) when s.First(r.Step) is { } earlier:
                return Conflict($"{Words(r.Step.ToString())} is already recorded ({Local(earlier.At)}).");
        }
        return null;
    }

    public static Rejection? CheckCancellation(State s, Actor actor, RecordCancellation c, string reference)
    {
        if (NotTheProvider(s, actor) is { } no) return no;
        if (NotOpen(s, reference) is { } ended) return ended;
        if (!Enum.IsDefined(c.ConfirmedWith)) return Invalid("confirmedWith must be Person or NextOfKin (B 7.27).", "confirmedWith");
        if (Blank(c.ConfirmedBy)) return Invalid("confirmedBy is required: the supervisor or senior member of staff who confirmed it (B 7.27). A cancellation is never assumed.", "confirmedBy");
        if (c.ConfirmedBy.Trim().Length > MaxName) return Invalid($"confirmedBy is longer than {MaxName} characters.", "confirmedBy");
        return Note(c.Note);
    }

    public static Rejection? CheckNoReply(State s, Actor actor, ReportNoReply n, string reference)
    {
        if (NotTheProvider(s, actor) is { } no) return no;
        if (NotOpen(s, reference) is { } ended) return ended;
        if (s.Kind == MonitoringKind.Short) return Conflict("A short call was made: a no-reply is reported for a visit where the carer could not get in.");
        return Note(n.Note);
    }

    /// <summary>Call monitoring reports only on its own provider's visits.</summary>
    public static Rejection? CheckMonitoring(State s, Actor actor, Monitoring m, string reference)
    {
        if (!(actor.IsIn(Roles.System, Roles.Admin) && (actor.ProviderId == s.ProviderId || actor.IsIn(Roles.Admin))))
            return Forbidden("Only the provider's call monitoring reports on its visits.");
        if (!IsId(m.AlertId)) return Invalid("alertId is required.", "alertId");
        if (!Enum.IsDefined(m.Kind)) return Invalid("kind is not known.", "kind");
        return null;
    }

    // ---------------------------------------------------------------- what is published

    public static string Summary(State s) => s.Stage == AlertStage.None ? ""
        : $"{Words(s.Kind.ToString())} visit {s.VisitId} for person {s.PersonId} ({s.ProviderName}), planned {Local(s.PlannedStart)}" +
          (s.Ending is { } e ? $": {Words(e.ToString()).ToLowerInvariant()}" : "");

    private static AskField At => new("at", "Time it happened (UK time, e.g. 14:35)", "time", Hint: "Leave empty for now.");

    /// <summary>What the alert desk may record now, by page, API or reply ("REASSURED VA-7K3QX 14:35").</summary>
    public static IReadOnlyList<OpenAsk> Asks(State s, PolicySettings policy)
    {
        if (s.Stage != AlertStage.Open) return [];
        var asks = new List<OpenAsk>();
        OpenAsk Ask(string action, string prompt, Instant? due, params AskField[] fields) =>
            new(s.ProviderId, action, prompt, due, s.ProviderEmail, s.ProviderMobile, Roles.Provider, fields);

        var soon = ManagerAt(s, policy);
        if (s.Kind == MonitoringKind.Short)
        {
            asks.Add(Ask(CarerAction, "Record that you spoke to the carer about the short call, and why it was short", soon, At, new AskField("note", "What the carer said", "textarea")));
            return asks;
        }
        if (!PersonContacted(s) && !s.Has(VisitStep.PersonUnreachable))
        {
            asks.Add(Ask(ReassuredAction, "Record that you contacted the person and reassured them the carer will come (B 22.2)", soon, At));
            asks.Add(Ask(UnreachableAction, "Record that you could not contact the person: the council is told at once (B 22.6)", soon, At, new AskField("note", "What you tried", "textarea")));
        }
        asks.Add(Ask(CarerAction, "Record that you contacted the carer (B 22.3)", soon, At, new AskField("note", "What the carer said, e.g. on the way, 10 minutes", "textarea")));
        asks.Add(Ask(ReplacementAction, "Record the replacement carer you sent (B 22.4)", ReplacementDue(s, policy),
            new AskField("carerName", "Replacement carer's name", Required: true, Hint: "Kept on the record; never sent by SMS."), At));
        if (s.Has(VisitStep.ReplacementSent) && !s.Has(VisitStep.ReplacementTold))
            asks.Add(Ask(ReplacementToldAction, "Record that you told the person a replacement carer is coming, and their name (B 22.5)", null, At));
        if (s.Has(VisitStep.PersonUnreachable) && !s.Has(VisitStep.NextOfKinTold))
            asks.Add(Ask(KinToldAction, "Record that you told the next of kin the person could not be contacted (B 22.6)", null, At));
        if (s.DelayPromptAt is not null && !s.Has(VisitStep.DelayTold))
            asks.Add(Ask(DelayToldAction, "Record that you told the person the call is delayed by an hour or more (X 10.6)", null, At));
        asks.Add(Ask(NoReplyAction, "Report that the carer got no reply at the door (B Appendix E)", null, At, new AskField("note", "What the carer found", "textarea")));
        asks.Add(Ask(CancelAction, "Record a cancellation confirmed by a senior member of staff with the person or next of kin (B 7.27)", null,
            new AskField("confirmedWith", "Confirmed with (person or next of kin)", Required: true, Hint: "Never assumed: a supervisor or senior member of staff confirms it."),
            new AskField("confirmedBy", "Senior member of staff who confirmed it", Required: true), At));
        return asks;
    }

    /// <summary>Turns an answer (page form fields, or an SMS/email reply's words in "text") into an input, or says what is wrong.</summary>
    public static ReplyResult ParseReply(OpenAsk ask, IReadOnlyDictionary<string, string> fields)
    {
        var rest = Field(fields, "text");
        var note = Field(fields, "note");
        string? timeText = Field(fields, "at");
        if (timeText is null && ask.Action is not (ReplacementAction or CancelAction or CarerAction or UnreachableAction or NoReplyAction) && rest is not null)
            timeText = rest; // "REASSURED VA-7K3QX 14:35"
        string? carerName = Field(fields, "carerName");
        if (ask.Action is ReplacementAction or CarerAction or UnreachableAction or NoReplyAction && rest is not null && timeText is null)
        {
            // "REPLACEMENT VA-7K3QX Sam Jones 14:35", "CARER-CONTACTED VA-7K3QX on the way 14:40"
            var (words, time) = TrailingTime(rest);
            timeText = time;
            if (ask.Action == ReplacementAction) carerName ??= words;
            else note ??= words;
        }
        var (at, atLocal, error) = ReadTime(timeText, "at");
        if (error is not null) return ReplyResult.Fail(error);
        if (note is { Length: > MaxNote }) return ReplyResult.Fail($"note is longer than {MaxNote:N0} characters.");
        switch (ask.Action)
        {
            case ReassuredAction: return ReplyResult.Ok(new RecordStep(VisitStep.Reassured, at, atLocal, null, note));
            case CarerAction: return ReplyResult.Ok(new RecordStep(VisitStep.CarerContacted, at, atLocal, null, note));
            case ReplacementAction:
                return carerName is null ? ReplyResult.Fail("Please give the replacement carer's name (carerName).")
                    : ReplyResult.Ok(new RecordStep(VisitStep.ReplacementSent, at, atLocal, carerName, note));
            case ReplacementToldAction: return ReplyResult.Ok(new RecordStep(VisitStep.ReplacementTold, at, atLocal, null, note));
            case UnreachableAction: return ReplyResult.Ok(new RecordStep(VisitStep.PersonUnreachable, at, atLocal, null, note));
            case KinToldAction: return ReplyResult.Ok(new RecordStep(VisitStep.NextOfKinTold, at, atLocal, null, note));
            case DelayToldAction: return ReplyResult.Ok(new RecordStep(VisitStep.DelayTold, at, atLocal, null, note));
            case NoReplyAction: return ReplyResult.Ok(new ReportNoReply(at, atLocal, note));
            case CancelAction:
                if (ReadConfirmedWith(Field(fields, "confirmedWith")) is not { } with)
                    return ReplyResult.Fail("Cancellations are recorded on the alert's page: confirmedWith must be person or next of kin (B 7.27).");
                if (Field(fields, "confirmedBy") is not { } by)
                    return ReplyResult.Fail("Please give confirmedBy: the senior member of staff who confirmed the cancellation (B 7.27).");
                return ReplyResult.Ok(new RecordCancellation(with, by, at, atLocal, note));
            default:
                return ReplyResult.Fail($"'{ask.Action}' is not an answer a visit alert takes.");
        }
    }

    public static ConfirmedWith? ReadConfirmedWith(string? text) => text?.Trim().ToLowerInvariant().Replace("-", " ").Replace("_", " ") switch
    {
        "person" or "the person" or "service user" => ConfirmedWith.Person,
        "next of kin" or "nextofkin" or "nok" or "kin" => ConfirmedWith.NextOfKin,
        _ => null,
    };
}
