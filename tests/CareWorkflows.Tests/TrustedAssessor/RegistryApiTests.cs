using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using static CareWorkflows.Tests.TrustedAssessor.TrustedAssessorTestKit;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>The registry of trusted assessors (App G.1) and packages, on both stores.</summary>
public sealed class RegistryApiTests
{
    [Theory]
    [InlineData(TestDatabases.StoreSqlite)]
    [InlineData(TestDatabases.StorePostgres)]
    public async Task Admin_registers_assessors_and_packages_and_providers_see_only_their_own(string store)
    {
        await using var app = NewApp(store: store);
        await RegisterAssessorAsync(app, "TAS-A1");
        await RegisterAssessorAsync(app, "TAS-A2", training: false);
        await RegisterAssessorAsync(app, "TAS-B1", provider: OtherProvider, diploma: 1);
        await RegisterPackageAsync(app, "PKG-1", 12.25m, lowLevel: true, movingAndHandling: true);
        await RegisterPackageAsync(app, "PKG-B", 7m, provider: OtherProvider);

        var all = await app.As(Roles.CareManager).GetFromJsonAsync<JsonElement>("/api/trusted-assessors");
        Assert.Equal(3, all.GetArrayLength());
        var mine = await app.As(Roles.Provider, Provider).GetFromJsonAsync<JsonElement>("/api/trusted-assessors");
        Assert.Equal(["TAS-A1", "TAS-A2"], mine.EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        Assert.True(mine[0].GetProperty("mayPropose").GetBoolean());
        Assert.False(mine[1].GetProperty("qualified").GetBoolean());
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, Provider).GetAsync($"/api/trusted-assessors?providerId={OtherProvider}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Provider, Provider).GetAsync("/api/trusted-assessors/TAS-B1")).StatusCode);

        var package = await app.As(Roles.Provider, Provider).GetFromJsonAsync<JsonElement>("/api/packages/PKG-1");
        Assert.Equal(12.25m, package.GetProperty("weeklyHours").GetDecimal());
        Assert.True(package.GetProperty("movingAndHandling").GetBoolean());
        Assert.Single((await app.As(Roles.Provider, Provider).GetFromJsonAsync<JsonElement>("/api/packages")).EnumerateArray());

        // Deactivating is an update by id.
        await RegisterAssessorAsync(app, "TAS-A1", active: false);
        Assert.False((await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/trusted-assessors/TAS-A1")).GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Registry_refuses_bad_input_and_non_admins()
    {
        await using var app = NewApp();
        var admin = app.As(Roles.Admin);
        var r = await admin.PostAsJsonAsync("/api/trusted-assessors", new { id = "TAS 1", providerId = "", name = "", email = "nope", diplomaLevel = 12 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
        var errors = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "id", "providerId", "name", "email", "lbbTrainingCompleted", "diplomaLevel", "active" })
            Assert.True(errors.TryGetProperty(field, out _), field);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.PostAsJsonAsync("/api/packages", new { id = "PKG-X", providerId = "P", weeklyHours = 7.125m, lowLevel = true })).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.PostAsJsonAsync("/api/packages", new { id = "PKG-X", providerId = "P", weeklyHours = 0, lowLevel = true })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, Provider).PostAsJsonAsync("/api/packages", new { id = "PKG-X", providerId = Provider, weeklyHours = 50, lowLevel = true })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.CareManager).PostAsJsonAsync("/api/trusted-assessors", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().GetAsync("/api/packages")).StatusCode);
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/api/packages")).EnumerateArray());
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/api/trusted-assessors")).EnumerateArray());
    }

    [Fact]
    public async Task Development_with_SQLite_seeds_demo_assessors_and_packages_by_default()
    {
        await using var app = new CareWorkflowsApp();
        var packages = await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/packages");
        Assert.Contains(packages.EnumerateArray(), p => p.GetProperty("id").GetString() == "PKG-DEMO-1");
        var assessors = await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/trusted-assessors");
        Assert.Contains(assessors.EnumerateArray(), a => a.GetProperty("id").GetString() == "TAS-DEMO-1" && a.GetProperty("mayPropose").GetBoolean());
    }

    [Fact]
    public void Every_demo_assessor_and_package_belongs_to_a_provider_of_the_demo_directory()
    {
        var now = CareWorkflowsApp.DefaultStart;
        var directory = CareWorkflows.Functions.Extensions.DemoProviders.Providers.Select(p => p.Id).ToHashSet();
        Assert.All(CareWorkflows.Functions.Extensions.TrustedAssessorDemoSeed.Assessors(now), a => Assert.Contains(a.ProviderId, directory));
        Assert.All(CareWorkflows.Functions.Extensions.TrustedAssessorDemoSeed.Packages(now), p => Assert.Contains(p.ProviderId, directory));
    }

    [Fact]
    public async Task A_demo_provider_chosen_at_sign_in_sees_its_demo_packages_and_can_propose_an_adjustment()
    {
        await using var app = new CareWorkflowsApp(); // Development with SQLite: both demo seeds on
        var kestrel = app.As(Roles.Provider, "east-kestrel");
        var packages = await kestrel.GetFromJsonAsync<JsonElement>("/api/packages");
        Assert.Contains(packages.EnumerateArray(), p => p.GetProperty("id").GetString() == "PKG-DEMO-1");
        Assert.Contains("PKG-DEMO-1", await kestrel.GetStringAsync("/adjustments/new"));

        var r = await ProposeAsync(app, Proposal(app, 10m, 9m, package: "PKG-DEMO-1", assessor: "TAS-DEMO-1"), provider: "east-kestrel");
        Assert.True(r.StatusCode == HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
    }
}
