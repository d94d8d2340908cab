using System.Net;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;
using static CareWorkflows.Tests.Visits.VisitsTestKit;

namespace CareWorkflows.Tests.Visits;

/// <summary>No reply at the door end to end (B Appendix E; X 21.3): who is told, by the council's calendar and UK time.</summary>
public sealed class NoReplyTests
{
    private static async Task<string> ReportAsync(CareWorkflowsApp app, string visitId, string? at = null)
    {
        var r = await Desk(app).PostJsonAsync("/api/no-replies", new { visitId, personId = "LBB-104233", at, note = "Curtains closed, no answer at the door" });
        Assert.True(r.Status == HttpStatusCode.Created, r.ToString());
        return r.Str("reference");
    }

    private static async Task<string> ToldAsync(CareWorkflowsApp app, string reference) =>
        Assert.Single(await app.SentAsync(reference), m => m.Purpose == "no-reply" && m.Channel == "email").To;

    [Fact]
    public async Task The_council_contact_follows_working_hours_the_17_00_to_17_30_slot_bank_holidays_and_the_clock_change()
    {
        // Friday 27 March 2026 16:10 UTC is 16:10 GMT: the duty care manager.
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2026, 3, 27, 16, 10), settings: Settings());
        Assert.Equal(Duty, await ToldAsync(app, await ReportAsync(app, "V-1")));
        // Sunday 29 March: the weekend, the Emergency Duty Team.
        await app.AdvanceToAsync(Instant.FromUtc(2026, 3, 29, 11, 0));
        Assert.Equal(Edt, await ToldAsync(app, await ReportAsync(app, "V-2")));
        // Monday 30 March 16:10 UTC is 17:10 BST: Social Services Direct.
        await app.AdvanceToAsync(Instant.FromUtc(2026, 3, 30, 16, 10));
        Assert.Equal(Ssd, await ToldAsync(app, await ReportAsync(app, "V-3")));
        // 16:31 UTC is 17:31 BST: outside council hours.
        await app.AdvanceToAsync(Instant.FromUtc(2026, 3, 30, 16, 31));
        Assert.Equal(Edt, await ToldAsync(app, await ReportAsync(app, "V-4")));
        // Good Friday (3 April) and Easter Monday (6 April) are bank holidays: the Emergency Duty Team at 10:00 and at 17:15.
        await app.AdvanceToAsync(London(2026, 4, 3, 10, 0));
        Assert.Equal(Edt, await ToldAsync(app, await ReportAsync(app, "V-5")));
        await app.AdvanceToAsync(London(2026, 4, 6, 17, 15));
        Assert.Equal(Edt, await ToldAsync(app, await ReportAsync(app, "V-6")));
        // Tuesday 7 April 17:15 BST: Social Services Direct again; the care manager is emailed every time.
        await app.AdvanceToAsync(London(2026, 4, 7, 17, 15));
        var last = await ReportAsync(app, "V-7");
        Assert.Equal(Ssd, await ToldAsync(app, last));
        Assert.Single(await app.SentAsync(last, CareManager));
        Assert.Equal(["CouncilTold"], (await app.DecisionsAsync(last)));
    }

    [Fact]
    public async Task No_outcome_in_the_hour_tells_the_safeguarding_lead_and_not_located_tells_it_at_once()
    {
        await using var app = new CareWorkflowsApp(start: London(2026, 11, 24, 10, 0), settings: Settings());
        var slow = await ReportAsync(app, "V-10");
        var lost = await ReportAsync(app, "V-11");
        var desk = Desk(app);

        Assert.Equal(HttpStatusCode.OK, (await desk.PostJsonAsync($"/api/no-replies/{slow}/checks", new { checks = new[] { "Letterbox", "Windows", "Neighbours" } })).Status);
        Assert.Equal(HttpStatusCode.OK, (await desk.PostJsonAsync($"/api/no-replies/{lost}/outcome", new { outcome = "NotLocated", checks = new[] { "Hospitals", "NextOfKin" } })).Status);
        Assert.Single(await app.SentAsync(lost, Safeguarding), m => m.Purpose == "no-reply-safeguarding");
        Assert.Equal("NotLocated", (await app.InstanceAsync(lost)).GetProperty("status").GetString());

        await app.AdvanceToAsync(London(2026, 11, 24, 10, 59));
        Assert.Empty(await app.SentAsync(slow, Safeguarding));
        await app.AdvanceToAsync(London(2026, 11, 24, 11, 1));
        Assert.Single(await app.SentAsync(slow, Safeguarding), m => m.Purpose == "no-reply-safeguarding");
        Assert.Equal(HttpStatusCode.OK, (await desk.PostJsonAsync($"/api/no-replies/{slow}/outcome", new { outcome = "FoundSafe", at = "11:00" })).Status);
        Assert.Equal(["CouncilTold", "ChecksRecorded", "OutcomeOverdue", "OutcomeRecorded"], await app.DecisionsAsync(slow));
        Assert.Contains(await app.SentAsync(slow, Duty), m => m.Purpose == "no-reply-outcome");

        var kpis = await app.As(Roles.SafeguardingLead).GetJsonAsync("/api/kpis/visits?from=2026-11-24&to=2026-11-24");
        var figures = kpis.Body.GetProperty("figures").EnumerateArray().ToDictionary(f => f.GetProperty("key").GetString()!, f => (f.GetProperty("met").GetInt32(), f.GetProperty("of").GetInt32()));
        Assert.Equal((1, 2), figures["no-reply-outcome-in-hour"]);
        Assert.Equal((1, 2), figures["no-reply-notlocated"]);
    }

    [Fact]
    public async Task Bad_reports_are_refused_naming_the_field_and_start_nothing()
    {
        await using var app = new CareWorkflowsApp(start: London(2026, 11, 24, 10, 0), settings: Settings());
        var desk = Desk(app);
        var name = await desk.PostJsonAsync("/api/no-replies", new { visitId = "V-1", personId = "Mary Smith" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, name.Status);
        Assert.True(name.Body.GetProperty("errors").TryGetProperty("personId", out _), name.ToString());
        var time = await desk.PostJsonAsync("/api/no-replies", new { visitId = "V-1", personId = "LBB-1", at = "half past" });
        Assert.True(time.Body.GetProperty("errors").TryGetProperty("at", out _), time.ToString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await desk.PostJsonAsync("/api/no-replies", new { visitId = "V-1", personId = "LBB-1", at = "2026-11-24T11:30:00Z" })).Status); // future
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await desk.PostJsonAsync("/api/no-replies", new { visitId = "V-1", personId = "LBB-1", providerId = "west-wren" })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.CareManager).PostJsonAsync("/api/no-replies", new { visitId = "V-1", personId = "LBB-1" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await desk.PostRawAsync("/api/no-replies", "{\"visitId\": ")).Status);
        Assert.Equal(0, await InstanceCountAsync(app, "NR"));
        Assert.Empty(await app.SentAsync());

        var reference = await ReportAsync(app, "V-2");
        var outcome = await desk.PostJsonAsync($"/api/no-replies/{reference}/outcome", new { outcome = "Fine" });
        Assert.True(outcome.Body.GetProperty("errors").TryGetProperty("outcome", out _), outcome.ToString());
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, "west-wren").PostJsonAsync($"/api/no-replies/{reference}/checks", new { checks = new[] { "Letterbox" } })).Status);
    }
}
