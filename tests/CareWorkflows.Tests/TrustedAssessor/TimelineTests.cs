using System.Net;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
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

        // The decisions the workflow noted, in order (each input is on the timeline too, with who sent it).
        Assert.Equal(
            ["AdjustmentProposed", "AdjustmentImplemented", "SentForSignOff", "ConcernRaised", "ConcernAnswered", "PauseRequested", "ReinstatementConfirmed",
             "ReviewConcluded", "AdjustmentSignedOff", "PaymentAdjustmentRequested"],
            await app.DecisionsAsync(reference));
        var timeline = await TimelineAsync(app, reference);
        Assert.Equal([("Started", Roles.Provider), ("RaiseConcern", Roles.SeniorCareManager), ("RespondToConcern", Roles.Provider), ("PausePendingReview", Roles.SeniorCareManager),
                      ("ConfirmReinstatement", Roles.Provider), ("RecordReviewOutcome", Roles.CareManager)],
            timeline.Where(e => e.GetProperty("actorRole").GetString() != Roles.System).Select(e => (e.GetProperty("type").GetString(), e.GetProperty("actorRole").GetString())));
        // Every decision says who and why; those about the change or the hours in effect give the hours before and after.
        foreach (var e in timeline.Where(e => e.GetProperty("actorRole").GetString() == Roles.System && !Notices.Contains(e.GetProperty("type").GetString())
                                              && e.GetProperty("type").GetString() is not ("Started" or "Message" or "Completed")))
            Assert.Contains(" → ", e.GetProperty("data").GetProperty("text").GetString());
        var moves = new[] { ("AdjustmentProposed", "trusted assessor", "10.00 → 8.00"), ("PauseRequested", Roles.SeniorCareManager, "8.00 → 10.00"),
            ("ReinstatementConfirmed", Roles.Provider, "8.00 → 10.00"), ("ReviewConcluded", Roles.CareManager, "10.00 → 8.00") };
        foreach (var (type, who, hours) in moves)
        {
            var text = Text(timeline, type);
            Assert.Contains(who, text);
            Assert.Contains(hours, text);
        }
        Assert.Contains("Reason: Falls last week", Text(timeline, "PauseRequested"));
        Assert.Contains("Reason: Falls unrelated", Text(timeline, "ReviewConcluded"));
        Assert.Equal(8m, await PackageHoursAsync(app));
    }
}
