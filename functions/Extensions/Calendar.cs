using System.Text.Json;
using System.Text.Json.Nodes;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Functions.Extensions;

public static class CalendarLoading
{
    public const string DocumentKey = RuntimeEnvironment.BankHolidaysDocument;
    public const string Division = "england-and-wales";

    /// <summary>Uses the bank-holiday file an operator loaded (kept in the store), if any, instead of the shipped one.</summary>
    public static async Task LoadOperatorCalendarAsync(this IServiceProvider services)
    {
        var store = services.GetRequiredService<IDocumentStore>();
        if (await store.GetDocumentAsync(DocumentKey) is { } json)
        {
            var env = services.GetRequiredService<RuntimeEnvironment>();
            env.Calendar = WorkingCalendar.FromGovUkJson(json, endOfDay: env.Calendar.EndOfDay);
        }
    }

    /// <summary>
    /// The end-of-day cut-off for "within N working days" (setting Calendar:EndOfDay, e.g. "17:00" or "23:59:59.999";
    /// default the last millisecond of the day). A bad value stops the start rather than silently moving deadlines.
    /// </summary>
    public static LocalTime EndOfDay(IConfiguration config)
    {
        if (config["Calendar:EndOfDay"] is not { Length: > 0 } text) return WorkingCalendar.DefaultEndOfDay;
        foreach (var pattern in new[] { LocalTimePattern.ExtendedIso, LocalTimePattern.CreateWithInvariantCulture("HH:mm") })
            if (pattern.Parse(text.Trim()) is { Success: true } r) return r.Value;
        throw new InvalidOperationException($"Calendar:EndOfDay '{text}' is not a time of day such as 17:00 or 23:59:59.999.");
    }

    /// <summary>
    /// Checks an operator's GOV.UK bank-holidays.json and merges it with the data in use: every year the file has
    /// replaces that year; other years are kept. Returns errors (field → messages) when the file cannot be used.
    /// </summary>
    public static BankHolidayMerge Merge(JsonNode? uploaded, string currentJson, LocalTime endOfDay, string loadedBy, Instant now)
    {
        var errors = new Dictionary<string, string[]>();
        BankHolidayMerge Fail(string field, string message) { errors[field] = [message]; return new(null, null, [], [], [], errors); }

        if (uploaded is not JsonObject root) return Fail("body", "The body must be a JSON object in GOV.UK bank-holidays.json format.");
        if (root[Division] is not JsonObject division) return Fail(Division, $"The file has no '{Division}' division.");
        if (division["division"] is JsonValue dv && dv.TryGetValue<string>(out var dname) && dname != Division)
            return Fail($"{Division}.division", $"The division is named '{dname}', not '{Division}'.");
        if (division["events"] is not JsonArray events || events.Count == 0) return Fail($"{Division}.events", "The division has no events.");

        var incoming = new List<(LocalDate Date, JsonObject Event)>();
        for (var i = 0; i < events.Count; i++)
        {
            var field = $"{Division}.events[{i}]";
            if (events[i] is not JsonObject e) return Fail(field, "An event is not an object.");
            if (e["date"] is not JsonValue v || !v.TryGetValue<string>(out var text) || LocalDatePattern.Iso.Parse(text) is not { Success: true } parsed)
                return Fail($"{field}.date", "Every event needs a date as yyyy-MM-dd.");
            if (parsed.Value.Year is < 1970 or > 2200) return Fail($"{field}.date", $"{text} is not a plausible bank-holiday year.");
            if (incoming.Any(x => x.Date == parsed.Value)) return Fail($"{field}.date", $"{text} appears twice.");
            incoming.Add((parsed.Value, new JsonObject
            {
                ["title"] = e["title"] is JsonValue t && t.TryGetValue<string>(out var title) ? title : "Bank holiday",
                ["date"] = text,
                ["notes"] = e["notes"] is JsonValue n && n.TryGetValue<string>(out var notes) ? notes : "",
                ["bunting"] = e["bunting"] is JsonValue b && b.TryGetValue<bool>(out var bunting) && bunting,
            }));
        }
        // Every year since 1978 has had at least eight England and Wales bank holidays: fewer means a cut-off file,
        // and taking it would make the missing days working days.
        foreach (var year in incoming.GroupBy(x => x.Date.Year).Where(g => g.Count() < 8))
            return Fail($"{Division}.events", $"{year.Key} has only {year.Count()} bank holidays; the file looks incomplete.");

        var years = incoming.Select(x => x.Date.Year).ToHashSet();
        var current = ReadEvents(currentJson);
        var merged = current.Where(x => !years.Contains(x.Date.Year)).Concat(incoming).OrderBy(x => x.Date).ToList();
        var document = new JsonObject
        {
            [Division] = new JsonObject { ["division"] = Division, ["events"] = new JsonArray(merged.Select(x => (JsonNode)x.Event.DeepClone()).ToArray()) },
            ["careworkflows"] = new JsonObject { ["loadedAt"] = InstantPattern.ExtendedIso.Format(now), ["loadedBy"] = loadedBy, ["yearsLoaded"] = new JsonArray(years.Order().Select(y => (JsonNode)y).ToArray()) },
        };
        var json = document.ToJsonString();
        WorkingCalendar calendar;
        try { calendar = WorkingCalendar.FromGovUkJson(json, endOfDay: endOfDay); }
        catch (FormatException e) { return Fail($"{Division}.events", e.Message); }
        var before = current.Select(x => x.Date).ToHashSet();
        var after = merged.Select(x => x.Date).ToHashSet();
        return new(json, calendar, years.Order().ToList(), after.Except(before).Order().ToList(), before.Except(after).Order().ToList(), errors);
    }

    private static List<(LocalDate Date, JsonObject Event)> ReadEvents(string json)
    {
        var root = JsonNode.Parse(json)!;
        return root[Division]!["events"]!.AsArray().OfType<JsonObject>()
            .Select(e => (LocalDatePattern.Iso.Parse((string)e["date"]!).Value, (JsonObject)e.DeepClone())).ToList();
    }
}

/// <summary>The result of checking and merging an operator's bank-holiday file.</summary>
public sealed record BankHolidayMerge(string? Json, WorkingCalendar? Calendar, IReadOnlyList<int> YearsLoaded,
    IReadOnlyList<LocalDate> Added, IReadOnlyList<LocalDate> Removed, IDictionary<string, string[]> Errors);

/// <summary>
/// A request whose deadline falls beyond the loaded bank-holiday data: never guessed. The caller gets a 503 problem
/// saying so (nothing was written: the transition threw before its commit), operators get a critical log line and
/// the refusal on GET /api/calendar/bank-holidays.
/// </summary>
public sealed class CalendarOutOfRangeHandler(RuntimeEnvironment env, IDocumentStore store, IClock clock, IProblemDetailsService problems, ILogger<CalendarOutOfRangeHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is not CalendarOutOfRangeException e) return false;
        logger.LogCritical(e, "OPERATOR ACTION NEEDED: {Method} {Path} needs calendar data: {Message}", http.Request.Method, http.Request.Path, e.Message);
        // Another node may have loaded newer data meanwhile: take it so the caller's retry succeeds.
        await env.RefreshCalendarAsync(store, ct);
        env.CalendarAlerts.RequestRefused(http.Request.Method, http.Request.Path, e.Date.ToString("yyyy-MM-dd", null), clock.GetCurrentInstant());
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = e,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The working-day calendar does not cover this date",
                Detail = $"{e.Message} Nothing was recorded. Operators have been alerted; please try again once newer bank-holiday data is loaded.",
                Type = "https://careworkflows.example/problems/calendar-out-of-range",
                Extensions = { ["date"] = e.Date.ToString("yyyy-MM-dd", null) },
            },
        });
    }
}
