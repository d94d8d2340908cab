using CareWorkflows.Definitions.TrustedAssessor;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Functions.Extensions;

/// <summary>
/// The trusted-assessor adjustment workflow's registry writes (the orchestration and its activities are registered with
/// the other workflows in DurableTask.cs) and the demo seed (the registry is registered with the service data).
/// TrustedAssessors:SeedDemo (default: on in Development with the embedded SQLite store) adds demo assessors and packages
/// once; a restart never resets hours that adjustments have moved.
/// </summary>
public static class TrustedAssessorRegistration
{
    public static IServiceCollection AddTrustedAssessorAdjustments(this IServiceCollection services)
    {
        services.AddSingleton<IPackageHours, RegistryPackageHours>();
        services.AddHostedService<TrustedAssessorDemoSeed>();
        return services;
    }
}

public sealed class TrustedAssessorDemoSeed(IWorkflowStore store, ITrustedAssessorDirectory directory, IConfiguration config, IHostEnvironment env, IClock clock,
    ILogger<TrustedAssessorDemoSeed> logger) : IHostedService
{
    public const string Setting = "TrustedAssessors:SeedDemo";

    public async Task StartAsync(CancellationToken ct)
    {
        var byDefault = env.IsDevelopment() && (config["Storage:Provider"] ?? "Sqlite") == "Sqlite";
        if (!config.GetValue(Setting, byDefault)) return;
        await store.MigrateAsync(ct);
        var now = clock.GetCurrentInstant();
        var added = 0;
        foreach (var a in Assessors(now)) if (await directory.InsertAssessorIfMissingAsync(a, ct)) added++;
        foreach (var p in Packages(now)) if (await directory.InsertPackageIfMissingAsync(p, ct)) added++;
        if (added > 0) logger.LogInformation("Seeded {Count} demo trusted assessors and packages", added);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    // The demo assessors and packages belong to providers of the demo directory (DemoProviders), so a demo provider user
    // signed in as one of them can propose an adjustment in the browser.
    public static IEnumerable<TrustedAssessorRecord> Assessors(Instant now) =>
    [
        new("TAS-DEMO-1", "east-kestrel", "Demo Assessor One", "ta1@east-kestrel.example.org", true, 3, true, now, now),
        new("TAS-DEMO-2", "east-kestrel", "Demo Assessor Two (training not done)", "ta2@east-kestrel.example.org", false, 2, true, now, now),
        new("TAS-DEMO-3", "west-beckside", "Demo Assessor Three", "ta3@west-beckside.example.org", true, 2, true, now, now),
    ];

    public static IEnumerable<CarePackageRecord> Packages(Instant now) =>
    [
        new("PKG-DEMO-1", "east-kestrel", 10m, true, false, null, now, now),
        new("PKG-DEMO-2", "east-kestrel", 21m, false, true, null, now, now),
        new("PKG-DEMO-3", "west-beckside", 7m, true, false, null, now, now),
    ];
}
