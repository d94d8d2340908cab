using System.Net;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.QualityConcerns;

public sealed class QualityConcernTests
{
    // A provider of the demo directory (seeded in Development); its name and email come from the directory.
    private const string Provider = "east-kestrel";
    private const string ProviderEmail = "referrals@east-kestrel.example.org";
    private const string Compliance = "contract-compliance@council.example";
    private const string QaLead = "qa-lead@council.example";

    private static object Concern(int? days = null) => new
    {
        providerId = Provider,
        concern = "Three late evening calls to one person in the week of 16 Nov; medication prompt missed once.",
        responseWorkingDays = days,
    };

    private static async Task<string> RaiseAsync(CareWorkflowsApp app, int? days = null)
    {
        var r = await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns", Concern(days));
        Assert.True(r.Status == HttpStatusCode.Created, r.ToString());
        return r.Str("reference");
    }

    private static Task<WorkflowHttp.Reply> RespondAsync(CareWorkflowsApp app, string reference, string provider = Provider) =>
        app.As(Roles.Provider, provider).PostJsonAsync($"/api/quality-concerns/{reference}/response",
            new { investigation = "Rota and call logs reviewed; two carers interviewed.", issueFound = true, actions = "Rota changed from 30 Nov; medication audit weekly for 6 weeks." });

    private static async Task<string> StatusAsync(CareWorkflowsApp app, string reference) => (await app.InstanceAsync(reference)).GetProperty("status").GetString()!;

    [Fact]
    public async Task Concern_sent_on_Wed_23_Dec_2026_with_7_working_days_is_due_at_the_end_of_Wed_6_Jan_2027()
    {
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2026, 12, 23, 10, 0));
        var r = await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns", Concern());
        Assert.Equal(HttpStatusCode.Created, r.Status);
        Assert.Equal("2027-01-06T23:59:59.999Z", r.Str("dueAt"));
        Assert.Equal("23:59 on Wed 6 Jan 2027", r.Str("dueLocal"));
        var timers = await app.TimersAsync(r.Str("reference"));
        Assert.Equal("2027-01-04T09:00:00Z", timers["reminder"]); // two working days before Wed 6 Jan: Mon 4 Jan
        Assert.Equal("2027-01-06T23:59:59.999Z", timers["overdue"]);
        var request = Assert.Single(await app.SentAsync(r.Str("reference"), ProviderEmail));
        Assert.Contains("23:59 on Wed 6 Jan 2027", request.Body);
        Assert.Single(request.Links);
    }

    [Fact]
    public async Task End_of_day_cut_off_comes_from_Calendar_EndOfDay()
    {
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2026, 12, 23, 10, 0), settings: new Dictionary<string, string?> { ["Calendar:EndOfDay"] = "17:00" });
        var r = await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns", Concern());
        Assert.Equal("2027-01-06T17:00:00Z", r.Str("dueAt"));
    }

    [Theory]
    [MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Reminder_two_working_days_before_then_contract_compliance_when_overdue_then_QA_lead_after_a_further_working_day(string store)
    {
        // Tue 24 Nov 2026, 3 working days → due end of Fri 27 Nov. Reminder Wed 25 Nov 09:00. QA lead: end of Mon 30 Nov.
        await using var app = new CareWorkflowsApp(store, settings: new Dictionary<string, string?> { ["Providers:SeedDemo"] = "true" });
        var reference = await RaiseAsync(app, days: 3);
        var timers = await app.TimersAsync(reference);
        Assert.Equal("2026-11-25T09:00:00Z", timers["reminder"]);
        Assert.Equal("2026-11-27T23:59:59.999Z", timers["overdue"]);

        await app.AdvanceToAsync(Instant.FromUtc(2026, 11, 25, 8, 59));
        Assert.DoesNotContain(await app.SentAsync(reference), m => m.Purpose == "reminder");
        await app.AdvanceToAsync(Instant.FromUtc(2026, 11, 25, 9, 1));
        Assert.Single(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "reminder");

        await app.AdvanceToAsync(Instant.FromUtc(2026, 11, 27, 23, 0));
        Assert.DoesNotContain(await app.SentAsync(reference), m => m.Purpose == "overdue-escalation");
        await app.AdvanceToAsync(Instant.FromUtc(2026, 11, 28, 0, 1));
        Assert.Single(await app.SentAsync(reference, Compliance), m => m.Purpose == "overdue-escalation");
        Assert.Single(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "overdue");
        Assert.Equal("2026-11-30T23:59:59.999Z", (await app.TimersAsync(reference))["overdue-qa-lead"]);

        // The weekend is not a working day: nothing for the QA lead until the end of Monday.
        await app.AdvanceToAsync(Instant.FromUtc(2026, 11, 30, 23, 0));
        Assert.Empty(await app.SentAsync(reference, QaLead));
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 1, 0, 1));
        Assert.Single(await app.SentAsync(reference, QaLead), m => m.Purpose == "overdue-qa-lead");
        Assert.Equal(["ConcernRaised", "ReminderSent", "ResponseOverdue", "OverdueEscalatedToQaLead"], await app.DecisionsAsync(reference));

        // A late response still counts, is marked late, and those escalated hear that it came.
        Assert.Equal(HttpStatusCode.OK, (await RespondAsync(app, reference)).Status);
        Assert.True((await app.InstanceAsync(reference)).GetProperty("state").GetProperty("responseLate").GetBoolean());
        Assert.Contains(await app.SentAsync(reference, QaLead), m => m.Purpose == "overdue-answered");
    }

    [Fact]
    public async Task Provider_responds_through_the_signed_link_and_the_QA_team_is_told()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        var link = Assert.Single(Assert.Single(await app.SentAsync(reference, ProviderEmail)).Links);
        var path = new Uri(link).PathAndQuery;

        var page = await app.Anonymous().GetAsync(path, TestContext.Current.CancellationToken);
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("name=\"investigation\"", html);
        Assert.Contains("name=\"issueFound\"", html);
        Assert.Contains("name=\"actions\"", html);

        var bad = await app.Anonymous().PostJsonAsync(path, new Dictionary<string, string> { ["investigation"] = "Looked", ["issueFound"] = "maybe" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.Status);
        var ok = await app.Anonymous().PostJsonAsync(path, new Dictionary<string, string> { ["investigation"] = "Call logs reviewed", ["issueFound"] = "no" });
        Assert.True(ok.Status == HttpStatusCode.OK, ok.ToString());
        Assert.Equal("AwaitingDecision", await StatusAsync(app, reference));
        Assert.Single(await app.SentAsync(reference, "quality-assurance@council.example"), m => m.Purpose == "response-received");
        Assert.Empty((await app.InstanceAsync(reference)).GetProperty("timers").EnumerateArray());
        Assert.Equal(HttpStatusCode.Conflict, (await app.Anonymous().PostJsonAsync(path, new Dictionary<string, string> { ["investigation"] = "again", ["issueFound"] = "no" })).Status);
    }

    [Fact]
    public async Task Due_date_can_be_extended_with_a_reason_and_the_reminder_and_escalation_move_with_it()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app, days: 3); // due Fri 27 Nov
        var r = await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/quality-concerns/{reference}/due-date",
            new { dueDate = "2026-12-04", reason = "Provider's registered manager on leave; agreed by phone." });
        Assert.True(r.Status == HttpStatusCode.OK, r.ToString());
        var timers = await app.TimersAsync(reference);
        Assert.Equal("2026-12-04T23:59:59.999Z", timers["overdue"]);
        Assert.Equal("2026-12-02T09:00:00Z", timers["reminder"]);
        var changed = (await app.InstanceAsync(reference)).GetProperty("timeline").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "DueDateChanged");
        Assert.Contains("Reason: Provider's registered manager on leave; agreed by phone.", changed.GetProperty("data").GetProperty("text").GetString());
        Assert.Contains(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "due-date-changed" && m.Body.Contains("Fri 4 Dec 2026"));

        await app.AdvanceToAsync(Instant.FromUtc(2026, 11, 30, 12, 0)); // past the old deadline
        Assert.DoesNotContain(await app.SentAsync(reference), m => m.Purpose == "overdue-escalation");

        // Shortened by working days from the day it was sent (Tue 24 Nov + 5 → Tue 1 Dec).
        var shorter = await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/quality-concerns/{reference}/due-date", new { workingDays = 5, reason = "Second complaint received." });
        Assert.Equal(HttpStatusCode.OK, shorter.Status);
        Assert.Equal("2026-12-01T23:59:59.999Z", (await app.TimersAsync(reference))["overdue"]);
    }

    [Fact]
    public async Task Bad_due_date_changes_are_refused_and_nothing_changes()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        var before = await app.InstanceAsync(reference);
        var qa = app.As(Roles.QualityAssurance);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await qa.PostJsonAsync($"/api/quality-concerns/{reference}/due-date", new { dueDate = "2026-12-04" })).Status); // no reason
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await qa.PostJsonAsync($"/api/quality-concerns/{reference}/due-date", new { dueDate = "2026-12-05", reason = "r" })).Status); // Saturday
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await qa.PostJsonAsync($"/api/quality-concerns/{reference}/due-date", new { dueDate = "2026-11-23", reason = "r" })).Status); // past
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await qa.PostJsonAsync($"/api/quality-concerns/{reference}/due-date", new { dueDate = "2026-12-04", workingDays = 3, reason = "r" })).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await qa.PostJsonAsync($"/api/quality-concerns/{reference}/due-date", new { dueDate = "4/12/2026", reason = "r" })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/quality-concerns/{reference}/due-date", new { workingDays = 20, reason = "r" })).Status);
        Assert.Equal(before.GetProperty("version").GetInt64(), (await app.InstanceAsync(reference)).GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task Response_by_another_provider_and_decision_before_a_response_are_refused_and_nothing_changes()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        var before = await app.InstanceAsync(reference);

        var other = await RespondAsync(app, reference, provider: "east-orchard-lane");
        Assert.Equal(HttpStatusCode.Forbidden, other.Status);
        var early = await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/quality-concerns/{reference}/decision", new { outcome = "Accepted", reason = "Fine" });
        Assert.Equal(HttpStatusCode.Conflict, early.Status);
        Assert.Contains("response", early.Body.GetProperty("detail").GetString());
        var noActions = await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/quality-concerns/{reference}/response", new { investigation = "Looked", issueFound = true });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noActions.Status);
        Assert.True(noActions.Body.GetProperty("errors").TryGetProperty("actions", out _));

        var after = await app.InstanceAsync(reference);
        Assert.Equal(before.GetProperty("version").GetInt64(), after.GetProperty("version").GetInt64());
        Assert.Equal("AwaitingResponse", after.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Bad_concerns_are_refused_with_clear_problems()
    {
        await using var app = new CareWorkflowsApp();
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Brokerage).PostJsonAsync("/api/quality-concerns", Concern())).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, Provider).PostJsonAsync("/api/quality-concerns", Concern())).Status);
        var missing = await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns", new { });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.Status);
        var errors = missing.Body.GetProperty("errors");
        Assert.True(errors.TryGetProperty("providerId", out _) && errors.TryGetProperty("concern", out _));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns", Concern(days: 0))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await app.As(Roles.QualityAssurance).PostRawAsync("/api/quality-concerns", "[1,2")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Provider, Provider).PostJsonAsync("/api/quality-concerns/QC-ZZZZZ/response", new { investigation = "x", issueFound = false })).Status);
        Assert.Equal(0, (await app.As(Roles.Admin).GetJsonAsync("/api/instances?type=QC")).Body.GetArrayLength());
    }

    [Fact]
    public async Task Action_plan_required_sets_a_10_working_day_deadline_with_the_same_reminder_and_escalation()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        await RespondAsync(app, reference);
        // Decided on Tue 24 Nov: 10 working days → end of Tue 8 Dec. Reminder Fri 4 Dec 09:00.
        var d = await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/quality-concerns/{reference}/decision",
            new { outcome = "ActionPlanRequired", reason = "Actions lack timescales for the medication audit." });
        Assert.True(d.Status == HttpStatusCode.OK, d.ToString());
        Assert.Equal("AwaitingActionPlan", d.Str("status"));
        var timers = await app.TimersAsync(reference);
        Assert.Equal("2026-12-08T23:59:59.999Z", timers["overdue"]);
        Assert.Equal("2026-12-04T09:00:00Z", timers["reminder"]);
        var decision = Assert.Single(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "decision");
        Assert.Contains("action plan", decision.Body);

        // The plan is awaited now, not another response.
        Assert.Equal(HttpStatusCode.Conflict, (await RespondAsync(app, reference)).Status);

        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 9, 0, 1));
        Assert.Contains(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "reminder");
        var overdue = Assert.Single(await app.SentAsync(reference, Compliance), m => m.Purpose == "overdue-escalation");
        Assert.Contains("action plan", overdue.Subject);
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 10, 0, 1)); // end of Wed 9 Dec
        Assert.Single(await app.SentAsync(reference, QaLead), m => m.Purpose == "overdue-qa-lead");

        var plan = await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/quality-concerns/{reference}/action-plan", new { plan = "1. Rota fix by 14 Dec (manager). 2. Weekly MAR audit to 31 Jan." });
        Assert.Equal("AwaitingDecision", plan.Str("status"));
        var accepted = await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/quality-concerns/{reference}/decision", new { outcome = "Accepted", reason = "Plan is specific and timed." });
        Assert.Equal("Closed", accepted.Str("status"));
        Assert.True((await app.InstanceAsync(reference)).GetProperty("completed").GetBoolean());
    }

    [Fact]
    public async Task Default_notice_and_safeguarding_referral_go_to_contract_compliance_and_the_safeguarding_lead()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        await RespondAsync(app, reference);
        var bad = await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/quality-concerns/{reference}/decision", new { outcomes = new[] { "Accepted", "DefaultNotice" }, reason = "x" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.Status);
        var unknown = await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/quality-concerns/{reference}/decision", new { outcome = "Fine", reason = "x" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.Status);

        var d = await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/quality-concerns/{reference}/decision",
            new { outcomes = new[] { "DefaultNotice", "SafeguardingReferral" }, reason = "Missed medication caused harm; breach of clause 11." });
        Assert.Equal("Closed", d.Str("status"));
        Assert.Single(await app.SentAsync(reference, Compliance), m => m.Purpose == "default-notice");
        Assert.Single(await app.SentAsync(reference, "safeguarding-lead@council.example"), m => m.Purpose == "safeguarding-referral");
        Assert.Single(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "decision");
        Assert.Equal(HttpStatusCode.Conflict, (await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/quality-concerns/{reference}/decision", new { outcome = "Accepted", reason = "x" })).Status);
    }

    [Fact]
    public async Task The_provider_comes_from_the_directory_and_an_unknown_id_is_refused_on_providerId()
    {
        await using var app = new CareWorkflowsApp();
        var qa = app.As(Roles.QualityAssurance);

        // A name and email in the body are not the provider's contact: the directory's are.
        var r = await qa.PostJsonAsync("/api/quality-concerns", new { providerId = Provider, providerName = "Someone Else", providerEmail = "attacker@elsewhere.example", concern = "Late calls." });
        Assert.Equal(HttpStatusCode.Created, r.Status);
        var sent = await app.SentAsync(r.Str("reference"));
        Assert.Contains(sent, m => m.To == ProviderEmail && m.Purpose == "request" && m.Body.Contains("Kestrel Home Support"));
        Assert.DoesNotContain(sent, m => m.To == "attacker@elsewhere.example");

        var unknown = await qa.PostJsonAsync("/api/quality-concerns", new { providerId = "prov-made-up", concern = "Late calls." });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.Status);
        Assert.Contains("prov-made-up", unknown.Body.GetProperty("errors").GetProperty("providerId")[0].GetString());
        Assert.Equal(1, (await app.As(Roles.Admin).GetJsonAsync("/api/instances?type=QC")).Body.GetArrayLength());
    }

    [Theory]
    [InlineData("9999-12-31")]
    [InlineData("0001-01-01")]
    [InlineData("2028-12-29")] // a working day, but more than a year ahead: refused before the calendar is asked
    public async Task A_due_date_far_in_the_future_or_the_past_is_refused_with_422_naming_dueDate_and_nothing_changes(string dueDate)
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        var before = await app.InstanceAsync(reference);

        var r = await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/quality-concerns/{reference}/due-date", new { dueDate, reason = "Typing error" });

        Assert.True(r.Status == HttpStatusCode.UnprocessableEntity, r.ToString());
        Assert.True(r.Body.GetProperty("errors").TryGetProperty("dueDate", out _), r.ToString());
        Assert.Equal(before.GetProperty("version").GetInt64(), (await app.InstanceAsync(reference)).GetProperty("version").GetInt64());
    }
}
