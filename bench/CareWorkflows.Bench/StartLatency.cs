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
/// The real app (WebApplicationFactory: real HTTP pipeline, PostgreSQL store, system clock, background loops on,
/// dev channels, demo provider directory). Per D2A referral: POST accepted (201), offers written to the outbox
/// (the offers' created_at, the committing transaction's time), offers dispatched (the last offer's sent_at), all
/// measured from the moment the POST was sent.
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
                     ["Channels:Email"] = "Dev",
                     ["Channels:Sms"] = "Dev",
                     ["Auth:Mode"] = "Demo",
                     ["Logging:LogLevel:Default"] = "Warning",
                 })
            builder.UseSetting(k, v);
    }
}

public static class StartLatency
{
    public static async Task RunAsync(BenchOptions o, List<ResultRow> results)
    {
        var cs = Pg.NewDatabase(o.PostgresServer, "cwbench_st");
        // The app's content root (WebApplicationFactory finds it from this variable when there is no test manifest).
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "functions", "CareWorkflows.Functions.csproj"))) dir = dir.Parent;
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_CAREWORKFLOWS_FUNCTIONS",
            dir is null ? AppContext.BaseDirectory : Path.Combine(dir.FullName, "functions"));
        await using var app = new BenchApp(cs);
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        http.DefaultRequestHeaders.Add("X-Demo-Role", Roles.DischargeTeam);
        http.DefaultRequestHeaders.Add("X-Demo-User", "bench-discharge");
        var sent = new Dictionary<string, long>();
        var accepted = new List<double>();
        var pattern = LocalDateTimePattern.CreateWithInvariantCulture("uuuu-MM-dd'T'HH:mm");
        for (var i = -5; i < o.Referrals; i++)
        {
            var discharge = (SystemClock.Instance.GetCurrentInstant() + Duration.FromDays(1)).InZone(WorkflowContext.London).LocalDateTime;
            var body = Referral(pattern.Format(discharge), i);
            var t0 = SystemClock.Instance.GetCurrentInstant();
            var sw = Stopwatch.StartNew();
            var r = await http.PostAsJsonAsync("/api/d2a/referrals", body);
            var ms = sw.Elapsed.TotalMilliseconds;
            if (r.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"referral: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            var reference = (await r.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("reference").GetString()!;
            if (i >= 0) { accepted.Add(ms); sent[reference] = t0.ToUnixTimeTicks(); } // the first five warm up
            await Task.Delay(50);
        }

        // Wait for the dispatcher to send every offer.
        var written = new List<double>();
        var dispatched = new List<double>();
        var until = DateTime.UtcNow.AddSeconds(60);
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            while (true)
            {
                await using var pending = new NpgsqlCommand("SELECT count(*) FROM outbox WHERE purpose = 'offer' AND sent_at IS NULL", c);
                if ((long)(await pending.ExecuteScalarAsync())! == 0 || DateTime.UtcNow > until) break;
                await Task.Delay(200);
            }
            await using var cmd = new NpgsqlCommand(
                "SELECT reference, MIN(created_at), MAX(sent_at), count(*) FROM outbox WHERE purpose = 'offer' GROUP BY reference", c);
            await using var rd = await cmd.ExecuteReaderAsync();
            while (await rd.ReadAsync())
            {
                if (!sent.TryGetValue(rd.GetString(0), out var t0)) continue;
                written.Add((rd.GetInt64(1) - t0) / (double)TimeSpan.TicksPerMillisecond);
                if (!rd.IsDBNull(2)) dispatched.Add((rd.GetInt64(2) - t0) / (double)TimeSpan.TicksPerMillisecond);
            }
        }
        accepted.Sort(); written.Sort(); dispatched.Sort();
        void Row(string stage, List<double> xs) => results.Add(new ResultRow("Start latency (D2A referral, PostgreSQL)", stage,
            $"p50 {Stats.Ms(Stats.Percentile(xs, 50))}, p99 {Stats.Ms(Stats.Percentile(xs, 99))} (n={xs.Count})"));
        Row("POST → 201 accepted", accepted);
        Row("POST → offers written to the outbox", written);
        Row("POST → all offers dispatched (dev channel)", dispatched);
        Console.WriteLine($"  referrals: {sent.Count}; dispatched {dispatched.Count}");
        await app.DisposeAsync();
        Pg.Drop(o.PostgresServer, cs);
    }

    private static Dictionary<string, object?> Referral(string discharge, int i) => new()
    {
        ["patient"] = new Dictionary<string, object?>
        {
            ["name"] = "Bench Patient", ["nhsNumber"] = "943 476 5919", ["dateOfBirth"] = "1938-04-12", ["address"] = "1 Bench Road, Orpington", ["postcode"] = "br6 7jh",
        },
        ["hospital"] = "Princess Royal University Hospital",
        ["ward"] = "Ward 4",
        ["patch"] = (i & 1) == 0 ? "East" : "West",
        ["expectedDischargeAt"] = discharge,
        ["callsPerDay"] = 4,
        ["minutesPerCall"] = 30,
        ["doubleHanded"] = false,
        ["needsSummary"] = "Help with washing, dressing and meals.",
        ["supportedBeforeAdmission"] = false,
        ["previousProviderId"] = null,
        ["referrer"] = new Dictionary<string, object?> { ["name"] = "Bench Discharge", ["email"] = "bench@nhs.example.org", ["phone"] = "+447700900999" },
    };
}
