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
/// Start latency through the real app. D2A is not on Durable Task in this branch yet, so the workflow measured is the
/// one that is: quality concerns. Per concern: POST /api/quality-concerns answered (201), and the first message logged
/// (the outbox row the orchestration's SendMessage activity writes: its created_at), both from the moment the POST was sent.
/// Requests go one at a time, 50 ms apart (latency, not throughput); the first five warm up and are not counted.
/// </summary>
public static class StartLatency
{
    public static async Task<Dictionary<string, object>> RunAsync(ChildContext x, int count)
    {
        var cs = x.NewPgDatabase("cwb_st");
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "functions", "CareWorkflows.Functions.csproj"))) dir = dir.Parent;
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_CAREWORKFLOWS_FUNCTIONS",
            dir is null ? AppContext.BaseDirectory : Path.Combine(dir.FullName, "functions"));
        await using var app = new BenchApp(cs);
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        http.DefaultRequestHeaders.Add("X-Demo-Role", Roles.QualityAssurance);
        http.DefaultRequestHeaders.Add("X-Demo-User", "bench-qa");
        var sent = new Dictionary<string, long>();
        var accepted = new List<double>();
        for (var i = -5; i < count; i++)
        {
            var body = new { providerId = "east-kestrel", concern = "Three late evening calls to one person in the week of 16 Nov.", responseWorkingDays = (int?)null };
            var t0 = SystemClock.Instance.GetCurrentInstant();
            var sw = Stopwatch.StartNew();
            var r = await http.PostAsJsonAsync("/api/quality-concerns", body);
            var ms = sw.Elapsed.TotalMilliseconds;
            if (r.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"quality concern: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            var reference = (await r.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("reference").GetString()!;
            if (i >= 0) { accepted.Add(ms); sent[reference] = t0.ToUnixTimeTicks(); }
            await Task.Delay(50);
        }
        var logged = new List<double>();
        var until = DateTime.UtcNow.AddSeconds(60);
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            while (true)
            {
                logged.Clear();
                await using var cmd = new NpgsqlCommand("SELECT reference, MIN(created_at) FROM outbox GROUP BY reference", c);
                await using (var rd = await cmd.ExecuteReaderAsync())
                    while (await rd.ReadAsync())
                        if (sent.TryGetValue(rd.GetString(0), out var t0)) logged.Add((rd.GetInt64(1) - t0) / (double)TimeSpan.TicksPerMillisecond);
                if (logged.Count >= sent.Count || DateTime.UtcNow > until) break;
                await Task.Delay(200);
            }
        }
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
}
