using System.IO.Compression;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;

namespace CareWorkflows.BrowserTests;

/// <summary>
/// One app and one Chromium shared by the tests of a class (xunit class fixture), plus ways in: a signed-in browser
/// context (the demo sign-in cookie) and an API client (the demo headers) to set up data quickly.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public BrowserApp App { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    private IPlaywright _playwright = null!;

    public async ValueTask InitializeAsync()
    {
        App = new BrowserApp();
        (_playwright, Browser) = await Browsers.LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await App.DisposeAsync();
    }

    /// <summary>
    /// A fresh browser context, signed in when <paramref name="role"/> is given. axe-core is injected as a script tag, which
    /// the pages' CSP (no inline script) would refuse, so these contexts bypass CSP; WorkflowJourneyTests keeps it on.
    /// </summary>
    public async Task<IPage> PageAsync(string? role = null, string? provider = null, string name = "Test User", int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = App.BaseUrl, Locale = "en-GB", BypassCSP = true, ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        if (role is not null)
            await context.AddCookiesAsync([new Cookie { Name = "cw-demo", Value = Uri.EscapeDataString($"{name}|{role}|{provider}"), Url = App.BaseUrl }]);
        return await context.NewPageAsync();
    }

    /// <summary>An API client signed in through the demo headers.</summary>
    public HttpClient Api(string role, string? provider = null)
    {
        var c = new HttpClient { BaseAddress = new Uri(App.BaseUrl) };
        c.DefaultRequestHeaders.Add("X-Demo-Role", role);
        c.DefaultRequestHeaders.Add("X-Demo-User", $"api-{role.ToLowerInvariant()}");
        if (provider is not null) c.DefaultRequestHeaders.Add("X-Demo-Provider", provider);
        return c;
    }

    /// <summary>Raises a D2A referral through the API (East patch, discharge at 14:00 on the simulation day).</summary>
    public async Task<string> RaiseReferralAsync(string referrerEmail = "jo.bloggs@nhs.example.org")
    {
        var r = await Api("DischargeTeam").PostAsJsonAsync("/api/d2a/referrals", new
        {
            patient = new { name = "Ada Lovelace", nhsNumber = "943 476 5919", dateOfBirth = "1938-04-12", address = "1 Analytical Row, Orpington", postcode = "BR6 7JH" },
            hospital = "Princess Royal University Hospital", ward = "Ward 4", patch = "East", expectedDischargeAt = "2026-11-24T14:00",
            callsPerDay = 4, minutesPerCall = 30, doubleHanded = false, needsSummary = "Help with washing, dressing and meals.",
            supportedBeforeAdmission = false, referrer = new { name = "Jo Bloggs", email = referrerEmail },
        });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reference").GetString()!;
    }
}

/// <summary>
/// axe-core (npm, tools/axe) run in the page: every rule axe runs by default (WCAG 2.0–2.2 A/AA and best practices).
/// A violation fails the test with its rule id, the elements and the help text.
/// </summary>
public static class Axe
{
    private static readonly Lazy<string> Script = new(() => File.ReadAllText(Locate()));

    /// <summary>CW_AXE, or tools/axe/node_modules/axe-core/axe.min.js above the test binaries (scripts/test.sh installs it).</summary>
    public static string Locate()
    {
        if (Environment.GetEnvironmentVariable("CW_AXE") is { Length: > 0 } set) return set;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "tools", "axe", "node_modules", "axe-core", "axe.min.js");
            if (File.Exists(path)) return path;
        }
        throw new InvalidOperationException("axe-core not found: run `npm install --prefix tools/axe` (scripts/test.sh does) or set CW_AXE to axe.min.js.");
    }

    /// <summary>Runs axe on the page as it is now; <paramref name="state"/> names it in the failure.</summary>
    public static async Task CheckAsync(IPage page, string state)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'"))
            await page.AddScriptTagAsync(new PageAddScriptTagOptions { Content = Script.Value });
        var violations = await page.EvaluateAsync<JsonElement>("""
            async () => (await axe.run(document, { resultTypes: ['violations'] })).violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))
            }))
            """);
        if (violations.GetArrayLength() == 0) return;
        var report = new StringBuilder($"axe: {violations.GetArrayLength()} violation(s) on {state} ({page.Url}):\n");
        foreach (var v in violations.EnumerateArray())
            report.Append($"  {v.GetProperty("id").GetString()} ({v.GetProperty("impact")}) {v.GetProperty("help").GetString()}: {string.Join(", ", v.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()))}\n");
        Assert.Fail(report.ToString());
    }
}

/// <summary>Checks made in the page the way a person meets it: focus indicators, reflow, where focus is.</summary>
public static class PageChecks
{
    private const string Focusable = "a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])";

    /// <summary>
    /// Every visible focusable control changes, when focused, by at least 3:1 contrast over an area at least as large as
    /// a 2 CSS px thick perimeter of the control (WCAG 2.4.13; 1.4.11 for the indicator's own contrast). Measured in
    /// screenshots of the control and 10 px around it, unfocused and focused.
    /// </summary>
    public static async Task AssertFocusIndicatorsAsync(IPage page, string state, string scope = "body")
    {
        var failures = new List<string>();
        var controls = await page.Locator(scope).Locator(Focusable).AllAsync();
        foreach (var control in controls)
        {
            if (!await control.IsVisibleAsync() && await control.EvaluateAsync<bool>("e => !e.classList.contains('skip-link')")) continue;
            await page.EvaluateAsync("() => document.activeElement && document.activeElement.blur()");
            await page.Mouse.MoveAsync(1, 1);
            await control.FocusAsync();
            var box = await control.EvaluateAsync<JsonElement>("e => { const r = e.getBoundingClientRect(); return { x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height }; }");
            double x = box.GetProperty("x").GetDouble(), y = box.GetProperty("y").GetDouble(), w = box.GetProperty("w").GetDouble(), h = box.GetProperty("h").GetDouble();
            if (w < 1 || h < 1) continue;
            var clip = new Clip { X = (float)Math.Max(0, Math.Floor(x - 10)), Y = (float)Math.Max(0, Math.Floor(y - 10)), Width = (float)Math.Ceiling(w + 20), Height = (float)Math.Ceiling(h + 20) };
            var focused = await ShotAsync(page, clip);
            await page.EvaluateAsync("() => document.activeElement && document.activeElement.blur()");
            var unfocused = await ShotAsync(page, clip);
            var changed = Png.PixelsChangedByAtLeast(unfocused, focused, 3.0);
            var needed = (int)(4 * (w + h));
            if (changed < needed)
                failures.Add($"{await DescribeAsync(control)}: {changed} px change by 3:1, needs {needed}");
        }
        Assert.True(failures.Count == 0, $"Weak focus indicators on {state}:\n  {string.Join("\n  ", failures)}");
        Assert.True(controls.Count > 0, $"no focusable controls on {state}");
    }

    private static async Task<byte[]> ShotAsync(IPage page, Clip clip) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Clip = clip, FullPage = true, Animations = ScreenshotAnimations.Disabled, Caret = ScreenshotCaret.Hide });

    public static Task<string> DescribeAsync(ILocator element) => element.EvaluateAsync<string>(
        "e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.getAttribute('type') ? '[type=' + e.getAttribute('type') + ']' : '') + ' \"' + (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 30) + '\"'");

    /// <summary>
    /// Reflow (WCAG 1.4.10): the document must not scroll sideways. Only a data table may, inside its own .table-wrap.
    /// The failure names the elements that stick out.
    /// </summary>
    public static async Task AssertNoSidewaysScrollAsync(IPage page, string state)
    {
        var result = await page.EvaluateAsync<string[]>("""
            () => {
                const de = document.documentElement;
                if (de.scrollWidth <= de.clientWidth) return [];
                const out = [`document is ${de.scrollWidth}px wide in a ${de.clientWidth}px viewport`];
                for (const e of document.body.querySelectorAll('*')) {
                    const wrap = e.closest('.table-wrap');
                    if (wrap && wrap !== e) continue;
                    const r = e.getBoundingClientRect();
                    if (r.right > de.clientWidth + 1 && r.width > 0)
                        out.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : ''} reaches ${Math.round(r.right)}px: "${(e.innerText || '').trim().slice(0, 40)}"`);
                }
                return out.slice(0, 12);
            }
            """);
        Assert.True(result.Length == 0, $"Sideways scroll at {page.ViewportSize?.Width}px on {state}:\n  {string.Join("\n  ", result)}");
    }

    /// <summary>The focused element: "tag#id".</summary>
    public static Task<string> FocusedAsync(IPage page) => page.EvaluateAsync<string>(
        "() => { const e = document.activeElement; return e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.classList.length ? '.' + [...e.classList].join('.') : '') : 'none'; }");

    /// <summary>Whether the element is wholly inside the viewport (not hidden above it or below it).</summary>
    public static Task<bool> InViewAsync(IPage page, string selector) => page.EvaluateAsync<bool>(
        "s => { const r = document.querySelector(s).getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }", selector);

    /// <summary>Presses Tab until the focused element matches <paramref name="selector"/> (keyboard only); fails after <paramref name="max"/> presses.</summary>
    public static async Task TabToAsync(IPage page, string selector, int max = 80, bool backwards = false)
    {
        for (var i = 0; i < max; i++)
        {
            if (await page.EvaluateAsync<bool>("s => document.activeElement && document.activeElement.matches(s)", selector)) return;
            await page.Keyboard.PressAsync(backwards ? "Shift+Tab" : "Tab");
        }
        Assert.Fail($"Tab never reached {selector}; focus is on {await FocusedAsync(page)}");
    }
}

/// <summary>Just enough PNG (8-bit RGB/RGBA, not interlaced: what Chromium writes) to compare two screenshots.</summary>
public static class Png
{
    public static (int Width, int Height, byte[] Rgb) Decode(byte[] png)
    {
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (var at = 8; at < png.Length;)
        {
            var length = (png[at] << 24) | (png[at + 1] << 16) | (png[at + 2] << 8) | png[at + 3];
            var type = Encoding.ASCII.GetString(png, at + 4, 4);
            var data = at + 8;
            if (type == "IHDR")
            {
                width = (png[data] << 24) | (png[data + 1] << 16) | (png[data + 2] << 8) | png[data + 3];
                height = (png[data + 4] << 24) | (png[data + 5] << 16) | (png[data + 6] << 8) | png[data + 7];
                if (png[data + 8] != 8 || png[data + 12] != 0) throw new NotSupportedException("PNG: only 8-bit, non-interlaced images.");
                channels = png[data + 9] switch { 2 => 3, 6 => 4, var c => throw new NotSupportedException($"PNG colour type {c}") };
            }
            else if (type == "IDAT") idat.Write(png, data, length);
            else if (type == "IEND") break;
            at = data + length + 4;
        }
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        var stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        z.ReadExactly(raw);
        var pixels = new byte[stride * height];
        for (var row = 0; row < height; row++)
        {
            var filter = raw[row * (stride + 1)];
            for (var i = 0; i < stride; i++)
            {
                var x = raw[row * (stride + 1) + 1 + i];
                int a = i >= channels ? pixels[row * stride + i - channels] : 0;
                int b = row > 0 ? pixels[(row - 1) * stride + i] : 0;
                int c = row > 0 && i >= channels ? pixels[(row - 1) * stride + i - channels] : 0;
                pixels[row * stride + i] = (byte)(filter switch
                {
                    0 => x,
                    1 => x + a,
                    2 => x + b,
                    3 => x + (a + b) / 2,
                    4 => x + Paeth(a, b, c),
                    _ => throw new NotSupportedException($"PNG filter {filter}"),
                });
            }
        }
        var rgb = new byte[width * height * 3];
        for (var p = 0; p < width * height; p++)
            for (var k = 0; k < 3; k++) rgb[p * 3 + k] = pixels[p * channels + k];
        return (width, height, rgb);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>How many pixels differ between two same-size screenshots by a contrast ratio of at least <paramref name="ratio"/>.</summary>
    public static int PixelsChangedByAtLeast(byte[] before, byte[] after, double ratio)
    {
        var (w1, h1, a) = Decode(before);
        var (w2, h2, b) = Decode(after);
        Assert.True(w1 == w2 && h1 == h2, "screenshots differ in size");
        var count = 0;
        for (var i = 0; i < a.Length; i += 3)
        {
            double la = Luminance(a[i], a[i + 1], a[i + 2]), lb = Luminance(b[i], b[i + 1], b[i + 2]);
            if ((Math.Max(la, lb) + 0.05) / (Math.Min(la, lb) + 0.05) >= ratio) count++;
        }
        return count;
    }

    /// <summary>WCAG relative luminance of an sRGB colour.</summary>
    public static double Luminance(byte r, byte g, byte b)
    {
        static double Channel(byte v) { var c = v / 255.0; return c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4); }
        return 0.2126 * Channel(r) + 0.7152 * Channel(g) + 0.0722 * Channel(b);
    }
}
