using System.Text.Json;
using System.Text.Json.Nodes;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Extensions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Functions.Apis;

public sealed record BankHolidayView(string Date, string Title);

/// <summary>What operators need to know about the working-day calendar.</summary>
public sealed record CalendarStatus(
    string Status,
    IReadOnlyList<string> Warnings,
    string Source,
    Instant? LoadedAt,
    string? LoadedBy,
    string CoveredFrom,
    string CoveredTo,
    int CoverageDaysLeft,
    string EndOfDay,
    IReadOnlyList<string> UpcomingBankHolidays,
    IReadOnlyList<HeldTimer> HeldTimers,
    IReadOnlyList<RefusedRequest> RefusedRequests);

public sealed record CalendarLoaded(string CoveredFrom, string CoveredTo, IReadOnlyList<int> YearsLoaded, IReadOnlyList<string> Added, IReadOnlyList<string> Removed,
    int BankHolidays);

/// <summary>
/// The England and Wales bank-holiday data behind every working-day deadline (DOMAIN.md, time rules).
/// GET: coverage and anything held for want of data (staff). POST: an administrator loads a newer GOV.UK
/// bank-holidays.json; it is checked, merged by year with the data in use, kept in the store and used at once.
/// </summary>
public static class CalendarApi
{
    /// <summary>Warn operators this long before the data runs out.</summary>
    private const int WarnDaysBeforeEnd = 365;
    private const int MaxBodyBytes = 2 * 1024 * 1024;

    public static WebApplication MapCalendarApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/calendar").WithTags("Calendar");
        api.MapGet("/bank-holidays", GetStatusAsync).RequireAuthorization(Policies.Staff);
        api.MapPost("/bank-holidays", LoadAsync).RequireAuthorization(Policies.Admin).DisableAntiforgery();
        return app;
    }

    private static async Task<Ok<CalendarStatus>> GetStatusAsync(RuntimeEnvironment env, IDocumentStore store, IClock clock, CancellationToken ct) =>
        TypedResults.Ok(await ReadStatusAsync(env, store, clock, ct));

    /// <summary>The calendar's status (shared with the operations page).</summary>
    public static async Task<CalendarStatus> ReadStatusAsync(RuntimeEnvironment env, IDocumentStore store, IClock clock, CancellationToken ct)
    {
        var calendar = env.Calendar;
        var now = clock.GetCurrentInstant();
        var today = WorkingCalendar.LocalDateOf(now);
        Instant? loadedAt = null;
        string? loadedBy = null;
        var source = "shipped";
        if (await store.GetDocumentAsync(CalendarLoading.DocumentKey, ct) is { } json && JsonNode.Parse(json)?["careworkflows"] is JsonObject meta)
        {
            source = "operator";
            if (meta["loadedAt"] is JsonValue at && InstantPattern.ExtendedIso.Parse(at.GetValue<string>()) is { Success: true } p) loadedAt = p.Value;
            loadedBy = meta["loadedBy"]?.GetValue<string>();
        }
        var daysLeft = Period.Between(today, calendar.CoveredTo, PeriodUnits.Days).Days;
        var warnings = new List<string>();
        if (today < calendar.CoveredFrom || today > calendar.CoveredTo)
            warnings.Add($"Today ({today:yyyy-MM-dd}) is outside the bank-holiday data: working-day deadlines cannot be computed. Load a newer GOV.UK file.");
        else if (daysLeft < WarnDaysBeforeEnd)
            warnings.Add($"The bank-holiday data ends on {calendar.CoveredTo:yyyy-MM-dd} ({daysLeft} days): load a newer GOV.UK file before deadlines reach it.");
        var held = env.CalendarAlerts.HeldTimers;
        var refused = env.CalendarAlerts.RefusedRequests;
        if (held.Count > 0) warnings.Add($"{held.Count} timer(s) are held until data covering their dates is loaded.");
        if (refused.Count > 0) warnings.Add($"{refused.Count} request(s) were refused because their deadlines fell beyond the data.");
        var upcoming = calendar.Holidays.Where(d => d >= today).Order().Take(10).Select(d => d.ToString("yyyy-MM-dd ddd", null)).ToList();
        return new CalendarStatus(warnings.Count == 0 ? "ok" : "attention", warnings, source, loadedAt, loadedBy,
            calendar.CoveredFrom.ToString("yyyy-MM-dd", null), calendar.CoveredTo.ToString("yyyy-MM-dd", null), daysLeft,
            calendar.EndOfDay.ToString("HH:mm:ss.fff", null), upcoming, held, refused);
    }

    /// <summary>The body, or null when it is longer than <paramref name="max"/> bytes.</summary>
    private static async Task<byte[]?> ReadCappedAsync(Stream body, int max, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static async Task<Results<Ok<CalendarLoaded>, ProblemHttpResult>> LoadAsync(HttpContext http, RuntimeEnvironment env, IDocumentStore store, IClock clock,
        ILoggerFactory loggers, CancellationToken ct)
    {
        if (!http.Request.HasJsonContentType()) return Problems.BadRequest("Send the GOV.UK bank-holidays.json file as application/json.");
        if (http.Request.ContentLength > MaxBodyBytes) return Problems.BadRequest("The file is larger than 2 MB.");
        // Read whole (a chunked body has no Content-Length) and check the encoding before parsing: System.Text.Json only
        // meets bad UTF-8 inside a string when the value is read, long after parsing, as an InvalidOperationException.
        var bytes = await ReadCappedAsync(http.Request.Body, MaxBodyBytes, ct);
        if (bytes is null) return Problems.BadRequest("The file is larger than 2 MB.");
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) return Problems.BadRequest("The file is not valid UTF-8 text: download it again from GOV.UK.");
        JsonNode? body;
        var json = bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes[3..] : bytes; // a byte-order mark, as the stream parser allowed
        try { body = JsonNode.Parse(json); }
        catch (JsonException e) { return Problems.BadRequest($"The body is not valid JSON: {e.Message}"); }

        var current = await store.GetDocumentAsync(CalendarLoading.DocumentKey, ct) ?? WorkingCalendar.ShippedGovUkJson;
        var actor = http.User.ToActor();
        var now = clock.GetCurrentInstant();
        var merge = CalendarLoading.Merge(body, current, env.Calendar.EndOfDay, actor.Id, now);
        if (merge.Errors.Count > 0) return Problems.Validation(merge.Errors);

        await store.PutDocumentAsync(CalendarLoading.DocumentKey, merge.Json!, now, ct);
        env.Calendar = merge.Calendar!;
        loggers.CreateLogger("CareWorkflows.Calendar").LogWarning(
            "Bank-holiday data loaded by {Actor}: years {Years}; now covers {From} to {To}; added {Added}; removed {Removed}",
            actor.Id, string.Join(",", merge.YearsLoaded), merge.Calendar!.CoveredFrom, merge.Calendar.CoveredTo,
            string.Join(",", merge.Added), string.Join(",", merge.Removed));
        return TypedResults.Ok(new CalendarLoaded(merge.Calendar.CoveredFrom.ToString("yyyy-MM-dd", null), merge.Calendar.CoveredTo.ToString("yyyy-MM-dd", null),
            merge.YearsLoaded, merge.Added.Select(d => d.ToString("yyyy-MM-dd", null)).ToList(), merge.Removed.Select(d => d.ToString("yyyy-MM-dd", null)).ToList(),
            merge.Calendar.Holidays.Count));
    }
}
