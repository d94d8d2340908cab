using CareWorkflows.Runtime.Providers;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.ServiceData;

/// <summary>IProviderDirectory on SQLite, PostgreSQL and Table storage (Azurite).</summary>
public sealed class ProviderDirectoryContractTests
{
    public static TheoryData<string> Stores => ServiceDataStores.All;

    private static ProviderRecord Provider(string id, ProviderKind kind = ProviderKind.Patch, decimal hours = 1000m) =>
        new(id, $"Provider {id}", kind, kind == ProviderKind.Patch ? ["East"] : [], $"{id}@example.org", "+447700900100", CqcRating.Good, true, hours,
            Instant.FromUtc(2026, 11, 24, 9, 0));

    [Theory, MemberData(nameof(Stores))]
    public async Task Providers_and_patches_round_trip_and_ids_are_unique(string kind)
    {
        var directory = await ServiceDataStores.NewAsync<IProviderDirectory>(kind);
        await directory.PutPatchAsync(new PatchRecord("East", ["Orpington", "Petts Wood & Knoll"]));
        await directory.PutPatchAsync(new PatchRecord("East", ["Orpington"]));
        Assert.Equal(["Orpington"], Assert.Single(await directory.ListPatchesAsync()).Wards);

        var p = Provider("east-one", hours: 1234.5m);
        Assert.True(await directory.AddProviderAsync(p));
        Assert.False(await directory.AddProviderAsync(p with { Name = "Other" }));
        Assert.Equal(p, await directory.GetProviderAsync("east-one") is { } got ? got with { Patches = p.Patches } : null);
        Assert.Equal(["East"], (await directory.GetProviderAsync("east-one"))!.Patches);

        Assert.True(await directory.UpdateProviderAsync(p with { CqcRating = CqcRating.Inadequate, Active = false, WeeklyHours = 10m }));
        var updated = (await directory.GetProviderAsync("east-one"))!;
        Assert.Equal((CqcRating.Inadequate, false, 10m, "Provider east-one"), (updated.CqcRating, updated.Active, updated.WeeklyHours, updated.Name));
        Assert.False(await directory.UpdateProviderAsync(Provider("nobody")));
        Assert.Null(await directory.GetProviderAsync("nobody"));
        Assert.Single(await directory.ListProvidersAsync());
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task Providers_and_patches_are_listed_in_id_and_name_order(string kind)
    {
        var directory = await ServiceDataStores.NewAsync<IProviderDirectory>(kind);
        foreach (var id in new[] { "west-2", "east-1", "framework-1", "east-10" })
            Assert.True(await directory.AddProviderAsync(Provider(id, id.StartsWith("framework", StringComparison.Ordinal) ? ProviderKind.Framework : ProviderKind.Patch)));
        foreach (var name in new[] { "West", "Central", "East" }) await directory.PutPatchAsync(new PatchRecord(name, [name + " ward"]));

        Assert.Equal(["east-1", "east-10", "framework-1", "west-2"], (await directory.ListProvidersAsync()).Select(p => p.Id));
        Assert.Equal(["Central", "East", "West"], (await directory.ListPatchesAsync()).Select(p => p.Name));
        Assert.Empty((await directory.GetProviderAsync("framework-1"))!.Patches);
    }
}
