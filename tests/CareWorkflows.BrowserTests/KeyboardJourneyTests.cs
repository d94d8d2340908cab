using Microsoft.Playwright;

namespace CareWorkflows.BrowserTests;

/// <summary>
/// A keyboard-only journey (issue 18): Tab, Shift+Tab, Enter and Space to move and act, typing to fill fields. A nurse
/// raises a referral with one validation round, the provider accepts from its signed link, a broker awards with one
/// validation round and cancels through the confirmation. After each error, focus is on the error summary and its
/// links take focus to the field. No mouse, no Playwright fill/click.
/// </summary>
public sealed class KeyboardJourneyTests(BrowserFixture f) : IClassFixture<BrowserFixture>
{
    /// <summary>Tabs to a field and types into it (replacing what is there with Ctrl+A first).</summary>
    private static async Task TypeAsync(IPage page, string selector, string text)
    {
        await PageChecks.TabToAsync(page, selector);
        await page.Keyboard.PressAsync("Control+A");
        await page.Keyboard.TypeAsync(text);
    }

    /// <summary>Tabs to a button or link and presses <paramref name="key"/> (Enter, or Space for buttons).</summary>
    private static async Task PressOnAsync(IPage page, string selector, string key = "Enter")
    {
        await PageChecks.TabToAsync(page, selector);
        await page.Keyboard.PressAsync(key);
    }

    private static async Task AssertFocusOnSummaryAsync(IPage page, int errors)
    {
        await Assertions.Expect(page.Locator(".error-summary")).ToBeFocusedAsync();
        Assert.StartsWith("Error: ", await page.TitleAsync());
        var found = await page.Locator(".error-summary a").AllInnerTextsAsync();
        Assert.True(found.Count == errors, $"expected {errors} errors, found: {string.Join(" | ", found)}");
    }

    /// <summary>From the focused summary: Tab to its <paramref name="index"/>th link, Enter, and focus is on <paramref name="field"/>.</summary>
    private static async Task FollowSummaryLinkAsync(IPage page, int index, string field)
    {
        await PageChecks.TabToAsync(page, $".error-summary li:nth-child({index}) a", max: 5);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator(field)).ToBeFocusedAsync();
    }

    [Fact]
    public async Task Raise_accept_award_and_cancel_with_the_keyboard_only()
    {
        // 1. The nurse: the form by keyboard, leaving two mistakes.
        var nurse = await f.PageAsync("DischargeTeam", name: "Nurse Kay");
        await nurse.GotoAsync("/");
        await PressOnAsync(nurse, "a[href='/d2a/new']");
        await Assertions.Expect(nurse.Locator("h1")).ToHaveTextAsync("Raise a D2A referral");
        await TypeAsync(nurse, "#patient-name", "Ada Lovelace");
        await TypeAsync(nurse, "#patient-nhsnumber", "943 476 5919");
        await TypeAsync(nurse, "#patient-dateofbirth", "12041938");           // the date input takes digits: dd mm yyyy
        Assert.True(await nurse.Locator("#patient-dateofbirth").InputValueAsync() == "1938-04-12",
            "Chromium's date inputs are not in the UK order: install Debian's chromium-l10n (scripts/test.sh does); Browsers.LaunchAsync sets LANG=en_GB.");
        await TypeAsync(nurse, "#patient-address", "1 Analytical Row, Orpington");
        await TypeAsync(nurse, "#patient-postcode", "NOT A POSTCODE");
        await TypeAsync(nurse, "#hospital", "Princess Royal University Hospital");
        await TypeAsync(nurse, "#ward", "Ward 4");
        await PageChecks.TabToAsync(nurse, "#patch");
        await nurse.Keyboard.TypeAsync("East");                                  // a closed select takes the typed option
        await TypeAsync(nurse, "#expecteddischargeat", "24112026");            // dd mm yyyy, then Tab to the time
        await nurse.Keyboard.PressAsync("Tab");
        await nurse.Keyboard.TypeAsync("1400");
        await TypeAsync(nurse, "#callsperday", "4");
        await TypeAsync(nurse, "#minutespercall", "30");
        // "Do calls need two carers?" left unanswered.
        await TypeAsync(nurse, "#needssummary", "Help with washing, dressing and meals.");
        await TypeAsync(nurse, "#referrer-email", "kay@nhs.example.org");
        await PressOnAsync(nurse, "button[type=submit]", "Space");

        // 2. One validation round: focus on the summary, its links go to the postcode and to the first radio.
        await AssertFocusOnSummaryAsync(nurse, 2);
        await Browsers.ShotAsync(nurse, "keyboard-1-summary-focused");
        await FollowSummaryLinkAsync(nurse, 1, "#patient-postcode");
        await nurse.Keyboard.PressAsync("Control+A");
        await nurse.Keyboard.TypeAsync("BR6 7JH");
        await PageChecks.TabToAsync(nurse, ".error-summary li:nth-child(2) a", backwards: true);
        await nurse.Keyboard.PressAsync("Enter");
        await Assertions.Expect(nurse.Locator("#doublehanded-yes")).ToBeFocusedAsync();
        await nurse.Keyboard.PressAsync("Space");                                   // "Yes, double-handed"
        await Assertions.Expect(nurse.Locator("#doublehanded-yes")).ToBeCheckedAsync();
        await PressOnAsync(nurse, "button[type=submit]");
        await Assertions.Expect(nurse.Locator("#status")).ToContainTextAsync("Offered to patch");
        var reference = (await nurse.Locator("h1").InnerTextAsync()).Trim();
        Assert.Matches("^D2A-[A-Z0-9]{5}$", reference);
        await Assertions.Expect(nurse).ToHaveTitleAsync($"{reference} — D2A referral, offered to patch – CareWorkflows");

        // 3. The provider accepts from its link, by keyboard.
        var provider = await f.PageAsync();
        await provider.GotoAsync(await f.App.LinkAsync(reference, "referrals@east-kestrel.example.org", "accept"));
        await TypeAsync(provider, "#firstCall", "24112026");
        await provider.Keyboard.PressAsync("Tab");
        await provider.Keyboard.TypeAsync("1430");
        await PressOnAsync(provider, "button[type=submit]");
        await Assertions.Expect(provider.Locator("h1")).ToHaveTextAsync("Thank you");

        // 4. The broker: award with one validation round, then cancel through the confirmation.
        var broker = await f.PageAsync("Brokerage", name: "Bea Broker");
        await broker.GotoAsync($"/instances/{reference}");
        await Assertions.Expect(broker.Locator("#status")).ToContainTextAsync("Awarded");
        await PageChecks.TabToAsync(broker, "#award-providerid");
        await broker.Keyboard.TypeAsync("Meadowbank");
        await TypeAsync(broker, "#award-firstcall", "16:00");
        await PressOnAsync(broker, "form[action*='handler=Award'] button[type=submit]", "Space");
        await AssertFocusOnSummaryAsync(broker, 1);
        await FollowSummaryLinkAsync(broker, 1, "#award-reason");
        await broker.Keyboard.TypeAsync("Kestrel withdrew by phone; Meadowbank can start today.");
        await PressOnAsync(broker, "form[action*='handler=Award'] button[type=submit]");
        await Assertions.Expect(broker.Locator(".notice--success")).ToContainTextAsync("awarded to east-meadowbank");

        await TypeAsync(broker, "#cancel-reason", "Family arranged private care.");
        await PressOnAsync(broker, "form[action*='handler=Cancel'] button[type=submit]");
        await Assertions.Expect(broker.Locator("h1")).ToHaveTextAsync($"Cancel {reference}?");
        await Assertions.Expect(broker.Locator(".confirm-panel")).ToBeFocusedAsync();
        await Browsers.ShotAsync(broker, "keyboard-2-cancel-confirmation");
        await PageChecks.TabToAsync(broker, "form[action*='handler=ConfirmCancel'] button[type=submit]", max: 3);
        await broker.Keyboard.PressAsync("Space");
        await Assertions.Expect(broker.Locator("#status")).ToContainTextAsync("Cancelled");
        await Assertions.Expect(broker).ToHaveTitleAsync($"{reference} — D2A referral, cancelled – CareWorkflows");
    }
}
