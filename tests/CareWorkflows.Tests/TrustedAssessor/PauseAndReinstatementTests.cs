using System.Net;
using System.Net.Http.Json;
using CareWorkflows.Definitions;
using NodaTime;
using static CareWorkflows.Tests.TrustedAssessor.TrustedAssessorTestKit;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>Pause pending care-management review: the provider reinstates the original service meanwhile (G.10 §4.2).</summary>
public sealed class PauseAndReinstatementTests
{
    [Fact]
    public async Task Pause_asks_for_reinstatement_and_escalates_when_it_is_not_confirmed_within_24_hours()
    {
        await using var app = await ReadyAsync();
        var reference = await ProposeOkAsync(app, 10m, 8m);
        var pausedAt = app.Now;

        var pause = await ActAsync(app, Roles.SeniorCareManager, reference, "pause", new { reason = "Falls risk not assessed" });
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        await FlushAsync(app);

        Assert.Equal("AwaitingReinstatement", await StatusAsync(app, reference));
        var ask = (await app.OutboxAsync(reference, "tas-a1@prov-a.example")).Single(m => m.Purpose == "reinstate");
        Assert.Contains("reinstate the original 10.00 hours", ask.Body);
        Assert.Single(ask.Links);
        var pauseNote = Text(await TimelineAsync(app, reference), "PauseRequested");
        Assert.Contains("8.00 → 10.00", pauseNote);
        Assert.Contains("Reason: Falls risk not assessed", pauseNote);
        Assert.Single(await app.OutboxAsync(reference, "care-management@council.example"));

        // Elapsed hours: reminder at 12 h, nothing escalated a moment before 24 h, escalation at 24 h.
        await app.AdvanceToAsync(pausedAt + Duration.FromHours(24) - Duration.FromSeconds(1));
        Assert.Contains(await app.OutboxAsync(reference, "tas-a1@prov-a.example"), m => m.Purpose == "reinstate-reminder");
        Assert.Empty(await app.OutboxAsync(reference, "care-management-team-lead@council.example"));

        await app.AdvanceToAsync(pausedAt + Duration.FromHours(24));
        var escalation = Assert.Single(await app.OutboxAsync(reference, "care-management-team-lead@council.example"));
        Assert.Equal("reinstatement-escalation", escalation.Purpose);
        Assert.Contains(await app.OutboxAsync(reference, "senior-care-manager@council.example"), m => m.Purpose == "reinstatement-escalation");
        var escalated = Event(await TimelineAsync(app, reference), "Escalated");
        Assert.Contains("(reinstatement)", escalated.GetProperty("data").GetProperty("text").GetString());
        Assert.Equal(Roles.System, escalated.GetProperty("actorRole").GetString());
        Assert.Equal("AwaitingReinstatement", await StatusAsync(app, reference));
        // Not confirmed, so the package still shows the hours the provider last told us it delivers.
        Assert.Equal(8m, await PackageHoursAsync(app));
    }

    [Fact]
    public async Task Confirmed_reinstatement_restores_the_original_hours_and_a_reversing_review_closes_it()
    {
        await using var app = await ReadyAsync();
        var reference = await ProposeOkAsync(app, 10m, 8m);
        await ActAsync(app, Roles.SeniorCareManager, reference, "pause", new { reason = "Falls risk not assessed" });

        var confirmed = await ActAsync(app, Roles.Provider, reference, "reinstated", new { note = "Back to 10 hours from today" }, Provider);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal("PausedPendingReview", await StatusAsync(app, reference));
        Assert.Equal(10m, await PackageHoursAsync(app));

        await app.AdvanceAsync(Duration.FromHours(30));
        Assert.Empty(await app.OutboxAsync(reference, "care-management-team-lead@council.example"));

        var reversed = await ActAsync(app, Roles.CareManager, reference, "review-outcome", new { outcome = "reverse", reason = "Needs double-handed transfers" });
        Assert.Equal(HttpStatusCode.OK, reversed.StatusCode);
        await FlushAsync(app);
        Assert.Equal("Reversed", await StatusAsync(app, reference));
        Assert.Equal(10m, await PackageHoursAsync(app));
        Assert.Contains(await app.OutboxAsync(reference, "tas-a1@prov-a.example"), m => m.Purpose == "reversed" && m.Body.Contains("Needs double-handed transfers"));
        var timeline = await TimelineAsync(app, reference);
        Assert.DoesNotContain(timeline, e => e.GetProperty("type").GetString() == "PaymentAdjustmentRequested");
        Assert.Equal(Roles.CareManager, RoleOf(timeline, "RecordReviewOutcome"));
        Assert.Contains("the change is reversed", Text(timeline, "ReviewConcluded"));
    }

    [Fact]
    public async Task Review_that_approves_puts_the_change_back_and_requests_the_payment_adjustment()
    {
        await using var app = await ReadyAsync();
        var reference = await ProposeOkAsync(app, 10m, 8m);
        await ActAsync(app, Roles.SeniorCareManager, reference, "pause", new { reason = "Check with OT" });
        var link = await LinkAsyncAfterFlush(app, reference);
        Assert.Equal(HttpStatusCode.OK, (await app.Anonymous().PostAsJsonAsync(link, new Dictionary<string, string>())).StatusCode);
        Assert.Equal("PausedPendingReview", await StatusAsync(app, reference));
        Assert.Equal(10m, await PackageHoursAsync(app));

        var approved = await ActAsync(app, Roles.SeniorCareManager, reference, "review-outcome", new { outcome = "approve", reason = "OT agrees" });
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Equal("SignedOff", await StatusAsync(app, reference));
        Assert.Equal(8m, await PackageHoursAsync(app));
        Assert.Contains("10.00 → 8.00", Text(await TimelineAsync(app, reference), "PaymentAdjustmentRequested"));
    }

    private static async Task<string> LinkAsyncAfterFlush(Infrastructure.CareWorkflowsApp app, string reference)
    {
        await FlushAsync(app);
        return await LinkAsync(app, reference, "tas-a1@prov-a.example", "reinstated");
    }
}
