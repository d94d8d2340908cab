using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Links;
using Microsoft.Extensions.DependencyInjection;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>Registry set-up and requests shared by the trusted-assessor tests. Everything goes through HTTP.</summary>
internal static class TrustedAssessorTestKit
{
    public const string Provider = "PROV-A";
    public const string OtherProvider = "PROV-B";
    public const string Assessor = "TAS-A1";

    public static CareWorkflowsApp NewApp(Instant? start = null, string store = TestDatabases.StoreSqlite, IDictionary<string, string?>? settings = null)
    {
        var s = new Dictionary<string, string?> { ["TrustedAssessors:SeedDemo"] = "false" };
        if (settings is not null) foreach (var (k, v) in settings) s[k] = v;
        return new CareWorkflowsApp(store, start: start, settings: s);
    }

    public static async Task RegisterAssessorAsync(CareWorkflowsApp app, string id = Assessor, string provider = Provider, bool training = true, int diploma = 2, bool active = true)
    {
        var r = await app.As(Roles.Admin).PostAsJsonAsync("/api/trusted-assessors", new
        {
            id, providerId = provider, name = $"Assessor {id}", email = $"{id.ToLowerInvariant()}@{provider.ToLowerInvariant()}.example",
            lbbTrainingCompleted = training, diplomaLevel = diploma, active,
        });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    public static async Task RegisterPackageAsync(CareWorkflowsApp app, string id, decimal hours, bool lowLevel = true, bool movingAndHandling = false, string provider = Provider)
    {
        var r = await app.As(Roles.Admin).PostAsJsonAsync("/api/packages", new { id, providerId = provider, weeklyHours = hours, lowLevel, movingAndHandling });
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    /// <summary>A provider, its qualified assessor and one package PKG-1 of 10 hours a week.</summary>
    public static async Task<CareWorkflowsApp> ReadyAsync(Instant? start = null, decimal hours = 10m, bool lowLevel = true, bool movingAndHandling = false,
        string store = TestDatabases.StoreSqlite)
    {
        var app = NewApp(start, store);
        await RegisterAssessorAsync(app);
        await RegisterPackageAsync(app, "PKG-1", hours, lowLevel, movingAndHandling);
        return app;
    }

    public static Dictionary<string, object?> Proposal(CareWorkflowsApp app, decimal current, decimal proposed, string package = "PKG-1", string assessor = Assessor,
        LocalDate? effective = null, bool agreed = true, bool otReview = false) => new()
    {
        ["packageId"] = package,
        ["assessorId"] = assessor,
        ["currentWeeklyHours"] = current,
        ["proposedWeeklyHours"] = proposed,
        ["effectiveDate"] = (effective ?? app.Now.InZone(WorkflowContext.London).Date).ToString("yyyy-MM-dd", null),
        ["personAgreed"] = agreed,
        ["agreedBy"] = "the person",
        ["goals"] = "Make own breakfast again",
        ["rationale"] = "Managing breakfast with prompting only since the kettle tipper was fitted",
        ["evidence"] = "Review notes of 3 visits",
        ["needsOtReview"] = otReview,
    };

    public static async Task<HttpResponseMessage> ProposeAsync(CareWorkflowsApp app, object body, string provider = Provider) =>
        await app.As(Roles.Provider, provider).PostAsJsonAsync("/api/ta-adjustments", body);

    /// <summary>Proposes and returns the reference; fails the test unless it was accepted.</summary>
    public static async Task<string> ProposeOkAsync(CareWorkflowsApp app, decimal current, decimal proposed, bool otReview = false)
    {
        var r = await ProposeAsync(app, Proposal(app, current, proposed, otReview: otReview));
        Assert.True(r.StatusCode == HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reference").GetString()!;
    }

    public static async Task<HttpResponseMessage> ActAsync(CareWorkflowsApp app, string role, string reference, string action, object? body = null, string? provider = null) =>
        await app.As(role, provider).PostAsJsonAsync($"/api/ta-adjustments/{reference}/{action}", body ?? new { });

    public static async Task<decimal> PackageHoursAsync(CareWorkflowsApp app, string id = "PKG-1") =>
        (await app.As(Roles.CareManager).GetFromJsonAsync<JsonElement>($"/api/packages/{id}")).GetProperty("weeklyHours").GetDecimal();

    public static async Task<string> StatusAsync(CareWorkflowsApp app, string reference) =>
        (await app.InstanceAsync(reference)).GetProperty("status").GetString()!;

    public static async Task<List<JsonElement>> TimelineAsync(CareWorkflowsApp app, string reference) =>
        (await app.InstanceAsync(reference)).GetProperty("timeline").EnumerateArray().ToList();

    public static JsonElement Event(List<JsonElement> timeline, string type) => Assert.Single(timeline, e => e.GetProperty("type").GetString() == type);

    /// <summary>The words of the one timeline entry of <paramref name="type"/> (a decision's note, an input, the start).</summary>
    public static string Text(List<JsonElement> timeline, string type) => Event(timeline, type).GetProperty("data").GetProperty("text").GetString()!;

    /// <summary>Who sent the one input of <paramref name="type"/> (e.g. "SignOff"): its actor's role.</summary>
    public static string RoleOf(List<JsonElement> timeline, string type) => Event(timeline, type).GetProperty("actorRole").GetString()!;

    /// <summary>Lets the dispatcher send what the last transition wrote (background loops are off in tests).</summary>
    public static Task FlushAsync(CareWorkflowsApp app) => app.AdvanceAsync(Duration.FromSeconds(1));

    /// <summary>The path of the signed link for <paramref name="action"/> in the messages sent for <paramref name="reference"/>.</summary>
    public static async Task<string> LinkAsync(CareWorkflowsApp app, string reference, string to, string action)
    {
        foreach (var m in (await app.OutboxAsync(reference, to)).OrderByDescending(m => m.CreatedAt))
            foreach (var link in m.Links)
            {
                var path = new Uri(link).AbsolutePath;
                app.Services.GetRequiredService<HmacLinkIssuer>().Validate(path["/l/".Length..], app.Now, out var claims);
                if (claims?.Action == action) return path;
            }
        throw new Xunit.Sdk.XunitException($"No {action} link was sent to {to} for {reference}.");
    }
}
