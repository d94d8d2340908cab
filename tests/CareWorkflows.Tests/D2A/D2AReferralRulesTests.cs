using CareWorkflows.Definitions;
using CareWorkflows.Definitions.D2A;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using static CareWorkflows.Definitions.D2A.D2AReferral;

namespace CareWorkflows.Tests.D2A;

/// <summary>The pure rules of the D2A referral: NHS numbers, postcodes, reply parsing, calendar weeks, cut-offs, the award policy.</summary>
public sealed class D2AReferralRulesTests
{
    private static readonly PolicySettings Defaults = PolicySettings.Default;

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
        Assert.Equal(valid, D2AReferralRules.IsValidNhsNumber(number));

    [Property]
    public bool Exactly_one_check_digit_makes_nine_digits_valid_unless_the_remainder_gives_ten(int seed)
    {
        var r = new Random(seed);
        var nine = string.Concat(Enumerable.Range(0, 9).Select(_ => r.Next(10)));
        var valid = Enumerable.Range(0, 10).Count(d => D2AReferralRules.IsValidNhsNumber(nine + d));
        var sum = nine.Select((c, i) => (c - '0') * (10 - i)).Sum();
        return valid == (11 - sum % 11 == 10 ? 0 : 1);
    }

    [Property]
    public bool Spaces_and_dashes_do_not_change_whether_an_NHS_number_is_valid(int seed)
    {
        var r = new Random(seed);
        var digits = string.Concat(Enumerable.Range(0, 10).Select(_ => r.Next(10)));
        var spaced = $"{digits[..3]} {digits[3..6]}-{digits[6..]}";
        return D2AReferralRules.IsValidNhsNumber(digits) == D2AReferralRules.IsValidNhsNumber(spaced);
    }

    [Theory]
    [InlineData("br6 7jh", "BR6 7JH", "BR6")]
    [InlineData("SW1A1AA", "SW1A 1AA", "SW1A")]
    [InlineData("BR1 3UH", "BR1 3UH", "BR1")]
    public void Postcodes_are_normalised_and_offers_use_the_district(string raw, string normal, string district)
    {
        Assert.Equal(normal, D2AReferralRules.NormalisePostcode(raw));
        Assert.Equal(district, D2AReferralRules.PostcodeDistrict(raw));
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
        Assert.True(D2AReferralRules.TryParseFirstCall(text, Instant.FromUtc(2026, 11, 24, 14, 0), out var at, out var time));
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
        Assert.True(D2AReferralRules.TryParseFirstCall(text, Instant.FromUtc(2026, 11, 24, 14, 0), out var at, out _));
        Assert.Equal(expected, NodaTime.Text.InstantPattern.ExtendedIso.Format(at!.Value));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("ACCEPT D2A-7K3QX")]
    [InlineData("3")]
    [InlineData("25:00")]
    public void Text_without_a_time_is_not_a_first_call(string text) =>
        Assert.False(D2AReferralRules.TryParseFirstCall(text, Instant.FromUtc(2026, 11, 24, 14, 0), out _, out _));

    [Fact]
    public void A_time_of_day_means_its_next_occurrence_in_London()
    {
        var now = Instant.FromUtc(2026, 11, 24, 15, 0);
        Assert.Equal(Instant.FromUtc(2026, 11, 24, 16, 30), D2AReferralRules.NextOccurrence(new LocalTime(16, 30), now));
        Assert.Equal(Instant.FromUtc(2026, 11, 25, 9, 0), D2AReferralRules.NextOccurrence(new LocalTime(9, 0), now));
        // Summer: 09:00 BST is 08:00 UTC.
        Assert.Equal(Instant.FromUtc(2026, 7, 2, 8, 0), D2AReferralRules.NextOccurrence(new LocalTime(9, 0), Instant.FromUtc(2026, 7, 1, 12, 0)));
    }

    [Fact]
    public void Calendar_weeks_keep_the_local_time_across_the_autumn_change()
    {
        // 10:00 BST on Wed 14 Oct 2026 → 10:00 GMT on Wed 25 Nov 2026 (GMT from 25 Oct).
        Assert.Equal(Instant.FromUtc(2026, 11, 25, 10, 0), D2AReferralRules.PlusWeeks(Instant.FromUtc(2026, 10, 14, 9, 0), 6));
        Assert.Equal(Instant.FromUtc(2026, 11, 25, 10, 0), D2AReferralRules.CapAt(Instant.FromUtc(2026, 10, 14, 9, 0), Defaults));
    }

    /// <summary>Any start in 2026–2028 (both clock changes each year): the cap shows the same London wall-clock time, six weeks on, never early.</summary>
    [Property(MaxTest = 500)]
    public bool The_cap_is_six_calendar_weeks_at_the_same_London_time_whatever_the_clock_change(int minutes)
    {
        var start = Instant.FromUtc(2026, 1, 1, 0, 0) + Duration.FromMinutes(Math.Abs(minutes % (3 * 365 * 24 * 60)));
        var cap = D2AReferralRules.CapAt(start, Defaults);
        var (from, to) = (start.InZone(WorkflowContext.London).LocalDateTime, cap.InZone(WorkflowContext.London).LocalDateTime);
        var elapsed = cap - start;
        // The wall clock agrees (unless the start time does not exist on the cap day, 01:xx on a spring-forward Sunday),
        // and the elapsed time is six weeks give or take the hour a clock change adds or takes.
        return (to == from.PlusWeeks(6) || to.Hour == from.Hour + 1)
               && elapsed >= Duration.FromDays(42) - Duration.FromHours(1) && elapsed <= Duration.FromDays(42) + Duration.FromHours(1);
    }

    [Fact]
    public void Sms_replies_and_link_forms_go_through_the_same_parse()
    {
        var ask = new OpenAsk("east-kestrel", AcceptAction, "Accept", Instant.FromUtc(2026, 11, 24, 10, 0));
        var fromSms = D2AReferralRules.ParseReply(ask, new Dictionary<string, string> { ["text"] = "ACCEPT D2A-7K3QX 14:30" });
        var fromForm = D2AReferralRules.ParseReply(ask, new Dictionary<string, string> { ["firstCall"] = "14:30" });
        Assert.Equal(fromSms.Input, fromForm.Input);
        Assert.Equal(new ProviderResponse("east-kestrel", true, FirstCallTime: new LocalTime(14, 30)), fromSms.Input);
        var decline = D2AReferralRules.ParseReply(ask with { Action = DeclineAction }, new Dictionary<string, string> { ["text"] = "DECLINE D2A-7K3QX no carers" });
        Assert.Equal(new ProviderResponse("east-kestrel", false, Reason: "no carers"), decline.Input);
        Assert.NotNull(D2AReferralRules.ParseReply(ask, new Dictionary<string, string> { ["text"] = "maybe later" }).Error);
    }

    // ---------------------------------------------------------------- cut-offs (App M §6, B 4.6.7, B 4.6.4)

    private static Instant London(int year, int month, int day, int hour, int minute) =>
        new LocalDateTime(year, month, day, hour, minute).InZoneLeniently(WorkflowContext.London).ToInstant();

    [Fact]
    public void A_same_day_start_told_after_15_00_on_a_weekday_and_13_00_at_the_weekend_is_flagged()
    {
        Assert.Empty(D2AReferralRules.CutOffFlags(London(2026, 11, 24, 14, 59), London(2026, 11, 24, 18, 0), London(2026, 11, 24, 17, 0), Defaults));
        Assert.Contains("15:00", Assert.Single(D2AReferralRules.CutOffFlags(London(2026, 11, 24, 15, 1), London(2026, 11, 24, 18, 0), London(2026, 11, 24, 17, 0), Defaults)));
        Assert.Contains("13:00", Assert.Single(D2AReferralRules.CutOffFlags(London(2026, 11, 28, 13, 1), London(2026, 11, 28, 18, 0), London(2026, 11, 28, 17, 0), Defaults)));
    }

    /// <summary>
    /// Whatever the day and time a provider is told and the first call it offers (within the next two days): the
    /// same-day flag appears exactly when the call is that day and the notice came after the day's cut-off, the late-call
    /// flag exactly when the call is after 20:30, and the interim-care flag exactly when it is over 24 hours after discharge.
    /// </summary>
    [Property(MaxTest = 1000)]
    public bool Cut_off_flags_follow_their_clauses_exactly(int notifiedMinute, int callMinute, int dischargeMinute)
    {
        var notified = London(2026, 11, 23, 0, 0) + Duration.FromMinutes(Math.Abs(notifiedMinute % (7 * 24 * 60)));
        var firstCall = notified + Duration.FromMinutes(Math.Abs(callMinute % (2 * 24 * 60)));
        var discharge = notified + Duration.FromMinutes(Math.Abs(dischargeMinute % (24 * 60)));
        var flags = D2AReferralRules.CutOffFlags(notified, firstCall, discharge, Defaults);
        var n = notified.InZone(WorkflowContext.London).LocalDateTime;
        var f = firstCall.InZone(WorkflowContext.London).LocalDateTime;
        var weekend = n.DayOfWeek is IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday;
        var sameDay = f.Date == n.Date && n.TimeOfDay > (weekend ? new LocalTime(13, 0) : new LocalTime(15, 0));
        var late = f.TimeOfDay > new LocalTime(20, 30);
        var interim = firstCall > discharge + Duration.FromHours(24);
        return flags.Any(x => x.StartsWith("Same-day", StringComparison.Ordinal)) == sameDay
               && flags.Any(x => x.Contains("B 4.6.7")) == late
               && flags.Any(x => x.Contains("B 4.6.4")) == interim;
    }

    [Fact]
    public void Brokerage_hours_are_nine_to_five_on_weekdays_and_ten_to_two_at_the_weekend()
    {
        Assert.True(D2AReferralRules.BrokerageOpen(London(2026, 11, 24, 9, 0), Defaults));
        Assert.False(D2AReferralRules.BrokerageOpen(London(2026, 11, 24, 17, 0), Defaults));
        Assert.True(D2AReferralRules.BrokerageOpen(London(2026, 11, 28, 13, 59), Defaults));
        Assert.False(D2AReferralRules.BrokerageOpen(London(2026, 11, 28, 14, 0), Defaults));
        Assert.Equal(["brokerage-duty@council.example", "out-of-hours@council.example"],
            D2AReferralRules.Brokerage(Contacts.Default, "brokerage-duty", London(2026, 11, 24, 2, 0), Defaults));
    }

    // ---------------------------------------------------------------- eligibility and the award policy (App A)

    [Theory]
    [InlineData(2986, 4, 30, false, true)]   // 2,986 + 14 = 3,000: at the cap
    [InlineData(2987, 4, 30, false, false)]  // over it
    [InlineData(2972, 4, 30, true, true)]    // double-handed counts twice: 2,972 + 28
    public void The_ADASS_cap_counts_this_package_and_both_carers(decimal delivered, int calls, int minutes, bool doubleHanded, bool eligible) =>
        Assert.Equal(eligible, D2AReferralRules.WithinHoursCap(delivered, D2AReferralRules.HoursPerWeek(calls, minutes, doubleHanded), D2AReferralRules.HoursCap(Defaults)));

    private static readonly ProviderContact A = new("a", "A Care", "a@x.example", "+447700900001"), B = new("b", "B Care", "b@x.example", "+447700900002");

    private static State Offered(Instant now) =>
        D2AReferralRules.OffersSent(new State { Status = D2AStatus.OfferedToPatch, RaisedAt = now, ExpectedDischargeAt = now + Duration.FromHours(5) }, 1, [A, B], now, now + Duration.FromHours(1));

    [Fact]
    public void The_earliest_late_bid_wins_when_the_window_ends_and_declines_never_win()
    {
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var s = Offered(now);
        s = D2AReferralRules.Answered(s, new ProviderResponse("a", true), now + Duration.FromHours(30), now + Duration.FromMinutes(5));
        s = D2AReferralRules.Answered(s, new ProviderResponse("b", true), now + Duration.FromHours(20), now + Duration.FromMinutes(6));
        Assert.False(D2AReferralRules.MeetsDischarge(now + Duration.FromHours(20), s, Defaults));
        Assert.Equal("b", D2AReferralRules.BestLateBid(s)!.Provider.Id);
        Assert.True(D2AReferralRules.AllAnswered(s));
        var declined = D2AReferralRules.Answered(Offered(now), new ProviderResponse("a", false, Reason: "no carers"), null, now);
        Assert.Null(D2AReferralRules.BestLateBid(declined));
    }

    [Fact]
    public void A_provider_answers_only_for_itself_once_and_within_the_window()
    {
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var s = Offered(now);
        var a = new Actor("u", Roles.Provider, "a");
        Assert.Null(D2AReferralRules.CheckRespond(s, a, new ProviderResponse("a", false), now, "D2A-AAAAA"));
        Assert.Equal(RejectionKind.Forbidden, D2AReferralRules.CheckRespond(s, a, new ProviderResponse("b", false), now, "D2A-AAAAA")!.Kind);
        Assert.Equal(RejectionKind.Forbidden, D2AReferralRules.CheckRespond(s, new Actor("u", Roles.Provider, "c"), new ProviderResponse("c", false), now, "D2A-AAAAA")!.Kind);
        Assert.Equal(RejectionKind.Conflict, D2AReferralRules.CheckRespond(s, a, new ProviderResponse("a", false), now + Duration.FromMinutes(61), "D2A-AAAAA")!.Kind);
        var answered = D2AReferralRules.Answered(s, new ProviderResponse("a", false), null, now);
        Assert.Equal(RejectionKind.Conflict, D2AReferralRules.CheckRespond(answered, a, new ProviderResponse("a", true, now + Duration.FromHours(5)), now, "D2A-AAAAA")!.Kind);
        var noTime = D2AReferralRules.CheckRespond(s, a, new ProviderResponse("a", true), now, "D2A-AAAAA")!;
        Assert.Equal(("firstCall", RejectionKind.Invalid), (noTime.Field, noTime.Kind));
    }
}
