using CareWorkflows.Definitions;
using CareWorkflows.Definitions.D2A;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;
using static CareWorkflows.Definitions.D2A.D2AReferral;

namespace CareWorkflows.Tests.D2A;

/// <summary>The D2A orchestrator's branches against a mocked orchestration context (no engine, no database).</summary>
public sealed class D2AReferralOrchestrationTests
{
    private static readonly Actor Nurse = new("nurse-1", Roles.DischargeTeam, DisplayName: "Sam (discharge team)");
    private static readonly Actor Broker = new("broker-1", Roles.Brokerage, DisplayName: "Bo (brokerage)");
    private static readonly ProviderContact Kestrel = new("east-kestrel", "Kestrel Home Support", "k@kestrel.example", "+447700900002");
    private static readonly ProviderContact Orchard = new("east-orchard-lane", "Orchard Lane Home Care", "o@orchard.example", "+447700900001");
    private static readonly ProviderContact Northgate = new("fw-northgate", "Northgate Homecare", "n@northgate.example", "+447700900011");
    private static readonly ProviderContact Beckside = new("west-beckside", "Beckside Care Services", "b@beckside.example", "+447700900004");

    private static Actor As(ProviderContact p) => new($"user-{p.Id}", Roles.Provider, p.Id);
    private static DateTime Utc(int y, int mo, int d, int h, int mi) => new(y, mo, d, h, mi, 0, DateTimeKind.Utc);

    /// <summary>Raised at <paramref name="now"/> (default Tue 24 Nov 2026 09:00 GMT), discharge expected at <paramref name="discharge"/> (default 14:00).</summary>
    private static async Task<(OrchestrationHarness H, Task<string> Run)> RaisedAsync(Instant? now = null, Instant? discharge = null,
        ProviderContact[]? patch = null, ProviderContact[]? framework = null, ProviderContact? previous = null)
    {
        var at = now ?? Instant.FromUtc(2026, 11, 24, 9, 0);
        var h = new OrchestrationHarness("D2A-ABCDE", at);
        var referral = new RaiseReferral(new Patient("Edith Cavendish-Roe", "9434765919", new LocalDate(1938, 4, 12), "14 Acacia Avenue, Orpington", "BR6 7JH"),
            "Princess Royal", "Ward 4", "East", discharge ?? Instant.FromUtc(2026, 11, 24, 14, 0), 4, 30, false, "Help with washing and meals.",
            previous is not null, previous, new Referrer("Sam", "sam@nhs.example.org"), patch ?? [Kestrel, Orchard], framework ?? [Northgate]);
        var run = await h.StartAsync(new D2AReferralOrchestration(),
            new WorkflowStart<RaiseReferral>("start-1", Nurse, referral, WorkflowSetup.From(PolicySettings.Default, Contacts.Default, WorkingCalendar.Shipped)));
        return (h, run);
    }

    private static async Task<OrchestrationHarness> AwardedAsync(Instant? discharge = null, ProviderContact? previous = null, Instant? now = null)
    {
        var (h, _) = await RaisedAsync(now, discharge, previous: previous);
        var first = discharge ?? Instant.FromUtc(2026, 11, 24, 14, 0);
        Assert.Equal(200, (await h.SendAsync(new ProviderResponse(Kestrel.Id, true, first), As(Kestrel)))!.Status);
        Assert.Equal("Awarded", h.Status.Status);
        return h;
    }

    [Fact]
    public async Task Raising_offers_every_patch_provider_anonymised_with_the_window_at_one_hour_and_the_reminder_at_thirty_minutes()
    {
        var (h, _) = await RaisedAsync();
        Assert.Equal(201, Assert.Single(h.Status.Outcomes).Status);
        Assert.Equal("OfferedToPatch", h.Status.Status);
        // Window 10:00, reminder 09:30, discharge check 14:00 + 12 h.
        Assert.Equal([Utc(2026, 11, 24, 9, 30), Utc(2026, 11, 24, 10, 0), Utc(2026, 11, 25, 2, 0)], h.Pending.Select(t => t.FireAt).Order());
        var offers = h.Sent.Where(m => m.Purpose == "offer").ToList();
        Assert.Equal(["east-kestrel", "east-kestrel", "east-orchard-lane", "east-orchard-lane"], offers.Select(m => m.RecipientId).Order());
        foreach (var m in offers)
        {
            Assert.All(m.Sign!, l => Assert.Equal(Utc(2026, 11, 24, 10, 0), l.ExpiresAt.ToDateTimeUtc())); // the links die with the window
            Assert.Contains("{{accept}}", m.Body); // signed by the activity: never a live link in the history
            foreach (var secret in new[] { "Cavendish", "9434765919", "Acacia", "1938", "7JH" }) Assert.DoesNotContain(secret, m.Body + m.Subject + m.HtmlBody);
        }
        // The published state carries the anonymised package and no one's personal data.
        var view = h.Status.View!.Value.GetRawText();
        foreach (var secret in new[] { "Cavendish", "9434765919", "Acacia", "1938", "7JH", "Princess Royal", "Ward 4" }) Assert.DoesNotContain(secret, view);
        Assert.Equal(4, h.Status.Asks.Count); // accept and decline for two providers
        Assert.Equal(["ReferralRaised", "OffersSent"], h.Notes);
    }

    [Fact]
    public async Task The_reminder_goes_only_to_providers_who_have_not_answered()
    {
        var (h, _) = await RaisedAsync();
        await h.SendAsync(new ProviderResponse(Orchard.Id, false, Reason: "No carers"), As(Orchard));
        await h.AdvanceToAsync(Instant.FromUtc(2026, 11, 24, 9, 30));
        var reminders = h.Sent.Where(m => m.Purpose == "reminder").ToList();
        Assert.Equal(2, reminders.Count); // email and SMS
        Assert.All(reminders, m => Assert.Equal(Kestrel.Id, m.RecipientId));
        Assert.Contains("RemindersSent", h.Notes);
    }

    [Fact]
    public async Task The_window_ending_without_a_bid_offers_the_framework_borough_wide_and_alerts_brokerage_then_no_provider_is_found()
    {
        var (h, _) = await RaisedAsync();
        await h.AdvanceToAsync(Instant.FromUtc(2026, 11, 24, 10, 0));
        Assert.Equal("OfferedToFramework", h.Status.Status);
        Assert.Equal(["fw-northgate", "fw-northgate"], h.Sent.Where(m => m.Purpose == "offer" && m.RecipientId!.StartsWith("fw-")).Select(m => m.RecipientId));
        Assert.Equal("brokerage-duty@council.example", Assert.Single(h.Sent, m => m.Purpose == "staff-framework-alert").To);
        // The framework round has its own hour: window 11:00, reminder 10:30.
        Assert.Contains(h.Pending, t => t.FireAt == Utc(2026, 11, 24, 11, 0));
        Assert.Contains(h.Pending, t => t.FireAt == Utc(2026, 11, 24, 10, 30));
        // A patch provider is now too late, and that changes nothing.
        var calls = h.Calls.Count;
        Assert.Equal(409, (await h.SendAsync(new ProviderResponse(Kestrel.Id, true, Instant.FromUtc(2026, 11, 24, 14, 0)), As(Kestrel)))!.Status);
        Assert.Equal("OfferedToFramework", h.Status.Status);
        Assert.DoesNotContain(h.Calls.Skip(calls), c => c.Name == WorkflowScope.SendMessageActivity);

        await h.AdvanceToAsync(Instant.FromUtc(2026, 11, 24, 11, 0));
        Assert.Equal("NoProviderFound", h.Status.Status);
        Assert.Equal(["brokerage-manager@council.example", "sam@nhs.example.org"], h.Sent.Where(m => m.Purpose == "staff-no-provider").Select(m => m.To).Order());
        var fact = Assert.Single(h.Calls, c => c.Name == WorkflowScope.PublishActivity);
        Assert.Equal((D2AReferralOrchestration.NoProviderFoundFact, "NoProviderFound"), (((IntegrationFact)fact.Input!).Name, ((IntegrationFact)fact.Input!).Outcome));
        Assert.Equal(["ReferralRaised", "OffersSent", "RemindersSent", "BrokerageAlerted", "OffersSent", "InputRefused", "RemindersSent", "NoProviderFound"], h.Notes);

        // Brokerage places it by hand.
        Assert.Equal(200, (await h.SendAsync(new AwardPackage(Beckside.Id, "Placed by phone", Beckside, Instant.FromUtc(2026, 11, 24, 16, 0)), Broker))!.Status);
        Assert.Equal("Awarded", h.Status.Status);
    }

    [Fact]
    public async Task The_first_acceptance_meeting_the_discharge_wins_at_once_and_the_others_are_told()
    {
        var (h, _) = await RaisedAsync();
        // Orchard's first call (next morning) misses a 14:00 discharge: kept as a bid, no award yet.
        Assert.Equal(200, (await h.SendAsync(new ProviderResponse(Orchard.Id, true, Instant.FromUtc(2026, 11, 25, 9, 0)), As(Orchard)))!.Status);
        Assert.Equal("OfferedToPatch", h.Status.Status);
        // Kestrel's "14:30" is its next occurrence in London: 14:30 today, within 4 hours of the discharge.
        Assert.Equal(200, (await h.SendAsync(new ProviderResponse(Kestrel.Id, true, FirstCallTime: new LocalTime(14, 30)), As(Kestrel)))!.Status);
        var s = h.View<State>();
        Assert.Equal(D2AStatus.Awarded, s.Status);
        Assert.Equal((Kestrel.Id, Instant.FromUtc(2026, 11, 24, 14, 30)), (s.Award!.Provider.Id, s.Award.FirstCallAt));
        Assert.Equal([Utc(2026, 11, 25, 2, 0)], h.Pending.Select(t => t.FireAt)); // window and reminder gone; the discharge check stays
        var award = Assert.Single(h.Sent, m => m.Purpose == "award" && m.Channel == MessageChannel.Email);
        var details = Assert.Single(award.Sign!);
        Assert.Equal((DetailsAction, DetailsPath, Kestrel.Id), (details.Action, details.PathPrefix, details.RecipientId));
        Assert.Equal(Instant.FromUtc(2027, 1, 5, 14, 0), details.ExpiresAt); // the 6-week cap after the expected discharge
        Assert.Contains(h.Sent, m => m.Purpose == "not-successful" && m.RecipientId == Orchard.Id);
        Assert.Contains(h.Sent, m => m.Purpose == "staff-placed" && m.To == "sam@nhs.example.org");
        var fact = (IntegrationFact)Assert.Single(h.Calls, c => c.Name == WorkflowScope.PublishActivity).Input!;
        Assert.Equal((D2AReferralOrchestration.AwardedFact, 1, Instant.FromUtc(2026, 11, 24, 14, 30)), (fact.Name, fact.Occurrence, fact.Times!["firstCallAt"]));
    }

    [Fact]
    public async Task Only_late_bids_the_earliest_wins_when_the_window_ends_and_a_re_award_is_a_second_fact()
    {
        var (h, _) = await RaisedAsync();
        await h.SendAsync(new ProviderResponse(Orchard.Id, true, Instant.FromUtc(2026, 11, 25, 11, 0)), As(Orchard));
        await h.AdvanceToAsync(Instant.FromUtc(2026, 11, 24, 9, 40));
        await h.SendAsync(new ProviderResponse(Kestrel.Id, true, Instant.FromUtc(2026, 11, 25, 8, 0)), As(Kestrel)); // all answered: the round ends now
        Assert.Equal(Kestrel.Id, h.View<State>().Award!.Provider.Id);

        Assert.Equal(200, (await h.SendAsync(new AwardPackage(Orchard.Id, "Fair share (App A)"), Broker))!.Status);
        Assert.Equal(Orchard.Id, h.View<State>().Award!.Provider.Id);
        Assert.Contains(h.Sent, m => m.Purpose == "award-withdrawn" && m.RecipientId == Kestrel.Id);
        Assert.Equal([1, 2], h.Calls.Where(c => c.Name == WorkflowScope.PublishActivity).Select(c => ((IntegrationFact)c.Input!).Occurrence));
    }

    [Fact]
    public async Task Refusals_are_answered_noted_and_change_nothing()
    {
        var (h, _) = await RaisedAsync();
        var before = (h.Status.Status, h.Status.View!.Value.GetRawText(), h.Pending.Count());
        var sent = h.Sent.Count();
        Assert.Equal(403, (await h.SendAsync(new ProviderResponse(Beckside.Id, true, Instant.FromUtc(2026, 11, 24, 14, 0)), As(Beckside)))!.Status); // not offered
        Assert.Equal(403, (await h.SendAsync(new ProviderResponse(Orchard.Id, false), As(Kestrel)))!.Status);   // for another provider
        Assert.Equal(409, (await h.SendAsync(new ConfirmDischarge(), Nurse))!.Status);                            // not awarded yet
        Assert.Equal(422, (await h.SendAsync(new ProviderResponse(Kestrel.Id, true, Instant.FromUtc(9999, 1, 1, 0, 0)), As(Kestrel)))!.Status);
        Assert.Equal(403, (await h.SendAsync(new AwardPackage(Kestrel.Id, "x"), Nurse))!.Status);                 // only brokerage awards
        Assert.Equal(before, (h.Status.Status, h.Status.View!.Value.GetRawText(), h.Pending.Count()));
        Assert.Equal(sent, h.Sent.Count());
        Assert.Equal(5, h.Notes.Count(n => n == "InputRefused"));
    }

    [Fact]
    public async Task The_six_week_cap_and_the_week_5_prompt_keep_the_London_time_across_the_BST_change()
    {
        // Discharged Wed 10 Mar 2027 10:00 GMT; BST starts Sun 28 Mar 2027. Calendar weeks keep 10:00 London = 09:00 UTC.
        var discharge = Instant.FromUtc(2027, 3, 10, 10, 0);
        var h = await AwardedAsync(discharge, now: Instant.FromUtc(2027, 3, 10, 8, 0));
        await h.AdvanceToAsync(Instant.FromUtc(2027, 3, 10, 10, 5));
        Assert.Equal(200, (await h.SendAsync(new ConfirmDischarge(discharge), Nurse))!.Status);
        Assert.Equal("Active", h.Status.Status);
        var timers = h.Status.Timers!.ToDictionary(t => t.Name, t => t.At);
        Assert.Equal(Instant.FromUtc(2027, 4, 14, 9, 0), timers[Week5Deadline]);
        Assert.Equal(Instant.FromUtc(2027, 4, 21, 9, 0), timers[CapDeadline]);
        Assert.False(timers.ContainsKey(CarePlanDeadline)); // nobody supported the person before admission
        Assert.Equal([Utc(2027, 4, 14, 9, 0), Utc(2027, 4, 21, 9, 0)], h.Pending.Select(t => t.FireAt).Order());

        await h.AdvanceToAsync(Instant.FromUtc(2027, 4, 14, 9, 0));
        Assert.Contains("Wednesday 21 April 2027", Assert.Single(h.Sent, m => m.Purpose == "staff-end-date-prompt").Body);
        await h.AdvanceToAsync(Instant.FromUtc(2027, 4, 21, 9, 0));
        Assert.Equal(["brokerage-duty@council.example", "d2a-team-lead@council.example"], h.Sent.Where(m => m.Purpose == "staff-cap").Select(m => m.To).Order());
        Assert.True(h.View<State>().CapReached);
        Assert.Equal("Active", h.Status.Status); // the cap escalates; the D2A team closes
    }

    [Fact]
    public async Task The_previous_provider_is_asked_for_the_plan_revision_within_48_hours_and_its_absence_escalates()
    {
        var h = await AwardedAsync(previous: Beckside);
        await h.AdvanceToAsync(Instant.FromUtc(2026, 11, 24, 14, 0));
        await h.SendAsync(new ConfirmDischarge(), Nurse);
        var request = Assert.Single(h.Sent, m => m.Purpose == "care-plan-request");
        Assert.Equal((CarePlanAction, Beckside.Id), (request.Sign![0].Action, request.Sign[0].RecipientId));
        Assert.Contains(h.Status.Asks, a => a.Action == CarePlanAction && a.RecipientId == Beckside.Id);
        Assert.Contains(h.Pending, t => t.FireAt == Utc(2026, 11, 26, 14, 0));

        await h.AdvanceToAsync(Instant.FromUtc(2026, 11, 26, 14, 0));
        Assert.Equal("care-manager@council.example", Assert.Single(h.Sent, m => m.Purpose == "staff-care-plan-overdue").To);
        Assert.Contains("CarePlanRevisionOverdue", h.Notes);
    }

    [Fact]
    public async Task A_later_expected_discharge_moves_the_discharge_check_tells_the_winner_and_sends_a_link_to_the_new_end()
    {
        var h = await AwardedAsync();
        Assert.Equal(200, (await h.SendAsync(new ChangeDischargeTime(Instant.FromUtc(2026, 11, 24, 16, 0), "Medicines"), Nurse))!.Status);
        Assert.Equal(Instant.FromUtc(2026, 11, 25, 4, 0), h.Status.Timers!.Single(t => t.Name == DischargeCheckDeadline).At);
        var told = Assert.Single(h.Sent, m => m.Purpose == "discharge-time");
        Assert.Equal(Instant.FromUtc(2027, 1, 5, 16, 0), Assert.Single(told.Sign!).ExpiresAt);
        // Unconfirmed 12 hours after the new time: brokerage and, at 04:00, the out-of-hours duty.
        await h.AdvanceToAsync(Instant.FromUtc(2026, 11, 25, 4, 0));
        Assert.Equal(["brokerage-duty@council.example", "out-of-hours@council.example"], h.Sent.Where(m => m.Purpose == "staff-discharge-overdue").Select(m => m.To).Order());
    }

    [Fact]
    public async Task Closing_tells_the_providers_still_waiting_cancels_every_deadline_and_ends_the_orchestration()
    {
        var (h, run) = await RaisedAsync();
        Assert.Equal(200, (await h.SendAsync(new CloseReferral(D2AOutcome.Readmitted), Nurse))!.Status);
        Assert.Equal("Closed", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(h.Status.Completed);
        Assert.Empty(h.Pending);
        Assert.Equal([Kestrel.Id, Orchard.Id], h.Sent.Where(m => m.Purpose == "offer-closed").Select(m => m.RecipientId).Order());
    }

    [Fact]
    public async Task An_offer_that_cannot_be_delivered_is_brokerage_duty_s_problem_at_once()
    {
        var h = new OrchestrationHarness("D2A-ABCDE", Instant.FromUtc(2026, 11, 24, 9, 0))
        {
            SendResult = m => new MessageResult(m.Id, m.Message.Purpose, m.Message.To, !(m.Message.Purpose == "offer" && m.Message.Channel == MessageChannel.Sms), "Dev", null, "21211 not a mobile"),
        };
        var referral = new RaiseReferral(new Patient("A Person", "9434765919", new LocalDate(1940, 1, 1), "1 Road", "BR6 7JH"), "H", "W", "East",
            Instant.FromUtc(2026, 11, 24, 14, 0), 1, 30, false, "Meals.", false, null, new Referrer("Sam", "sam@nhs.example.org"), [Kestrel], []);
        await h.StartAsync(new D2AReferralOrchestration(), new WorkflowStart<RaiseReferral>("s", Nurse, referral, WorkflowSetup.From(PolicySettings.Default, Contacts.Default, WorkingCalendar.Shipped)));
        Assert.Contains("MessageUndelivered", h.Notes);
        var alert = Assert.Single(h.Sent, m => m.Purpose == "staff-undelivered");
        Assert.Contains("by SMS", alert.Body);
    }
}
