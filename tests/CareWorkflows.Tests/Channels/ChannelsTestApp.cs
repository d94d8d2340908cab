using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace CareWorkflows.Tests.Channels;

/// <summary>
/// The real app (CareWorkflowsApp settings: simulation clock, loops off) with <see cref="ReplyTestWorkflow"/> registered,
/// the way a workflow's own tests would register a workflow under test.
/// </summary>
public sealed class ChannelsTestApp : IAsyncDisposable
{
    private readonly CareWorkflowsApp _app;
    private readonly WebApplicationFactory<Program> _factory;

    public ChannelsTestApp(IDictionary<string, string?>? settings = null, string store = TestDatabases.StoreSqlite)
    {
        _app = new CareWorkflowsApp(store, settings: settings);
        _factory = _app.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IWorkflowDefinition, ReplyTestWorkflow>()));
    }

    public IServiceProvider Services => _factory.Services;
    public WorkflowRuntime Runtime => Services.GetRequiredService<WorkflowRuntime>();
    public IWorkflowStore Store => Services.GetRequiredService<IWorkflowStore>();
    public IInboundStore Inbound => Services.GetRequiredService<IInboundStore>();
    public Instant Now => Services.GetRequiredService<SimulationClock>().GetCurrentInstant();

    public HttpClient Client() => _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// <summary>Moves the simulation clock (fires due timers, dispatches due messages).</summary>
    public Task AdvanceAsync(Duration by) => Services.GetRequiredService<Simulator>().MoveToAsync(Now + by);

    public static readonly ReplyTestWorkflow.Provider Alpha = new("prov-alpha", "+447700900111", "duty@alpha-care.example");
    public static readonly ReplyTestWorkflow.Provider Beta = new("prov-beta", "+447700900222", "office@beta-care.example");
    public const string PersonName = "Margaret Okonkwo-Smith";
    public const string NhsNumber = "943 476 5919";
    public const string Postcode = "LS1 4DY";

    /// <summary>Starts an offer to the given providers and sends its messages.</summary>
    public async Task<string> OfferAsync(params ReplyTestWorkflow.Provider[] providers)
    {
        var outcome = await Runtime.StartAsync("RPL", new ReplyTestWorkflow.Offer(PersonName, NhsNumber, Postcode,
            providers.Length == 0 ? [Alpha] : providers, Duration.FromHours(2)), new Actor("broker-1", Roles.Brokerage));
        Assert.Equal(OutcomeKind.Applied, outcome.Kind);
        await AdvanceAsync(Duration.FromSeconds(1));
        return outcome.Reference!;
    }

    public async Task<ReplyTestWorkflow.State> StateAsync(string reference) =>
        (ReplyTestWorkflow.State)Runtime.DeserializeState((await Store.LoadAsync(reference))!);

    public async Task<IReadOnlyList<string>> TimelineTypesAsync(string reference) =>
        (await Store.GetTimelineAsync(reference)).Select(e => e.Type).ToList();

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _app.DisposeAsync();
    }
}
