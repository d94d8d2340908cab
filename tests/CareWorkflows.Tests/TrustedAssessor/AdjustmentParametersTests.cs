using CareWorkflows.Definitions;
using CareWorkflows.Definitions.TrustedAssessor;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>The within-parameters rule (App G.6, G.10 §1) as a pure function: exact decimal comparison, hours rounded to 2 dp.</summary>
public sealed class AdjustmentParametersTests
{
    private static readonly ParameterPolicy G = ParameterPolicy.AppendixG;

    [Theory]
    [InlineData("10", "7.5")]      // −25% exactly
    [InlineData("12.4", "9.3")]    // −25% exactly, not a round number of hours
    [InlineData("40", "30")]
    [InlineData("10", "9.99")]
    public void A_reduction_of_up_to_exactly_25_percent_is_within(string current, string proposed)
    {
        var check = AdjustmentParameters.Evaluate(decimal.Parse(current), decimal.Parse(proposed), lowLevel: false, G);
        Assert.True(check.Within, check.Explanation);
    }

    [Theory]
    [InlineData("10", "7.49", "-25.1")]
    [InlineData("40", "29.96", "-25.1")]
    [InlineData("10", "5", "-50")]
    public void A_reduction_beyond_25_percent_is_not_within(string current, string proposed, string percent)
    {
        var check = AdjustmentParameters.Evaluate(decimal.Parse(current), decimal.Parse(proposed), lowLevel: false, G);
        Assert.False(check.Within);
        Assert.Equal(decimal.Parse(percent), check.ChangePercent);
    }

    [Theory]
    [InlineData("10", "11")]       // +10% exactly
    [InlineData("7.5", "8.25")]    // +10% exactly
    [InlineData("10", "10.01")]
    public void An_increase_of_up_to_exactly_10_percent_on_a_low_level_package_is_within(string current, string proposed)
    {
        var check = AdjustmentParameters.Evaluate(decimal.Parse(current), decimal.Parse(proposed), lowLevel: true, G);
        Assert.True(check.Within, check.Explanation);
    }

    [Theory]
    [InlineData("10", "11.01", "10.1")]
    [InlineData("40", "44.04", "10.1")]
    public void An_increase_beyond_10_percent_is_not_within(string current, string proposed, string percent)
    {
        var check = AdjustmentParameters.Evaluate(decimal.Parse(current), decimal.Parse(proposed), lowLevel: true, G);
        Assert.False(check.Within);
        Assert.Equal(decimal.Parse(percent), check.ChangePercent);
    }

    [Fact]
    public void Any_increase_to_a_package_that_is_not_low_level_needs_approval_by_default()
    {
        Assert.False(AdjustmentParameters.Evaluate(10m, 10.5m, lowLevel: false, G).Within);
        Assert.True(AdjustmentParameters.Evaluate(10m, 10.5m, lowLevel: false, G with { IncreaseLowLevelOnly = false }).Within);
    }

    [Fact]
    public void The_limits_are_policy_settings_with_App_G_defaults()
    {
        var policy = ParameterPolicy.From(new PolicySettings(new Dictionary<string, string>
        {
            [TrustedAssessorAdjustment.Policy.MaxReductionPercent] = "20",
            [TrustedAssessorAdjustment.Policy.MaxIncreasePercent] = "5",
        }));
        Assert.Equal(new ParameterPolicy(20m, 5m, true), policy);
        Assert.Equal(G, ParameterPolicy.From(PolicySettings.Default));
        Assert.False(AdjustmentParameters.Evaluate(10m, 7.5m, false, policy).Within);
        Assert.True(AdjustmentParameters.Evaluate(10m, 8m, false, policy).Within);
        Assert.False(AdjustmentParameters.Evaluate(10m, 10.6m, true, policy).Within);
    }

    [Fact]
    public void Hours_are_rounded_to_2_decimal_places_midpoint_away_from_zero_before_the_rule_is_applied()
    {
        Assert.Equal(7.50m, AdjustmentParameters.RoundHours(7.495m));
        Assert.Equal(7.49m, AdjustmentParameters.RoundHours(7.4949m));
        Assert.Equal(11.01m, AdjustmentParameters.RoundHours(11.005m));
        // 7.495 is recorded as 7.50 (−25% exactly) and is within; 7.4949 is recorded as 7.49 (−25.1%) and is not.
        Assert.True(AdjustmentParameters.Evaluate(10m, 7.495m, false, G).Within);
        Assert.False(AdjustmentParameters.Evaluate(10m, 7.4949m, false, G).Within);
        // 11.004 rounds to 11.00 (+10%, within); 11.005 rounds to 11.01 (+10.1%, not).
        Assert.True(AdjustmentParameters.Evaluate(10m, 11.004m, true, G).Within);
        Assert.False(AdjustmentParameters.Evaluate(10m, 11.005m, true, G).Within);
    }

    [Fact]
    public void The_rounded_percentage_shown_to_people_never_decides()
    {
        // 30 → 22.499 rounds to 22.50 hours = −25% exactly: within. 3 → 2.24 is −25.33…% (shown −25.33): not within.
        Assert.True(AdjustmentParameters.Evaluate(30m, 22.499m, false, G).Within);
        var check = AdjustmentParameters.Evaluate(3m, 2.24m, false, G);
        Assert.False(check.Within);
        Assert.Equal(-25.33m, check.ChangePercent);
        // 0.03 → 0.02 is −33.3…%; 300.01 → 225.01 is −24.9991…%, shown as −25 but within.
        Assert.False(AdjustmentParameters.Evaluate(0.03m, 0.02m, false, G).Within);
        var near = AdjustmentParameters.Evaluate(300.01m, 225.01m, false, G);
        Assert.True(near.Within);
        Assert.Equal(-25m, near.ChangePercent);
    }

    [Fact]
    public void No_change_or_non_positive_hours_are_never_within()
    {
        Assert.False(AdjustmentParameters.Evaluate(10m, 10m, true, G).Within);
        Assert.False(AdjustmentParameters.Evaluate(10m, 0m, true, G).Within);
        Assert.False(AdjustmentParameters.Evaluate(10m, -1m, true, G).Within);
    }

    // ---------------------------------------------------------------- properties (FsCheck): hours as whole hundredths

    private static Arbitrary<int> Centi => Gen.Choose(1, 16_800).ToArbitrary(); // 0.01 to 168 hours a week

    /// <summary>The rule restated in whole hundredths: −r% ≤ change ≤ +i% (increases for low-level packages only), never no change.</summary>
    private static bool Expected(long current, long proposed, bool lowLevel, long maxReduction = 25, long maxIncrease = 10, bool lowLevelOnly = true) =>
        proposed != current && (proposed < current
            ? (current - proposed) * 100 <= maxReduction * current
            : (lowLevel || !lowLevelOnly) && (proposed - current) * 100 <= maxIncrease * current);

    [Property(MaxTest = 2000)]
    public Property Within_is_exactly_minus_25_to_plus_10_percent_in_whole_hundredths() =>
        Prop.ForAll(Centi, Centi, Gen.Elements(true, false).ToArbitrary(), (current, proposed, lowLevel) =>
            AdjustmentParameters.Evaluate(current / 100m, proposed / 100m, lowLevel, G).Within == Expected(current, proposed, lowLevel));

    [Property(MaxTest = 1000)]
    public Property The_limits_from_policy_decide_exactly() =>
        Prop.ForAll(Centi, Centi, Gen.Choose(0, 100).Two().ToArbitrary(), (current, proposed, limits) =>
            AdjustmentParameters.Evaluate(current / 100m, proposed / 100m, true, new ParameterPolicy(limits.Item1, limits.Item2, true)).Within
                == Expected(current, proposed, true, limits.Item1, limits.Item2));

    [Property(MaxTest = 1000)]
    public Property Exactly_minus_25_and_plus_10_percent_are_within_and_one_hundredth_further_is_not() =>
        Prop.ForAll(Gen.Choose(1, 4_000).ToArbitrary(), quarter =>
        {
            long current = quarter * 40; // divisible by 4 and by 10: both limits fall on whole hundredths
            return AdjustmentParameters.Evaluate(current / 100m, current * 3 / 4 / 100m, true, G).Within
                && !AdjustmentParameters.Evaluate(current / 100m, (current * 3 / 4 - 1) / 100m, true, G).Within
                && AdjustmentParameters.Evaluate(current / 100m, current * 11 / 10 / 100m, true, G).Within
                && !AdjustmentParameters.Evaluate(current / 100m, (current * 11 / 10 + 1) / 100m, true, G).Within;
        });

    [Property(MaxTest = 1000)]
    public Property Submitted_hours_are_judged_as_rounded_to_2_decimal_places() =>
        Prop.ForAll(Centi, Gen.Choose(1, 1_680_000).ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (current, tenThousandths, lowLevel) =>
        {
            var submitted = tenThousandths / 10_000m;
            var rounded = AdjustmentParameters.RoundHours(submitted);
            return rounded == Math.Round(submitted, 2, MidpointRounding.AwayFromZero) && rounded * 100 == decimal.Truncate(rounded * 100)
                && AdjustmentParameters.Evaluate(current / 100m, submitted, lowLevel, G) == AdjustmentParameters.Evaluate(current / 100m, rounded, lowLevel, G);
        });

    [Property(MaxTest = 1000)]
    public Property An_increase_to_a_package_that_is_not_low_level_is_never_within_by_default() =>
        Prop.ForAll(Centi, Gen.Choose(1, 5_000).ToArbitrary(), (current, up) =>
            !AdjustmentParameters.Evaluate(current / 100m, (current + up) / 100m, lowLevel: false, G).Within);
}
