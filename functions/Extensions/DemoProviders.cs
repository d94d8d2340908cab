using CareWorkflows.Runtime.Providers;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Functions.Extensions;

/// <summary>
/// The demo provider directory: the four patches of B 1.5.4 with their wards; patch providers two per patch except
/// South (one) and East (three) (B 1.5.2); three borough-wide framework providers (B 1.5.3). Names are invented;
/// emails are example.org; mobiles are in Ofcom's drama range (+44 7700 900xxx).
/// </summary>
public static class DemoProviders
{
    public static readonly IReadOnlyList<PatchRecord> Patches =
    [
        new("East", ["Cray Valley West", "Cray Valley East", "Petts Wood & Knoll", "Farnborough & Crofton", "Orpington", "Chelsfield & Pratts Bottom"]),
        // "Coopers Cope" in B 1.5.4; the ward is spelt Copers Cope.
        new("West", ["Crystal Palace", "Penge & Cator", "Shortlands", "West Wickham", "Hayes & Coney Hall", "Clock House", "Kelsey & Eden Park", "Copers Cope"]),
        new("Central", ["Mottingham & Chislehurst North", "Chislehurst", "Plaistow & Sundridge", "Bromley Town", "Bickley", "Bromley Common & Keston"]),
        new("South", ["Darwin", "Biggin Hill"]),
    ];

    public static readonly IReadOnlyList<ProviderRecord> Providers =
    [
        P("east-orchard-lane", "Orchard Lane Home Care", ProviderKind.Patch, ["East"], 1, 1820m),
        P("east-kestrel", "Kestrel Home Support", ProviderKind.Patch, ["East"], 2, 2240m),
        P("east-meadowbank", "Meadowbank Care at Home", ProviderKind.Patch, ["East"], 3, 1310m),
        P("west-beckside", "Beckside Care Services", ProviderKind.Patch, ["West"], 4, 1975m),
        P("west-willowbrook", "Willowbrook Homecare", ProviderKind.Patch, ["West"], 5, 1460m),
        P("central-market-square", "Market Square Care", ProviderKind.Patch, ["Central"], 6, 2105m),
        P("central-lantern", "Lantern Home Care", ProviderKind.Patch, ["Central"], 7, 980m),
        P("south-hilltop", "Hilltop Community Care", ProviderKind.Patch, ["South"], 8, 1150m),
        P("fw-northgate", "Northgate Homecare", ProviderKind.Framework, [], 11, 2400m),
        P("fw-riverside", "Riverside Support Services", ProviderKind.Framework, [], 12, 1700m),
        P("fw-evergreen", "Evergreen Care Partnership", ProviderKind.Framework, [], 13, 2650m),
    ];

    private static ProviderRecord P(string id, string name, ProviderKind kind, string[] patches, int n, decimal hours) =>
        new(id, name, kind, patches, $"referrals@{id}.example.org", $"+447700900{n:000}", CqcRating.Good, true, hours, Instant.FromUtc(2026, 1, 1, 0, 0));

    /// <summary>Seeds patches and providers when the directory is empty (first start). Returns true when it seeded.</summary>
    public static async Task<bool> SeedIfEmptyAsync(IProviderDirectory directory, Instant now, CancellationToken ct = default)
    {
        if ((await directory.ListPatchesAsync(ct)).Count > 0 || (await directory.ListProvidersAsync(ct)).Count > 0) return false;
        foreach (var patch in Patches) await directory.PutPatchAsync(patch, ct);
        foreach (var p in Providers) await directory.AddProviderAsync(p with { UpdatedAt = now }, ct);
        return true;
    }
}

/// <summary>
/// Seeds the demo directory on start when Providers:SeedDemo is true (default: the embedded SQLite store in Development).
/// Runs after migrations (UseCareWorkflowsAsync migrates before the host starts).
/// </summary>
public sealed class DemoProviderSeeder(IConfiguration config, IHostEnvironment env, IProviderDirectory directory, IClock clock, ILogger<DemoProviderSeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var defaultOn = (config["Storage:Provider"] ?? "Sqlite") == "Sqlite" && env.IsDevelopment();
        if (!config.GetValue("Providers:SeedDemo", defaultOn)) return;
        if (await DemoProviders.SeedIfEmptyAsync(directory, clock.GetCurrentInstant(), ct))
            logger.LogInformation("Seeded the demo provider directory ({Patches} patches, {Providers} providers)", DemoProviders.Patches.Count, DemoProviders.Providers.Count);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
