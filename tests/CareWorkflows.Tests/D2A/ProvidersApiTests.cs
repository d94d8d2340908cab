using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;

namespace CareWorkflows.Tests.D2A;

/// <summary>The provider directory API and the demo seed (B 1.5.2–1.5.4).</summary>
public sealed class ProvidersApiTests
{
    [Fact]
    public async Task Demo_directory_has_four_patches_with_their_wards_and_the_providers_of_B_1_5_2()
    {
        await using var app = new CareWorkflowsApp();
        var patches = await app.As(Roles.Brokerage).GetFromJsonAsync<JsonElement>("/api/patches");
        Assert.Equal(["Central", "East", "South", "West"], patches.EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        var south = patches.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "South");
        Assert.Equal(["Darwin", "Biggin Hill"], south.GetProperty("wards").EnumerateArray().Select(w => w.GetString()));

        var providers = (await app.As(Roles.Brokerage).GetFromJsonAsync<JsonElement>("/api/providers")).EnumerateArray().ToList();
        int Patch(string name) => providers.Count(p => p.GetProperty("kind").GetString() == "Patch" && p.GetProperty("patches").EnumerateArray().Any(x => x.GetString() == name));
        Assert.Equal((3, 2, 2, 1), (Patch("East"), Patch("West"), Patch("Central"), Patch("South")));
        Assert.Equal(3, providers.Count(p => p.GetProperty("kind").GetString() == "Framework"));
        Assert.All(providers, p =>
        {
            Assert.EndsWith(".example.org", p.GetProperty("email").GetString());
            Assert.StartsWith("+447700900", p.GetProperty("mobile").GetString());
        });
    }

    [Fact]
    public async Task Admin_adds_and_updates_providers_brokerage_only_reads_and_bad_bodies_are_refused()
    {
        await using var app = new CareWorkflowsApp();
        var provider = new
        {
            id = "west-new-dawn", name = "New Dawn Care", kind = "Patch", patches = new[] { "west" }, email = "offers@new-dawn.example.org",
            mobile = "+447700900500", cqcRating = "Good", active = true, weeklyHours = 400,
        };
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Brokerage).PostAsJsonAsync("/api/providers", provider)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.DischargeTeam).GetAsync("/api/providers")).StatusCode);
        var created = await app.As(Roles.Admin).PostAsJsonAsync("/api/providers", provider);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("West", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("patches")[0].GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await app.As(Roles.Admin).PostAsJsonAsync("/api/providers", provider)).StatusCode);

        var updated = await app.As(Roles.Admin).PutAsJsonAsync("/api/providers/west-new-dawn", provider with { cqcRating = "Inadequate" });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal("Inadequate", (await app.As(Roles.Brokerage).GetFromJsonAsync<JsonElement>("/api/providers/west-new-dawn")).GetProperty("cqcRating").GetString());

        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.As(Roles.Admin).PostAsJsonAsync("/api/providers", provider with { id = "x2", patches = new[] { "North" } })).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.As(Roles.Admin).PostAsJsonAsync("/api/providers", provider with { id = "Bad Id" })).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.As(Roles.Admin).PostAsJsonAsync("/api/providers", provider with { id = "x3", mobile = "07700 900500" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await app.As(Roles.Admin).PostAsJsonAsync("/api/providers", provider with { id = "x4", kind = "Sometimes" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Admin).PutAsJsonAsync("/api/providers/nobody", provider with { id = "nobody" })).StatusCode);
        Assert.Equal(12, (await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/providers")).GetArrayLength());
    }
}
