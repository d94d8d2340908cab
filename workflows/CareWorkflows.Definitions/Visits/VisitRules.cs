using System.Globalization;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Definitions.Visits;

/// <summary>
/// What both visit workflows share, pure: the identifiers they take (the council's person id, never a name), and the
/// time a person gives for what they did ("14:35" in UK time, or an instant with its offset).
/// </summary>
public static class VisitRules
{
    public static Rejection Invalid(string detail, string? field = null) => new(RejectionKind.Invalid, "The request is not valid", detail, field);
    public static Rejection Conflict(string detail) => new(RejectionKind.Conflict, "Not possible in the current state", detail);
    public static Rejection Forbidden(string detail) => new(RejectionKind.Forbidden, "Not allowed", detail);
    public static bool Blank(string? s) => string.IsNullOrWhiteSpace(s);

    public const int MaxIdLength = 64, MaxNote = 2000, MaxName = 100;

    /// <summary>A system's identifier for an alert or a visit: 1–64 letters, digits and . _ : / -.</summary>
    public static bool IsId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '/' or '-');

    /// <summary>
    /// The council's person id (e.g. LBB-104233): 3–40 letters, digits and dashes with at least one digit. No spaces, so a
    /// name cannot pass for an id; it is all that identifies the person anywhere in these workflows.
    /// </summary>
    public static bool IsPersonId(string? id) =>
        id is { Length: >= 3 and <= 40 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && id.Any(char.IsAsciiDigit) && char.IsAsciiLetterOrDigit(id[0]);

    private static readonly LocalTimePattern[] TimeOfDay = [LocalTimePattern.CreateWithInvariantCulture("H:mm"), LocalTimePattern.CreateWithInvariantCulture("H.mm")];

    /// <summary>
    /// Reads a time people give: "14:35" (UK time) or an instant with its offset (2026-11-24T14:35:00Z). Blank is null
    /// (meaning "now"). Returns an error message naming <paramref name="field"/> when it cannot be read.
    /// </summary>
    public static (Instant? At, LocalTime? AtLocal, string? Error) ReadTime(string? text, string field)
    {
        if (Blank(text)) return (null, null, null);
        var t = text!.Trim();
        foreach (var p in TimeOfDay)
            if (p.Parse(t) is { Success: true } local) return (null, local.Value, null);
        if (OffsetDateTimePattern.ExtendedIso.Parse(t) is { Success: true } odt) return (odt.Value.ToInstant(), null, null);
        return (null, null, $"{field} must be a UK time like 14:35, or a date and time with its offset like 2026-11-24T14:35:00Z.");
    }

    /// <summary>
    /// When something happened, from what was given: an instant as it is; a UK time of day as the latest moment with that
    /// local time not after <paramref name="now"/> (so "23:55" sent at 00:05 is last night; in the October hour that comes
    /// twice, the later one not after now); nothing as now. Refused when it is after now or before <paramref name="notBefore"/>,
    /// or when that local time does not exist (the March hour that is skipped).
    /// </summary>
    public static (Instant At, Rejection? Refused) ResolveTime(Instant? at, LocalTime? atLocal, Instant now, Instant notBefore, string field = "at")
    {
        // A minute's grace for clocks a little ahead of ours.
        var latest = now + Duration.FromMinutes(1);
        Instant when;
        if (at is { } given) when = given;
        else if (atLocal is { } local)
        {
            var today = now.InZone(WorkingCalendar.London).Date;
            Instant? found = null;
            for (var day = today; day >= today.PlusDays(-1) && found is null; day = day.PlusDays(-1))
            {
                var mapping = WorkingCalendar.London.MapLocal(day.At(local));
                if (mapping.Count == 0)
                {
                    if (day == today && day.At(local) <= now.InZone(WorkingCalendar.London).LocalDateTime)
                        return (default, Invalid($"{local:HH:mm} did not happen on {day:d MMM yyyy} (the clocks went forward): give the time with its offset.", field));
                    continue;
                }
                var candidates = new[] { mapping.Last().ToInstant(), mapping.First().ToInstant() };
                found = candidates.Where(c => c <= latest).Cast<Instant?>().FirstOrDefault();
            }
            if (found is null) return (default, Invalid($"{field} {local:HH:mm} is not within the last day.", field));
            when = found.Value;
        }
        else when = now;
        if (when > latest) return (default, Invalid($"{field} ({WorkflowContext.Local(when)}) is in the future.", field));
        if (when < notBefore) return (default, Invalid($"{field} ({WorkflowContext.Local(when)}) is before {WorkflowContext.Local(notBefore)}, too early for this visit.", field));
        return (when, null);
    }

    /// <summary>A form or reply field, trimmed; null when blank.</summary>
    public static string? Field(IReadOnlyDictionary<string, string> fields, string key) =>
        fields.TryGetValue(key, out var v) && !Blank(v) ? v.Trim() : null;

    /// <summary>A reply's free text split into its words and a trailing time ("Sam Jones 14:35" → "Sam Jones", 14:35).</summary>
    public static (string? Text, string? Time) TrailingTime(string? text)
    {
        if (Blank(text)) return (null, null);
        var words = text!.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length > 0 && ReadTime(words[^1], "time") is { Error: null, AtLocal: not null } or { Error: null, At: not null })
            return (words.Length > 1 ? string.Join(' ', words[..^1]) : null, words[^1]);
        return (text.Trim(), null);
    }

    public static string Local(Instant i) => WorkflowContext.Local(i);

    public static string Words(string name) =>
        string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLower(c, CultureInfo.InvariantCulture) : c.ToString()));
}
