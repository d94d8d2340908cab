using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Hosting;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Tests.Infrastructure;
using CareWorkflows.Tests.Runtime;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace CareWorkflows.Tests.Hosting;

/// <summary>
/// The real app as the Azure Functions host runs it: FUNCTIONS_CUSTOMHANDLER_PORT set (so the invocation endpoints
/// exist and the background loops default off), the runtime's TestWorkflow registered, and helpers that POST the
/// documented custom-handler payloads the way the host does.
/// </summary>
public sealed class FunctionsHostApp : IAsyncDisposable
{
    public CareWorkflowsApp Inner { get; }
    public WebApplicationFactory<Program> Factory { get; }

    public FunctionsHostApp(Action<IServiceCollection>? services = null, bool hostedByFunctions = true, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
        if (hostedByFunctions) all[FunctionsHosting.PortSetting] = "7399"; // the port the host would pick; TestServer ignores it
        Inner = new CareWorkflowsApp(settings: all);
        Factory = Inner.WithWebHostBuilder(b => b.ConfigureTestServices(s =>
        {
            s.AddSingleton<IWorkflowDefinition>(new TestWorkflow());
            services?.Invoke(s);
        }));
    }

    public IServiceProvider Services => Factory.Services;
    public WorkflowRuntime Runtime => Services.GetRequiredService<WorkflowRuntime>();
    public SimulationClock Clock => Services.GetRequiredService<SimulationClock>();

    public HttpClient Host() => Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public HttpClient As(string role)
    {
        var c = Host();
        c.DefaultRequestHeaders.Add("X-Demo-Role", role);
        c.DefaultRequestHeaders.Add("X-Demo-User", $"test-{role.ToLowerInvariant()}");
        return c;
    }

    public async Task<string> StartAsync(string name, params (string, Duration)[] timers)
    {
        var o = await Runtime.StartAsync("TST", new TestWorkflow.Begin(name, timers), RuntimeHarness.Tester);
        Assert.Equal(OutcomeKind.Applied, o.Kind);
        return o.Reference!;
    }

    public async Task<TestWorkflow.State> StateAsync(string reference) =>
        (TestWorkflow.State)Runtime.DeserializeState((await Runtime.Store.LoadAsync(reference))!);

    /// <summary>The timer trigger's payload, as the host sends it for a timerTrigger binding named "timer".</summary>
    public static object TimerPayload(Instant now, bool pastDue = false) => new
    {
        Data = new
        {
            timer = new
            {
                Schedule = new { AdjustForDST = true },
                ScheduleStatus = new { Last = "0001-01-01T00:00:00", Next = "0001-01-01T00:00:10", LastUpdated = "0001-01-01T00:00:00" },
                IsPastDue = pastDue,
            },
        },
        Metadata = new { sys = new { MethodName = FunctionsHosting.RuntimeTimer, UtcNow = now.ToString(), RandGuid = Guid.NewGuid() } },
    };

    /// <summary>The Service Bus trigger's payload for a binding named "message": the body arrives as a JSON string.</summary>
    public static object ServiceBusPayload(string body, string messageId, int deliveryCount = 1) => new
    {
        Data = new Dictionary<string, object?> { ["message"] = body },
        Metadata = new Dictionary<string, object?>
        {
            ["MessageId"] = messageId,
            ["DeliveryCount"] = deliveryCount,
            ["ContentType"] = "application/json",
            ["CorrelationId"] = "hospital-batch-7",
            ["EnqueuedTimeUtc"] = "2026-11-24T09:00:00Z",
            ["UserProperties"] = new Dictionary<string, object?> { ["source"] = "pas" },
            ["sys"] = new { MethodName = FunctionsHosting.ReferralQueue, UtcNow = "2026-11-24T09:00:01Z", RandGuid = Guid.NewGuid() },
        },
    };

    public async Task<(int Status, JsonElement Body)> InvokeAsync(string function, object payload)
    {
        var r = await Host().PostAsJsonAsync("/" + function, payload);
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Inner.DisposeAsync();
    }
}
