using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.D2A;
using CareWorkflows.Tests.Infrastructure;

namespace CareWorkflows.Tests.Pages;

/// <summary>A provider sees and acts only on its own offers, packages, incidents and concerns: APIs and pages, real items.</summary>
public sealed class CrossProviderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Mine = "east-kestrel";
    private const string Theirs = "east-orchard-lane";

    private static async Task<string> RaiseConcernAsync(CareWorkflowsApp app, string provider)
    {
        var r = await app.As(Roles.QualityAssurance).PostAsJsonAsync("/api/quality-concerns",
            new { providerId = provider, concern = "Late calls." }, Ct);
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("reference").GetString()!;
    }

    [Fact]
    public async Task Another_providers_concern_is_invisible_on_pages_and_refused_on_the_API()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseConcernAsync(app, Mine);
        var other = app.As(Roles.Provider, Theirs);
        var own = app.As(Roles.Provider, Mine);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/instances/{reference}", Ct)).StatusCode);
        Assert.DoesNotContain(reference, await other.GetStringAsync("/", Ct));
        var answer = await other.PostAsJsonAsync($"/api/quality-concerns/{reference}/response", new { investigation = "x", issueFound = false }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await own.GetAsync($"/instances/{reference}", Ct)).StatusCode);
        Assert.Contains(reference, await own.GetStringAsync("/", Ct));
        // Provider pages never show the staff timeline.
        Assert.DoesNotContain("id=\"timeline\"", await own.GetStringAsync($"/instances/{reference}", Ct));
    }

    [Fact]
    public async Task A_provider_cannot_answer_an_offer_for_another_provider_or_see_a_referral_not_offered_to_it()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await D2ATestKit.RaiseAsync(app);
        var forOther = await app.As(Roles.Provider, Mine).PostAsJsonAsync($"/api/d2a/referrals/{reference}/responses",
            new { action = "accept", firstCall = "2026-11-24T14:30", providerId = Theirs }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, forOther.StatusCode);
        // Framework providers are not offered a patch round: the referral does not exist for them.
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Provider, "fw-northgate").GetAsync($"/instances/{reference}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.Provider, Theirs).GetAsync($"/instances/{reference}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, Mine).GetAsync("/api/instances", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, Mine).GetAsync("/api/dev/outbox", Ct)).StatusCode);
    }

    [Fact]
    public async Task Another_providers_package_is_not_found_and_cannot_be_listed()
    {
        await using var app = new CareWorkflowsApp();
        var put = await app.As(Roles.Admin).PostAsJsonAsync("/api/packages", new { id = "pkg-cross-1", providerId = Theirs, weeklyHours = 10m, lowLevel = true }, Ct);
        Assert.True(put.IsSuccessStatusCode, put.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Provider, Mine).GetAsync("/api/packages/pkg-cross-1", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, Mine).GetAsync($"/api/packages?providerId={Theirs}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.Provider, Theirs).GetAsync("/api/packages/pkg-cross-1", Ct)).StatusCode);
    }

    [Fact]
    public async Task Another_providers_incident_cannot_be_followed_up()
    {
        await using var app = new CareWorkflowsApp();
        var now = app.Now;
        var report = await app.As(Roles.Provider, Mine).PostAsJsonAsync("/api/incidents", new
        {
            category = "WelfareConcern", occurredAt = NodaTime.Text.InstantPattern.ExtendedIso.Format(now - NodaTime.Duration.FromHours(2)),
            becameAwareAt = NodaTime.Text.InstantPattern.ExtendedIso.Format(now - NodaTime.Duration.FromHours(1)), description = "Fall at home.", parties = "Carer",
            emergencyServicesInvolved = false, immediateAction = "GP called", furtherAction = "Review", serviceUserGroup = "Older people", serviceUserId = "SU-1",
            providerName = "Kestrel", contactEmail = "incidents@kestrel.example.org",
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, report.StatusCode);
        var reference = (await report.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("reference").GetString()!;
        var full = await app.As(Roles.Provider, Theirs).PostAsJsonAsync($"/api/incidents/{reference}/full-report", new { details = "x", actionsTaken = "y" }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, full.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Provider, Theirs).GetAsync($"/instances/{reference}", Ct)).StatusCode);
    }
}
