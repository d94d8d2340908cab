using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using CareWorkflows.Definitions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Bench;

/// <summary>
/// The real app (WebApplicationFactory: real HTTP pipeline, PostgreSQL store, our Durable Task server inside it on its
/// own gRPC port, system clock, dev channels, demo provider directory).
/// </summary>
public sealed class BenchApp(string connectionString) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (k, v) in new Dictionary<string, string>
                 {
                     ["Storage:Provider"] = "Postgres",
                     ["ConnectionStrings:Postgres"] = connectionString,
                     ["Simulation:Enabled"] = "false",
                     ["Runtime:BackgroundLoops"] = "true",
                     ["Providers:SeedDemo"] = "true",
                     ["Links:SigningKey"] = "bench-signing-key-not-a-secret-0123456789",
                     ["Links:BaseUrl"] = "http://localhost",
                     ["DurableTask:GrpcEndpoint"] = $"http://127.0.0.1:{Engine.FreePort()}",
                     ["DurableTask:PollSeconds"] = "1",
                     ["Channels:Email"] = "Dev",
                     ["Channels:Sms"] = "Dev",
                     ["Auth:Mode"] = "Demo",
                     ["Logging:LogLevel:Default"] = "Warning",
                 })
            builder.UseSetting(k, v);
    }
}

/// <summary>
/// Start latency through the real app, for quality concerns (<see cref="RunAsync"/>) and D2A referrals (<see cref="D2aAsync"/>).
/// Per concern: POST /api/quality-concerns answered (201), and the first message logged
/// (the outbox row the orchestration's SendMessage activity writes: its created_at), both from the moment the POST was sent.
/// Requests go one at a time, 50 ms apart (latency, not throughput); the first five warm up and are not counted.
/// </summary>
public static class StartLatency
{
    public static async Task<Dictionary<string, object>> RunAsync(ChildContext x, int count)
    {
        var cs = x.NewPgDatabase("cwb_st");
        await using var app = StartApp(cs);
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        http.DefaultRequestHeaders.Add("X-Demo-Role", Roles.QualityAssurance);
        http.DefaultRequestHeaders.Add("X-Demo-User", "bench-qa");
        var sent = new Dictionary<string, long>();
        var accepted = new List<double>();
        for (var i = -5; i < count; i++)
        {
            var body = new { providerId = "east-kestrel", concern = "Three late evening calls to one person in the week of 16 Nov.", responseWorkingDays = (int?)null };
            await StartOneAsync(http, "/api/quality-concerns", "quality concern", body, measured: i >= 0, accepted, sent);
        }
        var logged = await MessagesLoggedAsync(cs, sent, "TRUE", "MIN");
        accepted.Sort(); logged.Sort();
        await app.DisposeAsync();
        return new()
        {
            ["requests"] = sent.Count,
            ["acceptedP50Ms"] = Math.Round(Stats.Percentile(accepted, 50), 1),
            ["acceptedP99Ms"] = Math.Round(Stats.Percentile(accepted, 99), 1),
            ["firstMessageP50Ms"] = Math.Round(Stats.Percentile(logged, 50), 1),
            ["firstMessageP99Ms"] = Math.Round(Stats.Percentile(logged, 99), 1),
            ["note"] = logged.Count < sent.Count ? $"{sent.Count - logged.Count} without a message after 60 s" : "",
        };
    }

    /// <summary>
    /// D2A (on Durable Task): POST /api/d2a/referrals as the discharge team (the body of the D2A end-to-end tests, patch East
    /// of the demo directory, discharge two days ahead) answered (201), and its offers dispatched: the first offer logged and
    /// the last offer of the first wave logged (the outbox rows with purpose "offer" the orchestration writes), both from
    /// the moment the POST was sent. One at a time, 50 ms apart; the first five warm up and are not counted.
    /// </summary>
    public static async Task<Dictionary<string, object>> D2aAsync(ChildContext x, int count)
    {
        var cs = x.NewPgDatabase("cwb_st");
        await using var app = StartApp(cs);
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        http.DefaultRequestHeaders.Add("X-Demo-Role", Roles.DischargeTeam);
        http.DefaultRequestHeaders.Add("X-Demo-User", "bench-discharge");
        var sent = new Dictionary<string, long>();
        var accepted = new List<double>();
        var discharge = DateTime.Now.AddDays(2).ToString("yyyy-MM-dd'T'HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        for (var i = -5; i < count; i++)
        {
            var body = new Dictionary<string, object?>
            {
                ["patient"] = new Dictionary<string, object?>
                {
                    ["name"] = "Edith Cavendish-Roe", ["nhsNumber"] = "943 476 5919", ["dateOfBirth"] = "1938-04-12", ["address"] = "14 Acacia Avenue, Orpington", ["postcode"] = "br6 7jh",
                },
                ["hospital"] = "Princess Royal University Hospital",
                ["ward"] = "Ward 4",
                ["patch"] = "East",
                ["expectedDischargeAt"] = discharge,
                ["callsPerDay"] = 4,
                ["minutesPerCall"] = 30,
                ["doubleHanded"] = false,
                ["needsSummary"] = "Help with washing, dressing and meals; walks with a frame.",
                ["supportedBeforeAdmission"] = false,
                ["previousProviderId"] = null,
                ["referrer"] = new Dictionary<string, object?> { ["name"] = "Sam Discharge", ["email"] = "sam.discharge@nhs.example.org", ["phone"] = "+447700900999" },
            };
            await StartOneAsync(http, "/api/d2a/referrals", "D2A referral", body, measured: i >= 0, accepted, sent);
        }
        // The first wave of offers is written in one step: wait until every referral has offers, then a second more for stragglers.
        var first = await MessagesLoggedAsync(cs, sent, "purpose = 'offer'", "MIN");
        await Task.Delay(1000);
        var last = await MessagesLoggedAsync(cs, sent, "purpose = 'offer'", "MAX");
        accepted.Sort(); first.Sort(); last.Sort();
        await app.DisposeAsync();
        return new()
        {
            ["requests"] = sent.Count,
            ["acceptedP50Ms"] = Math.Round(Stats.Percentile(accepted, 50), 1),
            ["acceptedP99Ms"] = Math.Round(Stats.Percentile(accepted, 99), 1),
            ["firstMessageP50Ms"] = Math.Round(Stats.Percentile(first, 50), 1),
            ["firstMessageP99Ms"] = Math.Round(Stats.Percentile(first, 99), 1),
            ["allOffersP50Ms"] = Math.Round(Stats.Percentile(last, 50), 1),
            ["allOffersP99Ms"] = Math.Round(Stats.Percentile(last, 99), 1),
            ["note"] = first.Count < sent.Count ? $"{sent.Count - first.Count} without an offer after 60 s" : "",
        };
    }

    /// <summary>
    /// Per reference sent: ms from the POST to the MIN or MAX created_at of its outbox rows matching <paramref name="where"/>;
    /// polls until every reference has one or 60 s.
    /// </summary>
    private static async Task<List<double>> MessagesLoggedAsync(string cs, Dictionary<string, long> sent, string where, string agg)
    {
        var logged = new List<double>();
        var until = DateTime.UtcNow.AddSeconds(60);
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        while (true)
        {
            logged.Clear();
            await using var cmd = new NpgsqlCommand($"SELECT reference, {agg}(created_at) FROM outbox WHERE {where} GROUP BY reference", c);
            await using (var rd = await cmd.ExecuteReaderAsync())
                while (await rd.ReadAsync())
                    if (sent.TryGetValue(rd.GetString(0), out var t0)) logged.Add((rd.GetInt64(1) - t0) / (double)TimeSpan.TicksPerMillisecond);
            if (logged.Count >= sent.Count || DateTime.UtcNow > until) return logged;
            await Task.Delay(200);
        }
    }

    private static BenchApp StartApp(string cs)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "functions", "CareWorkflows.Functions.csproj"))) dir = dir.Parent;
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_CAREWORKFLOWS_FUNCTIONS",
            dir is null ? AppContext.BaseDirectory : Path.Combine(dir.FullName, "functions"));
        return new BenchApp(cs);
    }

    /// <summary>
    /// Starts one instance over HTTP and, when <paramref name="measured"/> (not a warm-up), records how long the 201 took
    /// and when it was sent (by reference, for the message-log query); then a short pause between starts.
    /// </summary>
    private static async Task StartOneAsync(HttpClient http, string url, string what, object body, bool measured, List<double> accepted, Dictionary<string, long> sent)
    {
        var t0 = SystemClock.Instance.GetCurrentInstant();
        var sw = Stopwatch.StartNew();
        var r = await http.PostAsJsonAsync(url, body);
        var ms = sw.Elapsed.TotalMilliseconds;
        if (r.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"{what}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        var reference = (await r.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("reference").GetString()!;
        if (measured) { accepted.Add(ms); sent[reference] = t0.ToUnixTimeTicks(); }
        await Task.Delay(50);
    }
}
