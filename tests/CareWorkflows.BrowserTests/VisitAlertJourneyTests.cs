using CareWorkflows.Functions.Visits;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.BrowserTests;

/// <summary>
/// A provider's alert desk records the steps of a late-visit alert on its page (B 22.2–22.5, 22.7), with axe-core on every
/// state of the page.
/// </summary>
public sealed class VisitAlertJourneyTests : IAsyncLifetime
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

    private async Task<IPage> SignInAsync(string name, string role, string? provider = null)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _app.BaseUrl, Locale = "en-GB", BypassCSP = true }); // axe-core is injected as a script tag
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await page.GetByLabel("Your name").FillAsync(name);
        await page.Locator($"#role-{role.ToLowerInvariant()}").CheckAsync();
        if (provider is not null) await page.GetByLabel("Provider (provider users only)").SelectOptionAsync(provider);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard", Level = 1 })).ToBeVisibleAsync();
        return page;
    }

    [Fact]
    public async Task The_alert_desk_records_reassurance_and_a_replacement_on_the_alerts_page()
    {
        // Call monitoring's alert, through the same intake the signed endpoint and the queue use.
        var now = InstantPattern.ExtendedIso.Parse(BrowserApp.Start).Value;
        var intake = _app.Services.GetRequiredService<VisitAlertIntake>();
        var raised = await intake.AcceptAsync(new VisitAlertMessage("A-500", "V-500", "east-kestrel", "LBB-104233",
            InstantPattern.ExtendedIso.Format(now - Duration.FromMinutes(30)), "Late", null), "browser-ecm", null, TestContext.Current.CancellationToken);
        Assert.Equal(201, raised.Status);
        var reference = raised.Reference!;

        var desk = await SignInAsync("Kim at the Kestrel desk", "Provider", "east-kestrel");
        await desk.GotoAsync($"/instances/{reference}");
        await Assertions.Expect(desk.GetByRole(AriaRole.Heading, new() { Name = "Record that you contacted the person and reassured them the carer will come (B 22.2)" })).ToBeVisibleAsync();
        await Axe.CheckAsync(desk, "visit alert (provider)");
        await Browsers.ShotAsync(desk, "visit-alert-1-open");

        // 1. The person reassured, at 08:58 UK time.
        await desk.Locator("#reassured-at").FillAsync("08:58");
        await desk.GetByRole(AriaRole.Button, new() { Name = "Reassured", Exact = true }).ClickAsync();
        await Assertions.Expect(desk.Locator("body")).ToContainTextAsync("Your answer (reassured) is recorded.");
        await Assertions.Expect(desk.GetByRole(AriaRole.Button, new() { Name = "Reassured", Exact = true })).ToHaveCountAsync(0);

        // 2. A replacement without the carer's name: the error is shown by the field and in the summary.
        await desk.GetByRole(AriaRole.Button, new() { Name = "Replacement", Exact = true }).ClickAsync();
        await Assertions.Expect(desk.Locator(".error-summary")).ToBeVisibleAsync();
        await Assertions.Expect(desk.Locator("#replacement-carername-error")).ToBeVisibleAsync();
        await Axe.CheckAsync(desk, "visit alert: replacement without a name");
        await Browsers.ShotAsync(desk, "visit-alert-2-error");
        await desk.Locator("#replacement-carername").FillAsync("Sam Jones");
        await desk.GetByRole(AriaRole.Button, new() { Name = "Replacement", Exact = true }).ClickAsync();
        await Assertions.Expect(desk.Locator("body")).ToContainTextAsync("Your answer (replacement) is recorded.");

        // 3. The person told of the replacement (B 22.5): the ask appears only now.
        await desk.GetByRole(AriaRole.Button, new() { Name = "Replacement told", Exact = true }).ClickAsync();
        await Assertions.Expect(desk.Locator("body")).ToContainTextAsync("Your answer (replacement-told) is recorded.");
        await Axe.CheckAsync(desk, "visit alert after three steps");
        await Browsers.ShotAsync(desk, "visit-alert-3-recorded");

        // Every step is on the one record with its time (B 22.7).
        var state = await _app.Services.GetRequiredService<CareWorkflows.Functions.Workflows.WorkflowClient>().LoadAsync(reference, withTimeline: false, TestContext.Current.CancellationToken);
        var alert = Assert.IsType<CareWorkflows.Definitions.Visits.VisitAlert.State>(state!.State);
        Assert.Equal(["Reassured", "ReplacementSent", "ReplacementTold"], alert.Steps.Select(s => s.Step.ToString()));
        Assert.Equal(now - Duration.FromMinutes(2), alert.Steps[0].At);
        Assert.Equal("Sam Jones", alert.ReplacementCarer);
        Assert.All(alert.Steps, s => Assert.Equal("page", s.Via));
    }
}
