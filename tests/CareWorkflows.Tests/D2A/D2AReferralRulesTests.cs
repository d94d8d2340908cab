using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Workflows;
using FsCheck.Xunit;
using NodaTime;

namespace CareWorkflows.Tests.D2A;

/// <summary>The pure rules of the D2A definition: NHS numbers, postcodes, reply parsing, calendar weeks.</summary>
public sealed class D2AReferralRulesTests
{
    [Theory]
    [InlineData("9434765919", true)]
    [InlineData("943 476 5919", true)]
    [InlineData("4010232137", true)]
    [InlineData("9434765918", false)]
    [InlineData("943476591", false)]
    [InlineData("94347659190", false)]
    [InlineData("94347659A9", false)]
    [InlineData("", false)]
    public void Nhs_numbers_are_checked_with_modulus_11(string number, bool valid) =>
        Assert.Equal(valid, D2AReferral.IsValidNhsNumber(number));

    [Property]
    public bool Exactly_one_check_digit_makes_nine_digits_valid_unless_the_remainder_gives_ten(int seed)
    {
        var r = new Random(seed);
        var nine = string.Concat(Enumerable.Range(0, 9).Select(_ => r.Next(10)));
        var valid = Enumerable.Range(0, 10).Count(d => D2AReferral.IsValidNhsNumber(nine + d));
        var sum = nine.Select((c, i) => (c - '0') * (10 - i)).Sum();
        return valid == (11 - sum % 11 == 10 ? 0 : 1);
    }

    [Theory]
    [InlineData("br6 7jh", "BR6 7JH", "BR6")]
    [InlineData("SW1A1AA", "SW1A 1AA", "SW1A")]
    [InlineData("BR1 3UH", "BR1 3UH", "BR1")]
    public void Postcodes_are_normalised_and_offers_use_the_district(string raw, string normal, string district)
    {
        Assert.Equal(normal, D2AReferral.NormalisePostcode(raw));
        Assert.Equal(district, D2AReferral.PostcodeDistrict(raw));
    }

    [Theory]
    [InlineData("14:30", 14, 30)]
    [InlineData("ACCEPT D2A-7K3QX 14:30", 14, 30)]
    [InlineData("accept d2a-7k3qx 2.30pm", 14, 30)]
    [InlineData("Yes we can do 9am", 9, 0)]
    [InlineData("12pm", 12, 0)]
    [InlineData("12am", 0, 0)]
    public void Free_text_times_are_read_as_a_local_time_of_day(string text, int hour, int minute)
    {
        Assert.True(D2AReferral.TryParseFirstCall(text, Instant.FromUtc(2026, 11, 24, 14, 0), out var at, out var time));
        Assert.Null(at);
        Assert.Equal(new LocalTime(hour, minute), time);
    }

    [Theory]
    [InlineData("2026-11-24T14:30", "2026-11-24T14:30:00Z")]
    [InlineData("2026-07-01 09:00", "2026-07-01T08:00:00Z")]   // BST
    [InlineData("25/11 09:00", "2026-11-25T09:00:00Z")]
    [InlineData("ACCEPT D2A-7K3QX 1/7 10:15", "2026-07-01T09:15:00Z")]
    public void Dated_first_calls_are_read_in_UK_time(string text, string expected)
    {
        Assert.True(D2AReferral.TryParseFirstCall(text, Instant.FromUtc(2026, 11, 24, 14, 0), out var at, out _));
        Assert.Equal(expected, NodaTime.Text.InstantPattern.ExtendedIso.Format(at!.Value));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("ACCEPT D2A-7K3QX")]
    [InlineData("3")]
    [InlineData("25:00")]
    public void Text_without_a_time_is_not_a_first_call(string text) =>
        Assert.False(D2AReferral.TryParseFirstCall(text, Instant.FromUtc(2026, 11, 24, 14, 0), out _, out _));

    [Fact]
    public void A_time_of_day_means_its_next_occurrence_in_London()
    {
        var now = Instant.FromUtc(2026, 11, 24, 15, 0);
        Assert.Equal(Instant.FromUtc(2026, 11, 24, 16, 30), D2AReferral.NextOccurrence(new LocalTime(16, 30), now));
        Assert.Equal(Instant.FromUtc(2026, 11, 25, 9, 0), D2AReferral.NextOccurrence(new LocalTime(9, 0), now));
        // Summer: 09:00 BST is 08:00 UTC.
        Assert.Equal(Instant.FromUtc(2026, 7, 2, 8, 0), D2AReferral.NextOccurrence(new LocalTime(9, 0), Instant.FromUtc(2026, 7, 1, 12, 0)));
    }

    [Fact]
    public void Calendar_weeks_keep_the_local_time_across_the_autumn_change()
    {
        // 10:00 BST on Wed 14 Oct 2026 → 10:00 GMT on Wed 25 Nov 2026 (GMT from 25 Oct).
        Assert.Equal(Instant.FromUtc(2026, 11, 25, 10, 0), D2AReferral.PlusWeeks(Instant.FromUtc(2026, 10, 14, 9, 0), 6));
    }

    [Fact]
    public void Sms_replies_and_link_forms_go_through_the_same_parse()
    {
        var wf = new D2AReferral();
        var ask = new OpenAsk("east-kestrel", "accept", "Accept", null);
        var state = new D2AState { ExpectedDischargeAt = Instant.FromUtc(2026, 11, 24, 14, 0) };
        var fromSms = wf.ParseReply(state, ask, new Dictionary<string, string> { ["text"] = "ACCEPT D2A-7K3QX 14:30" });
        var fromForm = wf.ParseReply(state, ask, new Dictionary<string, string> { ["firstCall"] = "14:30" });
        Assert.Equal(fromSms.Input, fromForm.Input);
        Assert.Equal(new ProviderResponse("east-kestrel", true, FirstCallTime: new LocalTime(14, 30)), fromSms.Input);
        var decline = wf.ParseReply(state, ask with { Action = "decline" }, new Dictionary<string, string> { ["text"] = "DECLINE D2A-7K3QX no carers" });
        Assert.Equal(new ProviderResponse("east-kestrel", false, Reason: "no carers"), decline.Input);
        Assert.NotNull(wf.ParseReply(state, ask, new Dictionary<string, string> { ["text"] = "maybe later" }).Error);
    }
}
