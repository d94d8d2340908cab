using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;
using static CareWorkflows.Tests.TrustedAssessor.TrustedAssessorTestKit;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>Each bad input gets a clear 4xx problem, and nothing changes: no instance, no message, no hours moved.</summary>
public sealed class BadInputTests
{
    private static async Task<CareWorkflowsApp> WithRegistryAsync()
    {
        var app = await ReadyAsync();
        await RegisterAssessorAsync(app, "TAS-UNTRAINED", training: false, diploma: 3);
        await RegisterAssessorAsync(app, "TAS-LEVEL1", diploma: 1);
        await RegisterAssessorAsync(app, "TAS-INACTIVE", active: false);
        await RegisterAssessorAsync(app, "TAS-B1", provider: OtherProvider);
        await RegisterPackageAsync(app, "PKG-B", 10m, provider: OtherProvider);
        return app;
    }

    private static async Task<string> SnapshotAsync(CareWorkflowsApp app)
    {
        var instances = await app.As(Roles.Admin).GetStringAsync("/api/instances?type=TA");
        var packages = await app.As(Roles.Admin).GetStringAsync("/api/packages");
        var messages = (await app.OutboxAsync()).Count;
        return $"{instances}\n{packages}\n{messages}";
    }

    private static async Task AssertProblemAsync(HttpResponseMessage r, HttpStatusCode expected, string? detailContains = null)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == expected, $"expected {(int)expected}, got {(int)r.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        Assert.Equal((int)expected, doc.RootElement.GetProperty("status").GetInt32());
        if (detailContains is not null) Assert.Contains(detailContains, doc.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Bad_proposals_are_refused_with_a_clear_problem_and_change_nothing()
    {
        await using var app = await WithRegistryAsync();
        var before = await SnapshotAsync(app);
        var today = app.Now.InZone(WorkflowContext.London).Date;

        Dictionary<string, object?> P(Action<Dictionary<string, object?>> change)
        {
            var p = Proposal(app, 10m, 8m);
            change(p);
            return p;
        }

        await AssertProblemAsync(await ProposeAsync(app, P(p => p["assessorId"] = "TAS-UNTRAINED")), HttpStatusCode.UnprocessableEntity, "not qualified");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["assessorId"] = "TAS-LEVEL1")), HttpStatusCode.UnprocessableEntity, "Level 2");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["assessorId"] = "TAS-INACTIVE")), HttpStatusCode.UnprocessableEntity, "not active");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["assessorId"] = "TAS-B1")), HttpStatusCode.Forbidden, "does not work for PROV-A");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["assessorId"] = "TAS-NOBODY")), HttpStatusCode.UnprocessableEntity, "no registered trusted assessor");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["packageId"] = "PKG-NONE")), HttpStatusCode.UnprocessableEntity, "no registered package");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["packageId"] = "PKG-B")), HttpStatusCode.Forbidden, "not delivered by PROV-A");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["proposedWeeklyHours"] = 0m)), HttpStatusCode.UnprocessableEntity, "more than zero");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["proposedWeeklyHours"] = -2m)), HttpStatusCode.UnprocessableEntity, "more than zero");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["proposedWeeklyHours"] = 0.004m)), HttpStatusCode.UnprocessableEntity, "more than zero");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["proposedWeeklyHours"] = 10m)), HttpStatusCode.UnprocessableEntity, "same as the current");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["currentWeeklyHours"] = 12m)), HttpStatusCode.Conflict, "now 10.00 hours");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["effectiveDate"] = today.PlusDays(-8).ToString("yyyy-MM-dd", null))), HttpStatusCode.UnprocessableEntity, "in the past");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["personAgreed"] = false)), HttpStatusCode.UnprocessableEntity, "not agreed");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["personAgreed"] = null)), HttpStatusCode.UnprocessableEntity, "personAgreed");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["rationale"] = "  ")), HttpStatusCode.UnprocessableEntity, "Rationale is required");
        await AssertProblemAsync(await ProposeAsync(app, P(p => p["effectiveDate"] = "31/05/2026")), HttpStatusCode.BadRequest);
        await AssertProblemAsync(await ProposeAsync(app, P(_ => { }), provider: OtherProvider), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await app.As(Roles.CareManager).PostAsJsonAsync("/api/ta-adjustments", P(_ => { })), HttpStatusCode.Forbidden, "provider");
        await AssertProblemAsync(await app.As(Roles.Provider, Provider).PostAsync("/api/ta-adjustments",
            new StringContent("{\"packageId\": ", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().PostAsJsonAsync("/api/ta-adjustments", P(_ => { }))).StatusCode);

        Assert.Equal(before, await SnapshotAsync(app));
        // Backdating within the policy (7 days by default) is fine.
        Assert.Equal(HttpStatusCode.Created, (await ProposeAsync(app, P(p => p["effectiveDate"] = today.PlusDays(-7).ToString("yyyy-MM-dd", null)))).StatusCode);
    }

    [Fact]
    public async Task Wrong_roles_wrong_states_and_closed_adjustments_are_refused_and_change_nothing()
    {
        await using var app = await WithRegistryAsync();
        var reference = await ProposeOkAsync(app, 10m, 8m);
        await FlushAsync(app);
        var before = await SnapshotAsync(app) + await app.As(Roles.Admin).GetStringAsync($"/api/instances/{reference}");

        await AssertProblemAsync(await ActAsync(app, Roles.CareManager, reference, "sign-off"), HttpStatusCode.Forbidden, "senior care manager");
        await AssertProblemAsync(await ActAsync(app, Roles.Provider, reference, "sign-off", provider: Provider), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await ActAsync(app, Roles.QualityAssurance, reference, "pause", new { reason = "x" }), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await ActAsync(app, Roles.Provider, reference, "reinstated", provider: OtherProvider), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await ActAsync(app, Roles.Provider, reference, "reinstated", provider: Provider), HttpStatusCode.Conflict, "not waiting for reinstatement");
        await AssertProblemAsync(await ActAsync(app, Roles.CareManager, reference, "approve"), HttpStatusCode.Conflict, "not awaiting approval");
        await AssertProblemAsync(await ActAsync(app, Roles.SeniorCareManager, reference, "pause", new { }), HttpStatusCode.UnprocessableEntity, "reason is required");
        await AssertProblemAsync(await ActAsync(app, Roles.CareManager, reference, "review-outcome", new { outcome = "maybe", reason = "x" }), HttpStatusCode.UnprocessableEntity, "approve");
        await AssertProblemAsync(await ActAsync(app, Roles.SeniorCareManager, "TA-ZZZZZ", "sign-off"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await ActAsync(app, Roles.SeniorCareManager, "D2A-ZZZZZ", "sign-off"), HttpStatusCode.NotFound);
        // A second adjustment while this one is open.
        await AssertProblemAsync(await ProposeAsync(app, Proposal(app, 8m, 7m)), HttpStatusCode.Conflict, "open trusted-assessor adjustment");
        Assert.Equal(before, await SnapshotAsync(app) + await app.As(Roles.Admin).GetStringAsync($"/api/instances/{reference}"));

        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.SeniorCareManager, reference, "sign-off")).StatusCode);
        await FlushAsync(app);
        var closed = await SnapshotAsync(app) + await app.As(Roles.Admin).GetStringAsync($"/api/instances/{reference}");

        await AssertProblemAsync(await ActAsync(app, Roles.SeniorCareManager, reference, "sign-off"), HttpStatusCode.Conflict, "closed");
        await AssertProblemAsync(await ActAsync(app, Roles.SeniorCareManager, reference, "concern", new { concern = "late" }), HttpStatusCode.Conflict, "closed");
        await AssertProblemAsync(await ActAsync(app, Roles.SeniorCareManager, reference, "pause", new { reason = "late" }), HttpStatusCode.Conflict, "closed");
        await AssertProblemAsync(await ActAsync(app, Roles.CareManager, reference, "review-outcome", new { outcome = "reverse", reason = "late" }), HttpStatusCode.Conflict, "closed");
        Assert.Equal(closed, await SnapshotAsync(app) + await app.As(Roles.Admin).GetStringAsync($"/api/instances/{reference}"));

        // Once closed, the next adjustment may start from the signed-off hours.
        Assert.Equal(HttpStatusCode.Created, (await ProposeAsync(app, Proposal(app, 8m, 7m))).StatusCode);
    }

    [Fact]
    public async Task A_used_or_foreign_signed_link_changes_nothing()
    {
        await using var app = await ReadyAsync();
        var reference = await ProposeOkAsync(app, 10m, 8m);
        await FlushAsync(app);
        var signoff = await LinkAsync(app, reference, "senior-care-manager@council.example", "signoff");
        var pause = await LinkAsync(app, reference, "senior-care-manager@council.example", "pause");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.Anonymous().PostAsJsonAsync(pause, new Dictionary<string, string>())).StatusCode);
        Assert.Equal("AwaitingSignOff", await StatusAsync(app, reference));
        Assert.Equal(HttpStatusCode.OK, (await app.Anonymous().PostAsJsonAsync(signoff, new Dictionary<string, string>())).StatusCode);
        Assert.Equal("SignedOff", await StatusAsync(app, reference));
        Assert.Equal(HttpStatusCode.Conflict, (await app.Anonymous().PostAsJsonAsync(signoff, new Dictionary<string, string>())).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await app.Anonymous().PostAsJsonAsync(pause, new Dictionary<string, string> { ["text"] = "x" })).StatusCode);
        Assert.Single(await TimelineAsync(app, reference), e => e.GetProperty("type").GetString() == "PaymentAdjustmentRequested");
    }
}
