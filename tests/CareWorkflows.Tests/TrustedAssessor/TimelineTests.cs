using System.Net;
using CareWorkflows.Definitions;
using static CareWorkflows.Tests.TrustedAssessor.TrustedAssessorTestKit;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>Every step is on the timeline with who decided, the hours before and after, and why.</summary>
public sealed class TimelineTests
{
    private static readonly string[] Notices = ["SentForSignOff", "SentForApproval", "ReminderSent", "Escalated"];

    [Fact]
    public async Task Every_decision_on_the_timeline_names_the_actor_the_hours_before_and_after_and_the_reason()
    {
        await using var app = await ReadyAsync();
        var reference = await ProposeOkAsync(app, 10m, 8m);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.SeniorCareManager, reference, "concern", new { concern = "Only two visits seen" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.Provider, reference, "concern-response", new { response = "Five visits now" }, Provider)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.SeniorCareManager, reference, "pause", new { reason = "Falls last week" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.Provider, reference, "reinstated", new { note = "Back to 10" }, Provider)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.CareManager, reference, "review-outcome", new { outcome = "approve", reason = "Falls unrelated" })).StatusCode);

        var timeline = await TimelineAsync(app, reference);
        Assert.Equal(
            ["AdjustmentProposed", "AdjustmentImplemented", "SentForSignOff", "ConcernRaised", "ConcernAnswered", "PauseRequested", "ReinstatementConfirmed",
             "ReviewConcluded", "AdjustmentSignedOff", "PaymentAdjustmentRequested"],
            timeline.Select(e => e.GetProperty("type").GetString()));
        foreach (var e in timeline.Where(e => !Notices.Contains(e.GetProperty("type").GetString())))
        {
            var data = e.GetProperty("data");
            Assert.False(string.IsNullOrEmpty(e.GetProperty("actorId").GetString()));
            Assert.True(data.TryGetProperty("hoursBefore", out _) && data.TryGetProperty("hoursAfter", out _), e.ToString());
        }
        var moves = timeline.Where(e => e.GetProperty("type").GetString() is "AdjustmentImplemented" or "PauseRequested" or "ReinstatementConfirmed" or "ReviewConcluded")
            .Select(e => (e.GetProperty("actorRole").GetString(), e.GetProperty("data").GetProperty("hoursBefore").GetDecimal(), e.GetProperty("data").GetProperty("hoursAfter").GetDecimal()))
            .ToList();
        Assert.Equal([(Roles.Provider, 10m, 8m), (Roles.SeniorCareManager, 8m, 10m), (Roles.Provider, 8m, 10m), (Roles.CareManager, 10m, 8m)], moves);
        Assert.Equal("Falls last week", Event(timeline, "PauseRequested").GetProperty("data").GetProperty("reason").GetString());
        Assert.Equal("Falls unrelated", Event(timeline, "ReviewConcluded").GetProperty("data").GetProperty("reason").GetString());
        Assert.Equal(8m, await PackageHoursAsync(app));
    }
}
