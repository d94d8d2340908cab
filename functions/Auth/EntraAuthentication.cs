using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Identity.Web;

namespace CareWorkflows.Functions.Auth;

public static class EntraAuthentication
{
    /// <summary>Chooses bearer or cookie per request; the app's default scheme in Entra mode.</summary>
    public const string SchemeName = "Entra";
    private const string ChallengeSchemeName = "Entra.Challenge";

    /// <summary>
    /// Production sign-in with Microsoft Entra ID (section AzureAd: Instance, TenantId, ClientId, ClientSecret or
    /// ClientCredentials, CallbackPath). Pages: OpenID Connect, then a cookie. APIs: bearer tokens. Both carry the app
    /// roles in <see cref="CareWorkflows.Definitions.Roles"/> ("roles" claim) and, for provider users, a provider_id claim.
    /// A request with an Authorization header, or to /api, is a bearer request (401 when unsigned); anything else is a
    /// page (redirected to Entra when unsigned).
    /// </summary>
    public static IServiceCollection AddEntraAuthentication(this IServiceCollection services, IConfiguration config)
    {
        var section = config.GetSection("AzureAd");
        if (string.IsNullOrEmpty(section["ClientId"]) || string.IsNullOrEmpty(section["TenantId"]))
            throw new InvalidOperationException("Auth:Mode=Entra needs AzureAd:TenantId and AzureAd:ClientId (or set Auth:Mode=Demo in Development).");
        var auth = services.AddAuthentication(o =>
        {
            o.DefaultScheme = SchemeName;
            o.DefaultChallengeScheme = ChallengeSchemeName;
        });
        auth.AddMicrosoftIdentityWebApi(section, JwtBearerDefaults.AuthenticationScheme);
        auth.AddMicrosoftIdentityWebApp(section, OpenIdConnectDefaults.AuthenticationScheme, CookieAuthenticationDefaults.AuthenticationScheme);
        auth.AddPolicyScheme(SchemeName, "Entra (bearer or cookie)", o => o.ForwardDefaultSelector = ctx =>
            IsBearer(ctx) ? JwtBearerDefaults.AuthenticationScheme : CookieAuthenticationDefaults.AuthenticationScheme);
        auth.AddPolicyScheme(ChallengeSchemeName, "Entra challenge", o => o.ForwardDefaultSelector = ctx =>
            IsBearer(ctx) ? JwtBearerDefaults.AuthenticationScheme : OpenIdConnectDefaults.AuthenticationScheme);
        // App roles arrive in the "roles" claim; User.IsInRole and RequireRole read it.
        // Claims keep their token names (no mapping of "roles" to the long WS-* role URI), so RoleClaimType "roles" matches.
        services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters.RoleClaimType = "roles";
            o.TokenValidationParameters.NameClaimType = "name";
        });
        services.Configure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme, o =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters.RoleClaimType = "roles";
            o.TokenValidationParameters.NameClaimType = "name";
        });
        services.Configure<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme, o =>
        {
            o.Cookie.Name = "cw-auth";
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.HttpOnly = true;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            o.AccessDeniedPath = "/denied";
        });
        return services;
    }

    private static bool IsBearer(HttpContext ctx) =>
        ctx.Request.Headers.Authorization.Count > 0 || SignInPaths.IsApi(ctx.Request);
}
