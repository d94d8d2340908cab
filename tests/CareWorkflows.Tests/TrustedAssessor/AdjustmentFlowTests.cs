using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static CareWorkflows.Tests.TrustedAssessor.TrustedAssessorTestKit;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>Within parameters: in effect at once, then sign-off (G.10 §4.2). Outside: nothing changes until approved (G.7, G.10 §5).</summary>
public sealed class AdjustmentFlowTests
{
    [Theory]
    [InlineData("7.5", true)]    // −25% exactly
    [InlineData("11", true)]     // +10% exactly (low-level package)
    [InlineData("7.49", false)]  // −25.1%
    [InlineData("11.01", false)] // +10.1%
    public async Task Within_parameter_change_takes_effect_at_once_outside_does_not(string proposed, bool within)
    {
        await using var app = await ReadyAsync();
        var hours = decimal.Parse(proposed);

        var reference = await ProposeOkAsync(app, 10m, hours);

        Assert.Equal(within ? "AwaitingSignOff" : "AwaitingApproval", await StatusAsync(app, reference));
        Assert.Equal(within ? hours : 10m, await PackageHoursAsync(app));
        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        Assert.Equal(within, state.GetProperty("withinParameters").GetBoolean());
        Assert.Equal(within ? hours : 10m, state.GetProperty("hoursInEffect").GetDecimal());
    }

    [Theory]
    [InlineData(TestDatabases.StoreSqlite)]
    [InlineData(TestDatabases.StorePostgres)]
    public async Task Within_parameter_reduction_is_implemented_then_signed_off_and_payment_adjusted(string store)
    {
        await using var app = await ReadyAsync(store: store);
        var reference = await ProposeOkAsync(app, 10m, 7.5m);
        await FlushAsync(app);

        // On the timeline: who proposed, hours before and after, and why it took effect at once.
        var timeline = await TimelineAsync(app, reference);
        var proposed = Event(timeline, "AdjustmentProposed");
        Assert.Equal(Roles.Provider, proposed.GetProperty("actorRole").GetString());
        Assert.Equal(10m, proposed.GetProperty("data").GetProperty("hoursBefore").GetDecimal());
        Assert.Equal(7.5m, proposed.GetProperty("data").GetProperty("hoursAfter").GetDecimal());
        Assert.Equal(-25m, proposed.GetProperty("data").GetProperty("changePercent").GetDecimal());
        Assert.Contains("App G.10", Event(timeline, "AdjustmentImplemented").GetProperty("data").GetProperty("why").GetString());
        // The senior care manager gets rationale and evidence with signed links to sign off, raise a concern or pause.
        var request = Assert.Single(await app.OutboxAsync(reference, "senior-care-manager@council.example"));
        Assert.Contains("Rationale:", request.Body);
        Assert.Equal(3, request.Links.Count);
        Assert.Single(await app.OutboxAsync(reference, "tas-a1@prov-a.example"));

        var signed = await ActAsync(app, Roles.SeniorCareManager, reference, "sign-off", new { note = "Fits the goals" });
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        await FlushAsync(app);

        Assert.Equal("SignedOff", await StatusAsync(app, reference));
        timeline = await TimelineAsync(app, reference);
        var payment = Event(timeline, "PaymentAdjustmentRequested");
        Assert.Equal(Roles.SeniorCareManager, payment.GetProperty("actorRole").GetString());
        Assert.Equal("PKG-1", payment.GetProperty("data").GetProperty("packageId").GetString());
        Assert.Equal(10m, payment.GetProperty("data").GetProperty("hoursBefore").GetDecimal());
        Assert.Equal(7.5m, payment.GetProperty("data").GetProperty("hoursAfter").GetDecimal());
        Assert.Equal(app.Now.InZone(WorkflowContext.London).Date.ToString("yyyy-MM-dd", null), payment.GetProperty("data").GetProperty("effectiveDate").GetString());
        var finance = Assert.Single(await app.OutboxAsync(reference, "finance@council.example"));
        Assert.Contains("10.00 → 7.50 hours a week", finance.Body);
        Assert.Empty((await app.InstanceAsync(reference)).GetProperty("timers").EnumerateArray());
        Assert.Equal(7.5m, await PackageHoursAsync(app));
    }

    [Fact]
    public async Task Outside_parameter_change_takes_effect_only_when_the_care_manager_approves()
    {
        await using var app = await ReadyAsync();
        var reference = await ProposeOkAsync(app, 10m, 7m);
        await FlushAsync(app);
        Assert.Single(await app.OutboxAsync(reference, "care-management@council.example"));
        Assert.Contains("Keep delivering 10.00 hours", Assert.Single(await app.OutboxAsync(reference, "tas-a1@prov-a.example")).Body);
        Assert.Equal(10m, await PackageHoursAsync(app));

        var approved = await ActAsync(app, Roles.CareManager, reference, "approve", new { reason = "Reablement goals met" });
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        await FlushAsync(app);

        Assert.Equal("SignedOff", await StatusAsync(app, reference));
        Assert.Equal(7m, await PackageHoursAsync(app));
        var timeline = await TimelineAsync(app, reference);
        var implemented = Event(timeline, "AdjustmentImplemented");
        Assert.Equal(Roles.CareManager, implemented.GetProperty("actorRole").GetString());
        Assert.Equal(10m, implemented.GetProperty("data").GetProperty("hoursBefore").GetDecimal());
        Assert.Equal(7m, implemented.GetProperty("data").GetProperty("hoursAfter").GetDecimal());
        Event(timeline, "PaymentAdjustmentRequested");
        Assert.Single(await app.OutboxAsync(reference, "finance@council.example"));
    }

    [Fact]
    public async Task Outside_parameter_change_flagged_for_OT_needs_the_OT_too_who_answers_by_signed_link()
    {
        await using var app = await ReadyAsync();
        var reference = await ProposeOkAsync(app, 10m, 6m, otReview: true);
        await FlushAsync(app);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.CareManager, reference, "approve")).StatusCode);
        Assert.Equal("AwaitingApproval", await StatusAsync(app, reference));
        Assert.Equal(10m, await PackageHoursAsync(app));

        var link = await LinkAsync(app, reference, "occupational-therapy@council.example", "approve");
        var answer = await app.Anonymous().PostAsJsonAsync(link, new Dictionary<string, string> { ["text"] = "Transfers are safe with the new rail" });
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        Assert.Equal("SignedOff", await StatusAsync(app, reference));
        var given = (await TimelineAsync(app, reference)).Where(e => e.GetProperty("type").GetString() == "ApprovalGiven").ToList();
        Assert.Equal(["care-management", "occupational-therapy"], given.Select(e => e.GetProperty("data").GetProperty("by").GetString()));
        Assert.Equal("OccupationalTherapist", given[1].GetProperty("actorRole").GetString());
        // The package row follows the workflow state right after the link answer, without waiting for a read through the API.
        var directory = app.Services.GetRequiredService<ITrustedAssessorDirectory>();
        Assert.Equal(6m, (await directory.GetPackageAsync("PKG-1"))!.WeeklyHours);
        Assert.Equal(6m, await PackageHoursAsync(app));
    }

    [Fact]
    public async Task Rejected_outside_parameter_change_is_closed_with_reasons_to_the_provider()
    {
        await using var app = await ReadyAsync();
        var reference = await ProposeOkAsync(app, 10m, 12m);

        var rejected = await ActAsync(app, Roles.CareManager, reference, "reject", new { reason = "Needs a full reassessment first" });
        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        await FlushAsync(app);

        Assert.Equal("Rejected", await StatusAsync(app, reference));
        Assert.Equal(10m, await PackageHoursAsync(app));
        var toProvider = (await app.OutboxAsync(reference, "tas-a1@prov-a.example")).Single(m => m.Purpose == "rejected");
        Assert.Contains("Needs a full reassessment first", toProvider.Body);
        var refused = Event(await TimelineAsync(app, reference), "ApprovalRefused");
        Assert.Equal(Roles.CareManager, refused.GetProperty("actorRole").GetString());
    }

    [Fact]
    public async Task Moving_and_handling_package_needs_the_moving_and_handling_assessor_to_sign_off_as_well()
    {
        await using var app = await ReadyAsync(movingAndHandling: true);
        var reference = await ProposeOkAsync(app, 10m, 8m);
        await FlushAsync(app);

        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.SeniorCareManager, reference, "sign-off")).StatusCode);
        Assert.Equal("AwaitingSignOff", await StatusAsync(app, reference));

        var link = await LinkAsync(app, reference, "moving-and-handling@council.example", "signoff");
        var answer = await app.Anonymous().PostAsJsonAsync(link, new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        Assert.Equal("SignedOff", await StatusAsync(app, reference));
        Event(await TimelineAsync(app, reference), "PaymentAdjustmentRequested");
    }

    [Fact]
    public async Task Concern_asks_the_provider_to_respond_reminds_and_returns_to_sign_off_on_response()
    {
        await using var app = await ReadyAsync(); // Tue 24 Nov 2026 09:00
        var reference = await ProposeOkAsync(app, 10m, 8m);
        var concern = await ActAsync(app, Roles.SeniorCareManager, reference, "concern", new { concern = "Evidence covers only two visits" });
        Assert.Equal(HttpStatusCode.OK, concern.StatusCode);
        Assert.Equal("ConcernRaised", await StatusAsync(app, reference));

        // 5 working days from Tue 24 Nov: reminder 09:00 Tue 1 Dec, response due end of that day.
        await app.AdvanceToAsync(NodaTime.Instant.FromUtc(2026, 12, 1, 9, 0));
        var toProvider = await app.OutboxAsync(reference, "tas-a1@prov-a.example");
        Assert.Contains(toProvider, m => m.Purpose == "concern");
        Assert.Contains(toProvider, m => m.Purpose == "concern-reminder");

        var link = await LinkAsync(app, reference, "tas-a1@prov-a.example", "respond");
        var answer = await app.Anonymous().PostAsJsonAsync(link, new Dictionary<string, string> { ["text"] = "Attached notes of three more visits" });
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("AwaitingSignOff", await StatusAsync(app, reference));
        var answered = Event(await TimelineAsync(app, reference), "ConcernAnswered");
        Assert.Equal(Roles.Provider, answered.GetProperty("actorRole").GetString());
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.SeniorCareManager, reference, "sign-off")).StatusCode);
        Assert.Equal("SignedOff", await StatusAsync(app, reference));
    }

    [Fact]
    public async Task Hours_are_recorded_rounded_to_2_decimal_places()
    {
        await using var app = await ReadyAsync();
        var r = await ProposeAsync(app, Proposal(app, 10m, 7.495m));
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var view = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(7.5m, view.GetProperty("proposedHours").GetDecimal());
        Assert.True(view.GetProperty("withinParameters").GetBoolean());
        var proposed = Event(view.GetProperty("timeline").EnumerateArray().ToList(), "AdjustmentProposed").GetProperty("data");
        Assert.Equal(7.495m, proposed.GetProperty("submittedHours").GetDecimal());
        Assert.Equal(7.5m, proposed.GetProperty("hoursAfter").GetDecimal());
        Assert.Equal(7.5m, await PackageHoursAsync(app));
    }
}
