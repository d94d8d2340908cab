using CareWorkflows.Definitions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;

namespace CareWorkflows.Tests.Calendar;

public sealed class WorkingCalendarTests
{
    private static readonly WorkingCalendar Cal = WorkingCalendar.Shipped;
    private static readonly LocalDate First = new(2018, 1, 1);
    // Room for up to 60 working days (about 13 weeks) after any start date without leaving the data.
    private static readonly int Span = Period.Between(First, new LocalDate(2028, 9, 1), PeriodUnits.Days).Days;

    private static LocalDate DateFrom(int seed) => First.PlusDays((int)((uint)seed % (uint)Span));

    [Fact]
    public void Concern_sent_on_Wed_23_Dec_2026_with_7_working_days_is_due_at_the_end_of_Wed_6_Jan_2027()
    {
        // Christmas Day, Boxing Day substitute (Mon 28 Dec) and New Year's Day are skipped, as are two weekends.
        var sent = new LocalDateTime(2026, 12, 23, 15, 30).InZoneStrictly(WorkingCalendar.London).ToInstant();
        Assert.Equal(new LocalDate(2027, 1, 6), Cal.AddWorkingDays(new LocalDate(2026, 12, 23), 7));
        Assert.Equal(Instant.FromUtc(2027, 1, 6, 23, 59, 59).PlusNanoseconds(999_000_000), Cal.DueAfterWorkingDays(sent, 7));
    }

    [Fact]
    public void Forty_eight_hours_from_20_00_BST_on_Sat_24_Oct_2026_is_19_00_GMT_on_Mon_26_Oct_2026()
    {
        var occurred = new LocalDateTime(2026, 10, 24, 20, 0).InZoneStrictly(WorkingCalendar.London).ToInstant();
        var due = occurred + Duration.FromHours(48);
        Assert.Equal(new LocalDateTime(2026, 10, 26, 19, 0), due.InZone(WorkingCalendar.London).LocalDateTime);
        Assert.Equal(Offset.Zero, due.InZone(WorkingCalendar.London).Offset);
        Assert.Equal(Instant.FromUtc(2026, 10, 26, 19, 0), due);
    }

    [Fact]
    public void End_of_day_cut_off_is_configurable_and_lands_in_local_time_across_BST()
    {
        var cal = Cal.WithEndOfDay(new LocalTime(17, 0));
        Assert.Equal(Instant.FromUtc(2026, 7, 1, 16, 0), cal.EndOf(new LocalDate(2026, 7, 1)));  // BST
        Assert.Equal(Instant.FromUtc(2026, 12, 1, 17, 0), cal.EndOf(new LocalDate(2026, 12, 1))); // GMT
    }

    [Fact]
    public void A_date_beyond_the_loaded_data_is_an_error_not_a_guess()
    {
        var e = Assert.Throws<CalendarOutOfRangeException>(() => Cal.AddWorkingDays(new LocalDate(2028, 12, 28), 5));
        Assert.Equal(2029, e.Date.Year);
        Assert.Throws<CalendarOutOfRangeException>(() => Cal.IsWorkingDay(new LocalDate(2017, 12, 31)));
    }

    [Fact]
    public void A_file_with_a_missing_year_is_refused()
    {
        var json = """{"england-and-wales":{"division":"england-and-wales","events":[{"title":"a","date":"2026-01-01"},{"title":"b","date":"2028-01-03"}]}}""";
        Assert.Throws<FormatException>(() => WorkingCalendar.FromGovUkJson(json));
    }

    [Fact]
    public void The_shipped_data_has_the_England_and_Wales_bank_holidays_of_2026_and_2027()
    {
        LocalDate[] y2026 = [new(2026, 1, 1), new(2026, 4, 3), new(2026, 4, 6), new(2026, 5, 4), new(2026, 5, 25), new(2026, 8, 31), new(2026, 12, 25), new(2026, 12, 28)];
        LocalDate[] y2027 = [new(2027, 1, 1), new(2027, 3, 26), new(2027, 3, 29), new(2027, 5, 3), new(2027, 5, 31), new(2027, 8, 30), new(2027, 12, 27), new(2027, 12, 28)];
        Assert.Equal(y2026.Concat(y2027), Cal.Holidays.Where(d => d.Year is 2026 or 2027).Order());
        Assert.Equal(new LocalDate(2018, 1, 1), Cal.CoveredFrom);
        Assert.Equal(new LocalDate(2028, 12, 31), Cal.CoveredTo);
    }

    [Property(MaxTest = 500)]
    public bool Adding_working_days_never_lands_on_a_weekend_or_bank_holiday(int seed, PositiveInt n)
    {
        var days = n.Get % 60 + 1;
        var due = Cal.AddWorkingDays(DateFrom(seed), days);
        return due.DayOfWeek is not (IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday) && !Cal.Holidays.Contains(due);
    }

    [Property(MaxTest = 500)]
    public bool Adding_working_days_is_monotonic_in_the_start_date_and_the_count(int seedA, int seedB, byte n, byte m)
    {
        var (a, b) = (DateFrom(seedA), DateFrom(seedB));
        if (b < a) (a, b) = (b, a);
        var (x, y) = ((int)n % 60, (int)m % 60);
        if (y < x) (x, y) = (y, x);
        return Cal.AddWorkingDays(a, x) <= Cal.AddWorkingDays(b, x)   // later start, never earlier due
            && Cal.AddWorkingDays(a, x) <= Cal.AddWorkingDays(a, y)   // more days, never earlier due
            && (x == y || Cal.AddWorkingDays(a, x) < Cal.AddWorkingDays(a, y));
    }

    [Property(MaxTest = 500)]
    public bool Adding_working_days_agrees_with_a_naive_day_by_day_count(int seed, byte n)
    {
        var start = DateFrom(seed);
        var days = n % 60;
        var due = Cal.AddWorkingDays(start, days);
        // Naive: walk every calendar day after the start, counting Mon–Fri days not in the GOV.UK list.
        var holidays = Cal.Holidays.ToHashSet();
        bool Working(LocalDate d) => d.DayOfWeek is not (IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday) && !holidays.Contains(d);
        var d = start;
        for (var left = days; left > 0;) { d = d.PlusDays(1); if (Working(d)) left--; }
        return d == due;
    }

    [Property(MaxTest = 300)]
    public bool Due_instant_is_the_end_of_a_working_day_after_the_request(int seed, byte n, byte minuteOfDay)
    {
        var start = DateFrom(seed);
        var sent = start.At(LocalTime.Midnight.PlusMinutes(minuteOfDay * 5)).InZoneLeniently(WorkingCalendar.London).ToInstant();
        var days = n % 30 + 1;
        var due = Cal.DueAfterWorkingDays(sent, days).InZone(WorkingCalendar.London);
        return due.TimeOfDay == WorkingCalendar.DefaultEndOfDay && due.Date > start && Cal.IsWorkingDay(due.Date);
    }
}

public sealed class PolicySettingsTests
{
    [Theory]
    [InlineData("PT12H", 12 * 60)]
    [InlineData("P2D", 48 * 60)]
    [InlineData("PT30M", 30)]
    [InlineData("12:00:00", 12 * 60)]
    [InlineData("2:00:00:00", 48 * 60)]
    [InlineData("P1M", 5)] // months have no fixed length: the fallback is used
    [InlineData("soon", 5)]
    public void Policy_durations_read_ISO_8601_and_fall_back_when_unreadable(string value, int minutes)
    {
        var policy = new PolicySettings(new Dictionary<string, string> { ["X"] = value });
        Assert.Equal(Duration.FromMinutes(minutes), policy.Duration("X", Duration.FromMinutes(5)));
    }
}
