using CareWorkflows.Definitions.Rules;
using CareWorkflows.Definitions.D2A;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;

namespace CareWorkflows.Tests.Rules;

/// <summary>The bounds on typed instants and dates, and the NHS-number placeholder rule.</summary>
public sealed class TimeBoundsTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 11, 24, 9, 0);

    [Theory]
    [InlineData(0, true)]
    [InlineData(-5, true)]            // five minutes of grace
    [InlineData(-6, false)]
    [InlineData(28 * 24 * 60, true)]  // 28 days ahead
    [InlineData(28 * 24 * 60 + 1, false)]
    public void A_first_call_is_within_five_minutes_back_and_28_days_ahead(int minutes, bool ok) =>
        Assert.Equal(ok, TimeBounds.FirstCall(Now + Duration.FromMinutes(minutes), Now) is null);

    [Fact]
    public void A_first_call_in_year_9999_or_year_1_is_refused()
    {
        Assert.NotNull(TimeBounds.FirstCall(Instant.FromUtc(9999, 12, 31, 10, 0), Now));
        Assert.NotNull(TimeBounds.FirstCall(Instant.FromUtc(1, 1, 1, 10, 0), Now));
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00Z", false)]
    [InlineData("1900-01-01T00:00:00Z", false)]
    [InlineData("2025-11-23T09:00:00Z", false)] // 366 days ago
    [InlineData("2025-11-25T09:00:00Z", true)]  // 364 days ago
    [InlineData("2026-11-24T09:05:00Z", true)]  // clock skew
    [InlineData("2026-11-24T09:06:00Z", false)]
    public void An_incident_happened_in_the_plausible_past(string at, bool ok)
    {
        var instant = NodaTime.Text.InstantPattern.ExtendedIso.Parse(at).Value;
        var error = TimeBounds.InPlausiblePast("occurredAt", instant, Now, Duration.FromMinutes(5), Duration.FromDays(365));
        Assert.Equal(ok, error is null);
        if (error is not null) Assert.StartsWith("occurredAt", error);
    }

    [Theory]
    [InlineData(1, 1, 1, false)]
    [InlineData(9999, 12, 31, false)]
    [InlineData(2026, 11, 23, false)]
    [InlineData(2026, 11, 24, true)]
    [InlineData(2027, 11, 24, true)]
    [InlineData(2027, 11, 25, false)]
    public void A_chosen_due_date_is_from_today_to_a_year_ahead(int y, int m, int d, bool ok) =>
        Assert.Equal(ok, TimeBounds.DueDate("dueDate", new LocalDate(y, m, d), new LocalDate(2026, 11, 24), 365) is null);

    [Fact]
    public void The_simulation_clock_moves_forward_within_ten_years_and_the_calendar_data()
    {
        var coveredTo = new LocalDate(2028, 12, 31);
        Assert.Null(TimeBounds.SimulationTarget(Now, Now + Duration.FromDays(30), coveredTo));
        Assert.Null(TimeBounds.SimulationTarget(Now, Instant.FromUtc(2028, 12, 31, 23, 59), coveredTo)); // still 31 Dec in London
        Assert.Contains("only moves forward", TimeBounds.SimulationTarget(Now, Now - Duration.FromSeconds(1), coveredTo));
        Assert.Contains("2029-01-01", TimeBounds.SimulationTarget(Now, Instant.FromUtc(2029, 1, 1, 0, 0), coveredTo));
        Assert.NotNull(TimeBounds.SimulationTarget(Now, Instant.FromUtc(9999, 12, 31, 0, 0), new LocalDate(9999, 12, 31)));
    }

    [Property]
    public Property Every_accepted_simulation_target_is_forward_within_ten_years_and_the_data() =>
        Prop.ForAll(Gen.Choose(-10_000, 4_000_000).ToArbitrary(), Gen.Choose(2026, 2040).ToArbitrary(), (minutes, lastYear) =>
        {
            var target = Now + Duration.FromMinutes(minutes) * 10;
            var coveredTo = new LocalDate(lastYear, 12, 31);
            var ok = TimeBounds.SimulationTarget(Now, target, coveredTo) is null;
            var expected = target >= Now && target <= Now + TimeBounds.SimulationHorizon && target.InZone(CareWorkflows.Definitions.WorkflowContext.London).Date <= coveredTo;
            return ok == expected;
        });

    [Theory]
    [InlineData("0000000000")]
    [InlineData("1111111111")]
    [InlineData("222 222 2222")]
    [InlineData("999-999-9999")]
    public void All_same_digit_numbers_pass_modulus_11_and_are_placeholders(string number)
    {
        Assert.True(D2AReferralRules.IsValidNhsNumber(number)); // why the check digit alone does not catch them
        Assert.True(D2AReferralRules.IsPlaceholderNhsNumber(number));
    }

    [Theory]
    [InlineData("9434765919")]
    [InlineData("4010232137")]
    [InlineData("")]
    [InlineData("111111111")]
    public void Real_and_malformed_numbers_are_not_placeholders(string number) =>
        Assert.False(D2AReferralRules.IsPlaceholderNhsNumber(number));
}
