using CareWorkflows.Definitions;
using CareWorkflows.Definitions.QualityConcerns;
using CareWorkflows.TaskHub.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace CareWorkflows.Tests.Versioning;

/// <summary>
/// Versioning: real histories, recorded from each workflow's main paths (Versioning/Histories/*.history.json), replayed
/// step by step against today's orchestrator code. Instances outlive deployments (a referral runs six weeks): a change
/// that decides any recorded step differently fails here. An intended change of behaviour ships as a new orchestrator
/// version beside the old one (registered under the same name, newer version), and its own recording is added.
/// To record again (only when adding a workflow or a version): CW_RECORD_HISTORIES=1 and run HistoryRecordings.
/// </summary>
public sealed class HistoryReplayTests
{
    public static TheoryData<string> Recordings =>
        new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Versioning", "Histories"), "*.history.json").Select(Path.GetFileName).Order()!);

    [Theory, MemberData(nameof(Recordings))]
    public void Every_recorded_step_decides_the_same_today(string file)
    {
        var history = HistoryReplay.FromJson(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Versioning", "Histories", file)));
        Assert.True(history.Count > 10, $"{file} is too short to be a main path");
        var steps = HistoryReplay.ReplayEveryStep(file.Split('.')[0], history);
        Assert.True(steps > 3, $"{file}: only {steps} steps");
    }

    [Fact]
    public void A_changed_decision_in_a_recorded_step_is_caught()
    {
        // The recorded quality concern, with one step's recorded decision altered: the replay must refuse it.
        var file = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Versioning", "Histories"), "QC-*.history.json").Single();
        var history = HistoryReplay.FromJson(File.ReadAllText(file)).Select(e => e.Clone()).ToList();
        var timer = history.First(e => e.TimerCreated is not null);
        timer.TimerCreated.FireAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(timer.TimerCreated.FireAt.ToDateTime().AddHours(1));
        var e = Assert.Throws<InvalidOperationException>(() => HistoryReplay.ReplayEveryStep("QC-ALTERED", history));
        Assert.Contains("decides differently", e.Message);
    }
}

/// <summary>
/// Records the histories HistoryReplayTests replays: each workflow through its main paths, end to end on our server.
/// Skipped unless CW_RECORD_HISTORIES is set (the recordings are committed, never rewritten by a normal run).
/// </summary>
public sealed class HistoryRecordings
{
    private static string Target => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Versioning", "Histories"));

    private static async Task SaveAsync(CareWorkflowsApp app, string reference)
    {
        await app.SettleAsync();
        var history = await app.Services.GetRequiredService<ITaskHubStore>().GetHistoryAsync(reference, TestContext.Current.CancellationToken);
        Directory.CreateDirectory(Target);
        await File.WriteAllTextAsync(Path.Combine(Target, $"{reference}.history.json"), HistoryReplay.ToJson(history), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Quality_concern_overdue_escalated_answered_late_action_plan_accepted()
    {
        if (Environment.GetEnvironmentVariable("CW_RECORD_HISTORIES") is not { Length: > 0 }) Assert.Skip("Set CW_RECORD_HISTORIES=1 to record histories again.");
        await using var app = new CareWorkflowsApp();
        var qa = app.As(Roles.QualityAssurance);
        var raised = await qa.PostJsonAsync("/api/quality-concerns", new { providerId = "east-kestrel", concern = "Late evening calls.", responseWorkingDays = 3 });
        var reference = raised.Str("reference");
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 1, 0, 1)); // reminder, overdue, QA lead
        var provider = app.As(Roles.Provider, "east-kestrel");
        await provider.PostJsonAsync($"/api/quality-concerns/{reference}/response", new { investigation = "Rota reviewed.", issueFound = true, actions = "Rota changed." });
        await qa.PostJsonAsync($"/api/quality-concerns/{reference}/decision", new { outcome = "ActionPlanRequired", reason = "No timescales." });
        await provider.PostJsonAsync($"/api/quality-concerns/{reference}/action-plan", new { plan = "1. Rota fix by 14 Dec." });
        await qa.PostJsonAsync($"/api/quality-concerns/{reference}/decision", new { outcome = "Accepted", reason = "Specific and timed." });
        await SaveAsync(app, reference);
    }

    [Fact]
    public async Task Trusted_assessor_adjustment_within_parameters_reminded_signed_off_approved()
    {
        if (Environment.GetEnvironmentVariable("CW_RECORD_HISTORIES") is not { Length: > 0 }) Assert.Skip("Set CW_RECORD_HISTORIES=1 to record histories again.");
        await using var app = await TrustedAssessor.TrustedAssessorTestKit.ReadyAsync(); // PROV-A, its qualified assessor, PKG-1 at 10 hours
        var reference = await TrustedAssessor.TrustedAssessorTestKit.ProposeOkAsync(app, 10m, 8m); // -20%: in effect at once, sent for sign-off
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 1, 9, 1)); // the sign-off reminder, on the 5th working day (due at its end)
        var signed = await TrustedAssessor.TrustedAssessorTestKit.ActAsync(app, Roles.SeniorCareManager, reference, "sign-off", new { note = "Fits the goals" });
        Assert.True(signed.IsSuccessStatusCode, await signed.Content.ReadAsStringAsync()); // signed off: approved, payment adjustment, adjustment.approved
        await SaveAsync(app, reference);
    }

    [Fact]
    public async Task Serious_incident_reported_reminded_full_report_updated_escalated()
    {
        if (Environment.GetEnvironmentVariable("CW_RECORD_HISTORIES") is not { Length: > 0 }) Assert.Skip("Set CW_RECORD_HISTORIES=1 to record histories again.");
        await using var app = new CareWorkflowsApp();
        var provider = app.As(Roles.Provider, "prov-1");
        var reported = await provider.PostJsonAsync("/api/incidents", new
        {
            category = "SafeguardingAlert", occurredAt = NodaTime.Text.InstantPattern.ExtendedIso.Format(app.Now - Duration.FromHours(1)),
            becameAwareAt = NodaTime.Text.InstantPattern.ExtendedIso.Format(app.Now - Duration.FromHours(1)),
            description = "Bruising found on arm during morning call.", parties = "Carer A", emergencyServicesInvolved = false,
            immediateAction = "GP informed.", furtherAction = "Safeguarding referral.", serviceUserGroup = "Older people",
            serviceUserId = "LBB-123456", serviceUserName = "Test Person", providerName = "Kestrel Home Support", contactEmail = "office@kestrel.example",
        });
        Assert.True(reported.Status == System.Net.HttpStatusCode.Created, reported.ToString());
        var reference = reported.Str("reference");
        await app.AdvanceAsync(Duration.FromHours(40)); // full-report reminder
        await provider.PostJsonAsync($"/api/incidents/{reference}/full-report", new { details = "Visitor grabbed the person's arm.", actionsTaken = "Visitor barred." });
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 2, 0, 1)); // past the first update date
        await provider.PostJsonAsync($"/api/incidents/{reference}/updates", new { text = "Police statement taken." });
        await app.As(Roles.SafeguardingLead).PostJsonAsync($"/api/incidents/{reference}/escalate", new { to = new[] { "s42" }, reason = "Pattern of bruising." });
        await SaveAsync(app, reference);
    }

    [Fact]
    public async Task Visit_alert_manager_told_reassured_council_and_delay_then_call_started()
    {
        if (Environment.GetEnvironmentVariable("CW_RECORD_HISTORIES") is not { Length: > 0 }) Assert.Skip("Set CW_RECORD_HISTORIES=1 to record histories again.");
        await using var app = new CareWorkflowsApp(start: Visits.VisitsTestKit.London(2026, 11, 24, 10, 0), settings: Visits.VisitsTestKit.Settings());
        var planned = Visits.VisitsTestKit.London(2026, 11, 24, 9, 30);
        var reference = await Visits.VisitsTestKit.RaiseAsync(app, "V-REC-1", planned);                  // alert, desk told
        await app.AdvanceToAsync(Visits.VisitsTestKit.London(2026, 11, 24, 10, 16));                      // 15 minutes: the provider's manager
        var desk = Visits.VisitsTestKit.Desk(app);
        await desk.PostJsonAsync($"/api/visit-alerts/{reference}/steps", new { step = "Reassured", at = "10:15" });
        await app.AdvanceToAsync(Visits.VisitsTestKit.London(2026, 11, 24, 11, 1));                       // an hour: the council; 90 minutes late: tell the person
        await desk.PostJsonAsync($"/api/visit-alerts/{reference}/steps", new { step = "DelayTold" });
        await Visits.VisitsTestKit.PostAlertAsync(app, Visits.VisitsTestKit.Alert("A-REC-2", "V-REC-1", planned, kind: "Started"));
        await SaveAsync(app, reference);
    }

    [Fact]
    public async Task No_reply_council_told_checks_outcome_overdue_then_found_safe()
    {
        if (Environment.GetEnvironmentVariable("CW_RECORD_HISTORIES") is not { Length: > 0 }) Assert.Skip("Set CW_RECORD_HISTORIES=1 to record histories again.");
        await using var app = new CareWorkflowsApp(start: Visits.VisitsTestKit.London(2026, 11, 24, 17, 10), settings: Visits.VisitsTestKit.Settings());
        var desk = Visits.VisitsTestKit.Desk(app);
        var reference = (await desk.PostJsonAsync("/api/no-replies", new { visitId = "V-REC-2", personId = "LBB-104233", note = "No answer at the door" })).Str("reference");
        await desk.PostJsonAsync($"/api/no-replies/{reference}/checks", new { checks = new[] { "Letterbox", "Windows", "Neighbours" } });
        await app.AdvanceToAsync(Visits.VisitsTestKit.London(2026, 11, 24, 18, 11));                      // no outcome in the hour: the safeguarding lead
        await desk.PostJsonAsync($"/api/no-replies/{reference}/outcome", new { outcome = "FoundSafe", checks = new[] { "NextOfKin" } });
        await SaveAsync(app, reference);
    }
}
