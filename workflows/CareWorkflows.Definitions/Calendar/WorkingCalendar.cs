using System.Text.Json;
using NodaTime;

namespace CareWorkflows.Definitions;

/// <summary>A date outside the bank-holiday data we hold. Never guessed: operators must load newer data.</summary>
public sealed class CalendarOutOfRangeException(LocalDate date, LocalDate from, LocalDate to)
    : Exception($"The working-day calendar covers {from:yyyy-MM-dd} to {to:yyyy-MM-dd}; {date:yyyy-MM-dd} is outside it. Load a newer GOV.UK bank-holidays.json.")
{
    public LocalDate Date { get; } = date;
}

/// <summary>
/// Working days in Europe/London: Monday to Friday except England and Wales bank holidays (DOMAIN.md, time rules).
/// "Within N working days" of a request on day D ends at the end of the Nth working day after D (B 15.2).
/// Hour deadlines are elapsed time and do not use this class.
/// </summary>
public sealed class WorkingCalendar
{
    public static readonly DateTimeZone London = DateTimeZoneProviders.Tzdb["Europe/London"];
    /// <summary>The default end-of-day cut-off: the last millisecond of the day.</summary>
    public static readonly LocalTime DefaultEndOfDay = new LocalTime(23, 59, 59, 999);

    private readonly HashSet<LocalDate> _holidays;

    public WorkingCalendar(IEnumerable<LocalDate> holidays, LocalDate coveredFrom, LocalDate coveredTo, LocalTime? endOfDay = null)
    {
        if (coveredTo < coveredFrom) throw new ArgumentException("The covered range is empty.");
        _holidays = holidays.ToHashSet();
        CoveredFrom = coveredFrom;
        CoveredTo = coveredTo;
        EndOfDay = endOfDay ?? DefaultEndOfDay;
    }

    public LocalDate CoveredFrom { get; }
    public LocalDate CoveredTo { get; }
    public LocalTime EndOfDay { get; }
    public IReadOnlyCollection<LocalDate> Holidays => _holidays;

    public WorkingCalendar WithEndOfDay(LocalTime endOfDay) => new(_holidays, CoveredFrom, CoveredTo, endOfDay);

    public bool IsBankHoliday(LocalDate date) { EnsureCovered(date); return _holidays.Contains(date); }

    public bool IsWorkingDay(LocalDate date)
    {
        EnsureCovered(date);
        return date.DayOfWeek is not (IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday) && !_holidays.Contains(date);
    }

    /// <summary>The Nth working day after <paramref name="date"/> (N ≥ 1); N = 0 gives the date itself.</summary>
    public LocalDate AddWorkingDays(LocalDate date, int days)
    {
        if (days < 0) return SubtractWorkingDays(date, -days);
        var d = date;
        for (var left = days; left > 0;)
        {
            d = d.PlusDays(1);
            if (IsWorkingDay(d)) left--;
        }
        return d;
    }

    /// <summary>The Nth working day before <paramref name="date"/>.</summary>
    public LocalDate SubtractWorkingDays(LocalDate date, int days)
    {
        var d = date;
        for (var left = days; left > 0;)
        {
            d = d.PlusDays(-1);
            if (IsWorkingDay(d)) left--;
        }
        return d;
    }

    /// <summary>The end-of-day cut-off of <paramref name="date"/> in Europe/London, as an instant.</summary>
    public Instant EndOf(LocalDate date) => date.At(EndOfDay).InZoneLeniently(London).ToInstant();

    /// <summary>Due instant for "within N working days" of a request made at <paramref name="sentAt"/>.</summary>
    public Instant DueAfterWorkingDays(Instant sentAt, int days) => EndOf(AddWorkingDays(LocalDateOf(sentAt), days));

    public static LocalDate LocalDateOf(Instant instant) => instant.InZone(London).Date;

    private void EnsureCovered(LocalDate date)
    {
        if (date < CoveredFrom || date > CoveredTo) throw new CalendarOutOfRangeException(date, CoveredFrom, CoveredTo);
    }

    /// <summary>
    /// Reads GOV.UK's bank-holidays.json (https://www.gov.uk/bank-holidays.json). Coverage is whole years from the
    /// first to the last year that has any event in the division.
    /// </summary>
    public static WorkingCalendar FromGovUkJson(string json, string division = "england-and-wales", LocalTime? endOfDay = null)
    {
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty(division, out var div) || !div.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array)
            throw new FormatException($"No '{division}' division with an 'events' array.");
        var dates = new List<LocalDate>();
        foreach (var e in events.EnumerateArray())
        {
            if (!e.TryGetProperty("date", out var d) || d.ValueKind != JsonValueKind.String)
                throw new FormatException("An event has no 'date'.");
            var parsed = NodaTime.Text.LocalDatePattern.Iso.Parse(d.GetString()!);
            if (!parsed.Success) throw new FormatException($"'{d.GetString()}' is not a yyyy-MM-dd date.");
            dates.Add(parsed.Value);
        }
        if (dates.Count == 0) throw new FormatException("The division has no events.");
        var years = dates.Select(x => x.Year).Distinct().Order().ToList();
        for (var i = 1; i < years.Count; i++)
            if (years[i] != years[i - 1] + 1) throw new FormatException($"The data has no bank holidays for {years[i - 1] + 1}: refusing to guess.");
        return new WorkingCalendar(dates, new LocalDate(years[0], 1, 1), new LocalDate(years[^1], 12, 31), endOfDay);
    }

    private static readonly Lazy<string> EmbeddedJson = new(() =>
    {
        using var s = typeof(WorkingCalendar).Assembly.GetManifestResourceStream("CareWorkflows.bank-holidays.json")
            ?? throw new InvalidOperationException("bank-holidays.json is not embedded.");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    });

    /// <summary>The GOV.UK data shipped with the project (2018–2028).</summary>
    public static string ShippedGovUkJson => EmbeddedJson.Value;

    public static WorkingCalendar Shipped { get; } = FromGovUkJson(EmbeddedJson.Value);
}
