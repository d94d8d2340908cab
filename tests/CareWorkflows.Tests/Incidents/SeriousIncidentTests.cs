using System.Net;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Tests.Incidents;

public sealed class SeriousIncidentTests
{
    private const string Provider = "prov-1";
    private const string Safeguarding = "safeguarding-lead@council.example";
    private const string Compliance = "contract-compliance@council.example";
    private const string ProviderEmail = "manager@homecare.example";

    private static object Report(string occurredAt, string? becameAwareAt = null, string category = "SafeguardingAlert") => new
    {
        category,
        occurredAt,
        becameAwareAt = becameAwareAt ?? occurredAt,
        description = "Bruising found on arm during morning call; person says a visitor grabbed them.",
        parties = "Carer A; visitor (family friend)",
        emergencyServicesInvolved = false,
        immediateAction = "Photographed, GP informed, visitor asked to leave.",
        furtherAction = "Safeguarding referral; review of visit notes.",
        serviceUserGroup = "Older people",
        serviceUserId = "LBB-123456",
        serviceUserName = "Test Person",
        providerName = "Homecare Ltd",
        contactEmail = ProviderEmail,
    };

    private static string Iso(Instant i) => InstantPattern.ExtendedIso.Format(i);

    private static async Task<string> ReportAsync(CareWorkflowsApp app, object report)
    {
        var r = await app.As(Roles.Provider, Provider).PostJsonAsync("/api/incidents", report);
        Assert.True(r.Status == HttpStatusCode.Created, r.ToString());
        return r.Str("reference");
    }

    [Fact]
    public async Task Full_report_is_due_48_hours_after_an_incident_at_20_00_BST_on_Sat_24_Oct_2026_which_is_19_00_GMT_on_Mon_26_Oct()
    {
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2026, 10, 24, 19, 30)); // 20:30 BST
        var r = await app.As(Roles.Provider, Provider).PostJsonAsync("/api/incidents", Report("2026-10-24T20:00:00+01:00"));
        Assert.Equal(HttpStatusCode.Created, r.Status);
        Assert.Equal("2026-10-26T19:00:00Z", r.Str("fullReportDueAt"));
        Assert.Equal("19:00 on Mon 26 Oct 2026", r.Str("fullReportDueLocal"));
        Assert.False(r.Body.GetProperty("reportedLate").GetBoolean());
        var timers = await app.TimersAsync(r.Str("reference"));
        Assert.Equal("2026-10-26T19:00:00Z", timers["full-report-overdue"]);

        // One minute before: nothing overdue. One minute after: escalated.
        await app.AdvanceToAsync(Instant.FromUtc(2026, 10, 26, 18, 59));
        Assert.DoesNotContain(await app.SentAsync(r.Str("reference")), m => m.Purpose == "full-report-overdue");
        await app.AdvanceToAsync(Instant.FromUtc(2026, 10, 26, 19, 1));
        Assert.Contains(await app.SentAsync(r.Str("reference")), m => m.Purpose == "full-report-overdue");
    }

    [Fact]
    public async Task Safeguarding_incident_alerts_the_safeguarding_lead_at_once_and_other_categories_do_not()
    {
        await using var app = new CareWorkflowsApp();
        var now = app.Now;
        var safeguarding = await ReportAsync(app, Report(Iso(now - Duration.FromHours(1))));
        var alert = Assert.Single(await app.SentAsync(safeguarding, Safeguarding));
        Assert.Equal("safeguarding-alert", alert.Purpose);
        Assert.Contains("LBB-123456", alert.Body);
        Assert.DoesNotContain("Test Person", alert.Body); // the service user by id only

        var delivery = await ReportAsync(app, Report(Iso(now - Duration.FromHours(1)), category: "ServiceDeliveryCompromised"));
        Assert.Empty(await app.SentAsync(delivery, Safeguarding));
        Assert.Contains(await app.SentAsync(delivery, Compliance), m => m.Purpose == "incident-reported");
    }

    [Fact]
    public async Task A_retried_report_with_the_same_idempotency_key_records_one_incident()
    {
        await using var app = new CareWorkflowsApp();
        var client = app.As(Roles.Provider, Provider);
        client.DefaultRequestHeaders.Add("Idempotency-Key", "report-7f3a");
        var body = Report(Iso(app.Now - Duration.FromHours(1)));
        var first = await client.PostJsonAsync("/api/incidents", body);
        var second = await client.PostJsonAsync("/api/incidents", body);
        Assert.Equal(first.Str("reference"), second.Str("reference"));
        Assert.Equal(1, (await app.As(Roles.Admin).GetJsonAsync("/api/instances?type=SI")).Body.GetArrayLength());
        Assert.Single(await app.SentAsync(first.Str("reference"), Safeguarding));
    }

    [Fact]
    public async Task Hospital_admission_is_told_to_the_brokerage_team_at_once()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await ReportAsync(app, Report(Iso(app.Now - Duration.FromHours(2)), category: "EmergencyHospitalAdmission"));
        Assert.Contains(await app.SentAsync(reference, "brokerage-duty@council.example"), m => m.Purpose == "brokerage-notice");
    }

    [Fact]
    public async Task Initial_report_more_than_12_hours_after_the_incident_is_recorded_late_and_escalated_at_once()
    {
        await using var app = new CareWorkflowsApp();
        var r = await app.As(Roles.Provider, Provider).PostJsonAsync("/api/incidents",
            Report(Iso(app.Now - Duration.FromHours(13)), Iso(app.Now - Duration.FromHours(2)), category: "ServiceDeliveryCompromised"));
        Assert.Equal(HttpStatusCode.Created, r.Status);
        Assert.True(r.Body.GetProperty("reportedLate").GetBoolean());
        var reference = r.Str("reference");
        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        Assert.True(state.GetProperty("reportedLate").GetBoolean());
        // KPI (App C 5.2) counts from becoming aware: 2 h, so within 12 h of awareness.
        Assert.True(state.GetProperty("reportedWithinTwelveHoursOfAwareness").GetBoolean());
        Assert.Contains(await app.SentAsync(reference, Safeguarding), m => m.Purpose == "late-report-escalation");
        Assert.Contains(await app.SentAsync(reference, Compliance), m => m.Purpose == "late-report-escalation");

        var onTime = await app.As(Roles.Provider, Provider).PostJsonAsync("/api/incidents", Report(Iso(app.Now - Duration.FromHours(11)), category: "ServiceDeliveryCompromised"));
        Assert.False(onTime.Body.GetProperty("reportedLate").GetBoolean());
        Assert.DoesNotContain(await app.SentAsync(onTime.Str("reference")), m => m.Purpose == "late-report-escalation");
    }

    [Theory]
    [MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Overdue_full_report_is_escalated_to_safeguarding_lead_and_contract_compliance_and_repeated_until_received(string store)
    {
        await using var app = new CareWorkflowsApp(store);
        var occurred = app.Now - Duration.FromHours(1);
        var reference = await ReportAsync(app, Report(Iso(occurred)));
        var due = occurred + Duration.FromHours(48);

        await app.AdvanceToAsync(due - Duration.FromHours(11)); // reminder 12 h before
        var reminder = Assert.Single(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "full-report-reminder");
        Assert.Contains("/l/", reminder.Body);
        Assert.Empty((await app.SentAsync(reference)).Where(m => m.Purpose == "full-report-overdue"));

        await app.AdvanceToAsync(due + Duration.FromMinutes(1));
        var overdue = (await app.SentAsync(reference)).Where(m => m.Purpose == "full-report-overdue").ToList();
        Assert.Equal([Compliance, Safeguarding], overdue.Select(m => m.To).Order());
        Assert.Contains(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "full-report-chaser");

        await app.AdvanceAsync(Duration.FromHours(24)); // repeats
        Assert.Equal(4, (await app.SentAsync(reference)).Count(m => m.Purpose == "full-report-overdue"));

        var sent = await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/incidents/{reference}/full-report",
            new { details = "Full account", actionsTaken = "Referral made; carer supervision" });
        Assert.Equal(HttpStatusCode.OK, sent.Status);
        Assert.Equal("Open", sent.Str("status"));
        await app.AdvanceAsync(Duration.FromHours(72));
        Assert.Equal(4, (await app.SentAsync(reference)).Count(m => m.Purpose == "full-report-overdue"));
        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        Assert.True(state.GetProperty("fullReportLate").GetBoolean());
    }

    [Fact]
    public async Task Full_report_can_be_sent_through_the_signed_link_in_the_acknowledgement()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await ReportAsync(app, Report(Iso(app.Now - Duration.FromHours(1))));
        var ack = Assert.Single(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "acknowledgement");
        var link = ack.Body.Split('\n').First(l => l.Contains("/l/")).Trim();
        var r = await app.Anonymous().PostJsonAsync(new Uri(link).PathAndQuery, new Dictionary<string, string> { ["details"] = "What happened", ["actionsTaken"] = "Actions" });
        Assert.True(r.Status == HttpStatusCode.OK, r.ToString());
        Assert.Equal("Open", (await app.InstanceAsync(reference)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Status_update_can_be_sent_through_the_signed_link_and_a_blank_one_is_refused()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await ReportAsync(app, Report(Iso(app.Now - Duration.FromHours(1))));
        var request = Assert.Single(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "update-request");
        var path = new Uri(request.Body.Split('\n').Last(l => l.Contains("/l/")).Trim()).PathAndQuery;
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.Anonymous().PostJsonAsync(path, new Dictionary<string, string> { ["text"] = " " })).Status);
        var ok = await app.Anonymous().PostJsonAsync(path, new Dictionary<string, string> { ["text"] = "Police have taken statements." });
        Assert.True(ok.Status == HttpStatusCode.OK, ok.ToString());
        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        Assert.Equal(1, state.GetProperty("updatesReceived").GetInt32());
    }

    [Fact]
    public async Task Missed_status_update_is_escalated_and_an_update_in_time_is_not()
    {
        // Tue 24 Nov 2026 09:00: updates every 5 working days → due by the end of Tue 1 Dec.
        await using var app = new CareWorkflowsApp();
        var reference = await ReportAsync(app, Report(Iso(app.Now - Duration.FromHours(1))));
        Assert.Equal("2026-12-01T23:59:59.999Z", (await app.TimersAsync(reference))["update-due"]);
        await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/incidents/{reference}/full-report", new { details = "d", actionsTaken = "a" });

        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 1, 23, 0));
        Assert.DoesNotContain(await app.SentAsync(reference), m => m.Purpose == "update-missed");
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 2, 0, 1));
        var missed = (await app.SentAsync(reference)).Where(m => m.Purpose == "update-missed").Select(m => m.To).Order().ToList();
        Assert.Equal([Compliance, Safeguarding], missed);
        Assert.Contains("UpdateMissed", await app.TimelineAsync(reference));
        // The miss is recorded at the end of Tue 1 Dec; the next is due 5 working days later: Tue 8 Dec.
        Assert.Equal("2026-12-08T23:59:59.999Z", (await app.TimersAsync(reference))["update-due"]);

        // An update on Mon 7 Dec moves the next due date to Mon 14 Dec; nothing is escalated on 8 Dec.
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 7, 10, 0));
        var u = await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/incidents/{reference}/updates", new { text = "Police statement taken; carer retrained." });
        Assert.Equal(HttpStatusCode.OK, u.Status);
        Assert.Equal("2026-12-14T23:59:59.999Z", (await app.TimersAsync(reference))["update-due"]);
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 10, 9, 0));
        Assert.Equal(2, (await app.SentAsync(reference)).Count(m => m.Purpose == "update-missed"));
    }

    [Fact]
    public async Task Update_cadence_and_reminder_come_from_policy_settings()
    {
        await using var app = new CareWorkflowsApp(settings: new Dictionary<string, string?>
        {
            ["Policy:Incidents:UpdateWorkingDays"] = "2",
            ["Policy:Incidents:FullReportReminderBefore"] = "PT6H",
        });
        var occurred = app.Now - Duration.FromHours(1);
        var reference = await ReportAsync(app, Report(Iso(occurred)));
        var timers = await app.TimersAsync(reference);
        Assert.Equal("2026-11-26T23:59:59.999Z", timers["update-due"]); // Tue 24 Nov + 2 working days
        Assert.Equal(Iso(occurred + Duration.FromHours(42)), timers["full-report-reminder"]);
    }

    [Fact]
    public async Task Council_escalates_to_s42_enquiry_and_CQC_with_its_reason_on_the_timeline()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await ReportAsync(app, Report(Iso(app.Now - Duration.FromHours(1))));
        var r = await app.As(Roles.SafeguardingLead).PostJsonAsync($"/api/incidents/{reference}/escalate",
            new { to = new[] { "s42", "Cqc" }, reason = "Pattern of unexplained bruising across two visits." });
        Assert.True(r.Status == HttpStatusCode.OK, r.ToString());
        Assert.Equal("Escalated", r.Str("status"));
        var instance = await app.InstanceAsync(reference);
        var timeline = instance.GetProperty("timeline").EnumerateArray().ToList();
        var decided = timeline.Single(x => x.GetProperty("type").GetString() == "IncidentEscalated");
        Assert.Contains("Reason: Pattern of unexplained bruising across two visits.", decided.GetProperty("data").GetProperty("text").GetString());
        var input = timeline.Single(x => x.GetProperty("type").GetString() == "Escalate");
        Assert.Equal("Pattern of unexplained bruising across two visits.", input.GetProperty("data").GetProperty("data").GetProperty("reason").GetString());
        Assert.Equal("test-safeguardinglead", input.GetProperty("actorId").GetString());
        Assert.Empty(instance.GetProperty("timers").EnumerateArray());
        Assert.Contains(await app.SentAsync(reference, Safeguarding), m => m.Purpose == "escalation-safeguardingenquiry");
        Assert.Contains(await app.SentAsync(reference, "cqc-liaison@council.example"), m => m.Purpose == "escalation-cqc");

        // Ended: no more updates, no second decision.
        Assert.Equal(HttpStatusCode.Conflict, (await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/incidents/{reference}/updates", new { text = "x" })).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await app.As(Roles.SafeguardingLead).PostJsonAsync($"/api/incidents/{reference}/close", new { reason = "x" })).Status);
    }

    [Fact]
    public async Task Council_closes_an_incident_with_its_reason_and_the_provider_is_told()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await ReportAsync(app, Report(Iso(app.Now - Duration.FromHours(1)), category: "ServiceDeliveryCompromised"));
        var r = await app.As(Roles.QualityAssurance).PostJsonAsync($"/api/incidents/{reference}/close", new { reason = "Staffing restored; no harm." });
        Assert.Equal("Closed", r.Str("status"));
        Assert.Contains("IncidentClosed", await app.TimelineAsync(reference));
        Assert.Contains(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "closed" && m.Body.Contains("Staffing restored"));
    }

    public static TheoryData<string, object, HttpStatusCode> BadReports()
    {
        var now = CareWorkflowsApp.DefaultStart;
        return new()
        {
            { "occurred in the future", Report(Iso(now + Duration.FromHours(2))), HttpStatusCode.UnprocessableEntity },
            { "aware before occurred", Report(Iso(now - Duration.FromHours(2)), Iso(now - Duration.FromHours(3))), HttpStatusCode.UnprocessableEntity },
            { "unknown category", Report(Iso(now - Duration.FromHours(2)), category: "Burglary"), HttpStatusCode.UnprocessableEntity },
            { "numeric category", Report(Iso(now - Duration.FromHours(2)), category: "3"), HttpStatusCode.UnprocessableEntity },
            { "time without offset", Report("2026-11-24T08:00:00"), HttpStatusCode.UnprocessableEntity },
            { "missing fields", new { category = "SafeguardingAlert" }, HttpStatusCode.UnprocessableEntity },
        };
    }

    [Theory]
    [MemberData(nameof(BadReports))]
    public async Task Bad_report_is_refused_with_a_clear_problem_and_nothing_is_recorded(string why, object body, HttpStatusCode expected)
    {
        await using var app = new CareWorkflowsApp();
        var r = await app.As(Roles.Provider, Provider).PostJsonAsync("/api/incidents", body);
        Assert.True(r.Status == expected, $"{why}: {r}");
        Assert.False(string.IsNullOrEmpty(r.Body.GetProperty("detail").GetString()));
        var list = await app.As(Roles.Admin).GetJsonAsync("/api/instances?type=SI");
        Assert.Equal(0, list.Body.GetArrayLength());
        Assert.Empty(await app.SentAsync());
    }

    [Fact]
    public async Task Malformed_json_and_non_provider_users_are_refused()
    {
        await using var app = new CareWorkflowsApp();
        Assert.Equal(HttpStatusCode.BadRequest, (await app.As(Roles.Provider, Provider).PostRawAsync("/api/incidents", "{ not json")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.QualityAssurance).PostJsonAsync("/api/incidents", Report(Iso(app.Now)))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider).PostJsonAsync("/api/incidents", Report(Iso(app.Now)))).Status); // no provider id
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().PostJsonAsync("/api/incidents", Report(Iso(app.Now)))).Status);
        Assert.Equal(0, (await app.As(Roles.Admin).GetJsonAsync("/api/instances?type=SI")).Body.GetArrayLength());
    }

    [Fact]
    public async Task Another_provider_cannot_report_on_or_update_an_incident_and_nothing_changes()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await ReportAsync(app, Report(Iso(app.Now - Duration.FromHours(1))));
        var before = await app.InstanceAsync(reference);
        var other = app.As(Roles.Provider, "prov-2");
        Assert.Equal(HttpStatusCode.Forbidden, (await other.PostJsonAsync($"/api/incidents/{reference}/full-report", new { details = "d", actionsTaken = "a" })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await other.PostJsonAsync($"/api/incidents/{reference}/updates", new { text = "t" })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/incidents/{reference}/close", new { reason = "r" })).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.As(Roles.SafeguardingLead).PostJsonAsync($"/api/incidents/{reference}/close", new { reason = " " })).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.As(Roles.SafeguardingLead).PostJsonAsync($"/api/incidents/{reference}/escalate", new { to = new[] { "Police" }, reason = "r" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.SafeguardingLead).PostJsonAsync("/api/incidents/SI-NOPE1/close", new { reason = "r" })).Status);
        var after = await app.InstanceAsync(reference);
        Assert.Equal(before.GetProperty("version").GetInt64(), after.GetProperty("version").GetInt64());
        Assert.Equal(before.GetProperty("timeline").GetArrayLength(), after.GetProperty("timeline").GetArrayLength());

        await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/incidents/{reference}/full-report", new { details = "d", actionsTaken = "a" });
        Assert.Equal(HttpStatusCode.Conflict, (await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/incidents/{reference}/full-report", new { details = "d", actionsTaken = "a" })).Status);
    }

    private static Dictionary<string, object?> ReportWith(string occurredAt, string field, string value)
    {
        var body = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, object?>>(System.Text.Json.JsonSerializer.Serialize(Report(occurredAt)))!;
        body[field] = value;
        return body;
    }

    public static TheoryData<string, object, string> RefusedOnAField()
    {
        var now = CareWorkflowsApp.DefaultStart;
        var hourAgo = Iso(now - Duration.FromHours(1));
        return new()
        {
            // B 12.4 wants the report within 12 hours: dates like these are typing errors, not late reports.
            { "year 1", Report("0001-01-01T00:00:00Z"), "occurredAt" },
            { "1900", Report("1900-01-01T09:00:00+00:00"), "occurredAt" },
            { "more than a year ago", Report(Iso(now - Duration.FromDays(400))), "occurredAt" },
            // Council emails carry the facts with the service user by id only.
            { "the service user's name in the description", ReportWith(hourAgo, "description", "Test Person fell in the kitchen."), "description" },
            { "title and surname in the immediate action", ReportWith(hourAgo, "immediateAction", "Mrs Person was helped up and the GP called."), "immediateAction" },
            { "an NHS number in the parties", ReportWith(hourAgo, "parties", "Carer A; the person (NHS 943 476 5919)"), "parties" },
            // The API takes instants only: a UK local time without its offset is refused, including the ones BST makes
            // impossible (clocks forward, 29 Mar 2026 01:30 never happened) or ambiguous (clocks back, 25 Oct 2026 01:30 happened twice).
            { "a local time that does not exist", Report("2026-03-29T01:30:00"), "occurredAt" },
            { "an ambiguous local time", Report("2026-10-25T01:30:00"), "occurredAt" },
        };
    }

    [Theory]
    [MemberData(nameof(RefusedOnAField))]
    public async Task A_report_is_refused_with_422_naming_the_field_and_nothing_is_recorded(string why, object body, string field)
    {
        await using var app = new CareWorkflowsApp();
        var r = await app.As(Roles.Provider, Provider).PostJsonAsync("/api/incidents", body);
        Assert.True(r.Status == HttpStatusCode.UnprocessableEntity, $"{why}: {r}");
        Assert.True(r.Body.GetProperty("errors").TryGetProperty(field, out _), $"{why}: {r}");
        Assert.DoesNotContain("943 476 5919", r.Body.GetRawText()); // a refusal never repeats the data it refuses
        Assert.Equal(0, (await app.As(Roles.Admin).GetJsonAsync("/api/instances?type=SI")).Body.GetArrayLength());
        Assert.Empty(await app.SentAsync());
    }

    [Fact]
    public async Task An_offset_settles_the_hour_the_clocks_go_back_twice_over()
    {
        // 01:30 on Sun 25 Oct 2026 happened at 00:30 UTC (BST) and again at 01:30 UTC (GMT): the offset says which.
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2026, 10, 25, 3, 0));
        var bst = await app.As(Roles.Provider, Provider).PostJsonAsync("/api/incidents", Report("2026-10-25T01:30:00+01:00"));
        var gmt = await app.As(Roles.Provider, Provider).PostJsonAsync("/api/incidents", Report("2026-10-25T01:30:00+00:00"));
        Assert.Equal("2026-10-27T00:30:00Z", bst.Str("fullReportDueAt"));
        Assert.Equal("2026-10-27T01:30:00Z", gmt.Str("fullReportDueAt"));
    }

    [Fact]
    public async Task A_full_report_or_escalation_reason_naming_the_service_user_is_refused_and_changes_nothing()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await ReportAsync(app, Report(Iso(app.Now - Duration.FromHours(1))));
        var before = await app.InstanceAsync(reference);

        var full = await app.As(Roles.Provider, Provider).PostJsonAsync($"/api/incidents/{reference}/full-report",
            new { details = "Bruising seen on Test Person's arm.", actionsTaken = "GP visit." });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, full.Status);
        Assert.True(full.Body.GetProperty("errors").TryGetProperty("details", out _), full.ToString());
        var escalate = await app.As(Roles.SafeguardingLead).PostJsonAsync($"/api/incidents/{reference}/escalate",
            new { to = new[] { "Cqc" }, reason = "Pattern of bruising for Test Person." });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, escalate.Status);
        Assert.True(escalate.Body.GetProperty("errors").TryGetProperty("reason", out _), escalate.ToString());

        Assert.Equal(before.GetProperty("version").GetInt64(), (await app.InstanceAsync(reference)).GetProperty("version").GetInt64());
    }
}
