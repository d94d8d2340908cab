using System.Net;
using System.Net.Sockets;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CareWorkflows.BrowserTests;

/// <summary>
/// The real app on a real Kestrel port (a browser needs one), Development with the demo sign-in, the simulation clock
/// on (moved only through the operations page), a fresh SQLite file, dev channels; and a headless Chromium.
/// </summary>
public sealed class BrowserApp : WebApplicationFactory<Program>
{
    public static readonly string Start = "2026-11-24T09:00:00Z";
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"cw-browser-{Guid.NewGuid():N}.db");

    public BrowserApp()
    {
        Port = FreePort();
        UseKestrel(Port);
        StartServer();
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public IWorkflowStore Store => Services.GetRequiredService<IWorkflowStore>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (k, v) in new Dictionary<string, string>
        {
            ["Storage:Provider"] = "Sqlite",
            ["Storage:SqlitePath"] = _database,
            ["Simulation:Enabled"] = "true",
            ["Simulation:Start"] = Start,
            ["Links:SigningKey"] = "browser-test-signing-key-0123456789abcdef",
            ["DurableTask:GrpcEndpoint"] = "http://127.0.0.1:0", // a free port for this copy of the app
            ["Workflows:AnswerWaitSeconds"] = "20", // answer with the orchestration's decision, not 202, on a slow CI machine
            ["Links:BaseUrl"] = "http://links.invalid",
            ["Channels:Email"] = "Dev",
            ["Channels:Sms"] = "Dev",
            ["Auth:Mode"] = "Demo",
        }) builder.UseSetting(k, v);
    }

    /// <summary>A signed link from the outbox, pointed at this server.</summary>
    public async Task<string> LinkAsync(string reference, string recipientEmail, string action)
    {
        var messages = await Store.GetMessagesAsync(reference: reference, limit: 1000);
        var link = messages.Where(m => string.Equals(m.To, recipientEmail, StringComparison.OrdinalIgnoreCase))
            .SelectMany(m => m.Links).FirstOrDefault(l => l.Contains("/l/", StringComparison.Ordinal) && LinkAction(l) == action)
            ?? throw new InvalidOperationException($"No {action} link to {recipientEmail} for {reference}. Links: {string.Join(", ", messages.SelectMany(m => m.Links))}");
        return BaseUrl + new Uri(link).PathAndQuery;
    }

    private string? LinkAction(string link)
    {
        var token = new Uri(link).AbsolutePath.Split('/').Last();
        Services.GetRequiredService<CareWorkflows.Runtime.Links.HmacLinkIssuer>().Validate(token, Services.GetRequiredService<NodaTime.IClock>().GetCurrentInstant(), out var claims);
        return claims?.Action;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var f in new[] { _database, _database + "-wal", _database + "-shm" }) try { File.Delete(f); } catch (IOException) { }
    }
}

/// <summary>Debian's Chromium by path (CW_CHROMIUM, default /usr/bin/chromium); Playwright never downloads a browser here.</summary>
public static class Browsers
{
    public static async Task<(IPlaywright, IBrowser)> LaunchAsync()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var path = Environment.GetEnvironmentVariable("CW_CHROMIUM") is { Length: > 0 } p ? p : "/usr/bin/chromium";
        if (!File.Exists(path)) throw new InvalidOperationException($"Chromium not found at {path}: install it (apt-get install -y chromium) or set CW_CHROMIUM. scripts/test.sh does both.");
        // Date and time inputs in the UK order and 24-hour clock (dd/mm/yyyy, 14:30), as our users see them: on Linux Chromium
        // takes its locale from LANG/LANGUAGE (and needs Debian's chromium-l10n for en-GB; scripts/test.sh installs it).
        var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string)e.Value!);
        env["LANG"] = "en_GB.UTF-8";
        env["LANGUAGE"] = "en_GB";
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = path,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage", "--lang=en-GB"],
            Env = env,
        });
        return (playwright, browser);
    }

    /// <summary>Where screenshots go: CW_SCREENSHOTS, or TestResults/screenshots next to the test binaries.</summary>
    public static string ScreenshotDirectory
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("CW_SCREENSHOTS") is { Length: > 0 } d ? d : Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static async Task ShotAsync(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"screenshot: {path}");
        Console.WriteLine($"screenshot: {path}");
    }
}
