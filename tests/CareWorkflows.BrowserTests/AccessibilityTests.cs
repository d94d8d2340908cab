using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace CareWorkflows.BrowserTests;

/// <summary>
/// Issue 18, checked in Chromium: axe-core on every page and every error state (staff pages, provider pages, signed-link
/// pages, refusal pages), focus indicators, reflow at 320 CSS px, and where focus goes from an error summary.
/// One app and one browser for the class.
/// </summary>
public sealed class AccessibilityTests(BrowserFixture f) : IClassFixture<BrowserFixture>
{
    private static Task ClickAsync(IPage page, string button) => page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();

    private async Task<string> DetailsLinkAsync(string reference)
    {
        var messages = await f.App.Store.GetMessagesAsync(reference: reference, limit: 1000);
        var link = messages.SelectMany(m => m.Links).Last(l => l.Contains("/d2a/details/", StringComparison.Ordinal));
        return f.App.BaseUrl + new Uri(link).PathAndQuery;
    }

    private async Task<string> ConcernLinkAsync(string reference)
    {
        var messages = await f.App.Store.GetMessagesAsync(reference: reference, limit: 1000);
        var link = messages.SelectMany(m => m.Links).Last(l => l.Contains("/l/", StringComparison.Ordinal));
        return f.App.BaseUrl + new Uri(link).PathAndQuery;
    }

    private static async Task FillReferralAsync(IPage page, string calls = "4")
    {
        await page.GetByLabel("Full name").FillAsync("Ada Lovelace");
        await page.GetByLabel("NHS number", new() { Exact = true }).FillAsync("943 476 5919");
        await page.GetByLabel("Date of birth").FillAsync("1938-04-12");
        await page.GetByLabel("Home address").FillAsync("1 Analytical Row, Orpington");
        await page.GetByLabel("Postcode").FillAsync("BR6 7JH");
        await page.GetByLabel("Hospital").FillAsync("Princess Royal University Hospital");
        await page.GetByLabel("Ward").FillAsync("Ward 4");
        await page.GetByLabel("Patch").SelectOptionAsync("East");
        await page.GetByLabel("Expected discharge (UK time)").FillAsync("2026-11-24T14:00");
        await page.GetByLabel("Calls per day").FillAsync(calls);
        await page.GetByLabel("Minutes per call").FillAsync("30");
        await page.GetByLabel("No, one carer").CheckAsync();
        await page.GetByLabel("Summary of care needs").FillAsync("Help with washing, dressing and meals.");
        await page.GetByLabel("Your work email").FillAsync("jo.bloggs@nhs.example.org");
    }

    private static async Task FillIncidentAsync(IPage page, string occurredAt, string contactEmail = "incidents@east-kestrel.example.org")
    {
        await page.GetByLabel("What kind of incident").SelectOptionAsync("WelfareConcern");
        await page.GetByLabel("When it happened (UK time)").FillAsync(occurredAt);
        await page.GetByLabel("When you became aware (UK time)").FillAsync("2026-11-01T09:00");
        await page.GetByLabel("What happened").FillAsync("Found on the floor at the morning call.");
        await page.GetByLabel("Who was involved").FillAsync("Carer on the morning call");
        await page.Locator("#emergencyservicesinvolved-no").CheckAsync();
        await page.GetByLabel("Action taken straight away").FillAsync("GP called");
        await page.GetByLabel("Further action planned").FillAsync("Falls review");
        await page.GetByLabel("Service user group").FillAsync("Older people");
        await page.GetByLabel("Service user id").FillAsync("SU-1");
        await page.GetByLabel("Email for the council to reply to").FillAsync(contactEmail);
    }

    [Fact]
    public async Task The_axe_check_fails_on_a_page_with_a_violation()
    {
        // The harness itself: a field without a label and an image without text must fail, naming rule and element.
        var page = await f.PageAsync();
        await page.GotoAsync("/signin");
        await page.EvaluateAsync("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<input id=\"unlabelled\"><img id=\"no-alt\" src=\"/css/site.css\">')");
        var e = await Assert.ThrowsAnyAsync<Exception>(() => Axe.CheckAsync(page, "sign-in with a planted violation"));
        Assert.Contains("label", e.Message);
        Assert.Contains("#unlabelled", e.Message);
        Assert.Contains("image-alt", e.Message);
    }

    [Fact]
    public async Task Staff_pages_and_their_error_states_have_no_axe_violations()
    {
        var anonymous = await f.PageAsync();
        await anonymous.GotoAsync("/signin");
        await Axe.CheckAsync(anonymous, "sign-in");
        await ClickAsync(anonymous, "Sign in");
        await Assertions.Expect(anonymous.Locator(".error-summary")).ToBeVisibleAsync();
        await Axe.CheckAsync(anonymous, "sign-in: no role");

        var reference = await f.RaiseReferralAsync();
        var nurse = await f.PageAsync("DischargeTeam", name: "Nurse Jo");
        await nurse.GotoAsync("/");
        await Axe.CheckAsync(nurse, "dashboard (staff)");
        await nurse.GotoAsync("/d2a/new");
        await Axe.CheckAsync(nurse, "D2A form");
        await ClickAsync(nurse, "Raise referral");
        await Assertions.Expect(nurse.Locator(".error-summary a")).ToHaveCountAsync(14);
        await Axe.CheckAsync(nurse, "D2A form: everything missing");
        await FillReferralAsync(nurse, calls: "9");
        await nurse.GetByLabel("Postcode").FillAsync("NOT A POSTCODE");
        await ClickAsync(nurse, "Raise referral");
        await Assertions.Expect(nurse.Locator(".error-summary a")).ToHaveCountAsync(2);
        await Axe.CheckAsync(nurse, "D2A form: postcode and a workflow rule");
        await nurse.GotoAsync($"/instances/{reference}");
        await Axe.CheckAsync(nurse, "D2A instance (discharge team)");
        await nurse.GotoAsync("/kpis");
        await Axe.CheckAsync(nurse, "KPIs");
        await nurse.GotoAsync("/kpis?From=yesterday");
        await Assertions.Expect(nurse.Locator(".error-summary")).ToBeVisibleAsync();
        await Axe.CheckAsync(nurse, "KPIs: bad date");

        var qa = await f.PageAsync("QualityAssurance", name: "Quinn QA");
        await qa.GotoAsync("/concerns/new");
        await Axe.CheckAsync(qa, "concern form");
        await ClickAsync(qa, "Raise concern");
        await Axe.CheckAsync(qa, "concern form: everything missing");
        await qa.GetByLabel("Provider").SelectOptionAsync("east-kestrel");
        await qa.GetByLabel("The concern").FillAsync("Two families report calls 90 minutes late this week.");
        await ClickAsync(qa, "Raise concern");
        await Assertions.Expect(qa.Locator("#status")).ToContainTextAsync("Awaiting response");
        await Axe.CheckAsync(qa, "concern instance (QA)");
        var concern = (await qa.Locator("h1").InnerTextAsync()).Trim();

        // The provider answers through its link (a page with hints), then QA decides on the instance page.
        var provider = await f.PageAsync();
        await provider.GotoAsync(await ConcernLinkAsync(concern));
        await Axe.CheckAsync(provider, "concern response link");
        await provider.GetByLabel("What you investigated and what you found").FillAsync("Rota gaps on two runs; fixed.");
        await provider.GetByLabel("Did you find an issue with the service? (yes or no)").FillAsync("yes");
        await provider.GetByLabel("Actions taken and timescales (optional)").FillAsync("Two carers added from Monday.");
        await provider.GetByRole(AriaRole.Button).ClickAsync();
        await Assertions.Expect(provider.Locator("h1")).ToHaveTextAsync("Thank you");
        await Axe.CheckAsync(provider, "link: answer recorded");
        await qa.ReloadAsync();
        await Axe.CheckAsync(qa, "concern instance with the decision form");
        await ClickAsync(qa, "Record decision");
        await Assertions.Expect(qa.Locator(".error-summary a")).ToHaveCountAsync(2);
        await Axe.CheckAsync(qa, "concern decision: nothing chosen");
    }

    [Fact]
    public async Task Provider_and_signed_link_pages_and_their_error_states_have_no_axe_violations()
    {
        var reference = await f.RaiseReferralAsync();
        var kestrel = await f.PageAsync("Provider", "east-kestrel", "Kim Kestrel");
        await kestrel.GotoAsync("/");
        await Axe.CheckAsync(kestrel, "dashboard (provider)");
        await kestrel.GotoAsync($"/instances/{reference}");
        await Axe.CheckAsync(kestrel, "D2A instance (provider, accept form)");
        await ClickAsync(kestrel, "Accept");
        await Assertions.Expect(kestrel.Locator(".error-summary")).ToBeVisibleAsync();
        await Axe.CheckAsync(kestrel, "D2A instance: accept without a time");

        await kestrel.GotoAsync("/incidents/new");
        await Axe.CheckAsync(kestrel, "incident form");
        await ClickAsync(kestrel, "Report incident");
        await Axe.CheckAsync(kestrel, "incident form: everything missing");
        await FillIncidentAsync(kestrel, "2026-03-29T01:30");
        await ClickAsync(kestrel, "Report incident");
        await Assertions.Expect(kestrel.Locator(".error-summary")).ToContainTextAsync("There was no 01:30 on 29 March 2026");
        await Axe.CheckAsync(kestrel, "incident form: a time the clocks skipped");
        await kestrel.GetByLabel("When it happened (UK time)").FillAsync("2026-10-25T01:30");
        await ClickAsync(kestrel, "Report incident");
        await Assertions.Expect(kestrel.GetByLabel("01:30 GMT (second)")).ToBeVisibleAsync();
        await Axe.CheckAsync(kestrel, "incident form: which 01:30");
        await kestrel.GetByLabel("01:30 GMT (second)").CheckAsync();
        await ClickAsync(kestrel, "Report incident");
        await Assertions.Expect(kestrel.Locator("#status")).ToBeVisibleAsync();
        await Axe.CheckAsync(kestrel, "incident instance (provider)");
        var incident = (await kestrel.Locator("h1").InnerTextAsync()).Trim();

        var lead = await f.PageAsync("SafeguardingLead", name: "Sal Lead");
        await lead.GotoAsync($"/instances/{incident}");
        await Axe.CheckAsync(lead, "incident instance (safeguarding lead, close form)");
        await ClickAsync(lead, "Close incident");
        await Assertions.Expect(lead.Locator("#close-reason-error")).ToBeVisibleAsync();
        await Axe.CheckAsync(lead, "incident instance: close without a reason");

        var demo = await f.PageAsync("Provider", "east-kestrel", "Tam Assessor"); // the demo packages and assessors are Kestrel's
        await demo.GotoAsync("/adjustments/new");
        await Axe.CheckAsync(demo, "adjustment form");
        await ClickAsync(demo, "Propose adjustment");
        await Axe.CheckAsync(demo, "adjustment form: everything missing");
        await demo.GetByLabel("Package").SelectOptionAsync("PKG-DEMO-1");
        await demo.GetByLabel("Trusted assessor").SelectOptionAsync("TAS-DEMO-1");
        await demo.GetByLabel("Proposed weekly hours").FillAsync("9");
        await demo.GetByLabel("Date the change takes effect").FillAsync("2026-11-25");
        await demo.Locator("#personagreed-yes").CheckAsync();
        await demo.GetByLabel("Goals").FillAsync("More independence with meals.");
        await demo.GetByLabel("Why the change").FillAsync("Manages breakfast alone now.");
        await demo.GetByLabel("Evidence").FillAsync("Observed on three visits.");
        await ClickAsync(demo, "Propose adjustment");
        await Assertions.Expect(demo.Locator("#status")).ToBeVisibleAsync();
        await Axe.CheckAsync(demo, "adjustment instance (provider)");

        // Signed links: the accept form, a refused answer (first call in the past), thanks, a used link, the details page.
        var link = await f.PageAsync();
        await link.GotoAsync(await f.App.LinkAsync(reference, "referrals@east-orchard-lane.example.org", "decline"));
        await Assertions.Expect(link.GetByLabel("Reason (optional)", new() { Exact = true })).ToBeVisibleAsync();
        await Axe.CheckAsync(link, "link: decline form");
        var accept = await f.App.LinkAsync(reference, "referrals@east-kestrel.example.org", "accept");
        await link.GotoAsync(accept);
        await Axe.CheckAsync(link, "link: accept form");
        await link.GetByLabel("Earliest first call you can make").FillAsync("2026-11-24T08:00");
        await link.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Accept") }).ClickAsync();
        await Assertions.Expect(link.Locator(".error-summary")).ToContainTextAsync("The first call time is in the past.");
        await Assertions.Expect(link.GetByLabel("Earliest first call you can make")).ToHaveValueAsync("2026-11-24T08:00");
        await Axe.CheckAsync(link, "link: answer refused, form shown again");
        await link.GetByLabel("Earliest first call you can make").FillAsync("2026-11-24T14:30");
        await link.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Accept") }).ClickAsync();
        await Assertions.Expect(link.Locator("h1")).ToHaveTextAsync("Thank you");
        await link.GotoAsync(accept);
        await Axe.CheckAsync(link, "link: already used");
        await link.GotoAsync(await DetailsLinkAsync(reference));
        await Assertions.Expect(link.Locator("main")).ToContainTextAsync("Ada Lovelace");
        await Axe.CheckAsync(link, "link: referral details");
        await link.GotoAsync("/l/not-a-token");
        await Axe.CheckAsync(link, "link: damaged");
    }

    [Fact]
    public async Task Instance_operations_and_refusal_pages_have_no_axe_violations()
    {
        var reference = await f.RaiseReferralAsync();
        var accepted = await f.Api("Provider", "east-kestrel").PostAsJsonAsync($"/api/d2a/referrals/{reference}/responses", new { action = "accept", firstCall = "2026-11-24T14:30" });
        Assert.Equal(System.Net.HttpStatusCode.OK, accepted.StatusCode); // taken and decided (awarded), not only queued (202)
        var broker = await f.PageAsync("Brokerage", name: "Bea Broker");
        await broker.GotoAsync($"/instances/{reference}");
        await Assertions.Expect(broker).ToHaveTitleAsync($"{reference} — D2A referral, awarded – CareWorkflows");
        await Axe.CheckAsync(broker, "D2A instance awarded (broker: award, discharge, cancel)");
        await ClickAsync(broker, "Award");
        await Assertions.Expect(broker.Locator(".error-summary a")).ToHaveCountAsync(2);
        await Axe.CheckAsync(broker, "award: nothing given");
        await ClickAsync(broker, "Cancel instance");
        await Assertions.Expect(broker.Locator("#cancel-reason-error")).ToBeVisibleAsync();
        await Axe.CheckAsync(broker, "cancel: no reason");
        await broker.GetByLabel("Reason for cancelling").FillAsync("Family arranged private care.");
        await ClickAsync(broker, "Cancel instance");
        await Assertions.Expect(broker.Locator("h1")).ToHaveTextAsync($"Cancel {reference}?");
        await Axe.CheckAsync(broker, "cancel: confirmation");
        await ClickAsync(broker, $"Yes, cancel {reference}");
        await Assertions.Expect(broker.Locator("#status")).ToContainTextAsync("Cancelled");
        await Axe.CheckAsync(broker, "D2A instance cancelled");

        await broker.GotoAsync("/operations");
        await Axe.CheckAsync(broker, "operations");
        await ClickAsync(broker, "Cancel instance");
        await Axe.CheckAsync(broker, "operations: cancel with nothing given");

        // Refusals: not found, not allowed, a form whose antiforgery check failed.
        await broker.GotoAsync("/instances/D2A-ZZZZZ");
        await Assertions.Expect(broker.Locator("h1")).ToHaveTextAsync("Page not found");
        await Axe.CheckAsync(broker, "404 page");
        var nurse = await f.PageAsync("DischargeTeam");
        await nurse.GotoAsync("/operations");
        await Assertions.Expect(nurse.Locator("h1")).ToHaveTextAsync("You cannot see this page");
        await Axe.CheckAsync(nurse, "403 page");
        await nurse.GotoAsync("/d2a/new");
        await nurse.Context.ClearCookiesAsync(new() { Name = "cw-af" });
        await ClickAsync(nurse, "Raise referral");
        await Assertions.Expect(nurse.Locator("h1")).ToHaveTextAsync("Your form could not be sent");
        await Axe.CheckAsync(nurse, "400 page (antiforgery)");
    }

    [Fact]
    public async Task Every_focusable_control_changes_by_at_least_3_to_1_when_focused()
    {
        var reference = await f.RaiseReferralAsync();
        var broker = await f.PageAsync("Brokerage", name: "Bea Broker");
        await broker.GotoAsync("/");
        await PageChecks.AssertFocusIndicatorsAsync(broker, "dashboard (filters, table, header)");
        await broker.GotoAsync("/kpis");
        // The header (skip link, navigation, sign out) was checked on the dashboard; the other pages check their main region.
        await PageChecks.AssertFocusIndicatorsAsync(broker, "KPIs", "main");
        await broker.GotoAsync($"/instances/{reference}");
        await PageChecks.AssertFocusIndicatorsAsync(broker, "instance (award and cancel forms)", "main");

        var nurse = await f.PageAsync("DischargeTeam");
        await nurse.GotoAsync("/d2a/new");
        await ClickAsync(nurse, "Raise referral");
        await PageChecks.AssertFocusIndicatorsAsync(nurse, "D2A form with errors (text, select, radios, summary links)", "main");

        var anonymous = await f.PageAsync();
        await anonymous.GotoAsync("/signin");
        await PageChecks.AssertFocusIndicatorsAsync(anonymous, "sign-in (radios)", "main");
        await anonymous.GotoAsync(await f.App.LinkAsync(reference, "referrals@east-kestrel.example.org", "accept"));
        await PageChecks.AssertFocusIndicatorsAsync(anonymous, "signed link");
    }

    [Fact]
    public async Task At_320_css_px_no_page_scrolls_sideways_outside_a_table()
    {
        // Long email addresses, timeline data and error text: on the instance page, the details page and the incident form.
        const string longEmail = "discharge.coordination.integrated.team@princess-royal-university-hospital-trust.nhs.example.org";
        var reference = await f.RaiseReferralAsync(longEmail);
        var accepted = await f.Api("Provider", "east-kestrel").PostAsJsonAsync($"/api/d2a/referrals/{reference}/responses", new { action = "accept", firstCall = "2026-11-24T14:30" });
        Assert.True(accepted.IsSuccessStatusCode);

        async Task CheckAsync(IPage page, string url, string state)
        {
            if (url.Length > 0) await page.GotoAsync(url);
            await PageChecks.AssertNoSidewaysScrollAsync(page, state);
        }

        var broker = await f.PageAsync("Brokerage", name: "Bea Broker", width: 320, height: 640);
        await CheckAsync(broker, "/", "dashboard (staff)");
        await CheckAsync(broker, $"/instances/{reference}", "D2A instance with timeline");
        await Browsers.ShotAsync(broker, "a11y-320-instance");
        await CheckAsync(broker, "/operations", "operations");
        await CheckAsync(broker, "/kpis", "KPIs");
        await CheckAsync(broker, "/instances/D2A-ZZZZZ", "404 page");

        var nurse = await f.PageAsync("DischargeTeam", width: 320, height: 640);
        await nurse.GotoAsync("/d2a/new");
        await ClickAsync(nurse, "Raise referral");
        await CheckAsync(nurse, "", "D2A form with errors");

        var kestrel = await f.PageAsync("Provider", "east-kestrel", width: 320, height: 640);
        await CheckAsync(kestrel, "/", "dashboard (provider)");
        await kestrel.GotoAsync("/incidents/new");
        await FillIncidentAsync(kestrel, "2026-03-29T01:30", longEmail);
        await kestrel.GetByLabel("What kind of incident").SelectOptionAsync("");
        await ClickAsync(kestrel, "Report incident");
        await Assertions.Expect(kestrel.Locator(".error-summary")).ToContainTextAsync("clocks went forward");
        await CheckAsync(kestrel, "", "incident form with errors");
        await Browsers.ShotAsync(kestrel, "a11y-320-incident-errors");

        var link = await f.PageAsync(width: 320, height: 640);
        await CheckAsync(link, await DetailsLinkAsync(reference), "referral details link page");
        await CheckAsync(link, "/signin", "sign-in");
    }

    [Fact]
    public async Task The_error_summary_takes_focus_and_each_link_lands_on_its_field_with_label_and_message_in_view()
    {
        foreach (var (width, height) in new[] { (1280, 800), (320, 640) })
        {
            var nurse = await f.PageAsync("DischargeTeam", width: width, height: height);
            await nurse.GotoAsync("/d2a/new");
            await ClickAsync(nurse, "Raise referral");
            await Assertions.Expect(nurse).ToHaveTitleAsync("Error: Raise a D2A referral – CareWorkflows");
            Assert.Equal("div.error-summary", await PageChecks.FocusedAsync(nurse));
            var links = await nurse.Locator(".error-summary a").AllAsync();
            Assert.Equal(14, links.Count);
            foreach (var summaryLink in links)
            {
                var target = (await summaryLink.GetAttributeAsync("href"))![1..];
                await summaryLink.FocusAsync();
                await nurse.Keyboard.PressAsync("Enter");
                await Assertions.Expect(nurse.Locator($"#{target}")).ToBeFocusedAsync();
                var input = $"#{target}";
                var group = await nurse.Locator(input).EvaluateAsync<bool>("e => e.type === 'radio'");
                var label = group ? $"fieldset:has({input}) legend" : $"label[for='{target}']";
                var error = group ? $"fieldset:has({input}) .error-message" : $".field:has({input}) .error-message";
                Assert.True(await PageChecks.InViewAsync(nurse, label), $"{width}px: the label of #{target} is out of view after following its summary link");
                Assert.True(await PageChecks.InViewAsync(nurse, error), $"{width}px: the message of #{target} is out of view after following its summary link");
                Assert.True(await PageChecks.InViewAsync(nurse, input), $"{width}px: #{target} is out of view");
            }
            await Browsers.ShotAsync(nurse, $"a11y-summary-link-{width}");
        }
    }
}
