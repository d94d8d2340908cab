using System.Net;
using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CareWorkflows.Tests.Pages;

/// <summary>
/// Several copies of the app on one PostgreSQL share the data-protection key ring through the database: a form rendered by
/// one instance can be posted to another (a load balancer does not pin a user to an instance).
/// </summary>
public sealed partial class SharedKeyRingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    [Fact]
    public async Task A_form_rendered_by_one_instance_is_accepted_by_another_on_the_same_database()
    {
        var seed = new Dictionary<string, string?> { ["Providers:SeedDemo"] = "true" };
        await using var first = new CareWorkflowsApp(TestDatabases.StorePostgres, settings: seed);
        await using var second = new CareWorkflowsApp(TestDatabases.StorePostgres, databasePath: first.DatabasePath, settings: seed);

        // Rendered by the first instance: the antiforgery cookie and the form token.
        var page = await first.As(Roles.QualityAssurance).GetAsync("/concerns/new", Ct);
        page.EnsureSuccessStatusCode();
        var token = TokenPattern().Match(await page.Content.ReadAsStringAsync(Ct)).Groups[1].Value;
        var cookie = page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith("cw-af="));
        Assert.NotEmpty(token);

        // Posted to the second.
        var qa = second.As(Roles.QualityAssurance);
        using var post = new HttpRequestMessage(HttpMethod.Post, "/concerns/new")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["ProviderId"] = "east-kestrel",
                ["Concern"] = "Missed calls reported by two families.",
                ["FormId"] = Guid.NewGuid().ToString("N"),
                ["__RequestVerificationToken"] = token,
            }),
        };
        post.Headers.Add("Cookie", cookie);
        var r = await qa.SendAsync(post, Ct);
        Assert.True(r.StatusCode == HttpStatusCode.Redirect, await r.Content.ReadAsStringAsync(Ct));
        Assert.StartsWith("/instances/QC-", r.Headers.Location!.OriginalString);

        // One key in the database, read by both.
        var keys = await second.Services.GetRequiredService<IWorkflowStore>().ListDocumentsAsync(StoreXmlRepository.KeyPrefix, Ct);
        Assert.Single(keys);
    }
}
