using System.Text.Json;
using System.Text.RegularExpressions;
using CareWorkflows.Functions.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CareWorkflows.Tests.Hosting;

/// <summary>host.json and every function.json parse, and agree with the app and with the Bicep app settings.</summary>
public sealed partial class FunctionMetadataTests
{
    private static readonly string Root = FindRoot();
    private static readonly string FunctionsDir = Path.Combine(Root, "functions", "FunctionApp");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CareWorkflows.sln"))) return dir.FullName;
        throw new InvalidOperationException("CareWorkflows.sln not found above " + AppContext.BaseDirectory);
    }

    private static JsonElement Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    private static Dictionary<string, JsonElement> Functions() =>
        Directory.GetDirectories(FunctionsDir).Where(d => File.Exists(Path.Combine(d, "function.json")))
            .ToDictionary(Path.GetFileName!, d => Load(Path.Combine(d, "function.json")));

    private static JsonElement Trigger(JsonElement function) =>
        function.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("direction").GetString() == "in");

    [Fact]
    public void Host_json_runs_the_published_app_as_a_custom_handler_with_http_forwarded()
    {
        var host = Load(Path.Combine(Root, "host.json"));
        Assert.Equal("2.0", host.GetProperty("version").GetString());
        var handler = host.GetProperty("customHandler");
        Assert.Equal(typeof(Program).Assembly.GetName().Name, handler.GetProperty("description").GetProperty("defaultExecutablePath").GetString());
        Assert.Equal(".", handler.GetProperty("description").GetProperty("workingDirectory").GetString());
        Assert.True(handler.GetProperty("enableProxyingHttpRequest").GetBoolean());
        Assert.Equal("", host.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.Equal("Microsoft.Azure.Functions.ExtensionBundle", host.GetProperty("extensionBundle").GetProperty("id").GetString());
        Assert.True(host.GetProperty("logging").TryGetProperty("logLevel", out _));
    }

    [Fact]
    public void The_function_folders_are_the_three_http_catch_alls_the_timer_and_the_referral_queue()
    {
        var functions = Functions();
        Assert.Equal(["Api", "Pages", FunctionsHosting.ReferralQueue, FunctionsHosting.RuntimeTimer, "Webhooks"], functions.Keys.Order(StringComparer.Ordinal));

        var routes = functions.Where(f => Trigger(f.Value).GetProperty("type").GetString() == "httpTrigger")
            .ToDictionary(f => f.Key, f => Trigger(f.Value).GetProperty("route").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["Api"] = "api/{*path}", ["Webhooks"] = "webhooks/{*path}", ["Pages"] = "{*path}" }, routes);
        foreach (var name in routes.Keys)
        {
            var bindings = functions[name].GetProperty("bindings").EnumerateArray().ToList();
            Assert.Equal("anonymous", Trigger(functions[name]).GetProperty("authLevel").GetString()); // the app authenticates
            // Forwarding needs exactly an HTTP trigger and an HTTP output.
            Assert.Equal(2, bindings.Count);
            Assert.Contains(bindings, b => b.GetProperty("type").GetString() == "http" && b.GetProperty("direction").GetString() == "out");
        }

        var timer = Trigger(functions[FunctionsHosting.RuntimeTimer]);
        Assert.Equal("timerTrigger", timer.GetProperty("type").GetString());
        Assert.Equal("timer", timer.GetProperty("name").GetString());
        Assert.Equal("%RuntimeTimerSchedule%", timer.GetProperty("schedule").GetString());
        Assert.False(timer.GetProperty("runOnStartup").GetBoolean());

        var queue = Trigger(functions[FunctionsHosting.ReferralQueue]);
        Assert.Equal("serviceBusTrigger", queue.GetProperty("type").GetString());
        Assert.Equal(ReferralQueueFunction.MessageBinding, queue.GetProperty("name").GetString());
        Assert.Equal("%ReferralQueueName%", queue.GetProperty("queueName").GetString());
        Assert.Equal("ServiceBusConnection", queue.GetProperty("connection").GetString());
    }

    [Fact]
    public async Task Every_non_http_function_has_its_invocation_endpoint_and_every_app_route_is_forwarded()
    {
        await using var app = new FunctionsHostApp();
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/')).ToList();

        foreach (var (name, function) in Functions().Where(f => Trigger(f.Value).GetProperty("type").GetString() != "httpTrigger"))
            Assert.Contains("/" + name, endpoints);

        // Routes under /api and /webhooks go through their own functions; anything else through Pages. None may sit
        // under the host's own reserved paths.
        Assert.All(endpoints, e => Assert.DoesNotMatch("^/(admin|runtime)(/|$)", e.ToLowerInvariant()));
        Assert.Contains(endpoints, e => e.StartsWith("/api/"));
    }

    /// <summary>
    /// infra/ now targets the isolated worker with Durable Functions (issue 15): the Service Bus trigger's settings are
    /// still set there; the RuntimeTimer schedule and the custom-handler worker runtime are not (Durable timers replace
    /// the timer function).
    /// </summary>
    [Fact]
    public void Every_setting_the_function_json_files_name_is_set_by_the_bicep_app_settings()
    {
        var bicep = string.Join("\n", Directory.GetFiles(Path.Combine(Root, "infra"), "*.bicep", SearchOption.AllDirectories).Select(File.ReadAllText));
        var named = new HashSet<string>();
        foreach (var function in Functions().Values)
            foreach (var b in function.GetProperty("bindings").EnumerateArray())
            {
                foreach (var p in b.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
                    foreach (Match m in SettingReference().Matches(p.Value.GetString()!)) named.Add(m.Groups[1].Value);
                if (b.TryGetProperty("connection", out var c)) named.Add(c.GetString() + "__fullyQualifiedNamespace"); // managed identity
            }
        Assert.Contains("RuntimeTimerSchedule", named);
        named.Remove("RuntimeTimerSchedule");
        Assert.NotEmpty(named);
        Assert.All(named, s => Assert.Contains(s, bicep));
        Assert.DoesNotContain("RuntimeTimerSchedule", bicep);
    }

    [GeneratedRegex("%([A-Za-z0-9_]+)%")]
    private static partial Regex SettingReference();
}
