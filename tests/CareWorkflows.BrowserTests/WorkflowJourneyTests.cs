using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace CareWorkflows.BrowserTests;

/// <summary>
/// Staff and providers doing their work in a real browser: forms, signed links, dashboards, the simulation clock.
/// Each test prints the paths of its screenshots.
/// </summary>
public sealed class WorkflowJourneyTests : IAsyncLifetime
{
    private BrowserApp _app = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new BrowserApp();
        (_playwright, _browser) = await Browsers.LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _app.DisposeAsync();
    }

    /// <summary>What the browser refused under the pages' Content-Security-Policy (these contexts keep it on).</summary>
    private readonly List<string> _cspViolations = [];

    private IPage Watch(IPage page)
    {
        page.Console += (_, m) => { if (m.Text.Contains("Content Security Policy", StringComparison.Ordinal)) lock (_cspViolations) _cspViolations.Add($"{page.Url}: {m.Text}"); };
        return page;
    }

    /// <summary>A fresh browser (its own cookies) signed in through the demo sign-in page.</summary>
    private async Task<IPage> SignInAsync(string name, string role, string? provider = null)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _app.BaseUrl, Locale = "en-GB" });
        var page = Watch(await context.NewPageAsync());
        await page.GotoAsync("/");
        Assert.EndsWith("/signin?returnUrl=%2F", page.Url);
        await page.GetByLabel("Your name").FillAsync(name);
        await page.Locator($"#role-{role.ToLowerInvariant()}").CheckAsync();
        if (provider is not null) await page.GetByLabel("Provider (provider users only)").SelectOptionAsync(provider);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard", Level = 1 })).ToBeVisibleAsync();
        return page;
    }

    [Fact]
    public async Task A_nurse_raises_a_referral_a_provider_accepts_by_its_link_and_the_broker_sees_it_placed()
    {
        // 1. The discharge nurse fills in the Discharge Passport.
        var nurse = await SignInAsync("Nurse Jo Bloggs", "DischargeTeam");
        await nurse.GetByRole(AriaRole.Link, new() { Name = "Raise D2A referral" }).ClickAsync();
        await nurse.GetByLabel("Full name").FillAsync("Ada Lovelace");
        await nurse.GetByLabel("NHS number", new() { Exact = true }).FillAsync("943 476 5919");
        await nurse.GetByLabel("Date of birth").FillAsync("1938-04-12");
        await nurse.GetByLabel("Home address").FillAsync("1 Analytical Row, Orpington");
        await nurse.GetByLabel("Postcode").FillAsync("BR6 7JH");
        await nurse.GetByLabel("Hospital").FillAsync("Princess Royal University Hospital");
        await nurse.GetByLabel("Ward").FillAsync("Ward 4");
        await nurse.GetByLabel("Patch").SelectOptionAsync("East");
        await nurse.GetByLabel("Expected discharge (UK time)").FillAsync("2026-11-24T14:00");
        await nurse.GetByLabel("Calls per day").FillAsync("4");
        await nurse.GetByLabel("Minutes per call").FillAsync("30");
        await nurse.GetByLabel("No, one carer").CheckAsync();
        await nurse.GetByLabel("Summary of care needs").FillAsync("Help with washing, dressing and meals.");
        await nurse.GetByLabel("Your work email").FillAsync("jo.bloggs@nhs.example.org");
        // A mistake first: the server's validation message appears next to the field and in the summary.
        await nurse.GetByLabel("Postcode").FillAsync("NOT A POSTCODE");
        await nurse.GetByRole(AriaRole.Button, new() { Name = "Raise referral" }).ClickAsync();
        await Assertions.Expect(nurse.Locator(".error-summary")).ToContainTextAsync("postcode");
        await Assertions.Expect(nurse.Locator("#patient-postcode-error")).ToBeVisibleAsync();
        await Browsers.ShotAsync(nurse, "d2a-1-referral-form-error");
        await nurse.GetByLabel("Postcode").FillAsync("BR6 7JH");
        await nurse.GetByRole(AriaRole.Button, new() { Name = "Raise referral" }).ClickAsync();
        await Assertions.Expect(nurse.Locator("#status")).ToContainTextAsync("Offered to patch");
        var reference = (await nurse.Locator("h1").InnerTextAsync()).Trim();
        Assert.Matches("^D2A-[A-Z0-9]{5}$", reference);
        await Browsers.ShotAsync(nurse, "d2a-2-referral-raised");

        // 2. The provider opens the Accept link from its offer and accepts (no sign-in: the link is the authority).
        var link = await _app.LinkAsync(reference, "referrals@east-kestrel.example.org", "accept");
        var providerContext = await _browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-GB" });
        var provider = Watch(await providerContext.NewPageAsync());
        await provider.GotoAsync(link);
        await Assertions.Expect(provider.Locator("h1")).ToContainTextAsync(reference);
        await Browsers.ShotAsync(provider, "d2a-3-provider-link");
        await provider.GetByLabel("Earliest first call you can make").FillAsync("2026-11-24T14:30");
        await provider.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Accept") }).ClickAsync();
        await Assertions.Expect(provider.Locator("h1")).ToHaveTextAsync("Thank you");
        await Browsers.ShotAsync(provider, "d2a-4-provider-accepted");

        // 3. The broker sees it placed: on the dashboard and on the instance page, with the provider's acceptance on the timeline.
        var broker = await SignInAsync("Bea Broker", "Brokerage");
        var row = broker.Locator("#instances tr", new() { HasText = reference });
        await Assertions.Expect(row).ToContainTextAsync("Awarded");
        await Browsers.ShotAsync(broker, "d2a-5-broker-dashboard");
        await row.GetByRole(AriaRole.Link, new() { Name = reference }).ClickAsync();
        await Assertions.Expect(broker.Locator("#status")).ToContainTextAsync("Awarded");
        await Assertions.Expect(broker.Locator("#timeline")).ToContainTextAsync("Kestrel Home Support accepted, first call");
        await Browsers.ShotAsync(broker, "d2a-6-broker-instance");
        Assert.Empty(_cspViolations);
    }

    [Fact]
    public async Task A_QA_officer_raises_a_concern_and_sees_it_go_overdue_when_the_simulation_clock_moves_on()
    {
        var qa = await SignInAsync("Quinn QA", "QualityAssurance");
        await qa.GetByRole(AriaRole.Link, new() { Name = "Raise quality concern" }).ClickAsync();
        // Submitting empty shows what is missing, field by field.
        await qa.GetByRole(AriaRole.Button, new() { Name = "Raise concern" }).ClickAsync();
        await Assertions.Expect(qa.Locator(".error-summary a")).ToHaveCountAsync(2);
        await Assertions.Expect(qa.Locator("#providerid-error")).ToBeVisibleAsync();
        await qa.GetByLabel("Provider").SelectOptionAsync("east-kestrel");
        await qa.GetByLabel("The concern").FillAsync("Two families report calls 90 minutes late this week.");
        await qa.GetByRole(AriaRole.Button, new() { Name = "Raise concern" }).ClickAsync();
        await Assertions.Expect(qa.Locator("#status")).ToContainTextAsync("Awaiting response");
        var reference = (await qa.Locator("h1").InnerTextAsync()).Trim();
        Assert.StartsWith("QC-", reference);
        await Assertions.Expect(qa.Locator("main")).ToContainTextAsync("left");
        await Assertions.Expect(qa.Locator("main")).Not.ToContainTextAsync("overdue by");
        await Browsers.ShotAsync(qa, "qc-1-raised");

        // An administrator moves the simulation clock three weeks on from the operations page.
        var admin = await SignInAsync("Ari Admin", "Admin");
        await admin.GetByRole(AriaRole.Link, new() { Name = "Operations" }).ClickAsync();
        await admin.GetByLabel("Move forward by").FillAsync("P21D");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Move the clock" }).ClickAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Status).Filter(new() { HasText = "simulation clock moved" })).ToContainTextAsync("15 Dec 2026");
        await Assertions.Expect(admin.Locator("#overdue")).ToContainTextAsync(reference);
        await Browsers.ShotAsync(admin, "qc-2-operations-clock-moved");

        // The QA officer sees the concern overdue, and the escalation on its timeline.
        await qa.ReloadAsync();
        await Assertions.Expect(qa.Locator("main")).ToContainTextAsync("overdue by");
        await Assertions.Expect(qa.Locator(".tag--overdue").First).ToBeVisibleAsync();
        await Browsers.ShotAsync(qa, "qc-3-overdue");
        Assert.Empty(_cspViolations);
    }
}
