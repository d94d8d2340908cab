using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Visits;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.DurableTask;
using Moq;
using NodaTime;
using static CareWorkflows.Definitions.Visits.VisitAlert;

namespace CareWorkflows.Tests.Visits;

/// <summary>Both visit orchestrators' branches against a mocked orchestration context (no engine, no database).</summary>
public sealed class VisitOrchestrationTests
{
    private static readonly Actor Desk = new("desk-1", Roles.Provider, "east-kestrel", "Kestrel alert desk");
    private static readonly Actor OtherProvider = new("p-2", Roles.Provider, "west-wren");
    private static readonly Actor Monitor = new("call-monitoring:ecm-1", Roles.System, "east-kestrel", "Call monitoring (ecm-1)");
    private static readonly WorkflowSetup Setup = WorkflowSetup.From(PolicySettings.Default, Contacts.Default, WorkingCalendar.Shipped);

    /// <summary>Tuesday 24 Nov 2026 (GMT): planned 09:00, alerted 09:30.</summary>
    private static readonly Instant Alerted = Instant.FromUtc(2026, 11, 24, 9, 30);

    private static Raise Alert(MonitoringKind kind = MonitoringKind.Late, Instant? planned = null) =>
        new("alert-1", "ecm-1", "east-kestrel", "Kestrel Home Support", "referrals@east-kestrel.example.org", "+447700900002",
            "V-1001", "LBB-104233", planned ?? Alerted - Duration.FromMinutes(30), kind, Alerted);

    private static async Task<(OrchestrationHarness H, Task<string> Run)> RaisedAsync(Raise? alert = null, Instant? at = null)
    {
        var h = new OrchestrationHarness("VA-ABCDE", at ?? Alerted);
        h.Context.Setup(c => c.CallActivityAsync<NoReplyStarted>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns<TaskName, object?, TaskOptions?>((name, input, options) =>
            {
                h.Calls.Add(new OrchestrationHarness.Call(name.Name, input, options));
                return Task.FromResult(new NoReplyStarted("NR-FGHJK", null));
            });
        var run = await h.StartAsync(new VisitAlertOrchestration(), new WorkflowStart<Raise>("start-1", Monitor, alert ?? Alert(), Setup));
        return (h, run);
    }

    [Fact]
    public async Task Raising_tells_the_alert_desk_by_email_and_SMS_with_no_personal_data_in_the_SMS_and_sets_the_escalations()
    {
        var (h, _) = await RaisedAsync();
        Assert.Equal([Alerted + Duration.FromMinutes(15), Alerted + Duration.FromMinutes(30), Alerted + Duration.FromHours(1)],
            h.Pending.Select(t => Instant.FromDateTimeUtc(t.FireAt)).Order()); // manager 15 min; X 10.6 at planned + 1 h; council at alert + 1 h
        var sms = Assert.Single(h.Sent, m => m.Channel == MessageChannel.Sms);
        Assert.Equal("+447700900002", sms.To);
        Assert.Contains("VA-ABCDE", sms.Body);
        Assert.Contains(InstancePage.Placeholder, sms.Body);
        Assert.DoesNotContain("LBB-104233", sms.Body); // a reference and a link only
        Assert.Contains(h.Sent, m => m is { Channel: MessageChannel.Email, Purpose: "alert", To: "referrals@east-kestrel.example.org" });
        Assert.Equal(201, Assert.Single(h.Status.Outcomes).Status);
        Assert.Contains(h.Status.Asks, a => a.Action == ReassuredAction && a.Mobile == "+447700900002");
    }

    [Fact]
    public async Task Nothing_recorded_in_15_minutes_tells_the_providers_manager_but_a_recorded_step_does_not()
    {
        var (h, _) = await RaisedAsync();
        await h.AdvanceToAsync(Alerted + Duration.FromMinutes(16));
        Assert.Single(h.Sent, m => m.Purpose == "manager-escalation");
        Assert.Contains("ManagerEscalation", h.Notes);

        var (h2, _) = await RaisedAsync();
        Assert.Equal(200, (await h2.SendAsync(new RecordStep(VisitStep.Reassured, null, null, null, null), Desk))!.Status);
        await h2.AdvanceToAsync(Alerted + Duration.FromMinutes(16));
        Assert.DoesNotContain(h2.Sent, m => m.Purpose == "manager-escalation");
    }

    [Fact]
    public async Task No_carer_on_site_after_an_hour_tells_the_duty_care_manager_and_the_safeguarding_lead_when_nobody_spoke_to_the_person()
    {
        var (h, _) = await RaisedAsync();
        await h.AdvanceToAsync(Alerted + Duration.FromMinutes(61)); // 10:30 on a working Tuesday
        Assert.Single(h.Sent, m => m is { Purpose: "council-escalation", To: "duty-care-manager@council.example" });
        Assert.Single(h.Sent, m => m is { Purpose: "safeguarding-escalation", To: "safeguarding-lead@council.example" });
        Assert.Single(h.Sent, m => m.Purpose == "tell-person-of-delay" && m.Channel == MessageChannel.Email); // X 10.6 at 10:00
        Assert.Contains(h.Status.Asks, a => a.Action == DelayToldAction);
        Assert.Equal(["AlertRaised", "ManagerEscalation", "DelayPrompt", "CouncilEscalation"], h.Notes);
    }

    [Fact]
    public async Task A_person_reassured_keeps_the_safeguarding_lead_out_and_the_call_starting_ends_the_alert_and_tells_those_escalated()
    {
        var (h, run) = await RaisedAsync();
        await h.SendAsync(new RecordStep(VisitStep.Reassured, null, new LocalTime(9, 28), null, null), Desk);
        await h.AdvanceToAsync(Alerted + Duration.FromMinutes(61));
        Assert.Single(h.Sent, m => m.Purpose == "council-escalation");
        Assert.DoesNotContain(h.Sent, m => m.Purpose == "safeguarding-escalation");
        Assert.Equal(Alerted - Duration.FromMinutes(2), h.View<State>().First(VisitStep.Reassured)!.At); // the time given, 09:28

        Assert.Equal(200, (await h.SendAsync(new Monitoring("alert-2", MonitoringKind.Started, Alerted + Duration.FromMinutes(62)), Monitor))!.Status);
        Assert.Equal("CallStarted", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Single(h.Sent, m => m is { Purpose: "alert-ended", To: "duty-care-manager@council.example" });
        Assert.Empty(h.Pending);
    }

    [Fact]
    public async Task A_person_who_cannot_be_contacted_tells_the_council_at_once_and_asks_for_the_next_of_kin()
    {
        var (h, _) = await RaisedAsync();
        await h.SendAsync(new RecordStep(VisitStep.PersonUnreachable, null, null, null, "Rang twice"), Desk);
        Assert.Single(h.Sent, m => m is { Purpose: "person-unreachable", To: "duty-care-manager@council.example" });
        Assert.Contains(h.Status.Asks, a => a.Action == KinToldAction);
        Assert.DoesNotContain(h.Status.Asks, a => a.Action == ReassuredAction);
    }

    [Fact]
    public async Task A_replacement_is_recorded_with_the_carers_name_but_the_name_is_never_sent()
    {
        var (h, _) = await RaisedAsync();
        Assert.Equal(409, (await h.SendAsync(new RecordStep(VisitStep.ReplacementTold, null, null, null, null), Desk))!.Status); // B 22.5 after 22.4
        Assert.Equal(422, (await h.SendAsync(new RecordStep(VisitStep.ReplacementSent, null, null, null, null), Desk))!.Status); // the name is required
        Assert.Equal(200, (await h.SendAsync(new RecordStep(VisitStep.ReplacementSent, null, null, "Sam Jones", null), Desk))!.Status);
        Assert.Equal("Sam Jones", h.View<State>().ReplacementCarer);
        await h.AdvanceToAsync(Alerted + Duration.FromHours(2));
        Assert.All(h.Sent, m => Assert.DoesNotContain("Sam Jones", m.Body));
    }

    [Fact]
    public async Task Another_provider_cannot_record_and_a_cancellation_needs_a_senior_confirmation()
    {
        var (h, run) = await RaisedAsync();
        Assert.Equal(403, (await h.SendAsync(new RecordStep(VisitStep.Reassured, null, null, null, null), OtherProvider))!.Status);
        Assert.Equal(422, (await h.SendAsync(new RecordCancellation(ConfirmedWith.NextOfKin, " ", null, null, null), Desk))!.Status);
        Assert.Equal(AlertStage.Open, h.View<State>().Stage);
        Assert.Equal(200, (await h.SendAsync(new RecordCancellation(ConfirmedWith.NextOfKin, "Pat Lee, care coordinator", null, null, "Daughter visiting"), Desk))!.Status);
        Assert.Equal("Cancelled", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("next of kin by Pat Lee", h.View<State>().Cancellation);
    }

    [Fact]
    public async Task A_repeat_of_the_same_alert_is_one_alert_and_a_missed_report_updates_it()
    {
        var (h, _) = await RaisedAsync();
        Assert.Equal(200, (await h.SendAsync(new Monitoring("alert-1", MonitoringKind.Late, Alerted), Monitor))!.Status);
        Assert.Single(h.View<State>().Reports);
        await h.SendAsync(new Monitoring("alert-9", MonitoringKind.Missed, Alerted + Duration.FromMinutes(20)), Monitor);
        Assert.True(h.View<State>().Missed);
        Assert.Equal(2, h.View<State>().Reports.Count);
        Assert.Single(h.Sent, m => m.Purpose == "alert" && m.Channel == MessageChannel.Email); // told once
        Assert.Equal(403, (await h.SendAsync(new Monitoring("alert-7", MonitoringKind.Started, Alerted), Monitor with { ProviderId = "west-wren" }))!.Status);
    }

    [Fact]
    public async Task No_reply_at_the_door_hands_over_to_a_no_reply_instance()
    {
        var (h, run) = await RaisedAsync();
        var outcome = await h.SendAsync(new ReportNoReply(null, null, "Curtains closed"), Desk);
        Assert.Equal(200, outcome!.Status);
        var call = Assert.Single(h.Calls, c => c.Name == VisitAlertOrchestration.StartNoReplyActivity);
        var start = (NoReplyStart)call.Input!;
        Assert.Equal(("V-1001", "LBB-104233", "VA-ABCDE", "noreply-from:VA-ABCDE"), (start.Report.VisitId, start.Report.PersonId, start.Report.AlertReference, start.Key));
        Assert.Equal("NoReply", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("NR-FGHJK", h.View<State>().NoReplyReference);
    }

    [Fact]
    public async Task A_short_call_asks_only_for_its_reason_and_never_goes_to_the_council()
    {
        var (h, run) = await RaisedAsync(Alert(MonitoringKind.Short));
        Assert.Equal([CarerAction], h.Status.Asks.Select(a => a.Action));
        Assert.Single(h.Pending); // the manager's 15 minutes only
        await h.SendAsync(new RecordStep(VisitStep.CarerContacted, null, null, null, "Kettle broken, left early"), Desk);
        Assert.Equal("ShortCallExplained", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain(h.Sent, m => m.Purpose == "council-escalation");
    }

    [Fact]
    public async Task An_hour_late_alert_prompts_the_delay_message_at_once()
    {
        var (h, _) = await RaisedAsync(Alert(planned: Alerted - Duration.FromMinutes(70)));
        await h.AdvanceToAsync(Alerted + Duration.FromSeconds(1));
        Assert.Single(h.Sent, m => m.Purpose == "tell-person-of-delay" && m.Channel == MessageChannel.Email);
    }

    // ---------------------------------------------------------------- no reply

    private static readonly Instant Reported = Instant.FromUtc(2026, 11, 24, 17, 10); // Tuesday 17:10 GMT: Social Services Direct

    private static async Task<(OrchestrationHarness H, Task<string> Run)> NoReplyAsync(Instant? at = null)
    {
        var h = new OrchestrationHarness("NR-ABCDE", at ?? Reported);
        var report = new NoReply.Report("east-kestrel", "Kestrel Home Support", "referrals@east-kestrel.example.org", "+447700900002", "V-1001", "LBB-104233", null, null, null, "No answer");
        var run = await h.StartAsync(new NoReplyOrchestration(), new WorkflowStart<NoReply.Report>("start-1", Desk, report, Setup));
        return (h, run);
    }

    [Fact]
    public async Task A_no_reply_tells_the_right_council_contact_at_once_then_the_care_manager()
    {
        var (h, _) = await NoReplyAsync();
        var sent = h.Sent.ToList();
        Assert.Equal("social-services-direct@council.example", sent[0].To);
        Assert.Equal("care-manager@council.example", sent[1].To);
        Assert.Equal([CouncilContact.SocialServicesDirect], h.View<NoReply.State>().CouncilTold);
        Assert.Equal(Reported + Duration.FromHours(1), Instant.FromDateTimeUtc(Assert.Single(h.Pending).FireAt));

        var (weekend, _) = await NoReplyAsync(Instant.FromUtc(2026, 11, 28, 11, 0));
        Assert.Equal("emergency-duty-team@council.example", weekend.Sent.First().To);
    }

    [Fact]
    public async Task No_outcome_within_the_hour_tells_the_safeguarding_lead_and_the_late_outcome_closes_it()
    {
        var (h, run) = await NoReplyAsync();
        await h.SendAsync(new NoReply.RecordChecks([DoorCheck.Letterbox, DoorCheck.Windows], null), Desk);
        await h.AdvanceToAsync(Reported + Duration.FromMinutes(61));
        Assert.Single(h.Sent, m => m is { Purpose: "no-reply-safeguarding", To: "safeguarding-lead@council.example" });
        Assert.Equal(200, (await h.SendAsync(new NoReply.RecordOutcome(NoReplyOutcome.AdmittedToHospital, [DoorCheck.Hospitals], null, null, null), Desk))!.Status);
        Assert.Equal("AdmittedToHospital", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, h.View<NoReply.State>().Checks.Count);
        Assert.Contains(h.Sent, m => m is { Purpose: "no-reply-outcome", To: "safeguarding-lead@council.example" });
    }

    [Fact]
    public async Task Not_located_tells_the_safeguarding_lead_at_once()
    {
        var (h, run) = await NoReplyAsync();
        Assert.Equal(403, (await h.SendAsync(new NoReply.RecordOutcome(NoReplyOutcome.NotLocated, null, null, null, null), OtherProvider))!.Status);
        await h.SendAsync(new NoReply.RecordOutcome(NoReplyOutcome.NotLocated, null, null, null, null), Desk);
        Assert.Equal("NotLocated", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Single(h.Sent, m => m.Purpose == "no-reply-safeguarding");
        Assert.Contains("SafeguardingToldNotLocated", h.Notes);
    }
}
