using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace CareWorkflows.Tests.Pages;

/// <summary>Sign-in modes, antiforgery on page forms, security headers, and providers kept to their own items.</summary>
public sealed partial class PagesSecurityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    private static async Task<string> TokenAsync(HttpClient client, string url)
    {
        var html = await client.GetStringAsync(url, Ct);
        return TokenPattern().Match(html).Groups[1].Value;
    }

    private static Dictionary<string, string> QualityConcernForm(string? token) => new()
    {
        ["ProviderId"] = "east-kestrel",
        ["Concern"] = "Missed calls reported by two families.",
        ["FormId"] = Guid.NewGuid().ToString("N"),
        ["__RequestVerificationToken"] = token ?? "",
    };

    [Fact]
    public async Task A_page_form_posted_without_its_antiforgery_token_is_refused_and_writes_nothing()
    {
        await using var app = new CareWorkflowsApp();
        var qa = app.As(Roles.QualityAssurance);

        var forged = await qa.PostAsync("/concerns/new", new FormUrlEncodedContent(QualityConcernForm(null)), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        var wrong = await qa.PostAsync("/concerns/new", new FormUrlEncodedContent(QualityConcernForm("CfDJ8-not-a-token")), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Empty(await app.As(Roles.Admin).GetFromJsonAsync<List<object>>("/api/instances?type=QC", Ct) ?? []);

        // The same form with the token the page issued goes through.
        var ok = await qa.PostAsync("/concerns/new", new FormUrlEncodedContent(QualityConcernForm(await TokenAsync(qa, "/concerns/new"))), Ct);
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        Assert.StartsWith("/instances/QC-", ok.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_form_with_bad_fields_shows_each_error_next_to_its_field_and_in_the_summary()
    {
        await using var app = new CareWorkflowsApp();
        var qa = app.As(Roles.QualityAssurance);
        var form = QualityConcernForm(await TokenAsync(qa, "/concerns/new"));
        form["ProviderId"] = "";
        form["Concern"] = " ";
        form["ResponseWorkingDays"] = "99";
        var r = await qa.PostAsync("/concerns/new", new FormUrlEncodedContent(form), Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
        var html = await r.Content.ReadAsStringAsync(Ct);
        Assert.Contains("There is a problem", html);
        foreach (var id in new[] { "providerid", "concern", "responseworkingdays" })
        {
            Assert.Contains($"href=\"#{id}\"", html);          // summary links to the field
            Assert.Contains($"id=\"{id}-error\"", html);       // message next to the field
        }
    }

    [Theory]
    [InlineData("/signin")]
    [InlineData("/")]
    [InlineData("/health")]
    [InlineData("/api/instances")]
    [InlineData("/l/not-a-token")]
    [InlineData("/css/site.css")]
    [InlineData("/no-such-page")]
    public async Task Every_response_carries_the_security_headers(string url)
    {
        await using var app = new CareWorkflowsApp();
        var r = await app.Anonymous().GetAsync(url, Ct);
        var csp = Assert.Single(r.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("default-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.Equal("nosniff", Assert.Single(r.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(r.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", Assert.Single(r.Headers.GetValues("X-Frame-Options")));
    }

    [Fact]
    public async Task Pages_send_an_unsigned_browser_to_sign_in_and_APIs_answer_401()
    {
        await using var app = new CareWorkflowsApp();
        var page = await app.Anonymous().GetAsync("/operations", Ct);
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/signin?returnUrl=%2Foperations", page.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().GetAsync("/api/instances", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.QualityAssurance).GetAsync("/operations", Ct)).StatusCode);
    }

    [Fact]
    public async Task The_demo_sign_in_page_sets_the_demo_cookie_and_only_goes_back_to_local_pages()
    {
        await using var app = new CareWorkflowsApp();
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var token = await TokenAsync(browser, "/signin");
        var r = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Name"] = "Pat Provider", ["Role"] = Roles.Provider, ["ProviderId"] = "east-kestrel", ["ReturnUrl"] = "https://evil.example/",
            ["__RequestVerificationToken"] = token,
        }), Ct);
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.Equal("/", r.Headers.Location!.OriginalString);
        Assert.Contains(r.Headers.GetValues("Set-Cookie"), c => c.StartsWith("cw-demo=", StringComparison.Ordinal) && c.Contains("httponly", StringComparison.OrdinalIgnoreCase));
        var dashboard = await browser.GetStringAsync("/", Ct);
        Assert.Contains("Pat Provider", dashboard);

        // A provider without a provider is refused.
        var bad = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Role"] = Roles.Provider, ["ProviderId"] = "", ["__RequestVerificationToken"] = await TokenAsync(browser, "/signin"),
        }), Ct);
        Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
        Assert.Contains("Choose the provider you work for.", await bad.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public void The_demo_sign_in_refuses_to_start_outside_Development(string environment)
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment(environment);
            b.UseSetting("Auth:Mode", "Demo");
            b.UseSetting("Storage:SqlitePath", TestDatabases.NewSqlitePath());
            b.UseSetting("Links:SigningKey", "test-signing-key-not-a-secret-0123456789");
            b.UseSetting("DurableTask:GrpcEndpoint", "http://127.0.0.1:0"); // a free port for this copy of the app
        });
        var e = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("only allowed when the environment is Development", e.ToString());
    }

    [Fact]
    public async Task In_Entra_mode_an_API_call_without_a_bearer_token_is_401_with_a_bearer_challenge()
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Production");
            b.UseSetting("Auth:Mode", "Entra");
            b.UseSetting("AzureAd:Instance", "https://login.microsoftonline.com/");
            b.UseSetting("AzureAd:TenantId", "00000000-0000-0000-0000-000000000001");
            b.UseSetting("AzureAd:ClientId", "00000000-0000-0000-0000-000000000002");
            b.UseSetting("Storage:SqlitePath", TestDatabases.NewSqlitePath());
            b.UseSetting("Links:SigningKey", "test-signing-key-not-a-secret-0123456789");
        });
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var r = await client.GetAsync("/api/instances", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.Contains(r.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        // The demo headers mean nothing here.
        var demo = new HttpRequestMessage(HttpMethod.Get, "/api/instances");
        demo.Headers.Add("X-Demo-Role", Roles.Admin);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(demo, Ct)).StatusCode);
    }
}
