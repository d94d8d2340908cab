using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using D2AReferralRules = CareWorkflows.Definitions.D2A.D2AReferralRules;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using static CareWorkflows.Tests.D2A.D2ATestKit;

namespace CareWorkflows.Tests.D2A;

/// <summary>The D2A referral end to end through HTTP on the simulation clock (start: Tue 24 Nov 2026 09:00 GMT).</summary>
public sealed class D2AReferralTests
{
    private static readonly string[] EastProviders = ["east-kestrel", "east-meadowbank", "east-orchard-lane"];
    private static readonly string[] FrameworkProviders = ["fw-evergreen", "fw-northgate", "fw-riverside"];

    [Fact]
    public async Task Offer_goes_to_every_eligible_patch_provider_by_email_and_sms_with_accept_and_decline_links()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);

        var offers = (await MessagesAsync(app, reference)).Where(m => m.Purpose == "offer").ToList();
        Assert.Equal(EastProviders, offers.Where(m => m.Channel == MessageChannel.Email).Select(m => m.RecipientId).Order());
        Assert.Equal(EastProviders, offers.Where(m => m.Channel == MessageChannel.Sms).Select(m => m.RecipientId).Order());
        var email = offers.First(m => m.Channel == MessageChannel.Email);
        Assert.StartsWith(reference, email.Subject);
        Assert.Contains("BR6", email.Body);           // postcode district only
        Assert.DoesNotContain("7JH", email.Body);
        Assert.Contains("14:00 on Tue 24 Nov 2026", email.Body);
        Assert.Equal(2, email.Links.Count);           // accept, decline
        Assert.Equal("OfferedToPatch", await StatusAsync(app, reference));
        var timers = await TimersAsync(app, reference);
        Assert.Equal(CareWorkflowsApp.DefaultStart + Duration.FromHours(1), timers["window"]);
        Assert.Equal(CareWorkflowsApp.DefaultStart + Duration.FromMinutes(30), timers["reminder"]);
    }

    [Fact]
    public async Task Accept_within_the_hour_is_awarded_losers_and_discharge_team_are_told_and_nothing_escalates()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);

        // Orchard Lane bids, but its first call (next morning) does not meet a 14:00 discharge: no award yet.
        Assert.Equal(HttpStatusCode.OK, (await RespondAsync(app, reference, "east-orchard-lane", "accept", "2026-11-25T09:00")).StatusCode);
        Assert.Equal("OfferedToPatch", await StatusAsync(app, reference));
        await app.AdvanceAsync(Duration.FromMinutes(10));

        // Kestrel accepts through its signed link with a first call that meets the discharge: awarded at once.
        var token = await OfferTokenAsync(app, reference, "east-kestrel", 0);
        var link = await app.Anonymous().PostAsJsonAsync($"/l/{token}", new Dictionary<string, string> { ["firstCall"] = "2026-11-24T14:30" });
        Assert.Equal(HttpStatusCode.OK, link.StatusCode);

        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        Assert.Equal("Awarded", state.GetProperty("status").GetString());
        Assert.Equal("east-kestrel", state.GetProperty("award").GetProperty("provider").GetProperty("id").GetString());
        Assert.Equal(0, state.GetProperty("flags").GetArrayLength());

        await app.AdvanceAsync(Duration.FromHours(3));
        var messages = await MessagesAsync(app, reference);
        Assert.Contains(messages, m => m.RecipientId == "east-kestrel" && m.Purpose == "award" && m.Channel == MessageChannel.Email);
        Assert.Contains(messages, m => m.RecipientId == "east-kestrel" && m.Purpose == "award" && m.Channel == MessageChannel.Sms);
        Assert.Contains(messages, m => m.RecipientId == "east-orchard-lane" && m.Purpose == "not-successful");
        Assert.Contains(messages, m => m.RecipientId == "east-meadowbank" && m.Purpose == "offer-closed");
        var placed = Assert.Single(messages, m => m.Purpose == "staff-placed");
        Assert.Equal(Referrer, placed.To);
        Assert.Contains("Kestrel Home Support", placed.Subject);
        Assert.Contains("14:30", placed.Subject);
        // No escalation: no framework round, no brokerage alert, no reminder.
        Assert.DoesNotContain(messages, m => m.Purpose is "staff-framework-alert" or "staff-no-provider" or "reminder" or "staff-cut-off");
        Assert.DoesNotContain(messages, m => FrameworkProviders.Contains(m.RecipientId));
        Assert.Equal("Awarded", await StatusAsync(app, reference));
        Assert.DoesNotContain("BrokerageAlerted", await TimelineAsync(app, reference));
    }

    [Fact]
    public async Task Offer_unanswered_for_an_hour_goes_to_framework_providers_and_brokerage_then_to_the_manager_and_discharge_team()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);

        await app.AdvanceAsync(Duration.FromMinutes(59));
        Assert.Equal("OfferedToPatch", await StatusAsync(app, reference));

        await app.AdvanceAsync(Duration.FromMinutes(1));
        Assert.Equal("OfferedToFramework", await StatusAsync(app, reference));
        var messages = await MessagesAsync(app, reference);
        Assert.Equal(FrameworkProviders, messages.Where(m => m.Purpose == "offer" && m.Channel == MessageChannel.Email && FrameworkProviders.Contains(m.RecipientId))
            .Select(m => m.RecipientId).Order());
        var alert = Assert.Single(messages, m => m.Purpose == "staff-framework-alert");
        Assert.Equal("brokerage-duty@council.example", alert.To);
        Assert.DoesNotContain(messages, m => m.Purpose == "staff-no-provider");

        // A patch provider answering now is too late.
        Assert.Equal(HttpStatusCode.Conflict, (await RespondAsync(app, reference, "east-kestrel", "accept", "14:30")).StatusCode);

        await app.AdvanceAsync(Duration.FromHours(1));
        Assert.Equal("NoProviderFound", await StatusAsync(app, reference));
        messages = await MessagesAsync(app, reference);
        var none = messages.Where(m => m.Purpose == "staff-no-provider").Select(m => m.To).Order().ToList();
        Assert.Equal(["brokerage-manager@council.example", Referrer], none);

        // Kept open for manual placement by brokerage.
        var award = await app.As(Roles.Brokerage).PostAsJsonAsync($"/api/d2a/referrals/{reference}/award",
            new { providerId = "west-beckside", reason = "Placed by phone: Beckside has a carer nearby", firstCall = "2026-11-24T16:00" });
        Assert.Equal(HttpStatusCode.OK, award.StatusCode);
        Assert.Equal("Awarded", await StatusAsync(app, reference));
        Assert.Contains(await MessagesAsync(app, reference), m => m.RecipientId == "west-beckside" && m.Purpose == "award");
    }

    [Fact]
    public async Task Out_of_brokerage_hours_the_framework_alert_also_goes_to_the_out_of_hours_duty()
    {
        // Tue 24 Nov 2026 16:30: the patch window ends at 17:30, after brokerage closes at 17:00 (App M §6).
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2026, 11, 24, 16, 30));
        var reference = await RaiseAsync(app, Referral(discharge: "2026-11-25T10:00"));
        await app.AdvanceAsync(Duration.FromHours(1));
        Assert.Equal(["brokerage-duty@council.example", "out-of-hours@council.example"],
            (await MessagesAsync(app, reference)).Where(m => m.Purpose == "staff-framework-alert").Select(m => m.To).Order());
        // Saturday 11:00 is within weekend hours (10:00–14:00); Saturday 15:00 is not.
        Assert.True(D2AReferralRules.BrokerageOpen(Instant.FromUtc(2026, 11, 28, 11, 0), PolicySettings.Default));
        Assert.False(D2AReferralRules.BrokerageOpen(Instant.FromUtc(2026, 11, 28, 15, 0), PolicySettings.Default));
        Assert.False(D2AReferralRules.BrokerageOpen(Instant.FromUtc(2026, 11, 24, 8, 59), PolicySettings.Default));
    }

    [Fact]
    public async Task Reminder_at_30_minutes_reaches_only_providers_who_have_not_answered()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        Assert.Equal(HttpStatusCode.OK, (await RespondAsync(app, reference, "east-orchard-lane", "decline")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await RespondAsync(app, reference, "east-meadowbank", "accept", "2026-11-25T10:00")).StatusCode);

        await app.AdvanceAsync(Duration.FromMinutes(29));
        Assert.DoesNotContain(await MessagesAsync(app, reference), m => m.Purpose == "reminder");

        await app.AdvanceAsync(Duration.FromMinutes(1));
        var reminders = (await MessagesAsync(app, reference)).Where(m => m.Purpose == "reminder").ToList();
        Assert.Equal(2, reminders.Count); // email and SMS
        Assert.All(reminders, m => Assert.Equal("east-kestrel", m.RecipientId));
        var sms = Assert.Single(reminders, m => m.Channel == MessageChannel.Sms);
        Assert.Contains("10:00 Tue 24 Nov", sms.Body); // deadline in UK time
        Assert.Contains(reference, sms.Body);
    }

    [Fact]
    public async Task Declines_from_every_patch_provider_start_the_framework_round_without_waiting_for_the_window()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        foreach (var p in EastProviders) Assert.Equal(HttpStatusCode.OK, (await RespondAsync(app, reference, p, "decline")).StatusCode);
        Assert.Equal("OfferedToFramework", await StatusAsync(app, reference));
    }

    [Fact]
    public async Task Bids_that_miss_the_discharge_time_are_awarded_to_the_earliest_first_call_when_the_window_ends()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        await RespondAsync(app, reference, "east-orchard-lane", "accept", "2026-11-25T11:00");
        await RespondAsync(app, reference, "east-kestrel", "accept", "2026-11-25T08:00");
        Assert.Equal("OfferedToPatch", await StatusAsync(app, reference));

        await app.AdvanceAsync(Duration.FromHours(1));

        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        Assert.Equal("Awarded", state.GetProperty("status").GetString());
        Assert.Equal("east-kestrel", state.GetProperty("award").GetProperty("provider").GetProperty("id").GetString());
    }

    [Fact]
    public async Task Brokerage_can_re_award_to_another_bidder_and_the_first_winner_loses_access_to_the_details()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        await RespondAsync(app, reference, "east-orchard-lane", "accept", "2026-11-25T09:00");
        await RespondAsync(app, reference, "east-kestrel", "accept", "2026-11-24T14:30");
        var kestrelDetails = await LinkTokenAsync(app, reference, Email("east-kestrel"), "award", "/d2a/details/");
        Assert.Equal(HttpStatusCode.OK, (await app.Anonymous().GetAsync($"/d2a/details/{kestrelDetails}")).StatusCode);

        var noReason = await app.As(Roles.Brokerage).PostAsJsonAsync($"/api/d2a/referrals/{reference}/award", new { providerId = "east-orchard-lane" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noReason.StatusCode);
        var byProvider = await app.As(Roles.Provider, "east-orchard-lane").PostAsJsonAsync($"/api/d2a/referrals/{reference}/award", new { providerId = "east-orchard-lane", reason = "me" });
        Assert.Equal(HttpStatusCode.Forbidden, byProvider.StatusCode);

        var r = await app.As(Roles.Brokerage).PostAsJsonAsync($"/api/d2a/referrals/{reference}/award",
            new { providerId = "east-orchard-lane", reason = "Fair share: Orchard Lane has had fewer East packages this month (App A)" });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        Assert.Equal("east-orchard-lane", state.GetProperty("award").GetProperty("provider").GetProperty("id").GetString());
        var messages = await MessagesAsync(app, reference);
        Assert.Contains(messages, m => m.RecipientId == "east-kestrel" && m.Purpose == "award-withdrawn");
        Assert.Contains(messages, m => m.RecipientId == "east-orchard-lane" && m.Purpose == "award");
        Assert.Equal(2, messages.Count(m => m.Purpose == "staff-placed"));
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Anonymous().GetAsync($"/d2a/details/{kestrelDetails}")).StatusCode);
        var orchardDetails = await LinkTokenAsync(app, reference, Email("east-orchard-lane"), "award", "/d2a/details/");
        var page = await app.Anonymous().GetStringAsync($"/d2a/details/{orchardDetails}");
        Assert.Contains(Name, page);
        Assert.Contains("943 476 5919".Replace(" ", ""), page);
    }

    [Fact]
    public async Task Award_after_the_same_day_cut_off_is_flagged_on_the_timeline_and_to_brokerage()
    {
        // Tue 24 Nov 2026 15:20 GMT: a same-day first call needs the provider told by 15:00 (App M §6).
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2026, 11, 24, 15, 20));
        var reference = await RaiseAsync(app, Referral(discharge: "2026-11-24T17:00"));
        await app.AdvanceAsync(Duration.FromMinutes(10));
        Assert.Equal(HttpStatusCode.OK, (await RespondAsync(app, reference, "east-kestrel", "accept", "2026-11-24T20:45")).StatusCode);

        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        Assert.Equal("Awarded", state.GetProperty("status").GetString());
        var flags = state.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!).ToList();
        Assert.Contains(flags, f => f.Contains("Same-day") && f.Contains("15:00"));
        Assert.Contains(flags, f => f.Contains("20:30"));
        Assert.Contains("CutOffsFlagged", await TimelineAsync(app, reference));
        var flagged = Assert.Single(await MessagesAsync(app, reference), m => m.Purpose == "staff-cut-off");
        Assert.Equal("brokerage-duty@council.example", flagged.To);
    }

    [Fact]
    public async Task Weekend_next_morning_start_is_flagged_after_13_00_but_not_before()
    {
        // Sat 28 Nov 2026: the weekend cut-off for a next-morning start is 13:00.
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2026, 11, 28, 12, 0));
        var early = await RaiseAsync(app, Referral(discharge: "2026-11-29T09:00"));
        Assert.Equal(HttpStatusCode.OK, (await RespondAsync(app, early, "east-kestrel", "accept", "2026-11-29T09:30")).StatusCode);
        await app.AdvanceAsync(Duration.FromMinutes(90));
        var late = await RaiseAsync(app, Referral(discharge: "2026-11-29T09:00"));
        Assert.Equal(HttpStatusCode.OK, (await RespondAsync(app, late, "east-kestrel", "accept", "2026-11-29T09:30")).StatusCode);

        Assert.Equal(0, (await app.InstanceAsync(early)).GetProperty("state").GetProperty("flags").GetArrayLength());
        var flag = Assert.Single((await app.InstanceAsync(late)).GetProperty("state").GetProperty("flags").EnumerateArray());
        Assert.Contains("Next-morning", flag.GetString());
        Assert.Contains("13:00", flag.GetString());
    }

    [Fact]
    public async Task Six_week_cap_fires_at_the_same_local_time_across_the_BST_change_and_the_week_5_prompt_fires_first()
    {
        // Discharged Wed 10 Mar 2027 10:00 GMT; BST starts 28 Mar 2027. Calendar weeks keep 10:00 local = 09:00 UTC.
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2027, 3, 10, 8, 0));
        var reference = await RaiseAndAwardAsync(app, Referral(discharge: "2027-03-10T10:00"), firstCall: "2027-03-10T10:30");
        await app.AdvanceToAsync(Instant.FromUtc(2027, 3, 10, 10, 5));
        var discharge = await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge", new { dischargedAt = "2027-03-10T10:00" });
        Assert.Equal(HttpStatusCode.OK, discharge.StatusCode);
        Assert.Equal("Active", await StatusAsync(app, reference));
        var timers = await TimersAsync(app, reference);
        Assert.Equal(Instant.FromUtc(2027, 4, 14, 9, 0), timers["week-5"]);
        Assert.Equal(Instant.FromUtc(2027, 4, 21, 9, 0), timers["cap"]);
        Assert.False(timers.ContainsKey("care-plan")); // nobody supported the person before admission

        await app.AdvanceToAsync(Instant.FromUtc(2027, 4, 14, 8, 59));
        Assert.DoesNotContain(await MessagesAsync(app, reference), m => m.Purpose == "staff-end-date-prompt");
        await app.AdvanceToAsync(Instant.FromUtc(2027, 4, 14, 9, 0));
        var prompt = Assert.Single(await MessagesAsync(app, reference), m => m.Purpose == "staff-end-date-prompt");
        Assert.Equal("d2a-team@council.example", prompt.To);
        Assert.Contains("Wednesday 21 April 2027", prompt.Body);

        await app.AdvanceToAsync(Instant.FromUtc(2027, 4, 21, 8, 59));
        Assert.DoesNotContain(await MessagesAsync(app, reference), m => m.Purpose == "staff-cap");
        await app.AdvanceToAsync(Instant.FromUtc(2027, 4, 21, 9, 0));
        var cap = (await MessagesAsync(app, reference)).Where(m => m.Purpose == "staff-cap").Select(m => m.To).Order().ToList();
        Assert.Equal(["brokerage-duty@council.example", "d2a-team-lead@council.example"], cap);
        var capEvent = (await app.InstanceAsync(reference)).GetProperty("timeline").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "CapReached");
        Assert.Equal("2027-04-21T09:00:00Z", capEvent.GetProperty("at").GetString());

        // App M §3: only the provider with the package reports a change in condition; the D2A team is told.
        var other = await app.As(Roles.Provider, "east-orchard-lane").PostAsJsonAsync($"/api/d2a/referrals/{reference}/condition", new { direction = "deteriorated", summary = "x" });
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        var worse = await app.As(Roles.Provider, "east-kestrel").PostAsJsonAsync($"/api/d2a/referrals/{reference}/condition", new { direction = "deteriorated", summary = "Needs two carers for transfers now." });
        Assert.Equal(HttpStatusCode.OK, worse.StatusCode);
        Assert.Equal("d2a-team@council.example", Assert.Single(await MessagesAsync(app, reference), m => m.Purpose == "staff-condition").To);

        // 7. close with an outcome: the provider is told, the instance is complete.
        var close = await app.As(Roles.CareManager).PostAsJsonAsync($"/api/d2a/referrals/{reference}/close", new { outcome = "LongTermPackage" });
        Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        var view = await app.InstanceAsync(reference);
        Assert.Equal("Closed", view.GetProperty("status").GetString());
        Assert.True(view.GetProperty("completed").GetBoolean());
        Assert.Contains(await MessagesAsync(app, reference), m => m.RecipientId == "east-kestrel" && m.Purpose == "closed");
    }

    [Fact]
    public async Task Plan_revision_escalation_fires_only_when_it_applies_and_nothing_was_received()
    {
        await using var app = new CareWorkflowsApp();
        var silent = await RaiseAndAwardAsync(app, Referral(supportedBefore: true, previousProvider: "west-beckside"));
        var answered = await RaiseAndAwardAsync(app, Referral(supportedBefore: true, previousProvider: "west-willowbrook"));
        var notApplicable = await RaiseAndAwardAsync(app, Referral());
        await app.AdvanceAsync(Duration.FromHours(5)); // 14:00: discharge
        foreach (var r in new[] { silent, answered, notApplicable })
            Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{r}/discharge", new { })).StatusCode);

        // The previous provider is asked for the revisions, behind a signed link; another provider may not send them.
        Assert.Contains(await MessagesAsync(app, silent), m => m.RecipientId == "west-beckside" && m.Purpose == "care-plan-request");
        Assert.DoesNotContain(await MessagesAsync(app, notApplicable), m => m.Purpose == "care-plan-request");
        var wrong = await app.As(Roles.Provider, "west-beckside").PostAsJsonAsync($"/api/d2a/referrals/{answered}/care-plan-revision", new { summary = "x" });
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        var token = await LinkTokenAsync(app, answered, Email("west-willowbrook"), "care-plan-request");
        var sent = await app.Anonymous().PostAsJsonAsync($"/l/{token}", new Dictionary<string, string> { ["summary"] = "Morning call moved to 08:00; added a welfare check." });
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        var none = await app.As(Roles.Provider, "east-kestrel").PostAsJsonAsync($"/api/d2a/referrals/{notApplicable}/care-plan-revision", new { summary = "x" });
        Assert.Equal(HttpStatusCode.Conflict, none.StatusCode);

        await app.AdvanceAsync(Duration.FromHours(47) + Duration.FromMinutes(59));
        Assert.DoesNotContain(await MessagesAsync(app), m => m.Purpose == "staff-care-plan-overdue");
        await app.AdvanceAsync(Duration.FromMinutes(1));

        var overdue = Assert.Single(await MessagesAsync(app), m => m.Purpose == "staff-care-plan-overdue");
        Assert.Equal(silent, overdue.Reference);
        Assert.Equal("care-manager@council.example", overdue.To);
        Assert.Contains("CarePlanRevisionOverdue", await TimelineAsync(app, silent));
        Assert.Contains("CarePlanRevisionReceived", await TimelineAsync(app, answered));
    }

    [Fact]
    public async Task Discharge_time_changes_move_the_dependent_timers()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAndAwardAsync(app, Referral(supportedBefore: true, previousProvider: "west-beckside"));
        Assert.Equal(Instant.FromUtc(2026, 11, 25, 2, 0), (await TimersAsync(app, reference))["discharge-check"]); // 14:00 + 12 h

        // Before discharge: the expected time moves, the winner is told, the discharge check moves with it.
        var later = await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge-time", new { newTime = "2026-11-24T16:00", reason = "Waiting for medicines" });
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.Equal(Instant.FromUtc(2026, 11, 25, 4, 0), (await TimersAsync(app, reference))["discharge-check"]);
        Assert.Contains(await MessagesAsync(app, reference), m => m.RecipientId == "east-kestrel" && m.Purpose == "discharge-time");
        var past = await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge-time", new { newTime = "2026-11-24T08:00" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, past.StatusCode);

        await app.AdvanceToAsync(Instant.FromUtc(2026, 11, 24, 17, 0));
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge", new { })).StatusCode);
        var before = await TimersAsync(app, reference);
        Assert.Equal(Instant.FromUtc(2026, 11, 26, 17, 0), before["care-plan"]);

        // After discharge: correcting the recorded time moves week 5, the cap and the plan revision.
        var corrected = await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge-time", new { newTime = "2026-11-24T16:00" });
        Assert.Equal(HttpStatusCode.OK, corrected.StatusCode);
        var after = await TimersAsync(app, reference);
        Assert.False(after.ContainsKey("discharge-check"));
        Assert.Equal(before["care-plan"] - Duration.FromHours(1), after["care-plan"]);
        Assert.Equal(before["week-5"] - Duration.FromHours(1), after["week-5"]);
        Assert.Equal(before["cap"] - Duration.FromHours(1), after["cap"]);
        Assert.Equal(Instant.FromUtc(2027, 1, 5, 16, 0), after["cap"]);
    }

    [Fact]
    public async Task Providers_rated_inadequate_or_requires_improvement_or_over_the_hours_cap_are_not_offered()
    {
        await using var app = new CareWorkflowsApp();
        var admin = app.As(Roles.Admin);
        var kestrel = await admin.GetFromJsonAsync<Dictionary<string, JsonElement>>("/api/providers/east-kestrel", CareWorkflowsApp.Json);
        kestrel!["cqcRating"] = JsonSerializer.SerializeToElement("RequiresImprovement");
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/providers/east-kestrel", kestrel)).StatusCode);
        var meadow = await admin.GetFromJsonAsync<Dictionary<string, JsonElement>>("/api/providers/east-meadowbank", CareWorkflowsApp.Json);
        meadow!["weeklyHours"] = JsonSerializer.SerializeToElement(2990); // + 14 h of this package > 3,000 (App A ii)
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/providers/east-meadowbank", meadow)).StatusCode);
        var evergreen = await admin.GetFromJsonAsync<Dictionary<string, JsonElement>>("/api/providers/fw-evergreen", CareWorkflowsApp.Json);
        evergreen!["cqcRating"] = JsonSerializer.SerializeToElement("Inadequate");
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/providers/fw-evergreen", evergreen)).StatusCode);

        var reference = await RaiseAsync(app);
        var offered = (await MessagesAsync(app, reference)).Where(m => m.Purpose == "offer" && m.Channel == MessageChannel.Email).Select(m => m.RecipientId).ToList();
        Assert.Equal(["east-orchard-lane"], offered);
        Assert.Equal(HttpStatusCode.Forbidden, (await RespondAsync(app, reference, "east-kestrel", "accept", "14:30")).StatusCode);

        await app.AdvanceAsync(Duration.FromHours(1));
        offered = (await MessagesAsync(app, reference)).Where(m => m.Purpose == "offer" && m.Channel == MessageChannel.Email).Select(m => m.RecipientId!).ToList();
        Assert.Equal(["east-orchard-lane", "fw-northgate", "fw-riverside"], offered.Order());

        var manual = await app.As(Roles.Brokerage).PostAsJsonAsync($"/api/d2a/referrals/{reference}/award", new { providerId = "fw-evergreen", reason = "phone", firstCall = "2026-11-24T15:00" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, manual.StatusCode);
    }

    [Fact]
    public async Task No_offer_reminder_or_sms_to_a_provider_not_awarded_carries_personal_data()
    {
        await using var app = new CareWorkflowsApp();
        // A busy day: a reminder, a framework round, a re-award, a discharge, a plan revision request, a close.
        var a = await RaiseAsync(app);
        // The link pages show ask prompts: they are anonymised too.
        var asks = await app.Services.GetRequiredService<CareWorkflows.Functions.Workflows.WorkflowClient>().FindAsksAsync(reference: a);
        Assert.Equal(6, asks.Count); // accept and decline for three providers
        foreach (var ask in asks) foreach (var secret in PersonalData) Assert.DoesNotContain(secret, ask.Ask.Prompt, StringComparison.OrdinalIgnoreCase);
        await RespondAsync(app, a, "east-orchard-lane", "accept", "2026-11-25T09:00");
        await app.AdvanceAsync(Duration.FromMinutes(30));
        await RespondAsync(app, a, "east-kestrel", "accept", "14:30");
        await app.As(Roles.Brokerage).PostAsJsonAsync($"/api/d2a/referrals/{a}/award", new { providerId = "east-orchard-lane", reason = "fair share" });
        var b = await RaiseAsync(app, Referral(patch: "South", supportedBefore: true, previousProvider: "west-beckside"));
        await app.AdvanceAsync(Duration.FromHours(1));
        await RespondAsync(app, b, "fw-riverside", "accept", "2026-11-24T14:15");
        await app.AdvanceAsync(Duration.FromHours(4));
        await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{b}/discharge", new { });
        await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{a}/discharge-time", new { newTime = "2026-11-24T18:00" });
        await app.AdvanceAsync(Duration.FromDays(3));
        await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{a}/close", new { outcome = "Readmitted" });

        var messages = await MessagesAsync(app);
        Assert.True(messages.Count > 30, $"only {messages.Count} messages");
        Assert.Contains(messages, m => m.Purpose == "reminder");
        Assert.Contains(messages, m => m.Purpose == "offer" && m.RecipientId!.StartsWith("fw-"));
        foreach (var m in messages)
            foreach (var text in new[] { m.Subject, m.Body, m.HtmlBody ?? "" })
                foreach (var secret in PersonalData)
                    Assert.False(text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{m.Purpose} {m.Channel} to {m.To} contains '{secret}'");
        // SMS carry no health details either: not even the care needs an email offer may give.
        foreach (var sms in messages.Where(m => m.Channel == MessageChannel.Sms))
            Assert.DoesNotContain("washing", sms.Body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Unconfirmed_discharge_is_raised_with_brokerage_twelve_hours_after_the_expected_time()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAndAwardAsync(app);
        await app.AdvanceToAsync(Instant.FromUtc(2026, 11, 25, 1, 59));
        Assert.DoesNotContain(await MessagesAsync(app, reference), m => m.Purpose == "staff-discharge-overdue");
        await app.AdvanceToAsync(Instant.FromUtc(2026, 11, 25, 2, 0));
        // 02:00: brokerage is closed (App M §6), so the out-of-hours duty is told as well.
        Assert.Equal(["brokerage-duty@council.example", "out-of-hours@council.example"],
            (await MessagesAsync(app, reference)).Where(m => m.Purpose == "staff-discharge-overdue").Select(m => m.To).Order());
        // Still possible to confirm it late.
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.Brokerage).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge", new { dischargedAt = "2026-11-24T15:10" })).StatusCode);
    }

    [Fact]
    public async Task Brokerage_records_a_phoned_answer_and_the_D2A_team_plans_the_end_within_six_weeks()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        var phoned = await app.As(Roles.Brokerage).PostAsJsonAsync($"/api/d2a/referrals/{reference}/responses", new { action = "accept", firstCall = "14:15", providerId = "east-meadowbank" });
        Assert.Equal(HttpStatusCode.OK, phoned.StatusCode);
        Assert.Equal("east-meadowbank", (await app.InstanceAsync(reference)).GetProperty("state").GetProperty("award").GetProperty("provider").GetProperty("id").GetString());
        await app.AdvanceAsync(Duration.FromHours(5));
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge", new { })).StatusCode);

        var tooLate = await app.As(Roles.CareManager).PostAsJsonAsync($"/api/d2a/referrals/{reference}/end-date", new { endDate = "2027-01-06", expectedOutcome = "Reablement" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLate.StatusCode); // cap is Tue 5 Jan 2027
        var planned = await app.As(Roles.CareManager).PostAsJsonAsync($"/api/d2a/referrals/{reference}/end-date", new { endDate = "2027-01-05", expectedOutcome = "Reablement" });
        Assert.Equal(HttpStatusCode.OK, planned.StatusCode);
        var timers = await TimersAsync(app, reference);
        Assert.False(timers.ContainsKey("week-5")); // nothing to prompt for any more
        Assert.True(timers.ContainsKey("cap"));     // still escalates if it is not closed by then
        Assert.Contains(await MessagesAsync(app, reference), m => m.RecipientId == "east-meadowbank" && m.Purpose == "end-date");
    }

    [Fact]
    public async Task Idempotency_key_on_create_returns_the_first_referral_and_creates_one()
    {
        await using var app = new CareWorkflowsApp();
        var client = app.As(Roles.DischargeTeam);
        async Task<string> PostAsync()
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/api/d2a/referrals") { Content = JsonContent.Create(Referral()) };
            req.Headers.Add("Idempotency-Key", "passport-7731");
            var r = await client.SendAsync(req);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reference").GetString()!;
        }
        var first = await PostAsync();
        var second = await PostAsync();
        Assert.Equal(first, second);
        Assert.Equal(1, await InstanceCountAsync(app));
        Assert.Equal(6, (await MessagesAsync(app)).Count);
    }

    [Fact]
    public async Task A_resent_close_gets_its_first_answer_not_409_also_when_a_crash_lost_the_kept_result()
    {
        // The crash test found it: a close applied, its answer lost to a kill, and the resend told 409 "closed" by the
        // API's own checks, which ran before the key was looked up.
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        var client = app.As(Roles.DischargeTeam);
        async Task<HttpResponseMessage> CloseAsync(string key)
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, $"/api/d2a/referrals/{reference}/close") { Content = JsonContent.Create(new { outcome = "NoOngoingNeed" }) };
            req.Headers.Add("Idempotency-Key", key);
            return await client.SendAsync(req);
        }
        var first = await CloseAsync("close-4411");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var status = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString();

        var resent = await CloseAsync("close-4411");
        Assert.Equal(HttpStatusCode.OK, resent.StatusCode);
        Assert.Equal(status, (await resent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await CloseAsync("close-5522")).StatusCode); // another close is refused

        // A crash after the instance took the close but before its result was kept: the instance's published outcome answers.
        await using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={app.DatabasePath}"))
        {
            await db.OpenAsync();
            await using var delete = db.CreateCommand();
            delete.CommandText = "DELETE FROM commands WHERE idempotency_key LIKE '%close-4411'";
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }
        Assert.Equal(HttpStatusCode.OK, (await CloseAsync("close-4411")).StatusCode);
    }

    [Fact]
    public async Task A_resent_create_gets_the_first_referral_after_its_discharge_time_passed_and_after_a_crash_before_its_result_was_kept()
    {
        await using var app = new CareWorkflowsApp();
        var client = app.As(Roles.DischargeTeam);
        async Task<string> PostAsync()
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/api/d2a/referrals") { Content = JsonContent.Create(Referral()) };
            req.Headers.Add("Idempotency-Key", "passport-8842");
            var r = await client.SendAsync(req);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reference").GetString()!;
        }
        var first = await PostAsync();
        await app.AdvanceAsync(Duration.FromHours(6)); // 15:00: the expected discharge (14:00) is past, so the body alone would be refused
        Assert.Equal(first, await PostAsync());

        // A crash after the instance started but before its result was kept: the resend finds the instance by its key.
        await using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={app.DatabasePath}"))
        {
            await db.OpenAsync();
            await using var delete = db.CreateCommand();
            delete.CommandText = "DELETE FROM commands WHERE idempotency_key LIKE '%passport-8842'";
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }
        Assert.Equal(first, await PostAsync());
        Assert.Equal(1, await InstanceCountAsync(app));
    }

    [Fact]
    public async Task Key_path_runs_on_PostgreSQL()
    {
        await using var app = new CareWorkflowsApp(TestDatabases.StorePostgres, settings: new Dictionary<string, string?> { ["Providers:SeedDemo"] = "true" });
        var reference = await RaiseAsync(app);
        await app.AdvanceAsync(Duration.FromMinutes(30));
        Assert.Equal(6, (await MessagesAsync(app, reference)).Count(m => m.Purpose == "reminder")); // 3 providers, email and SMS
        var token = await OfferTokenAsync(app, reference, "east-meadowbank", 0);
        Assert.Equal(HttpStatusCode.OK, (await app.Anonymous().PostAsJsonAsync($"/l/{token}", new Dictionary<string, string> { ["text"] = "ACCEPT " + reference + " 2.15pm" })).StatusCode);
        Assert.Equal("Awarded", await StatusAsync(app, reference));
        var firstCall = (await app.InstanceAsync(reference)).GetProperty("state").GetProperty("award").GetProperty("firstCallAt").GetString();
        Assert.Equal("2026-11-24T14:15:00Z", firstCall); // "2.15pm" from a free-text reply, UK time
        await app.AdvanceAsync(Duration.FromHours(5));
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.CareManager).PostAsJsonAsync($"/api/d2a/referrals/{reference}/close", new { outcome = "Reablement" })).StatusCode);
        Assert.Equal("Closed", await StatusAsync(app, reference));
        Assert.Equal(11, (await app.As(Roles.Brokerage).GetFromJsonAsync<JsonElement>("/api/providers")).GetArrayLength());
    }
}
