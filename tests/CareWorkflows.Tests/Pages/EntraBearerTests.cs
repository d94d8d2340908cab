using System.IdentityModel.Tokens.Jwt;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace CareWorkflows.Tests.Pages;

/// <summary>
/// Entra mode with real Microsoft.Identity.Web bearer validation; only the token issuer is local (Entra cannot be reached
/// from the tests): the signing key and metadata are given to the handler, so a token we sign stands for one Entra issued.
/// Shows that app roles arrive in the "roles" claim and the provider in provider_id, and that a token for another
/// audience or signed by another key is refused.
/// </summary>
public sealed class EntraBearerTests
{
    private const string TenantId = "00000000-0000-0000-0000-000000000001";
    private const string ClientId = "00000000-0000-0000-0000-000000000002";
    private static readonly string Issuer = $"https://login.microsoftonline.com/{TenantId}/v2.0";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static WebApplicationFactory<Program> App(SecurityKey key) => new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
    {
        b.UseEnvironment("Production");
        b.UseSetting("Auth:Mode", "Entra");
        b.UseSetting("AzureAd:Instance", "https://login.microsoftonline.com/");
        b.UseSetting("AzureAd:TenantId", TenantId);
        b.UseSetting("AzureAd:ClientId", ClientId);
        b.UseSetting("Storage:SqlitePath", TestDatabases.NewSqlitePath());
        b.UseSetting("Links:SigningKey", "test-signing-key-not-a-secret-0123456789");
        b.UseSetting("DurableTask:GrpcEndpoint", "http://127.0.0.1:0"); // a free port for this copy of the app
        b.ConfigureTestServices(s => s.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o =>
        {
            var metadata = new OpenIdConnectConfiguration { Issuer = Issuer };
            metadata.SigningKeys.Add(key);
            o.ConfigurationManager = new StaticConfigurationManager<OpenIdConnectConfiguration>(metadata);
            o.TokenValidationParameters.IssuerValidator = (issuer, _, _) => issuer == Issuer ? issuer : throw new SecurityTokenInvalidIssuerException(issuer);
        }));
    });

    private static string Token(SecurityKey key, string role, string? providerId = null, string audience = ClientId)
    {
        var claims = new List<Claim> { new("oid", Guid.NewGuid().ToString()), new("tid", TenantId), new("roles", role), new("name", "Test User"), new("ver", "2.0") };
        if (providerId is not null) claims.Add(new("provider_id", providerId));
        var jwt = new JwtSecurityToken(Issuer, audience, claims, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(30),
            new SigningCredentials(key, SecurityAlgorithms.HmacSha256));
        return new JwtSecurityTokenHandler().WriteToken(jwt);
    }

    private static async Task<HttpStatusCode> GetAsync(HttpClient client, string url, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var r = await client.SendAsync(request, Ct);
        TestContext.Current.SendDiagnosticMessage($"{url}: {(int)r.StatusCode} {r.Headers.WwwAuthenticate}");
        return r.StatusCode;
    }

    [Fact]
    public async Task A_bearer_token_is_authorised_by_its_app_roles()
    {
        var key = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
        using var factory = App(key);
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        Assert.Equal(HttpStatusCode.OK, await GetAsync(client, "/api/intake/dead-letters", Token(key, Roles.Admin)));
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync(client, "/api/intake/dead-letters", Token(key, Roles.Brokerage)));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(client, "/api/providers", Token(key, Roles.Brokerage)));
        Assert.Equal(HttpStatusCode.Forbidden, await GetAsync(client, "/api/instances", Token(key, Roles.Provider, "east-kestrel")));

        // Another audience, or another signing key: not a token for this API.
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(client, "/api/providers", Token(key, Roles.Admin, audience: "api://someone-else")));
        var forged = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(client, "/api/providers", Token(forged, Roles.Admin)));
    }
}
