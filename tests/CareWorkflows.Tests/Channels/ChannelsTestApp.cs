using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.D2A;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace CareWorkflows.Tests.Channels;

/// <summary>
/// The real app (simulation clock) for the channel tests, driven through a real workflow: a D2A referral in the East patch,
/// whose offers go by SMS and email to the patch's three providers (App A) and are answered by SMS, email or signed link.
/// </summary>
public sealed class ChannelsTestApp(IDictionary<string, string?>? settings = null, string store = TestDatabases.StoreSqlite) : IAsyncDisposable
{
    // The demo directory (seeded by default on SQLite only) gives the East patch its providers.
    private readonly CareWorkflowsApp _app = new(store, settings: new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Providers:SeedDemo"] = "true" });

    public sealed record Provider(string Id, string Mobile, string Email);

    /// <summary>Two of the East patch's providers (demo directory): each is offered every East referral.</summary>
    public static readonly Provider Alpha = new("east-orchard-lane", "+447700900001", D2ATestKit.Email("east-orchard-lane"));
    public static readonly Provider Beta = new("east-kestrel", "+447700900002", D2ATestKit.Email("east-kestrel"));
    public const int EastProviders = 3;

    /// <summary>What the channel tests read of a referral: who it is awarded to, at what first call, who declined.</summary>
    public sealed record Referral(string Status, string? AwardedTo, LocalTime? FirstCall, IReadOnlyList<string> Declined);

    public CareWorkflowsApp App => _app;
    public IServiceProvider Services => _app.Services;
    public IWorkflowStore Store => Services.GetRequiredService<IWorkflowStore>();
    public IInboundStore Inbound => (IInboundStore)Store;
    public Instant Now => _app.Now;

    public HttpClient Client() => _app.Anonymous();

    /// <summary>Moves the simulation clock (fires due timers, including the retries of messages).</summary>
    public Task AdvanceAsync(Duration by) => _app.AdvanceAsync(by);

    /// <summary>Raises an East referral and lets its offers go out.</summary>
    public async Task<string> OfferAsync()
    {
        var reference = await D2ATestKit.RaiseAsync(_app);
        await _app.SettleAsync();
        return reference;
    }

    public async Task<Referral> StateAsync(string reference)
    {
        var state = (await _app.InstanceAsync(reference)).GetProperty("state");
        var award = state.GetProperty("award");
        var awardedTo = award.ValueKind == JsonValueKind.Object ? award.GetProperty("provider").GetProperty("id").GetString() : null;
        LocalTime? firstCall = award.ValueKind == JsonValueKind.Object
            ? NodaTime.Text.InstantPattern.ExtendedIso.Parse(award.GetProperty("firstCallAt").GetString()!).Value.InZone(WorkflowContext.London).TimeOfDay
            : null;
        var declined = state.GetProperty("offers").EnumerateArray()
            .Where(o => o.GetProperty("accepted").ValueKind == JsonValueKind.False)
            .Select(o => o.GetProperty("provider").GetProperty("id").GetString()!).ToList();
        return new(state.GetProperty("status").GetString()!, awardedTo, firstCall, declined);
    }

    /// <summary>The instance's timeline, read from its history.</summary>
    public async Task<IReadOnlyList<TimelineEntry>> TimelineAsync(string reference)
    {
        await _app.SettleAsync();
        return (await Services.GetRequiredService<WorkflowClient>().LoadAsync(reference, withTimeline: true))!.Timeline;
    }

    public async Task<IReadOnlyList<string>> TimelineTypesAsync(string reference) => (await TimelineAsync(reference)).Select(e => e.Type).ToList();

    /// <summary>The messages sent for an instance (after the orchestration has sent what is due).</summary>
    public async Task<IReadOnlyList<OutboxMessage>> MessagesAsync(string reference)
    {
        await _app.SettleAsync();
        return await Store.GetMessagesAsync(reference: reference, limit: 5000);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
