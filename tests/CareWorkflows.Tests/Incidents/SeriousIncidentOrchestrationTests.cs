using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Incidents;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.DurableTask;
using Moq;
using NodaTime;
using static CareWorkflows.Definitions.Incidents.SeriousIncident;

namespace CareWorkflows.Tests.Incidents;

/// <summary>The serious-incident orchestrator's branches against a mocked orchestration context (no engine, no database).</summary>
public sealed class SeriousIncidentOrchestrationTests
{
    private static readonly Actor TheProvider = new("p-1", Roles.Provider, "prov-7", "Homecare office");
    private static readonly Actor OtherProvider = new("p-2", Roles.Provider, "prov-8");
    private static readonly Actor Safeguarding = new("sg-1", Roles.SafeguardingLead, DisplayName: "Sam (safeguarding)");
    private const string SafeguardingMailbox = "safeguarding-lead@council.example", ComplianceMailbox = "contract-compliance@council.example";
    private const string ProviderMailbox = "manager@homecare.example";

    private static Report Incident(Instant occurred, IncidentCategory category = IncidentCategory.ServiceDeliveryCompromised, Instant? aware = null) =>
        new(category, occurred, aware ?? occurred, "Two calls missed after a rota error.", "Carer A; coordinator", false, null, "Calls covered by the coordinator.",
            "Rota review.", "Older people", "LBB-123456", "Test Person", "prov-7", "Homecare Ltd", ProviderMailbox);

    private static WorkflowSetup Setup(WorkingCalendar? calendar = null) => WorkflowSetup.From(PolicySettings.Default, Contacts.Default, calendar ?? WorkingCalendar.Shipped);

    private static async Task<(OrchestrationHarness H, Task<string> Run)> ReportedAsync(Instant now, Report report, WorkflowSetup? setup = null,
        Action<OrchestrationHarness>? arrange = null)
    {
        var h = new OrchestrationHarness("SI-ABCDE", now);
        arrange?.Invoke(h);
        var run = await h.StartAsync(new SeriousIncidentOrchestration(), new WorkflowStart<Report>("start-1", TheProvider, report, setup ?? Setup()));
        return (h, run);
    }

    private static DateTime Utc(int y, int mo, int d, int h, int mi = 0) => new(y, mo, d, h, mi, 0, DateTimeKind.Utc);
    private static readonly DateTime EndOfFri30Oct = new(2026, 10, 30, 23, 59, 59, 999, DateTimeKind.Utc);

    private static IEnumerable<IntegrationFact> Facts(OrchestrationHarness h) =>
        h.Calls.Where(c => c.Name == WorkflowScope.PublishActivity).Select(c => (IntegrationFact)c.Input!);

    [Fact]
    public async Task Full_report_timers_are_48_real_hours_after_20_00_BST_on_Sat_24_Oct_2026_across_the_change_to_GMT()
    {
        // Occurred 20:00 BST (19:00Z), reported 20:30 BST: due 19:00 GMT Mon 26 Oct; reminder 12 h before, 07:00 GMT.
        var (h, _) = await ReportedAsync(Instant.FromUtc(2026, 10, 24, 19, 30), Incident(Instant.FromUtc(2026, 10, 24, 19, 0)));
        Assert.Equal([Utc(2026, 10, 26, 7), Utc(2026, 10, 26, 19), EndOfFri30Oct], h.Pending.Select(t => t.FireAt).Order());
        var view = h.View<State>();
        Assert.Equal(Instant.FromUtc(2026, 10, 26, 19, 0), view.FullReportDueAt);
        Assert.False(view.ReportedLate);
        Assert.Equal("AwaitingFullReport", h.Status.Status);
        Assert.Equal(201, Assert.Single(h.Status.Outcomes).Status);
        Assert.Equal([FullReportReminderDeadline, FullReportOverdueDeadline, UpdateDueDeadline], h.Status.Timers!.Select(t => t.Name));
        var ack = Assert.Single(h.Sent, m => m.Purpose == "acknowledgement");
        Assert.Equal(FullReportAction, Assert.Single(ack.Sign!).Action);
        Assert.Contains("{{full-report}}", ack.Body); // signed by the activity; the history holds no live link
        Assert.Contains("19:00 on Mon 26 Oct 2026", ack.Body);
        Assert.Empty(Facts(h));
    }

    [Fact]
    public async Task Across_the_change_to_BST_the_full_report_is_due_48_real_hours_later_at_21_00_local()
    {
        // Sat 28 Mar 2026 20:00 GMT; the clocks go forward on Sun 29 Mar: due Mon 30 Mar 20:00Z = 21:00 BST.
        var (h, _) = await ReportedAsync(Instant.FromUtc(2026, 3, 28, 21, 0), Incident(Instant.FromUtc(2026, 3, 28, 20, 0)));
        Assert.Contains(h.Pending, t => t.FireAt == Utc(2026, 3, 30, 20));
        Assert.Contains(h.Pending, t => t.FireAt == Utc(2026, 3, 30, 8));
        Assert.Contains("21:00 on Mon 30 Mar 2026", Assert.Single(h.Sent, m => m.Purpose == "acknowledgement").Body);
    }

    [Fact]
    public async Task A_report_more_than_12_hours_after_the_incident_is_late_and_escalated_at_once()
    {
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var (h, _) = await ReportedAsync(now, Incident(now - Duration.FromHours(12) - Duration.FromMinutes(1), aware: now - Duration.FromHours(2)));
        Assert.True(h.View<State>().ReportedLate);
        Assert.True(h.View<State>().ReportedWithinTwelveHoursOfAwareness);
        Assert.Equal([ComplianceMailbox, SafeguardingMailbox], h.Sent.Where(m => m.Purpose == "late-report-escalation").Select(m => m.To).Order());
        Assert.Equal(1, Assert.Single(Facts(h)).Occurrence);
        Assert.Equal(["IncidentReported", "EscalationSent", "NextUpdateScheduled"], h.Notes);

        var (onTime, _) = await ReportedAsync(now, Incident(now - Duration.FromHours(12)));
        Assert.False(onTime.View<State>().ReportedLate);
        Assert.DoesNotContain(onTime.Sent, m => m.Purpose == "late-report-escalation");
    }

    [Fact]
    public async Task A_report_made_after_the_48_hours_is_overdue_at_once()
    {
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var (h, _) = await ReportedAsync(now, Incident(now - Duration.FromHours(50)));
        Assert.Contains(h.Pending, t => t.FireAt == now.ToDateTimeUtc()); // the overdue alarm, due already
        await h.AdvanceToAsync(now);
        Assert.Contains(h.Sent, m => m.Purpose == "full-report-overdue");
        Assert.Equal(1, h.View<State>().FullReportEscalations);
        Assert.Equal([1, 2], Facts(h).Select(f => f.Occurrence)); // late report, then overdue
        Assert.Contains(h.Pending, t => t.FireAt == (now + Duration.FromHours(24)).ToDateTimeUtc());
    }

    [Fact]
    public async Task Categories_go_to_the_safeguarding_lead_and_brokerage_at_once_as_B_12_3_and_X_13_3_say()
    {
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var (death, _) = await ReportedAsync(now, Incident(now - Duration.FromHours(1), IncidentCategory.UnexpectedDeathOrSeriousInjury));
        Assert.Contains(death.Sent, m => m.Purpose == "safeguarding-alert" && m.To == SafeguardingMailbox && m.Body.Contains("LBB-123456") && !m.Body.Contains("Test Person"));
        Assert.Contains(death.Sent, m => m.Purpose == "brokerage-notice" && m.To == "brokerage-duty@council.example");
        var (delivery, _) = await ReportedAsync(now, Incident(now - Duration.FromHours(1)));
        Assert.DoesNotContain(delivery.Sent, m => m.To == SafeguardingMailbox || m.Purpose == "brokerage-notice");
        Assert.Contains(delivery.Sent, m => m.Purpose == "incident-reported" && m.To == ComplianceMailbox);
    }

    [Fact]
    public async Task Overdue_full_report_escalates_every_24_hours_until_it_comes_then_stops()
    {
        var occurred = Instant.FromUtc(2026, 11, 24, 8, 0);
        var (h, _) = await ReportedAsync(occurred + Duration.FromHours(1), Incident(occurred, IncidentCategory.SafeguardingAlert));
        var due = occurred + Duration.FromHours(48);

        await h.AdvanceToAsync(due - Duration.FromMinutes(1));
        Assert.Single(h.Sent, m => m.Purpose == "full-report-reminder");
        Assert.DoesNotContain(h.Sent, m => m.Purpose == "full-report-overdue");
        await h.AdvanceToAsync(due + Duration.FromHours(24));
        Assert.Equal(4, h.Sent.Count(m => m.Purpose == "full-report-overdue"));
        Assert.Equal(2, h.Sent.Count(m => m.Purpose == "full-report-chaser"));
        Assert.Equal([1, 2], Facts(h).Select(f => f.Occurrence));
        Assert.Equal(2, h.View<State>().FullReportEscalations);

        var outcome = await h.SendAsync(new SubmitFullReport("Full account", "Referral made", null), TheProvider);
        Assert.Equal(200, outcome!.Status);
        Assert.Equal("Open", h.Status.Status);
        Assert.True(h.View<State>().FullReportLate);
        Assert.Contains(h.Sent, m => m.Purpose == "full-report-received" && m.To == SafeguardingMailbox); // escalated, so told it came
        Assert.DoesNotContain(h.Status.Timers!, t => t.Name is FullReportOverdueDeadline or FullReportReminderDeadline);
        await h.AdvanceToAsync(due + Duration.FromHours(96));
        Assert.Equal(4, h.Sent.Count(m => m.Purpose == "full-report-overdue"));
    }

    [Fact]
    public async Task Updates_come_every_5_working_days_an_update_moves_the_next_and_a_missed_one_is_escalated()
    {
        // Tue 24 Nov 2026: updates due by the end of Tue 1 Dec.
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var (h, _) = await ReportedAsync(now, Incident(now - Duration.FromHours(1), IncidentCategory.SafeguardingAlert));
        await h.SendAsync(new SubmitFullReport("d", "a", null), TheProvider);
        var endOfTue1Dec = new DateTime(2026, 12, 1, 23, 59, 59, 999, DateTimeKind.Utc);
        Assert.Equal(endOfTue1Dec, h.View<State>().NextUpdateDueAt!.Value.ToDateTimeUtc());

        await h.AdvanceToAsync(Instant.FromUtc(2026, 12, 2, 0, 1));
        Assert.Equal([ComplianceMailbox, SafeguardingMailbox], h.Sent.Where(m => m.Purpose == "update-missed").Select(m => m.To).Order());
        Assert.Equal(1, h.View<State>().UpdatesMissed);
        Assert.Contains("UpdateMissed", h.Notes);
        Assert.Equal(new DateTime(2026, 12, 8, 23, 59, 59, 999, DateTimeKind.Utc), h.View<State>().NextUpdateDueAt!.Value.ToDateTimeUtc());
        var asked = h.Sent.Last(m => m.Purpose == "update-request");
        Assert.Contains("status update overdue", asked.Subject);
        Assert.Equal(UpdateAction, Assert.Single(asked.Sign!).Action);

        // An update on Mon 7 Dec moves the next to Mon 14 Dec: nothing is missed on Tue 8 Dec.
        await h.AdvanceToAsync(Instant.FromUtc(2026, 12, 7, 10, 0));
        Assert.Equal(200, (await h.SendAsync(new SubmitUpdate("Police statement taken."), TheProvider))!.Status);
        Assert.Equal(1, h.View<State>().UpdatesReceived);
        Assert.Equal(new DateTime(2026, 12, 14, 23, 59, 59, 999, DateTimeKind.Utc), Assert.Single(h.Pending).FireAt);
        await h.AdvanceToAsync(Instant.FromUtc(2026, 12, 10, 9, 0));
        Assert.Equal(2, h.Sent.Count(m => m.Purpose == "update-missed"));
        Assert.Equal(1, Facts(h).Count());
    }

    [Fact]
    public async Task The_council_closes_the_incident_every_deadline_stops_and_the_provider_is_told()
    {
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var (h, run) = await ReportedAsync(now, Incident(now - Duration.FromHours(1)));
        var qa = new Actor("qa-1", Roles.QualityAssurance);
        Assert.Equal(200, (await h.SendAsync(new Close("Staffing restored; no harm."), qa))!.Status);
        Assert.Equal("Closed", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(h.Status.Completed);
        Assert.Empty(h.Pending);
        Assert.Empty(h.Status.Asks);
        Assert.Contains(h.Sent, m => m.Purpose == "closed" && m.To == ProviderMailbox && m.Body.Contains("Staffing restored"));
        Assert.Empty(Facts(h));
    }

    [Fact]
    public async Task The_council_escalates_to_s42_and_CQC_and_the_escalation_fact_keeps_counting()
    {
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var (h, run) = await ReportedAsync(now, Incident(now - Duration.FromHours(13), IncidentCategory.SafeguardingAlert)); // late: fact 1
        var outcome = await h.SendAsync(new Escalate([IncidentEscalationRoute.SafeguardingEnquiry, IncidentEscalationRoute.Cqc, IncidentEscalationRoute.Cqc],
            "Pattern of unexplained bruising."), Safeguarding);
        Assert.Equal(200, outcome!.Status);
        Assert.Equal("Escalated", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal([IncidentEscalationRoute.SafeguardingEnquiry, IncidentEscalationRoute.Cqc], h.View<State>().EscalatedTo);
        Assert.Contains(h.Sent, m => m.Purpose == "escalation-safeguardingenquiry" && m.To == SafeguardingMailbox);
        Assert.Single(h.Sent, m => m.Purpose == "escalation-cqc" && m.To == "cqc-liaison@council.example");
        Assert.Contains(h.Sent, m => m.Purpose == "escalated" && m.To == ProviderMailbox);
        Assert.Equal([(EscalatedFact, 1), (EscalatedFact, 2)], Facts(h).Select(f => (f.Name, f.Occurrence)));
        Assert.Empty(h.Pending);
    }

    public static TheoryData<string, WorkflowInput, Actor, int> Refusals() => new()
    {
        { "another provider's full report", new SubmitFullReport("d", "a", null), OtherProvider, 403 },
        { "another provider's update", new SubmitUpdate("t"), OtherProvider, 403 },
        { "the provider closing", new Close("done"), TheProvider, 403 },
        { "care manager escalating", new Escalate([IncidentEscalationRoute.Cqc], "r"), new Actor("cm", Roles.CareManager), 403 },
        { "a blank update", new SubmitUpdate(" "), TheProvider, 422 },
        { "a full report naming the service user", new SubmitFullReport("Test Person fell.", "GP called.", null), TheProvider, 422 },
        { "an escalation without a route", new Escalate([], "r"), Safeguarding, 422 },
        { "an escalation reason with an NHS number", new Escalate([IncidentEscalationRoute.Cqc], "NHS 943 476 5919"), Safeguarding, 422 },
        { "a close without a reason", new Close(" "), Safeguarding, 422 },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_refused_input_is_answered_and_changes_nothing(string why, WorkflowInput input, Actor actor, int status)
    {
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var (h, run) = await ReportedAsync(now, Incident(now - Duration.FromHours(1)));
        var (view, timers, sent) = (h.Status.View!.Value.GetRawText(), h.Pending.Select(t => t.FireAt).ToList(), h.Sent.Count());
        var outcome = await h.SendAsync(input, actor);
        Assert.True(outcome?.Status == status, $"{why}: {outcome}");
        Assert.Equal(view, h.Status.View!.Value.GetRawText());
        Assert.Equal(timers, h.Pending.Select(t => t.FireAt));
        Assert.Equal(sent, h.Sent.Count());
        Assert.Equal("InputRefused", h.Notes.Last());
        Assert.False(run.IsCompleted);
    }

    [Fact]
    public async Task A_second_full_report_is_a_conflict()
    {
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var (h, _) = await ReportedAsync(now, Incident(now - Duration.FromHours(1)));
        await h.SendAsync(new SubmitFullReport("d", "a", null), TheProvider);
        Assert.Equal(409, (await h.SendAsync(new SubmitFullReport("d", "a", null), TheProvider))!.Status);
    }

    [Fact]
    public async Task The_update_cadence_beyond_the_bank_holiday_data_is_held_without_holding_the_incident_and_resumes_when_data_comes()
    {
        // Fri 22 Dec 2028: 5 working days reach into 2029, beyond the shipped data.
        var now = Instant.FromUtc(2028, 12, 22, 10, 0);
        var newer = new WorkingCalendar(WorkingCalendar.Shipped.Holidays.Concat([new LocalDate(2029, 1, 1)]), WorkingCalendar.Shipped.CoveredFrom, new LocalDate(2029, 12, 31));
        var reads = 0;
        var (h, _) = await ReportedAsync(now, Incident(now - Duration.FromHours(1)), arrange: harness =>
            harness.Context.Setup(c => c.CallActivityAsync<WorkflowSetup>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
                .Returns(() => Task.FromResult(++reads < 2 ? Setup() : Setup(newer))));
        Assert.Equal(201, Assert.Single(h.Status.Outcomes).Status);
        Assert.Contains("UpdateCadenceHeld", h.Notes);
        var held = h.Calls.Where(c => c.Name == WorkflowScope.CalendarHoldActivity).Select(c => (CalendarHold)c.Input!).ToList();
        Assert.Equal([new CalendarHold("SI-ABCDE", UpdateScheduleDeadline, new LocalDate(2029, 1, 1))], held);
        Assert.Contains(h.Status.Timers!, t => t.Name == UpdateScheduleDeadline && t.At == now + WorkflowScope.CalendarRetry);
        Assert.Null(h.View<State>().NextUpdateDueAt);
        Assert.DoesNotContain(h.Sent, m => m.Purpose == "update-request");

        // The incident goes on meanwhile: a full report is taken at once.
        Assert.Equal(200, (await h.SendAsync(new SubmitFullReport("d", "a", null), TheProvider))!.Status);

        // The first look finds no newer data (held again, noted once); the second finds it: released, and the next update is scheduled from then.
        await h.AdvanceToAsync(now + Duration.FromMinutes(11));
        Assert.Single(h.Notes, n => n == "UpdateCadenceHeld");
        Assert.Equal(new CalendarHold("SI-ABCDE", UpdateScheduleDeadline, null), (CalendarHold)h.Calls.Last(c => c.Name == WorkflowScope.CalendarHoldActivity).Input!);
        var next = h.View<State>().NextUpdateDueAt;
        Assert.Equal(newer.DueAfterWorkingDays(now + Duration.FromMinutes(10), 5), next);
        Assert.Contains(h.Status.Timers!, t => t.Name == UpdateDueDeadline && t.At == next);
        Assert.DoesNotContain(h.Status.Timers!, t => t.Name == UpdateScheduleDeadline);
    }

    [Fact]
    public async Task An_undelivered_message_asks_contract_compliance_to_reach_the_recipient_another_way()
    {
        var now = Instant.FromUtc(2026, 11, 24, 9, 0);
        var (h, _) = await ReportedAsync(now, Incident(now - Duration.FromHours(1)), arrange: harness =>
            harness.SendResult = m => new MessageResult(m.Id, m.Message.Purpose, m.Message.To, m.Message.Purpose != "acknowledgement", "Dev", null,
                m.Message.Purpose == "acknowledgement" ? "550 mailbox unknown" : null));
        Assert.Contains(h.Sent, m => m.Purpose == "delivery-failed" && m.To == ComplianceMailbox && m.Body.Contains("550 mailbox unknown"));
        Assert.Contains("MessageUndelivered", h.Notes);
    }
}
