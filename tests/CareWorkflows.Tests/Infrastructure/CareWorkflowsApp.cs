using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace CareWorkflows.Tests.Infrastructure;

/// <summary>
/// The real app over the real HTTP pipeline (WebApplicationFactory), on a fresh SQLite file or PostgreSQL database,
/// with the simulation clock on and the background loops off: tests move time with POST /api/simulation/advance,
/// which fires due timers and dispatches messages before it returns.
/// </summary>
public sealed class CareWorkflowsApp : WebApplicationFactory<Program>
{
    public static readonly Instant DefaultStart = Instant.FromUtc(2026, 11, 24, 9, 0);

    private readonly Dictionary<string, string?> _settings;

    private readonly Action<IServiceCollection>? _services;

    public CareWorkflowsApp(string store = TestDatabases.StoreSqlite, Instant? start = null, IDictionary<string, string?>? settings = null, string? databasePath = null,
        Action<IServiceCollection>? services = null)
    {
        _services = services;
        _settings = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = store,
            ["Simulation:Enabled"] = "true",
            ["Simulation:Start"] = NodaTime.Text.InstantPattern.ExtendedIso.Format(start ?? DefaultStart),
            ["Links:SigningKey"] = "test-signing-key-not-a-secret-0123456789",
            ["DurableTask:GrpcEndpoint"] = "http://127.0.0.1:0", // a free port for this copy of the app
            // On a loaded 2-core test machine an instance may take longer than the 2 s an answer waits in production; the
            // 202 path has a test of its own.
            ["Workflows:AnswerWaitSeconds"] = "20",
            ["Links:BaseUrl"] = "http://localhost",
            ["Channels:Email"] = "Dev",
            ["Channels:Sms"] = "Dev",
            ["Auth:Mode"] = "Demo",
        };
        if (store == TestDatabases.StoreSqlite) _settings["Storage:SqlitePath"] = databasePath ?? TestDatabases.NewSqlitePath();
        else _settings["ConnectionStrings:Postgres"] = databasePath ?? TestDatabases.NewPostgresDatabase();
        if (settings is not null) foreach (var (k, v) in settings) _settings[k] = v;
    }

    /// <summary>The settings this copy of the app runs with (another host of the same app can take them).</summary>
    public IReadOnlyDictionary<string, string?> Settings => _settings;

    public string DatabasePath => _settings.GetValueOrDefault("Storage:SqlitePath") ?? _settings["ConnectionStrings:Postgres"]!;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
        if (_services is not null) builder.ConfigureServices(_services);
    }

    /// <summary>An HTTP client signed in (demo scheme) as <paramref name="role"/>.</summary>
    public HttpClient As(string role, string? providerId = null, string? user = null)
    {
        var c = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        c.DefaultRequestHeaders.Add("X-Demo-Role", role);
        c.DefaultRequestHeaders.Add("X-Demo-User", user ?? $"test-{role.ToLowerInvariant()}");
        if (providerId is not null) c.DefaultRequestHeaders.Add("X-Demo-Provider", providerId);
        return c;
    }

    public HttpClient Anonymous() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public Instant Now => Services.GetRequiredService<SimulationClock>().GetCurrentInstant();

    /// <summary>Advances the simulation clock through the API (fires timers, dispatches messages).</summary>
    public async Task AdvanceAsync(Duration by)
    {
        var r = await As(Roles.Admin).PostAsJsonAsync("/api/simulation/advance", new { by = NodaTime.Text.PeriodPattern.NormalizingIso.Format(Period.FromTicks(by.BclCompatibleTicks)) });
        r.EnsureSuccessStatusCode();
    }

    public async Task AdvanceToAsync(Instant to)
    {
        var r = await As(Roles.Admin).PostAsJsonAsync("/api/simulation/clock", new { now = NodaTime.Text.InstantPattern.ExtendedIso.Format(to) });
        r.EnsureSuccessStatusCode();
    }

    /// <summary>Messages the dev channel kept.</summary>
    public async Task<List<DevMessageDto>> OutboxAsync(string? reference = null, string? to = null)
    {
        var q = new List<string>();
        if (reference is not null) q.Add("reference=" + Uri.EscapeDataString(reference));
        if (to is not null) q.Add("to=" + Uri.EscapeDataString(to));
        await SettleAsync(); // orchestrations send in the background: let them finish what is due
        return (await As(Roles.Admin).GetFromJsonAsync<List<DevMessageDto>>("/api/dev/outbox" + (q.Count > 0 ? "?" + string.Join("&", q) : ""), Json))!;
    }

    public async Task<JsonElement> InstanceAsync(string reference)
    {
        await SettleAsync();
        return await As(Roles.Admin).GetFromJsonAsync<JsonElement>($"/api/instances/{reference}", Json);
    }

    /// <summary>Waits until the orchestrations have done all that is due now (messages sent, notes written): reads are then stable.</summary>
    public Task SettleAsync() => Services.GetRequiredService<CareWorkflows.TaskHub.Engine.ClockAdvancer>().WaitForIdleAsync(TimeSpan.FromSeconds(60));

    public static readonly JsonSerializerOptions Json = WorkflowJson.Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}

public sealed record DevMessageDto(Guid Id, string Channel, string To, string Subject, string Body, List<string> Links, Instant CreatedAt, string Reference, string Purpose);
