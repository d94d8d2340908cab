using CareWorkflows.Runtime.Providers;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.D2A;

/// <summary>The eligibility rules over the provider directory (the directory itself, on every store: ServiceData/ProviderDirectoryContractTests).</summary>
public sealed class ProviderDirectoryStoreTests
{
    private static ProviderRecord Provider(string id, ProviderKind kind = ProviderKind.Patch, string[]? patches = null, CqcRating rating = CqcRating.Good,
        bool active = true, decimal hours = 1000m) =>
        new(id, $"Provider {id}", kind, patches ?? (kind == ProviderKind.Patch ? ["East"] : []), $"{id}@example.org", "+447700900100", rating, active, hours,
            Instant.FromUtc(2026, 11, 24, 9, 0));

    [Fact]
    public void Only_active_providers_rated_good_or_better_and_under_the_hours_cap_are_offered()
    {
        ProviderRecord[] all =
        [
            Provider("a"), Provider("b", rating: CqcRating.RequiresImprovement), Provider("c", rating: CqcRating.Inadequate), Provider("d", active: false),
            Provider("e", hours: 2986m), Provider("f", hours: 2985m), Provider("g", patches: ["West"]), Provider("h", rating: CqcRating.Outstanding),
            Provider("fw", ProviderKind.Framework), Provider("fw-ri", ProviderKind.Framework, rating: CqcRating.RequiresImprovement),
        ];
        // 4 calls a day of 30 minutes = 14 hours a week: 2,985 + 14 = 2,999 fits; 2,986 + 14 = 3,000 fits; more does not.
        Assert.Equal(["a", "e", "f", "h"], ProviderEligibility.PatchProviders(all, "east", 14m).Select(p => p.Id));
        Assert.Equal(["a", "f", "h"], ProviderEligibility.PatchProviders(all, "East", 14.5m).Select(p => p.Id));
        Assert.Equal(["fw"], ProviderEligibility.FrameworkProviders(all, 14m).Select(p => p.Id));
    }
}
