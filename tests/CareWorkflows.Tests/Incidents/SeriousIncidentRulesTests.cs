using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Incidents;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using static CareWorkflows.Definitions.Incidents.SeriousIncident;
using static CareWorkflows.Definitions.Incidents.SeriousIncidentRules;

namespace CareWorkflows.Tests.Incidents;

/// <summary>The serious-incident rules (pure): deadline arithmetic, the update cadence, the report's checks, the personal-data guard.</summary>
public sealed class SeriousIncidentRulesTests
{
    private static readonly PolicySettings Policy = PolicySettings.Default;
    private static readonly WorkingCalendar Cal = WorkingCalendar.Shipped;
    private static readonly Actor TheProvider = new("p-1", Roles.Provider, "prov-7");
    private static readonly Instant Now = Instant.FromUtc(2026, 11, 24, 9, 0);
    // Any instant from 2018 to mid-2028, minute by minute: room for the update cadence inside the shipped data.
    private static readonly Instant First = Instant.FromUtc(2018, 1, 1, 0, 0);
    private static Instant InstantFrom(int seed) => First + Duration.FromMinutes((uint)seed % (uint)(10.5 * 365 * 24 * 60));

    private static Report Incident(Instant occurred, Instant? aware = null, string description = "Two calls missed after a rota error.", string? name = "Edith Cavendish-Roe") =>
        new(IncidentCategory.ServiceDeliveryCompromised, occurred, aware ?? occurred, description, "Carer A", false, null, "Calls covered.", "Rota review.",
            "Older people", "LBB-1", name, "prov-7", "Homecare Ltd", "m@homecare.example");

    [Property(MaxTest = 500)]
    public bool The_full_report_is_due_48_elapsed_hours_after_the_incident_whatever_the_clocks_do(int seed)
    {
        var occurred = InstantFrom(seed);
        var due = FullReportDue(occurred, Policy);
        // On the wall clock it is 47, 48 or 49 hours: the offset changes by at most an hour in between.
        var shift = (WorkingCalendar.London.GetUtcOffset(due) - WorkingCalendar.London.GetUtcOffset(occurred)).Seconds;
        return due - occurred == Duration.FromHours(48) && shift is 0 or 3600 or -3600;
    }

    [Property(MaxTest = 500)]
    public bool A_report_is_late_exactly_when_made_more_than_12_hours_after_the_incident(int seed, int minutesAfter)
    {
        var occurred = InstantFrom(seed);
        var after = Duration.FromMinutes(Math.Abs(minutesAfter % (3 * 24 * 60)));
        var s = Reported(Incident(occurred), occurred + after, Policy);
        return s.ReportedLate == after > Duration.FromHours(12)
            && s.ReportedWithinTwelveHoursOfAwareness == after <= Duration.FromHours(12)
            && s.FullReportDueAt == occurred + Duration.FromHours(48)
            && s.Phase == IncidentPhase.AwaitingFullReport;
    }

    [Property(MaxTest = 300)]
    public bool The_reminder_comes_12_hours_before_the_full_report_is_due_or_not_at_all_and_the_alarm_never_in_the_past(int seed, int minutesAfter)
    {
        var occurred = InstantFrom(seed);
        var now = occurred + Duration.FromMinutes(Math.Abs(minutesAfter % (4 * 24 * 60)));
        var due = FullReportDue(occurred, Policy);
        var reminder = FullReportReminderAt(due, now, Policy);
        var alarm = FullReportOverdueAt(due, now);
        return (reminder is null ? due - Duration.FromHours(12) <= now : reminder == due - Duration.FromHours(12) && reminder > now)
            && alarm >= now && (due > now ? alarm == due : alarm == now);
    }

    [Property(MaxTest = 500)]
    public bool The_next_update_is_due_at_the_end_of_the_5th_working_day_after_and_never_earlier_for_a_later_start(int seedA, int seedB)
    {
        var (a, b) = (InstantFrom(seedA), InstantFrom(seedB));
        if (b < a) (a, b) = (b, a);
        var due = NextUpdateDue(a, Cal, Policy).InZone(WorkingCalendar.London);
        var from = WorkingCalendar.LocalDateOf(a);
        var workingDaysBetween = Enumerable.Range(1, Period.Between(from, due.Date, PeriodUnits.Days).Days).Count(d => Cal.IsWorkingDay(from.PlusDays(d)));
        return due.TimeOfDay == WorkingCalendar.DefaultEndOfDay && Cal.IsWorkingDay(due.Date) && workingDaysBetween == 5
            && NextUpdateDue(b, Cal, Policy) >= due.ToInstant();
    }

    [Theory]
    [InlineData("0", 1)]      // at least one working day, whatever the setting says
    [InlineData("2", 2)]
    [InlineData("soon", 5)]   // unreadable: the default
    public void The_update_cadence_comes_from_policy(string value, int days) =>
        Assert.Equal(days, UpdateWorkingDays(new PolicySettings(new Dictionary<string, string> { [SeriousIncident.Policy.UpdateWorkingDays] = value })));

    [Fact]
    public void The_update_cadence_beyond_the_bank_holiday_data_is_an_error_not_a_guess() =>
        Assert.Equal(new LocalDate(2029, 1, 1), Assert.Throws<CalendarOutOfRangeException>(() => NextUpdateDue(Instant.FromUtc(2028, 12, 22, 10, 0), Cal, Policy)).Date);

    [Property(MaxTest = 500)]
    public bool An_occurrence_time_is_refused_on_occurredAt_exactly_when_in_the_future_or_more_than_a_year_back(int minutes)
    {
        var occurred = Now + Duration.FromMinutes(minutes % (2 * 365 * 24 * 60));
        var refused = CheckReport(Incident(occurred, aware: occurred), TheProvider, Now, Policy);
        var plausible = occurred <= Now + Skew && occurred >= Now - Duration.FromDays(365);
        return plausible ? refused is null : refused is { Kind: RejectionKind.Invalid, Field: "occurredAt" };
    }

    [Property(MaxTest = 300)]
    public bool Awareness_before_the_incident_or_in_the_future_is_refused_on_becameAwareAt(int minutesBefore, int minutesAware)
    {
        var occurred = Now - Duration.FromMinutes(Math.Abs(minutesBefore % (24 * 60)));
        var aware = occurred + Duration.FromMinutes(minutesAware % (48 * 60));
        var refused = CheckReport(Incident(occurred, aware), TheProvider, Now, Policy);
        var ok = aware >= occurred && aware <= Now + Skew;
        return ok ? refused is null : refused is { Kind: RejectionKind.Invalid, Field: "becameAwareAt" };
    }

    [Fact]
    public void Only_the_provider_itself_reports_for_that_provider()
    {
        var report = Incident(Now - Duration.FromHours(1));
        Assert.Null(CheckReport(report, TheProvider, Now, Policy));
        Assert.Equal(RejectionKind.Forbidden, CheckReport(report, new Actor("p-2", Roles.Provider, "prov-8"), Now, Policy)!.Kind);
        Assert.Equal(RejectionKind.Forbidden, CheckReport(report, new Actor("qa", Roles.QualityAssurance), Now, Policy)!.Kind);
    }

    private static readonly string[] NameForms = ["Edith Cavendish-Roe", "EDITH CAVENDISH-ROE", "Mrs Cavendish-Roe", "Cavendish-Roe, Edith", "Mrs Roe"];
    private static readonly string[] Fields = ["description", "parties", "emergencyServicesDetail", "immediateAction", "furtherAction"];

    [Property(MaxTest = 300)]
    public bool The_service_users_name_or_an_NHS_number_in_any_emailed_field_is_refused_on_that_field(byte form, byte field, bool nhs, NonNegativeInt at)
    {
        var inserted = nhs ? "NHS 943 476 5919" : NameForms[form % NameForms.Length];
        var target = Fields[field % Fields.Length];
        const string text = "Found on the floor at the morning call and helped up";
        var cut = at.Get % (text.Length + 1);
        var words = text[..cut].LastIndexOf(' ') is var sp and >= 0 ? sp : 0; // insert between words
        var leaky = $"{text[..words]} {inserted} {text[words..]}".Trim();
        var r = Incident(Now - Duration.FromHours(1));
        r = target switch
        {
            "description" => r with { Description = leaky },
            "parties" => r with { Parties = leaky },
            "emergencyServicesDetail" => r with { EmergencyServicesDetail = leaky },
            "immediateAction" => r with { ImmediateAction = leaky },
            _ => r with { FurtherAction = leaky },
        };
        var found = PersonalDataInReport(r);
        var refused = CheckReport(r, TheProvider, Now, Policy);
        return found.Count == 1 && found[0].Field == target && refused is { Kind: RejectionKind.Invalid } && refused.Field == target
            && !refused.Detail.Contains("Cavendish") && !refused.Detail.Contains("943");
    }

    [Fact]
    public void Ordinary_text_and_the_service_user_id_pass_and_a_nameless_report_is_checked_for_NHS_numbers_only()
    {
        Assert.Empty(PersonalDataInReport(Incident(Now, description: "LBB-1 found on the floor; helped up; GP called at 10:15.")));
        Assert.Empty(PersonalDataInReport(Incident(Now, description: "Mrs Roe's neighbour called.", name: null)));
        Assert.Single(PersonalDataInReport(Incident(Now, description: "NHS 9434765919 on file.", name: null)));
    }

    private static State ReportedIn(IncidentPhase phase = IncidentPhase.AwaitingFullReport) =>
        SeriousIncidentRules.Reported(Incident(Now - Duration.FromHours(1)), Now, Policy) with { Phase = phase };

    [Fact]
    public void Follow_ups_come_from_the_reporting_provider_and_decisions_from_council_staff_and_nothing_after_the_end()
    {
        var s = ReportedIn();
        Assert.Null(CheckFullReport(s, TheProvider, new SubmitFullReport("d", "a", null), "SI-1"));
        Assert.Equal(RejectionKind.Forbidden, CheckFullReport(s, new Actor("x", Roles.Provider, "prov-8"), new SubmitFullReport("d", "a", null), "SI-1")!.Kind);
        Assert.Equal("details", CheckFullReport(s, TheProvider, new SubmitFullReport("Mrs Cavendish-Roe fell", "a", null), "SI-1")!.Field);
        Assert.Equal(RejectionKind.Conflict, CheckFullReport(s with { FullReportReceivedAt = Now }, TheProvider, new SubmitFullReport("d", "a", null), "SI-1")!.Kind);
        Assert.Equal("text", CheckUpdate(s, TheProvider, new SubmitUpdate(""), "SI-1")!.Field);
        foreach (var role in CouncilDeciders)
        {
            Assert.Null(CheckClose(s, new Actor("c", role), new Close("done"), "SI-1"));
            Assert.Null(CheckEscalate(s, new Actor("c", role), new Escalate([IncidentEscalationRoute.Cqc], "pattern"), "SI-1"));
        }
        foreach (var role in Roles.All.Except(CouncilDeciders))
            Assert.Equal(RejectionKind.Forbidden, CheckClose(s, new Actor("c", role, "prov-7"), new Close("done"), "SI-1")!.Kind);
        Assert.Equal("reason", CheckEscalate(s, new Actor("c", Roles.Admin), new Escalate([IncidentEscalationRoute.Cqc], "Mrs Cavendish-Roe again"), "SI-1")!.Field);
        foreach (var ended in new[] { IncidentPhase.Closed, IncidentPhase.Escalated })
        {
            Assert.Equal(RejectionKind.Conflict, CheckUpdate(ReportedIn(ended), TheProvider, new SubmitUpdate("t"), "SI-1")!.Kind);
            Assert.Equal(RejectionKind.Conflict, CheckClose(ReportedIn(ended), new Actor("c", Roles.Admin), new Close("r"), "SI-1")!.Kind);
        }
    }

    [Fact]
    public void Asks_the_full_report_then_updates_and_reads_replies_into_inputs()
    {
        var s = ReportedIn() with { NextUpdateDueAt = Now + Duration.FromDays(7) };
        Assert.Equal([FullReportAction, UpdateAction], Asks(s).Select(a => a.Action));
        Assert.Equal([UpdateAction], Asks(s with { FullReportReceivedAt = Now }).Select(a => a.Action));
        Assert.Empty(Asks(s with { Phase = IncidentPhase.Closed }));
        var full = Asks(s)[0];
        Assert.Equal(new SubmitFullReport("What happened", "Actions", null), ParseReply(full, new Dictionary<string, string> { ["details"] = " What happened ", ["actionsTaken"] = "Actions" }).Input);
        Assert.NotNull(ParseReply(full, new Dictionary<string, string> { ["details"] = "x" }).Error);
        Assert.Equal(new SubmitUpdate("Better"), ParseReply(Asks(s)[1], new Dictionary<string, string> { ["update"] = "Better" }).Input);
        Assert.NotNull(ParseReply(Asks(s)[1], new Dictionary<string, string> { ["text"] = " " }).Error);
    }
}
