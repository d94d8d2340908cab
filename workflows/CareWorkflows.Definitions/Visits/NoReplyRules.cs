using NodaTime;
using static CareWorkflows.Definitions.Visits.NoReply;
using static CareWorkflows.Definitions.Visits.VisitRules;

namespace CareWorkflows.Definitions.Visits;

/// <summary>The rules of a no-reply (B Appendix E; X 21.3), pure: what a report must carry, who records what, the outcome deadline.</summary>
public static class NoReplyRules
{
    /// <summary>A no-reply found this long before it is reported is refused as a typing error.</summary>
    public static readonly Duration MaxReportAge = Duration.FromHours(24);

    public static Rejection? CheckReport(Report r, Actor actor)
    {
        if (!(actor.IsIn(Roles.Admin) || actor.IsIn(Roles.System) || (actor.IsIn(Roles.Provider) && actor.ProviderId == r.ProviderId)))
            return Forbidden("Only the provider's carers and office report a no-reply for its visits.");
        if (!IsId(r.VisitId)) return Invalid("visitId is required: 1–64 letters, digits and . _ : / -.", "visitId");
        if (!IsPersonId(r.PersonId)) return Invalid("personId must be the council's person id (letters, digits and dashes, with a digit): never a name.", "personId");
        if (r.Note is { Length: > MaxNote }) return Invalid($"note is longer than {MaxNote:N0} characters.", "note");
        return null;
    }

    public static State Reported(Report r, Instant occurredAt, Instant now, CouncilRoute route) =>
        new(NoReplyStage.AwaitingOutcome, r.ProviderId, r.ProviderName, r.ProviderEmail, r.ProviderMobile, r.VisitId, r.PersonId, r.AlertReference,
            occurredAt, now, route.Contacts, route.Why, [], r.Note is { } n ? [n.Trim()] : [], null, null, null, null, null);

    public static Instant OutcomeDue(State s, PolicySettings policy) =>
        s.ReportedAt + policy.Duration(NoReply.Policy.OutcomeWithin, NoReply.Policy.DefaultOutcomeWithin);

    private static Rejection? NotTheProvider(State s, Actor actor) =>
        actor.IsIn(Roles.Admin) || (actor.IsIn(Roles.Provider) && actor.ProviderId == s.ProviderId) ? null
        : Forbidden("Only the provider that reported the no-reply records its checks and outcome.");

    public static Rejection? CheckChecks(State s, Actor actor, RecordChecks c, string reference)
    {
        if (NotTheProvider(s, actor) is { } no) return no;
        if (s.Stage != NoReplyStage.AwaitingOutcome) return Conflict($"{reference} is closed ({Words(s.Outcome?.ToString() ?? "closed").ToLowerInvariant()}).");
        if (c.Checks.Count == 0) return Invalid("checks: give at least one of Letterbox, Windows, BackDoor, Neighbours, Warden, NextOfKin, Hospitals.", "checks");
        if (c.Checks.Any(x => !Enum.IsDefined(x))) return Invalid("checks: a check is not known.", "checks");
        if (c.Note is { Length: > MaxNote }) return Invalid($"note is longer than {MaxNote:N0} characters.", "note");
        return null;
    }

    public static Rejection? CheckOutcome(State s, Actor actor, RecordOutcome o, string reference)
    {
        if (NotTheProvider(s, actor) is { } no) return no;
        if (s.Stage != NoReplyStage.AwaitingOutcome) return Conflict($"{reference} already has its outcome ({Words(s.Outcome?.ToString() ?? "closed").ToLowerInvariant()}).");
        if (!Enum.IsDefined(o.Outcome)) return Invalid("outcome must be FoundSafe, FoundEmergencyServicesCalled, AdmittedToHospital or NotLocated.", "outcome");
        if ((o.Checks ?? []).Any(x => !Enum.IsDefined(x))) return Invalid("checks: a check is not known.", "checks");
        if (o.Note is { Length: > MaxNote }) return Invalid($"note is longer than {MaxNote:N0} characters.", "note");
        return null;
    }

    public static State WithChecks(State s, IEnumerable<DoorCheck> checks, Instant now, string by) =>
        s with { Checks = s.Checks.Concat(checks.Distinct().Where(c => s.Checks.All(x => x.Check != c)).Select(c => new CheckRecord(c, now, by))).ToList() };

    // ---------------------------------------------------------------- what is published

    public static string Summary(State s) => s.Stage == NoReplyStage.None ? ""
        : $"No reply at visit {s.VisitId} for person {s.PersonId} ({s.ProviderName}) at {Local(s.OccurredAt)}" +
          (s.Outcome is { } o ? $": {Label(o)}" : "");

    public static string Label(NoReplyOutcome o) => o switch
    {
        NoReplyOutcome.FoundSafe => "found safe",
        NoReplyOutcome.FoundEmergencyServicesCalled => "found, emergency services called",
        NoReplyOutcome.AdmittedToHospital => "admitted to hospital",
        _ => "not located",
    };

    public static string Label(DoorCheck c) => c switch
    {
        DoorCheck.BackDoor => "back door",
        DoorCheck.NextOfKin => "next of kin",
        _ => c.ToString().ToLowerInvariant(),
    };

    private const string ChecksHint = "Any of: letterbox, windows, back door, neighbours, warden, next of kin, hospitals (comma-separated).";
    private const string OutcomeHint = "One of: found safe, emergency services called, admitted to hospital, not located.";

    public static IReadOnlyList<OpenAsk> Asks(State s, PolicySettings policy)
    {
        if (s.Stage != NoReplyStage.AwaitingOutcome) return [];
        return
        [
            new(s.ProviderId, OutcomeAction, "Record the outcome of the no-reply (B Appendix E)", OutcomeDue(s, policy), s.ProviderEmail, s.ProviderMobile, Roles.Provider,
                [new AskField("outcome", "Outcome", Required: true, Hint: OutcomeHint), new AskField("checks", "Checks made", Hint: ChecksHint),
                 new AskField("at", "Time of the outcome (UK time, e.g. 14:35)", "time", Hint: "Leave empty for now."), new AskField("note", "Note", "textarea")]),
            new(s.ProviderId, ChecksAction, "Record the checks made so far (B Appendix E 1 and 3)", null, s.ProviderEmail, s.ProviderMobile, Roles.Provider,
                [new AskField("checks", "Checks made", Required: true, Hint: ChecksHint), new AskField("note", "Note", "textarea")]),
        ];
    }

    /// <summary>Reads "letterbox, windows, back door" into checks; null (and the word) when one is not a check.</summary>
    public static (IReadOnlyList<DoorCheck>? Checks, string? Unknown) ReadChecks(string? text)
    {
        var found = new List<DoorCheck>();
        if (Blank(text)) return (found, null);
        foreach (var raw in text!.Split([',', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var w = raw.ToLowerInvariant().Replace("-", " ").Replace("_", " ").Replace("  ", " ").Trim().TrimEnd('.');
            DoorCheck? c = w switch
            {
                "letterbox" or "letter box" => DoorCheck.Letterbox,
                "windows" or "window" => DoorCheck.Windows,
                "back door" or "backdoor" => DoorCheck.BackDoor,
                "neighbours" or "neighbour" or "neighbors" or "neighbor" => DoorCheck.Neighbours,
                "warden" => DoorCheck.Warden,
                "next of kin" or "nextofkin" or "nok" or "kin" => DoorCheck.NextOfKin,
                "hospitals" or "hospital" => DoorCheck.Hospitals,
                _ => null,
            };
            if (c is null) return (null, raw);
            found.Add(c.Value);
        }
        return (found.Distinct().ToList(), null);
    }

    public static NoReplyOutcome? ReadOutcome(string? text) => text?.Trim().ToLowerInvariant().Replace("-", " ").Replace("_", " ") switch
    {
        "found safe" or "safe" or "foundsafe" => NoReplyOutcome.FoundSafe,
        "emergency" or "emergency services" or "emergency services called" or "found emergency services called" or "ambulance" or "999" or "foundemergencyservicescalled" => NoReplyOutcome.FoundEmergencyServicesCalled,
        "hospital" or "admitted" or "admitted to hospital" or "in hospital" or "admittedtohospital" => NoReplyOutcome.AdmittedToHospital,
        "not located" or "not found" or "missing" or "notlocated" => NoReplyOutcome.NotLocated,
        _ => null,
    };

    public static ReplyResult ParseReply(OpenAsk ask, IReadOnlyDictionary<string, string> fields)
    {
        var rest = Field(fields, "text");
        var note = Field(fields, "note");
        if (note is { Length: > MaxNote }) return ReplyResult.Fail($"note is longer than {MaxNote:N0} characters.");
        switch (ask.Action)
        {
            case ChecksAction:
            {
                var (checks, unknown) = ReadChecks(Field(fields, "checks") ?? rest);
                if (checks is null) return ReplyResult.Fail($"'{unknown}' is not a check. {ChecksHint}");
                if (checks.Count == 0) return ReplyResult.Fail($"Please give the checks made. {ChecksHint}");
                return ReplyResult.Ok(new RecordChecks(checks, note));
            }
            case OutcomeAction:
            {
                var text = Field(fields, "outcome");
                var timeText = Field(fields, "at");
                if (text is null && rest is not null)
                {
                    // "OUTCOME NR-7K3QX found safe 14:35"
                    var (words, time) = TrailingTime(rest);
                    text = words;
                    timeText ??= time;
                }
                if (ReadOutcome(text) is not { } outcome) return ReplyResult.Fail($"Please give the outcome. {OutcomeHint}");
                var (checks, unknown) = ReadChecks(Field(fields, "checks"));
                if (checks is null) return ReplyResult.Fail($"'{unknown}' is not a check. {ChecksHint}");
                var (at, atLocal, error) = ReadTime(timeText, "at");
                if (error is not null) return ReplyResult.Fail(error);
                return ReplyResult.Ok(new RecordOutcome(outcome, checks, at, atLocal, note));
            }
            default:
                return ReplyResult.Fail($"'{ask.Action}' is not an answer a no-reply takes.");
        }
    }
}
