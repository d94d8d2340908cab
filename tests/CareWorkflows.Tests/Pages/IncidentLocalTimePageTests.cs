using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;

namespace CareWorkflows.Tests.Pages;

/// <summary>
/// The incident form takes UK local times (Europe/London). A time the clocks skipped (last Sunday of March, 01:00–02:00)
/// is refused with a clear message; a time that happened twice (last Sunday of October, 01:00–02:00) is asked about —
/// BST (the first) or GMT (the second) — and the chosen instant is what the workflow records.
/// </summary>
public sealed class IncidentLocalTimePageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<HttpResponseMessage> ReportAsync(HttpClient provider, string occurredAt, string? which = null)
    {
        var html = await provider.GetStringAsync("/incidents/new", Ct);
        var form = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PageHtml.Token(html), ["Input.FormId"] = Guid.NewGuid().ToString("N"),
            ["Input.Category"] = "WelfareConcern", ["Input.OccurredAt"] = occurredAt, ["Input.BecameAwareAt"] = "2026-11-01T09:00",
            ["Input.Description"] = "Found on the floor at the morning call.", ["Input.Parties"] = "Carer", ["Input.EmergencyServicesInvolved"] = "no",
            ["Input.ImmediateAction"] = "GP called", ["Input.FurtherAction"] = "Falls review", ["Input.ServiceUserGroup"] = "Older people",
            ["Input.ServiceUserId"] = "SU-1", ["Input.ContactEmail"] = "incidents@east-kestrel.example.org",
        };
        if (which is not null) form["Input.OccurredAtWhich"] = which;
        return await provider.PostAsync("/incidents/new", new FormUrlEncodedContent(form), Ct);
    }

    private static async Task<int> IncidentCountAsync(CareWorkflowsApp app) =>
        (await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/instances?type=SI", Ct)).GetArrayLength();

    [Fact]
    public async Task A_time_the_clocks_skipped_is_refused_with_a_clear_message_and_nothing_is_recorded()
    {
        await using var app = new CareWorkflowsApp();
        var r = await ReportAsync(app.As(Roles.Provider, "east-kestrel"), "2026-03-29T01:30");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
        var html = await r.Content.ReadAsStringAsync(Ct);
        var (target, text) = Assert.Single(PageHtml.Summary(html));
        Assert.Equal("occurredat", target);
        Assert.Equal("There was no 01:30 on 29 March 2026 in the UK: the clocks went forward from 01:00 to 02:00. Enter the time a clock showed, for example 02:30", text);
        Assert.Contains("value=\"2026-03-29T01:30\"", PageHtml.Tag(html, "occurredat"));
        Assert.Equal(0, await IncidentCountAsync(app));
    }

    [Fact]
    public async Task A_time_that_happened_twice_is_asked_about_and_the_chosen_instant_is_recorded()
    {
        await using var app = new CareWorkflowsApp();
        var provider = app.As(Roles.Provider, "east-kestrel");

        var ask = await ReportAsync(provider, "2026-10-25T01:30");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ask.StatusCode);
        var html = await ask.Content.ReadAsStringAsync(Ct);
        var (target, text) = Assert.Single(PageHtml.Summary(html));
        Assert.Equal("occurredatwhich-first", target);
        Assert.Contains("happened twice", text);
        Assert.Contains("<label for=\"occurredatwhich-first\">01:30 BST (first)</label>", html);
        Assert.Contains("<label for=\"occurredatwhich-second\">01:30 GMT (second)</label>", html);
        Assert.Contains("value=\"2026-10-25T01:30\"", PageHtml.Tag(html, "occurredat"));
        Assert.Equal(0, await IncidentCountAsync(app));

        foreach (var (which, instant) in new[] { ("second", "2026-10-25T01:30:00Z"), ("first", "2026-10-25T00:30:00Z") })
        {
            var r = await ReportAsync(provider, "2026-10-25T01:30", which);
            Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
            var reference = r.Headers.Location!.OriginalString.Split('/').Last();
            var state = (await app.InstanceAsync(reference)).GetProperty("state");
            Assert.Equal(instant, state.GetProperty("report").GetProperty("occurredAt").GetString());
        }
    }
}
