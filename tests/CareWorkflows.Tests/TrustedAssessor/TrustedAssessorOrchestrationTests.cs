using CareWorkflows.Definitions;
using CareWorkflows.Definitions.TrustedAssessor;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.DurableTask;
using NodaTime;
using static CareWorkflows.Definitions.TrustedAssessor.TrustedAssessorAdjustment;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>The trusted-assessor orchestrator's branches against a mocked orchestration context (no engine, no database).</summary>
public sealed class TrustedAssessorOrchestrationTests
{
    private const string Reference = "TA-ABCDE";
    private static readonly DateTimeZone London = DateTimeZoneProviders.Tzdb["Europe/London"];
    private static readonly Actor Assessor = new("u-ta", Roles.Provider, "prov-7", "Tam (trusted assessor)");
    private static readonly Actor Senior = new("u-scm", Roles.SeniorCareManager, DisplayName: "Sam Senior");
    private static readonly Actor CareManager = new("u-cm", Roles.CareManager, DisplayName: "Cal Manager");
    private static readonly Actor Ot = new("occupational-therapy", OccupationalTherapistRole, DisplayName: "signed link (approve)");

    private static Instant Local(int y, int m, int d, int h, int min = 0) => new LocalDateTime(y, m, d, h, min).InZoneStrictly(London).ToInstant();
    private static DateTime Utc(Instant i) => i.ToDateTimeUtc();

    private static ProposeAdjustment Proposal(decimal proposed, bool lowLevel = true, bool movingAndHandling = false, bool otReview = false, bool qualified = true,
        LocalDate? effective = null, Instant? now = null) => new(
        new RegisteredPackage("PKG-1", "prov-7", 10m, lowLevel, movingAndHandling),
        new RegisteredAssessor("TAS-1", "prov-7", "Tam Assessor", "tam@prov7.example", qualified, Active: true),
        10m, proposed, effective ?? WorkingCalendar.LocalDateOf(now ?? Local(2026, 11, 24, 10)), true, "the person", "Breakfast alone", "Managing with prompting", "Three visits",
        NeedsOtReview: otReview);

    /// <summary>Proposed at <paramref name="now"/> (default Tue 24 Nov 2026 10:00) with the shipped calendar and default policy.</summary>
    private static async Task<(OrchestrationHarness H, Task<string> Run)> ProposedAsync(ProposeAdjustment p, Instant? now = null)
    {
        var h = new OrchestrationHarness(Reference, now ?? Local(2026, 11, 24, 10));
        var start = new WorkflowStart<ProposeAdjustment>("start-1", Assessor, p, WorkflowSetup.From(PolicySettings.Default, Contacts.Default, WorkingCalendar.Shipped));
        var run = await h.StartAsync(new TrustedAssessorAdjustmentOrchestration(), start);
        return (h, run);
    }

    private static IEnumerable<OrchestrationHarness.Call> HoursSet(OrchestrationHarness h) => h.Calls.Where(c => c.Name == SetPackageHoursActivity);

    [Fact]
    public async Task A_within_parameter_change_takes_the_package_at_the_proposed_hours_and_goes_for_sign_off_with_signed_links()
    {
        var (h, _) = await ProposedAsync(Proposal(7.5m));

        // The package is taken first (first writer wins, retried by the SDK's policy), at the proposed hours: in effect at once (G.10 §4.2).
        var claim = Assert.Single(h.Calls, c => c.Name == ClaimPackageActivity);
        Assert.Equal(new PackageClaim("PKG-1", Reference, null, 10m, 7.5m, Local(2026, 11, 24, 10)), claim.Input);
        Assert.Equal(10, Assert.IsType<TaskRetryOptions>(claim.Options!.Retry).Policy!.MaxNumberOfAttempts);
        Assert.Equal(0, h.Calls.FindIndex(c => c.Name == ClaimPackageActivity)); // before any message or note
        Assert.Equal(201, Assert.Single(h.Status.Outcomes).Status);
        Assert.Equal("AwaitingSignOff", h.Status.Status);
        Assert.Equal(7.5m, h.View<State>().HoursInEffect);

        var request = Assert.Single(h.Sent, m => m.Purpose == "signoff-request");
        Assert.Equal("senior-care-manager@council.example", request.To);
        Assert.Equal([SignOffAction, ConcernAction, PauseAction], request.Sign!.Select(l => l.Action));
        Assert.DoesNotContain("http", request.Body); // links are signed by the activity, never in the history
        Assert.Contains(h.Sent, m => m.Purpose == "implemented" && m.To == "tam@prov7.example");
        Assert.Equal(["AdjustmentProposed", "AdjustmentImplemented", "SentForSignOff"], h.Notes);
        Assert.Empty(HoursSet(h));
    }

    [Fact]
    public async Task Sign_off_reminder_and_escalation_fall_on_working_days_across_the_spring_bank_holiday()
    {
        // Thu 21 May 2026; Mon 25 May is a bank holiday: 5 working days end on Fri 29 May (not Thu 28).
        var (h, _) = await ProposedAsync(Proposal(9m, now: Local(2026, 5, 21, 10)), Local(2026, 5, 21, 10));
        Assert.Equal([Utc(Local(2026, 5, 29, 9)), Utc(new LocalDateTime(2026, 5, 29, 23, 59, 59, 999).InZoneStrictly(London).ToInstant())],
            h.Pending.Select(t => t.FireAt).Order());
        Assert.Equal(["signoff-escalation", "signoff-reminder"], h.Status.Timers!.Select(t => t.Name).Order());

        await h.AdvanceToAsync(Local(2026, 5, 28, 23, 59));
        Assert.DoesNotContain("ReminderSent", h.Notes);
        await h.AdvanceToAsync(Local(2026, 5, 29, 9));
        Assert.Single(h.Sent, m => m.Purpose == "signoff-reminder" && m.To == "senior-care-manager@council.example");
        Assert.DoesNotContain(h.Sent, m => m.Purpose == "signoff-escalation");

        await h.AdvanceToAsync(Local(2026, 5, 30, 0));
        var escalation = Assert.Single(h.Sent, m => m.Purpose == "signoff-escalation");
        Assert.Equal("care-management-team-lead@council.example", escalation.To);
        Assert.Contains("23:59 on Fri 29 May 2026", escalation.Body);
        Assert.Equal(["AdjustmentProposed", "AdjustmentImplemented", "SentForSignOff", "ReminderSent", "Escalated"], h.Notes);

        // Escalation closes nothing: the senior care manager can still sign off, and the payment adjustment follows (App N).
        Assert.Equal(200, (await h.SendAsync(new SignOff("Fine"), Senior))!.Status);
        Assert.Equal("SignedOff", h.Status.Status);
        Assert.Contains(h.Calls, c => c.Name == WorkflowScope.PublishActivity && ((IntegrationFact)c.Input!).Name == ApprovedFact);
        Assert.Contains(h.Sent, m => m.Purpose == "payment-adjustment" && m.To == "finance@council.example");
    }

    [Fact]
    public async Task Pause_asks_for_the_original_service_reminds_at_12_hours_and_escalates_at_24_elapsed_hours_across_the_clock_change()
    {
        // Sat 24 Oct 2026 12:00 BST; the clocks go back at 02:00 on Sun 25 Oct: 24 elapsed hours end at 11:00 GMT, not 12:00.
        var pausedAt = Local(2026, 10, 24, 12);
        var (h, _) = await ProposedAsync(Proposal(8m, now: Local(2026, 10, 23, 10)), Local(2026, 10, 23, 10));
        h.Now = pausedAt;
        Assert.Equal(200, (await h.SendAsync(new PausePendingReview("Falls risk not assessed"), Senior))!.Status);

        Assert.Equal("AwaitingReinstatement", h.Status.Status);
        var ask = Assert.Single(h.Sent, m => m.Purpose == "reinstate");
        Assert.Equal(ReinstatedAction, Assert.Single(ask.Sign!).Action);
        Assert.Contains("reinstate the original 10.00 hours", ask.Body);
        Assert.Contains(h.Sent, m => m.Purpose == "review-requested" && m.To == "care-management@council.example");
        Assert.Equal([Utc(pausedAt + Duration.FromHours(12)), Utc(pausedAt + Duration.FromHours(24))], h.Pending.Select(t => t.FireAt).Order());
        Assert.Equal(new DateTime(2026, 10, 25, 11, 0, 0, DateTimeKind.Utc), Utc(pausedAt + Duration.FromHours(24)));
        Assert.Empty(HoursSet(h)); // the hours move back only when the provider confirms

        await h.AdvanceToAsync(pausedAt + Duration.FromHours(24) - Duration.FromSeconds(1));
        Assert.Contains(h.Sent, m => m.Purpose == "reinstate-reminder");
        Assert.DoesNotContain(h.Sent, m => m.Purpose == "reinstatement-escalation");
        await h.AdvanceToAsync(pausedAt + Duration.FromHours(24));
        Assert.Equal(["care-management-team-lead@council.example", "senior-care-manager@council.example"],
            h.Sent.Where(m => m.Purpose == "reinstatement-escalation").Select(m => m.To).Order());
        Assert.Equal("AwaitingReinstatement", h.Status.Status);

        // Confirmed: the package goes back to the original hours (an activity, retried), before the provider hears it is recorded.
        Assert.Equal(200, (await h.SendAsync(new ConfirmReinstatement("Back to 10"), Assessor))!.Status);
        var set = Assert.Single(HoursSet(h));
        Assert.Equal(new PackageHoursChange("PKG-1", Reference, 10m, h.Now), set.Input);
        Assert.NotNull(set.Options?.Retry);
        Assert.Equal("PausedPendingReview", h.Status.Status);

        // The review that approves puts the change back and signs it off.
        Assert.Equal(200, (await h.SendAsync(new RecordReviewOutcome(true, "OT agrees"), CareManager))!.Status);
        Assert.Equal([10m, 8m], HoursSet(h).Select(c => ((PackageHoursChange)c.Input!).HoursInEffect));
        Assert.Equal("SignedOff", h.Status.Status);
    }

    [Fact]
    public async Task An_outside_parameter_change_waits_for_approval_and_takes_effect_only_when_everyone_required_has_approved()
    {
        var (h, run) = await ProposedAsync(Proposal(6m, otReview: true));

        Assert.Equal(10m, ((PackageClaim)Assert.Single(h.Calls, c => c.Name == ClaimPackageActivity).Input!).HoursInEffect); // nothing changes yet (G.7)
        Assert.Equal("AwaitingApproval", h.Status.Status);
        Assert.Equal(["care-management@council.example", "occupational-therapy@council.example"], h.Sent.Where(m => m.Purpose == "approval-request").Select(m => m.To));
        Assert.Contains("Keep delivering 10.00 hours", Assert.Single(h.Sent, m => m.Purpose == "awaiting-approval").Body);
        Assert.Equal(409, (await h.SendAsync(new SignOff(null), Senior))!.Status); // there is nothing to sign off

        Assert.Equal(200, (await h.SendAsync(new Approve("Reablement goals met"), CareManager))!.Status);
        Assert.Equal("AwaitingApproval", h.Status.Status);
        Assert.Empty(HoursSet(h));

        Assert.Equal(200, (await h.SendAsync(new Approve(null), Ot))!.Status);
        Assert.Equal(new PackageHoursChange("PKG-1", Reference, 6m, h.Now), Assert.Single(HoursSet(h)).Input);
        Assert.Equal("SignedOff", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(h.Status.Completed);
        Assert.Contains(h.Calls, c => c.Name == WorkflowScope.PublishActivity && ((IntegrationFact)c.Input!) is { Name: ApprovedFact, Outcome: "Approved" });
        Assert.Equal(["AdjustmentProposed", "SentForApproval", "InputRefused", "ApprovalGiven", "ApprovalGiven", "AdjustmentImplemented", "AdjustmentSignedOff",
            "PaymentAdjustmentRequested"], h.Notes);
        Assert.Empty(h.Pending);
    }

    [Fact]
    public async Task Refused_inputs_change_nothing_but_are_answered_and_on_the_timeline()
    {
        var (h, _) = await ProposedAsync(Proposal(8m));
        var calls = h.Calls.Count;
        var view = h.Status.View!.Value.GetRawText();
        var timers = h.Pending.ToList();

        Assert.Equal(403, (await h.SendAsync(new SignOff(null), CareManager))!.Status);
        Assert.Equal(403, (await h.SendAsync(new ConfirmReinstatement(null), Assessor with { ProviderId = "prov-8" }))!.Status);
        Assert.Equal(409, (await h.SendAsync(new ConfirmReinstatement(null), Assessor))!.Status);
        Assert.Equal(422, (await h.SendAsync(new PausePendingReview(" "), Senior))!.Status);
        Assert.Equal(409, (await h.SendAsync(new Approve(null), CareManager))!.Status);

        Assert.All(h.Calls.Skip(calls), c => Assert.Equal(WorkflowScope.NoteActivity, c.Name)); // the refusals noted; nothing sent, no hours moved
        Assert.Equal(5, h.Notes.Count(n => n == "InputRefused"));
        Assert.Equal(view, h.Status.View!.Value.GetRawText());
        Assert.Equal(timers, h.Pending.ToList());
        Assert.Equal("AwaitingSignOff", h.Status.Status);
    }

    [Fact]
    public async Task A_proposal_that_finds_its_package_taken_is_refused_and_leaves_nothing()
    {
        var h = new OrchestrationHarness(Reference, Local(2026, 11, 24, 10)) { BoolResult = (name, _) => name != ClaimPackageActivity };
        var start = new WorkflowStart<ProposeAdjustment>("start-1", Assessor, Proposal(7.5m), WorkflowSetup.From(PolicySettings.Default, Contacts.Default, WorkingCalendar.Shipped));
        var run = await h.StartAsync(new TrustedAssessorAdjustmentOrchestration(), start);

        Assert.Equal("Refused", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        var outcome = Assert.Single(h.Status.Outcomes);
        Assert.Equal((409, "start-1"), (outcome.Status, outcome.Id));
        Assert.Contains("PKG-1 already has an open trusted-assessor adjustment", outcome.Detail);
        Assert.Equal([ClaimPackageActivity], h.Calls.Select(c => c.Name)); // no message, no note, no hours
        Assert.Empty(h.Timers);
        Assert.True(h.Status.Completed);
    }

    [Fact]
    public async Task A_proposal_the_rules_refuse_is_answered_with_the_field_and_never_takes_the_package()
    {
        var (h, run) = await ProposedAsync(Proposal(8m, qualified: false));

        Assert.Equal("Refused", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(422, Assert.Single(h.Status.Outcomes).Status);
        Assert.Contains("Level 2 diploma", h.Status.Outcomes[0].Detail);
        Assert.Empty(h.Calls);
    }

    [Fact]
    public async Task A_concern_stops_the_sign_off_window_and_the_providers_answer_opens_a_new_one()
    {
        var (h, _) = await ProposedAsync(Proposal(8m)); // Tue 24 Nov 2026
        Assert.Equal(200, (await h.SendAsync(new RaiseConcern("Evidence covers two visits"), Senior))!.Status);
        // 5 working days from Tue 24 Nov: Tue 1 Dec (reminder 09:00 GMT, due end of day).
        Assert.Equal([new DateTime(2026, 12, 1, 9, 0, 0, DateTimeKind.Utc), new DateTime(2026, 12, 1, 23, 59, 59, 999, DateTimeKind.Utc)], h.Pending.Select(t => t.FireAt).Order());
        Assert.Equal(["concern-escalation", "concern-reminder"], h.Status.Timers!.Select(t => t.Name).Order());
        Assert.Equal(RespondAction, Assert.Single(Assert.Single(h.Sent, m => m.Purpose == "concern").Sign!).Action);

        await h.AdvanceToAsync(Instant.FromUtc(2026, 12, 2, 0, 0));
        Assert.Equal(["care-management-team-lead@council.example", "senior-care-manager@council.example"],
            h.Sent.Where(m => m.Purpose == "concern-escalation").Select(m => m.To).Order());

        h.Now = Instant.FromUtc(2026, 12, 2, 10, 0);
        Assert.Equal(200, (await h.SendAsync(new RespondToConcern("Three more visits attached"), Assessor))!.Status);
        Assert.Equal("AwaitingSignOff", h.Status.Status);
        Assert.Equal(2, h.Sent.Count(m => m.Purpose == "signoff-request"));
        Assert.Equal(Instant.FromUtc(2026, 12, 9, 23, 59, 59) + Duration.FromMilliseconds(999), h.View<State>().Due); // Wed 2 Dec + 5 working days
        Assert.Equal(Instant.FromUtc(2026, 12, 1, 23, 59, 59) + Duration.FromMilliseconds(999), h.View<State>().FirstSignOffDue); // the KPI keeps the first window
    }
}
