using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using NodaTime;
using static CareWorkflows.Tests.TrustedAssessor.TrustedAssessorTestKit;

namespace CareWorkflows.Tests.TrustedAssessor;

public sealed class VisibilityAndRetryTests
{
    [Fact]
    public async Task A_provider_sees_its_own_adjustments_only_and_staff_see_all()
    {
        await using var app = await ReadyAsync();
        var reference = await ProposeOkAsync(app, 10m, 8m);

        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.Provider, Provider).GetAsync($"/api/ta-adjustments/{reference}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.SeniorCareManager).GetAsync($"/api/ta-adjustments/{reference.ToLowerInvariant()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Provider, OtherProvider).GetAsync($"/api/ta-adjustments/{reference}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.SeniorCareManager).GetAsync("/api/ta-adjustments/TA-ZZZZZ")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().GetAsync($"/api/ta-adjustments/{reference}")).StatusCode);
    }

    [Fact]
    public async Task A_retried_proposal_with_the_same_idempotency_key_starts_one_adjustment()
    {
        await using var app = await ReadyAsync();
        var client = app.As(Roles.Provider, Provider);
        client.DefaultRequestHeaders.Add("Idempotency-Key", "proposal-1");
        var body = Proposal(app, 10m, 8m);

        var first = await client.PostAsJsonAsync("/api/ta-adjustments", body);
        var again = await client.PostAsJsonAsync("/api/ta-adjustments", body);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reference").GetString(),
            (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reference").GetString());
        Assert.Single((await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/instances?type=TA")).EnumerateArray());
    }

    [Fact]
    public async Task An_unanswered_concern_is_escalated_to_the_senior_care_manager_and_team_lead()
    {
        await using var app = await ReadyAsync(); // Tue 24 Nov 2026
        var reference = await ProposeOkAsync(app, 10m, 8m);
        await ActAsync(app, Roles.SeniorCareManager, reference, "concern", new { concern = "Evidence is thin" });

        // Due end of Tue 1 Dec (5 working days); the sign-off window stopped while the provider is asked.
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 1, 23, 59));
        Assert.Empty(await app.OutboxAsync(reference, "care-management-team-lead@council.example"));
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 2, 0, 0));
        Assert.Equal("concern-escalation", Assert.Single(await app.OutboxAsync(reference, "care-management-team-lead@council.example")).Purpose);
        Assert.Contains(await app.OutboxAsync(reference, "senior-care-manager@council.example"), m => m.Purpose == "concern-escalation");
        Assert.Equal("ConcernRaised", await StatusAsync(app, reference));
    }
}
