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

        // On the timeline: who proposed (the start), hours before and after, and why it took effect at once (the decisions noted).
        var timeline = await TimelineAsync(app, reference);
        Assert.Equal(Roles.Provider, RoleOf(timeline, "Started"));
        var proposed = Text(timeline, "AdjustmentProposed");
        Assert.Contains("10.00 → 7.50", proposed);
        Assert.Contains("-25%", proposed);
        Assert.Contains("App G.10", Text(timeline, "AdjustmentImplemented"));
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
        Assert.Equal(Roles.SeniorCareManager, RoleOf(timeline, "SignOff"));
        var payment = Text(timeline, "PaymentAdjustmentRequested");
        Assert.Contains("PKG-1", payment);
        Assert.Contains("10.00 → 7.50", payment);
        Assert.Contains($"from {app.Now.InZone(WorkflowContext.London).Date.ToString("d MMM yyyy", System.Globalization.CultureInfo.InvariantCulture)}", payment);
        Assert.Contains(Roles.SeniorCareManager, payment);
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
        Assert.Equal(Roles.CareManager, RoleOf(timeline, "Approve"));
        var implemented = Text(timeline, "AdjustmentImplemented");
        Assert.Contains(Roles.CareManager, implemented);
        Assert.Contains("10.00 → 7.00", implemented);
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
        var timeline = await TimelineAsync(app, reference);
        var given = timeline.Where(e => e.GetProperty("type").GetString() == "ApprovalGiven").Select(e => e.GetProperty("data").GetProperty("text").GetString()!).ToList();
        Assert.Equal(2, given.Count);
        Assert.Contains("for care-management", given[0]);
        Assert.Contains("for occupational-therapy", given[1]);
        Assert.Equal([Roles.CareManager, "OccupationalTherapist"], timeline.Where(e => e.GetProperty("type").GetString() == "Approve").Select(e => e.GetProperty("actorRole").GetString()));
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
        var timeline = await TimelineAsync(app, reference);
        Assert.Contains("Needs a full reassessment first", Text(timeline, "ApprovalRefused"));
        Assert.Equal(Roles.CareManager, RoleOf(timeline, "Reject"));
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
        var timeline = await TimelineAsync(app, reference);
        Assert.Contains("Attached notes of three more visits", Text(timeline, "ConcernAnswered"));
        Assert.Equal(Roles.Provider, RoleOf(timeline, "RespondToConcern"));
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
        var timeline = view.GetProperty("timeline").EnumerateArray().ToList();
        Assert.Equal(7.495m, Event(timeline, "Started").GetProperty("data").GetProperty("data").GetProperty("proposedWeeklyHours").GetDecimal());
        Assert.Contains("submitted 7.495 hours, recorded as 7.50", Text(timeline, "AdjustmentProposed"));
        Assert.Equal(7.5m, await PackageHoursAsync(app));
    }
}
