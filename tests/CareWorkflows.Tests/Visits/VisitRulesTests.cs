using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Visits;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;

namespace CareWorkflows.Tests.Visits;

/// <summary>The council duty rota (B App E, X 21.3, B 6.2), the times people give, and the replies the alert desk sends.</summary>
public sealed class VisitRulesTests
{
    private static readonly WorkingCalendar Calendar = WorkingCalendar.Shipped;
    private static readonly PolicySettings Policy = PolicySettings.Default;
    private static Instant London(int y, int mo, int d, int h, int mi) => new LocalDateTime(y, mo, d, h, mi).InZoneStrictly(WorkingCalendar.London).ToInstant();
    private static CouncilContact Route(Instant at) => Assert.Single(CouncilDuty.Route(at, Calendar, Policy).Contacts);

    [Theory]
    [InlineData(2026, 11, 24, 8, 59, CouncilContact.EmergencyDutyTeam)]   // Tuesday, before 09:00
    [InlineData(2026, 11, 24, 9, 0, CouncilContact.DutyCareManager)]
    [InlineData(2026, 11, 24, 16, 59, CouncilContact.DutyCareManager)]
    [InlineData(2026, 11, 24, 17, 0, CouncilContact.SocialServicesDirect)] // App E: 17:00–17:30 Monday to Friday
    [InlineData(2026, 11, 24, 17, 29, CouncilContact.SocialServicesDirect)]
    [InlineData(2026, 11, 24, 17, 30, CouncilContact.EmergencyDutyTeam)]
    [InlineData(2026, 11, 28, 11, 0, CouncilContact.EmergencyDutyTeam)]   // Saturday
    [InlineData(2026, 8, 31, 11, 0, CouncilContact.EmergencyDutyTeam)]    // Summer bank holiday Monday
    [InlineData(2026, 8, 31, 17, 15, CouncilContact.EmergencyDutyTeam)]   // ... even between 17:00 and 17:30
    [InlineData(2026, 12, 28, 10, 0, CouncilContact.EmergencyDutyTeam)]   // Boxing Day substitute (Monday)
    [InlineData(2026, 12, 29, 10, 0, CouncilContact.DutyCareManager)]
    public void Routes_by_UK_local_time_on_working_days(int y, int mo, int d, int h, int mi, CouncilContact expected) =>
        Assert.Equal(expected, Route(London(y, mo, d, h, mi)));

    [Fact]
    public void The_same_UTC_instant_routes_by_UK_time_across_the_clock_change()
    {
        // 16:10 UTC: Friday 27 March 2026 (GMT) is 16:10 in London; Monday 30 March (BST) is 17:10.
        Assert.Equal(CouncilContact.DutyCareManager, Route(Instant.FromUtc(2026, 3, 27, 16, 10)));
        Assert.Equal(CouncilContact.SocialServicesDirect, Route(Instant.FromUtc(2026, 3, 30, 16, 10)));
        // 08:30 UTC on Monday 2 November 2026 (GMT) is before 09:00; on Friday 23 October (BST) it is 09:30.
        Assert.Equal(CouncilContact.EmergencyDutyTeam, Route(Instant.FromUtc(2026, 11, 2, 8, 30)));
        Assert.Equal(CouncilContact.DutyCareManager, Route(Instant.FromUtc(2026, 10, 23, 8, 30)));
    }

    [Fact]
    public void Beyond_the_bank_holiday_data_both_the_duty_care_manager_and_the_EDT_are_told()
    {
        var route = CouncilDuty.Route(Instant.FromUtc(2031, 6, 2, 10, 0), Calendar, Policy);
        Assert.Equal([CouncilContact.DutyCareManager, CouncilContact.EmergencyDutyTeam], route.Contacts);
    }

    [Fact]
    public void The_hours_are_policy_settings()
    {
        var policy = new PolicySettings(new Dictionary<string, string> { [CouncilDuty.DutyToSetting] = "16:30", [CouncilDuty.SocialServicesDirectToSetting] = "18:00" });
        Assert.Equal(CouncilContact.SocialServicesDirect, CouncilDuty.Contact(new LocalDateTime(2026, 11, 24, 16, 45), true, policy));
        Assert.Equal(CouncilContact.SocialServicesDirect, CouncilDuty.Contact(new LocalDateTime(2026, 11, 24, 17, 45), true, policy));
    }

    [Property(MaxTest = 2000)]
    public Property Every_instant_routes_as_the_rule_says_in_UK_time() =>
        Prop.ForAll(Gen.Choose(0, 1096 * 24 * 60 - 1).ToArbitrary(), minutes => // 2026 to 2028, the shipped data
        {
            var at = Instant.FromUtc(2026, 1, 1, 0, 0) + Duration.FromMinutes(minutes);
            var local = at.InZone(WorkingCalendar.London);
            var working = local.DayOfWeek is not (IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday) && !Calendar.IsBankHoliday(local.Date);
            var t = local.TimeOfDay;
            var expected = !working ? CouncilContact.EmergencyDutyTeam
                : t >= new LocalTime(9, 0) && t < new LocalTime(17, 0) ? CouncilContact.DutyCareManager
                : t >= new LocalTime(17, 0) && t < new LocalTime(17, 30) ? CouncilContact.SocialServicesDirect
                : CouncilContact.EmergencyDutyTeam;
            return Route(at) == expected;
        });

    [Property(MaxTest = 500)]
    public Property Weekends_and_bank_holidays_always_go_to_the_Emergency_Duty_Team() =>
        Prop.ForAll(Gen.Elements(Calendar.Holidays.Where(d => d.Year is >= 2024 and <= 2028).Concat(
                Enumerable.Range(0, 5 * 365).Select(i => new LocalDate(2024, 1, 1).PlusDays(i)).Where(d => d.DayOfWeek is IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday)).ToArray()).ToArbitrary(),
            Gen.Choose(0, 24 * 60 - 1).ToArbitrary(), (day, minute) =>
                Route(day.At(LocalTime.Midnight.PlusMinutes(minute)).InZoneLeniently(WorkingCalendar.London).ToInstant()) == CouncilContact.EmergencyDutyTeam);

    // ---------------------------------------------------------------- times people give

    [Fact]
    public void A_time_of_day_is_the_latest_such_time_not_after_now()
    {
        var now = London(2026, 11, 25, 0, 5);
        Assert.Equal(London(2026, 11, 24, 23, 55), VisitRules.ResolveTime(null, new LocalTime(23, 55), now, now - Duration.FromHours(2)).At);
        Assert.Equal(London(2026, 11, 25, 0, 1), VisitRules.ResolveTime(null, new LocalTime(0, 1), now, now - Duration.FromHours(2)).At);
        Assert.Equal(now, VisitRules.ResolveTime(null, null, now, now - Duration.FromHours(2)).At);
    }

    [Fact]
    public void In_the_October_hour_that_comes_twice_the_later_one_not_after_now_is_taken()
    {
        // 25 Oct 2026: 01:00–02:00 BST, then 01:00–02:00 GMT. At 01:40 GMT, "01:30" is 01:30 GMT (00:30 UTC).
        var now = Instant.FromUtc(2026, 10, 25, 1, 40);
        Assert.Equal(Instant.FromUtc(2026, 10, 25, 1, 30), VisitRules.ResolveTime(null, new LocalTime(1, 30), now, now - Duration.FromHours(3)).At);
        // At 01:40 BST (00:40 UTC), "01:30" is the BST one.
        var earlier = Instant.FromUtc(2026, 10, 25, 0, 40);
        Assert.Equal(Instant.FromUtc(2026, 10, 25, 0, 30), VisitRules.ResolveTime(null, new LocalTime(1, 30), earlier, earlier - Duration.FromHours(3)).At);
    }

    [Fact]
    public void The_March_hour_that_does_not_exist_is_refused_and_so_are_future_and_early_times()
    {
        var now = Instant.FromUtc(2026, 3, 29, 3, 0); // 04:00 BST
        var gap = VisitRules.ResolveTime(null, new LocalTime(1, 30), now, now - Duration.FromHours(5));
        Assert.Equal("at", gap.Refused!.Field);
        Assert.Contains("clocks went forward", gap.Refused.Detail);
        Assert.NotNull(VisitRules.ResolveTime(now + Duration.FromMinutes(10), null, now, now - Duration.FromHours(1)).Refused);
        Assert.NotNull(VisitRules.ResolveTime(now - Duration.FromHours(2), null, now, now - Duration.FromHours(1)).Refused);
        Assert.Null(VisitRules.ResolveTime(now + Duration.FromSeconds(30), null, now, now - Duration.FromHours(1)).Refused); // a clock a little fast
    }

    [Theory]
    [InlineData("LBB-104233", true)]
    [InlineData("104233", true)]
    [InlineData("Mary Smith", false)]
    [InlineData("MarySmith", false)] // no digit: not an id
    [InlineData("LBB 104233", false)]
    [InlineData("12", false)]
    public void Only_the_councils_person_id_passes_never_a_name(string id, bool ok) => Assert.Equal(ok, VisitRules.IsPersonId(id));

    // ---------------------------------------------------------------- replies

    private static OpenAsk Ask(string action) => new("east-kestrel", action, "", null, Fields: [new AskField("at", "at"), new AskField("note", "note")]);

    [Fact]
    public void Replies_from_the_alert_desk_read_into_steps_with_their_times()
    {
        var replacement = VisitAlertRules.ParseReply(Ask(VisitAlert.ReplacementAction), new Dictionary<string, string> { ["text"] = "Sam Jones 14:50" });
        var step = Assert.IsType<VisitAlert.RecordStep>(replacement.Input);
        Assert.Equal((VisitStep.ReplacementSent, "Sam Jones", new LocalTime(14, 50)), (step.Step, step.CarerName, step.AtLocal!.Value));

        var reassured = Assert.IsType<VisitAlert.RecordStep>(VisitAlertRules.ParseReply(Ask(VisitAlert.ReassuredAction), new Dictionary<string, string> { ["at"] = "9.05" }).Input);
        Assert.Equal(new LocalTime(9, 5), reassured.AtLocal);
        Assert.IsType<VisitAlert.ReportNoReply>(VisitAlertRules.ParseReply(Ask(VisitAlert.NoReplyAction), new Dictionary<string, string>()).Input);
        Assert.Null(VisitAlertRules.ParseReply(Ask(VisitAlert.ReplacementAction), new Dictionary<string, string>()).Input); // the name is required
        Assert.Null(VisitAlertRules.ParseReply(Ask(VisitAlert.CancelAction), new Dictionary<string, string> { ["text"] = "yes" }).Input); // B 7.27: never assumed
    }

    [Fact]
    public void No_reply_outcomes_and_checks_read_from_words()
    {
        var ask = new OpenAsk("east-kestrel", NoReply.OutcomeAction, "", null);
        var o = Assert.IsType<NoReply.RecordOutcome>(NoReplyRules.ParseReply(ask, new Dictionary<string, string> { ["text"] = "found safe 14:35" }).Input);
        Assert.Equal((NoReplyOutcome.FoundSafe, new LocalTime(14, 35)), (o.Outcome, o.AtLocal!.Value));
        Assert.Equal([DoorCheck.Letterbox, DoorCheck.BackDoor, DoorCheck.NextOfKin], NoReplyRules.ReadChecks("letterbox, back door, next of kin").Checks);
        Assert.Equal("garden", NoReplyRules.ReadChecks("letterbox, garden").Unknown);
        Assert.Null(NoReplyRules.ParseReply(ask, new Dictionary<string, string> { ["text"] = "fine" }).Input);
    }
}
