using System.Text.Json;
using CareWorkflows.FunctionApp.Functions;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static CareWorkflows.Tests.Hosting.FunctionsApp;

namespace CareWorkflows.Tests.Hosting;

/// <summary>
/// The functions.metadata the Worker SDK generated for the Functions app (what the host indexes), and host.json: one
/// orchestration trigger per workflow and one activity trigger per activity, as our server registers them; the HTTP
/// routes cover every route the app maps; the housekeeping timers.
/// </summary>
public sealed class FunctionMetadataTests
{
    private static string? Type(JsonElement binding) => binding.GetProperty("type").GetString();

    private static IReadOnlyList<string> NamesWithTrigger(string trigger) =>
        Metadata().Where(f => Type(Trigger(f.Value)) == trigger).Select(f => f.Key).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Every_orchestration_and_activity_our_server_runs_has_its_Durable_function_and_every_declared_one_is_registered()
    {
        var registered = Registered();
        var declared = Declared();
        Assert.Equal(declared.Orchestrators, registered.Orchestrators); // a [DurableTask] class left out of RegisterWorkflows fails here
        Assert.Equal(declared.Activities, registered.Activities);
        Assert.Contains(CareWorkflows.Definitions.QualityConcerns.QualityConcern.Orchestration, registered.Orchestrators);

        Assert.Equal(registered.Orchestrators, NamesWithTrigger("orchestrationTrigger")); // ...and one left out of WorkflowFunctions here
        Assert.Equal(registered.Activities, NamesWithTrigger("activityTrigger"));
        var metadata = Metadata();
        foreach (var name in registered.Orchestrators.Concat(registered.Activities))
            Assert.Single(Bindings(metadata[name])); // the trigger alone: no other binding on a durable function
    }

    [Fact]
    public void The_HTTP_triggers_are_anonymous_catch_alls_with_the_Durable_client_and_an_HTTP_answer()
    {
        var metadata = Metadata();
        var http = NamesWithTrigger("httpTrigger");
        Assert.Equal(["Api", "Links", "Pages", "Webhooks"], http);
        var routes = http.ToDictionary(n => n, n => Trigger(metadata[n]).GetProperty("route").GetString());
        Assert.Equal(new Dictionary<string, string?>
        {
            ["Api"] = HttpFunctions.ApiRoute, ["Webhooks"] = HttpFunctions.WebhooksRoute, ["Links"] = HttpFunctions.LinksRoute, ["Pages"] = HttpFunctions.PagesRoute,
        }, routes);
        foreach (var name in http)
        {
            var trigger = Trigger(metadata[name]);
            Assert.Equal("anonymous", trigger.GetProperty("authLevel").GetString(), ignoreCase: true); // the app authenticates
            Assert.False(trigger.TryGetProperty("methods", out var methods) && methods.ValueKind == JsonValueKind.Array, "every method reaches the app, which answers 405 itself");
            var bindings = Bindings(metadata[name]);
            Assert.Contains(bindings, b => Type(b) == "durableClient");
            Assert.Contains(bindings, b => Type(b) == "http" && b.GetProperty("direction").GetString() == "Out");
        }
    }

    [Fact]
    public async Task Every_route_the_app_maps_reaches_it_through_an_HTTP_trigger_and_none_is_under_the_hosts_own_paths()
    {
        await using var app = new CareWorkflowsApp();
        var patterns = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText!.TrimStart('/')).ToList();
        Assert.Contains(patterns, p => p.StartsWith("api/", StringComparison.Ordinal));
        Assert.Contains(patterns, p => p.StartsWith("webhooks/", StringComparison.Ordinal));
        Assert.Contains(patterns, p => p.StartsWith("l/", StringComparison.Ordinal) || p == "l");
        // The Functions host keeps admin/ and runtime/ for itself (keys, Durable webhooks): an app route there would never arrive.
        Assert.All(patterns, p => Assert.DoesNotMatch("^(admin|runtime)(/|$)", p.ToLowerInvariant()));
        // With routePrefix "" the host passes the path unchanged (host.json), so the app's own routing sees what it sees standalone.
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "host.json")));
        Assert.Equal("", host.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
    }

    [Fact]
    public void The_housekeeping_timers_purge_with_the_Durable_client_and_check_the_bank_holiday_data()
    {
        var metadata = Metadata();
        Assert.Equal(["BankHolidayDataCheck", "PurgeEndedInstances"], NamesWithTrigger("timerTrigger"));
        var purge = Trigger(metadata["PurgeEndedInstances"]);
        Assert.Equal(HousekeepingFunctions.PurgeSchedule, purge.GetProperty("schedule").GetString());
        Assert.Contains(Bindings(metadata["PurgeEndedInstances"]), b => Type(b) == "durableClient");
        Assert.Equal(HousekeepingFunctions.BankHolidaySchedule, Trigger(metadata["BankHolidayDataCheck"]).GetProperty("schedule").GetString());
        // Nothing else: no custom-handler functions, no trigger whose extension is not in the app.
        Assert.Equal(metadata.Count, NamesWithTrigger("httpTrigger").Count + NamesWithTrigger("timerTrigger").Count
            + NamesWithTrigger("orchestrationTrigger").Count + NamesWithTrigger("activityTrigger").Count);
        Assert.All(metadata.Values, f => Assert.Equal("dotnet-isolated", f.GetProperty("language").GetString()));
    }

    [Fact]
    public void Host_json_configures_the_isolated_worker_and_the_Durable_extension_and_the_build_carries_it()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "host.json")));
        var host = doc.RootElement;
        Assert.Equal("2.0", host.GetProperty("version").GetString());
        Assert.False(host.TryGetProperty("customHandler", out _));
        Assert.False(host.TryGetProperty("extensionBundle", out _)); // an isolated .NET app brings its extensions (WorkerExtensions)
        var durable = host.GetProperty("extensions").GetProperty("durableTask");
        Assert.False(string.IsNullOrEmpty(durable.GetProperty("hubName").GetString()));
        Assert.Equal("AzureStorage", durable.GetProperty("storageProvider").GetProperty("type").GetString());
        Assert.True(File.Exists(Path.Combine(OutputDirectory, "host.json")));
        Assert.True(File.Exists(Path.Combine(OutputDirectory, "wwwroot", "css", "site.css")));
        // The host loads the Durable extension from the SDK's generated extensions project (restored from our mirror).
        Assert.Contains("Microsoft.Azure.WebJobs.Extensions.DurableTask", File.ReadAllText(Path.Combine(OutputDirectory, "extensions.json")));
        Assert.True(File.Exists(Path.Combine(OutputDirectory, ".azurefunctions", "Microsoft.Azure.WebJobs.Extensions.DurableTask.dll")));
    }

    [Fact]
    public void The_Bicep_sets_the_task_hub_and_the_worker_runtime_the_app_is_built_for()
    {
        var bicep = string.Join("\n", Directory.GetFiles(Path.Combine(Root, "infra"), "*.bicep", SearchOption.AllDirectories).Select(File.ReadAllText));
        Assert.Contains("AzureFunctionsJobHost__extensions__durableTask__hubName", bicep);
        Assert.Contains("dotnet-isolated", bicep);
        Assert.DoesNotContain("RuntimeTimerSchedule", bicep);
    }
}
