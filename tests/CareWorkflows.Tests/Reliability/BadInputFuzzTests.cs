using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using CareWorkflows.Tests.Runtime;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace CareWorkflows.Tests.Reliability;

/// <summary>
/// At least 10,000 malformed, oversized, wrongly typed and wrongly encoded requests to every endpoint the app maps
/// (found from its endpoint data source, so new endpoints are covered automatically): no response is a 5xx, and the
/// database is exactly as it was.
/// </summary>
public sealed class BadInputFuzzTests
{
    private const int Requests = 10_000;

    [Fact]
    public async Task Ten_thousand_bad_requests_get_no_5xx_and_change_nothing()
    {
        await using var app = new CareWorkflowsApp(services: s => s.AddSingleton<IWorkflowDefinition, TestWorkflow>());
        var runtime = app.Services.GetRequiredService<WorkflowRuntime>();
        var references = new List<string>();
        for (var i = 0; i < 3; i++)
            references.Add((await runtime.StartAsync("TST", new TestWorkflow.Begin($"seed{i}", [("t", Duration.FromHours(1))]), RuntimeHarness.Tester)).Reference!);
        var before = await SnapshotAsync(app);

        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m, Pattern: e.RoutePattern.RawText ?? "")))
            .Where(r => r.Pattern.Length > 0)
            .Distinct()
            .ToList();
        Assert.NotEmpty(routes);
        var rng = new Random(20261124);
        var clients = new[]
        {
            app.As(Roles.Admin), app.As(Roles.Brokerage), app.As(Roles.Provider, "P-FUZZ"), app.As(Roles.QualityAssurance), app.Anonymous(),
        };
        var failures = new List<string>();
        var statusCounts = new Dictionary<int, int>();

        for (var i = 0; i < Requests; i++)
        {
            var (method, pattern) = routes[i % routes.Count];
            var path = FillRoute(pattern, rng);
            var request = new HttpRequestMessage(new HttpMethod(method), path + RandomQuery(rng));
            if (method is "POST" or "PUT" or "PATCH") request.Content = BadBody(rng);
            var client = clients[rng.Next(clients.Length)];
            HttpResponseMessage response;
            try { response = await client.SendAsync(request, TestContext.Current.CancellationToken); }
            catch (Exception e) { failures.Add($"{method} {path}: threw {e.GetType().Name}: {e.Message}"); continue; }
            var code = (int)response.StatusCode;
            statusCounts[code] = statusCounts.GetValueOrDefault(code) + 1;
            if (code >= 500) failures.Add($"{method} {path} ({request.Content?.Headers.ContentType}): {code} {await response.Content.ReadAsStringAsync()}");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} failures, first: {string.Join("\n", failures.Take(10))}");
        Assert.Equal(before, await SnapshotAsync(app));
        Assert.Equal(CareWorkflowsApp.DefaultStart, app.Now);
        if (Environment.GetEnvironmentVariable("CW_FUZZ_REPORT") == "1") Assert.Fail($"{Requests} requests over {routes.Count} routes: " +
            string.Join(", ", statusCounts.OrderBy(k => k.Key).Select(k => $"{k.Key}×{k.Value}")));
    }

    private static async Task<string> SnapshotAsync(CareWorkflowsApp app)
    {
        var store = app.Services.GetRequiredService<IWorkflowStore>();
        var sb = new StringBuilder();
        foreach (var i in await store.ListInstancesAsync(new InstanceFilter(Limit: 10_000), app.Now))
        {
            sb.Append($"{i.Reference} {i.Status} v{i.Version} {i.State}\n");
            sb.Append($"  timers {string.Join(",", (await store.GetTimersAsync(i.Reference)).Select(t => t.Name + "@" + t.DueAt))}\n");
            sb.Append($"  asks {(await store.FindAsksAsync(reference: i.Reference)).Count}\n");
        }
        var messages = await store.GetMessagesAsync(limit: 100_000);
        sb.Append($"messages {messages.Count} {string.Join(",", messages.Select(m => m.Status))}\n");
        return sb.ToString();
    }

    private static readonly string[] Garbage =
    [
        "", " ", "null", "%00", "..%2F..%2Fetc%2Fpasswd", "D2A-00000", "TST-IIIII", "<script>alert(1)</script>", "' OR 1=1 --", "ÿþ", "\u202e",
        new string('A', 5000), "%FF%FE", "😀", "-1", "9999999999999999999999", "TST-", "-", "%20",
    ];

    private static string FillRoute(string pattern, Random rng)
    {
        var parts = pattern.Split('/');
        for (var i = 0; i < parts.Length; i++)
            if (parts[i].StartsWith('{'))
                parts[i] = Uri.EscapeDataString(Garbage[rng.Next(Garbage.Length)]);
        var path = string.Join('/', parts);
        return path.StartsWith('/') ? path : "/" + path;
    }

    private static string RandomQuery(Random rng) => rng.Next(4) switch
    {
        0 => "",
        1 => "?type=" + Uri.EscapeDataString(Garbage[rng.Next(Garbage.Length)]) + "&overdue=" + Uri.EscapeDataString(Garbage[rng.Next(Garbage.Length)]),
        2 => "?status=%ZZ&reference=" + new string('x', rng.Next(1, 3000)),
        _ => "?" + string.Join("&", Enumerable.Range(0, rng.Next(1, 50)).Select(k => $"k{k}={rng.Next()}")),
    };

    /// <summary>Bodies that must never be accepted: broken JSON, wrong types, wrong encodings, oversized, wrong media types.</summary>
    private static HttpContent BadBody(Random rng)
    {
        switch (rng.Next(12))
        {
            case 0: return Json("{\"by\": ");
            case 1: return Json("[1,2,3]");
            case 2: return Json("{\"reason\": 42, \"now\": [], \"by\": {}, \"patient\": \"x\", \"nhsNumber\": true, \"hours\": \"lots\"}");
            case 3: return Json(new string('[', 5000) + new string(']', 5000));
            case 4: return Json("{\"a\":\"" + new string('x', 2_000_000) + "\"}");
            case 5:
            {
                var bytes = new byte[rng.Next(1, 4096)];
                rng.NextBytes(bytes);
                var c = new ByteArrayContent(bytes);
                c.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                return c;
            }
            case 6:
            {
                var c = new ByteArrayContent([0xC3, 0x28, 0xA0, 0xA1, 0xE2, 0x28, 0xA1]); // invalid UTF-8
                c.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                return c;
            }
            case 7: return new StringContent("reason=%ZZ%&now=\u0000", Encoding.UTF8, "application/x-www-form-urlencoded");
            case 8: return new StringContent("<xml>nope</xml>", Encoding.UTF8, "application/xml");
            case 9:
            {
                var c = new StringContent("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n" + new string('y', 1000), Encoding.UTF8);
                c.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
                return c;
            }
            case 10: return Json("\"just a string\"");
            default: return Json("{\"reason\": null, \"now\": \"2020-13-45T99:99:99Z\", \"by\": \"P-1D\", \"firstCall\": 17}");
        }
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
