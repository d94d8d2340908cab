using CareWorkflows.Runtime.Store;
using CareWorkflows.Runtime.Tables;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.ServiceData;

/// <summary>ITrustedAssessorDirectory on SQLite, PostgreSQL and Table storage (Azurite).</summary>
public sealed class TrustedAssessorDirectoryContractTests
{
    public static TheoryData<string> Stores => ServiceDataStores.All;

    private static readonly Instant T0 = Instant.FromUtc(2026, 11, 24, 9, 0);
    private static readonly Instant T1 = T0 + Duration.FromDays(1);

    private static TrustedAssessorRecord Assessor(string id, string provider = "prov-a", Instant? at = null) =>
        new(id, provider, $"Assessor {id}", $"{id}@provider.example", true, 3, true, at ?? T0, at ?? T0);

    private static CarePackageRecord Package(string id, string provider = "prov-a", decimal hours = 10m, Instant? at = null) =>
        new(id, provider, hours, true, false, null, at ?? T0, at ?? T0);

    [Theory, MemberData(nameof(Stores))]
    public async Task Assessors_upsert_as_new_then_replaced_keeping_when_they_were_created(string kind)
    {
        var d = await ServiceDataStores.NewAsync<ITrustedAssessorDirectory>(kind);

        Assert.True(await d.UpsertAssessorAsync(Assessor("TAS-2")));
        Assert.False(await d.UpsertAssessorAsync(Assessor("TAS-2", at: T1) with { Name = "Renamed", DiplomaLevel = 1, Active = false }));
        Assert.False(await d.InsertAssessorIfMissingAsync(Assessor("TAS-2") with { Name = "Seed" }));
        Assert.True(await d.InsertAssessorIfMissingAsync(Assessor("TAS-1", "prov-b")));
        Assert.True(await d.InsertAssessorIfMissingAsync(Assessor("TAS-3")));

        Assert.Equal(Assessor("TAS-2", at: T1) with { Name = "Renamed", DiplomaLevel = 1, Active = false, CreatedAt = T0 }, await d.GetAssessorAsync("TAS-2"));
        Assert.Null(await d.GetAssessorAsync("TAS-9"));
        Assert.Equal(["TAS-2", "TAS-3", "TAS-1"], (await d.ListAssessorsAsync()).Select(a => a.Id)); // by provider, then id
        Assert.Equal(["TAS-2", "TAS-3"], (await d.ListAssessorsAsync("prov-a")).Select(a => a.Id));
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task An_adjustment_owns_a_package_hours_and_an_upsert_keeps_that_link(string kind)
    {
        var d = await ServiceDataStores.NewAsync<ITrustedAssessorDirectory>(kind);
        Assert.True(await d.UpsertPackageAsync(Package("PKG-1", hours: 10.25m)));
        Assert.True(await d.InsertPackageIfMissingAsync(Package("PKG-2", "prov-b")));
        Assert.False(await d.InsertPackageIfMissingAsync(Package("PKG-1", hours: 99m)));

        Assert.True(await d.LinkPackageAdjustmentAsync("PKG-1", "TAA-AAAAA", 12.5m, T1));
        Assert.False(await d.LinkPackageAdjustmentAsync("PKG-9", "TAA-AAAAA", 12.5m, T1));
        Assert.False(await d.UpsertPackageAsync(Package("PKG-1", hours: 11m, at: T1) with { MovingAndHandling = true }));

        var p = (await d.GetPackageAsync("PKG-1"))!;
        Assert.Equal(("TAA-AAAAA", 11m, true, T0, T1), (p.AdjustmentReference, p.WeeklyHours, p.MovingAndHandling, p.CreatedAt, p.UpdatedAt));

        Assert.True(await d.SetPackageHoursFromAdjustmentAsync("PKG-1", "TAA-AAAAA", 14.75m, T1));
        Assert.False(await d.SetPackageHoursFromAdjustmentAsync("PKG-1", "TAA-AAAAA", 14.75m, T1)); // no change
        Assert.False(await d.SetPackageHoursFromAdjustmentAsync("PKG-1", "TAA-BBBBB", 20m, T1));   // not its owner
        Assert.False(await d.SetPackageHoursFromAdjustmentAsync("PKG-9", "TAA-AAAAA", 20m, T1));   // no such package
        Assert.Equal(14.75m, (await d.GetPackageAsync("PKG-1"))!.WeeklyHours);
        Assert.Equal(["PKG-1", "PKG-2"], (await d.ListPackagesAsync()).Select(x => x.Id));
        Assert.Equal(["PKG-2"], (await d.ListPackagesAsync("prov-b")).Select(x => x.Id));
        await Assert.ThrowsAsync<ArgumentException>(() => d.UpsertPackageAsync(Package("PKG-3", hours: 1.005m)));
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task Claiming_a_package_is_first_writer_wins_and_a_repeated_claim_changes_nothing(string kind)
    {
        var d = await ServiceDataStores.NewAsync<ITrustedAssessorDirectory>(kind);
        await d.UpsertPackageAsync(Package("PKG-1", hours: 10m));

        // Two proposals checked against the same facts (no adjustment, 10 hours): the first to claim wins, the second loses.
        Assert.True(await d.ClaimPackageAsync("PKG-1", "TA-AAAAA", null, 10m, 7.5m, T1));
        Assert.False(await d.ClaimPackageAsync("PKG-1", "TA-BBBBB", null, 10m, 9m, T1));
        Assert.True(await d.ClaimPackageAsync("PKG-1", "TA-AAAAA", null, 10m, 7.5m, T1)); // the winner's retried claim
        var p = (await d.GetPackageAsync("PKG-1"))!;
        Assert.Equal(("TA-AAAAA", 7.5m), (p.AdjustmentReference, p.WeeklyHours));

        // The next adjustment claims from the one before it, at the hours in effect, and not from stale hours.
        Assert.False(await d.ClaimPackageAsync("PKG-1", "TA-CCCCC", "TA-AAAAA", 10m, 8m, T1));
        Assert.True(await d.ClaimPackageAsync("PKG-1", "TA-CCCCC", "TA-AAAAA", 7.5m, 8m, T1));
        Assert.Equal(("TA-CCCCC", 8m), ((await d.GetPackageAsync("PKG-1"))!.AdjustmentReference, (await d.GetPackageAsync("PKG-1"))!.WeeklyHours));
        Assert.False(await d.ClaimPackageAsync("PKG-9", "TA-DDDDD", null, 10m, 8m, T1)); // no such package
    }

    [Fact]
    public async Task On_Table_storage_a_claim_that_loses_the_package_between_read_and_write_reads_again_and_refuses()
    {
        var d = await ServiceDataStores.NewAsync<ITrustedAssessorDirectory>(ServiceDataStores.Tables);
        var tables = (TableTrustedAssessorDirectory)d;
        await d.UpsertPackageAsync(Package("PKG-1"));
        var interleaved = false;
        tables.BetweenReadAndWrite = async () =>
        {
            if (interleaved) return;
            interleaved = true;
            Assert.True(await d.ClaimPackageAsync("PKG-1", "TA-BBBBB", null, 10m, 9m, T1)); // B claims after A's read, before A's write
        };

        Assert.False(await d.ClaimPackageAsync("PKG-1", "TA-AAAAA", null, 10m, 7.5m, T1));

        Assert.True(interleaved);
        var p = (await d.GetPackageAsync("PKG-1"))!;
        Assert.Equal(("TA-BBBBB", 9m), (p.AdjustmentReference, p.WeeklyHours));
    }

    [Fact]
    public async Task On_Table_storage_an_adjustment_taking_the_package_between_read_and_write_is_not_overwritten()
    {
        var d = await ServiceDataStores.NewAsync<ITrustedAssessorDirectory>(ServiceDataStores.Tables);
        var tables = (TableTrustedAssessorDirectory)d;
        await d.UpsertPackageAsync(Package("PKG-1"));
        await d.LinkPackageAdjustmentAsync("PKG-1", "TAA-AAAAA", 12m, T0);
        var interleaved = false;
        tables.BetweenReadAndWrite = async () =>
        {
            if (interleaved) return;
            interleaved = true;
            // Another adjustment takes the package over after A's read, before A's write.
            await d.LinkPackageAdjustmentAsync("PKG-1", "TAA-BBBBB", 30m, T1);
        };

        // The ETag read no longer matches: A reads again, sees it no longer owns the package, and writes nothing.
        Assert.False(await d.SetPackageHoursFromAdjustmentAsync("PKG-1", "TAA-AAAAA", 15m, T1));

        Assert.True(interleaved);
        var p = (await d.GetPackageAsync("PKG-1"))!;
        Assert.Equal(("TAA-BBBBB", 30m), (p.AdjustmentReference, p.WeeklyHours));
    }
}
