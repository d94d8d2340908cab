using System.Security.Claims;
using System.Text.Encodings.Web;
using CareWorkflows.Definitions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace CareWorkflows.Functions.Auth;

/// <summary>
/// Development-only sign-in: the demo user, role and provider come from the X-Demo-User / X-Demo-Role /
/// X-Demo-Provider headers (API clients, tests) or the cw-demo cookie set by the local sign-in page.
/// The app refuses to start with this scheme outside Development (see CareWorkflowsServices).
/// </summary>
public sealed class DemoAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Demo";
    public const string CookieName = "cw-demo";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? user = Request.Headers["X-Demo-User"], role = Request.Headers["X-Demo-Role"], provider = Request.Headers["X-Demo-Provider"];
        if (string.IsNullOrEmpty(role) && Request.Cookies.TryGetValue(CookieName, out var cookie))
        {
            var parts = cookie.Split('|');
            if (parts.Length >= 2) { user = parts[0]; role = parts[1]; provider = parts.Length > 2 && parts[2].Length > 0 ? parts[2] : null; }
        }
        if (string.IsNullOrEmpty(role)) return Task.FromResult(AuthenticateResult.NoResult());
        if (!Roles.All.Contains(role.ToString())) return Task.FromResult(AuthenticateResult.Fail($"Unknown role '{role}'."));
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, string.IsNullOrEmpty(user) ? $"demo-{role}" : user.ToString()),
            new(ClaimTypes.Name, string.IsNullOrEmpty(user) ? $"Demo {role}" : user.ToString()),
            new(ClaimTypes.Role, role.ToString()),
        };
        if (!string.IsNullOrEmpty(provider)) claims.Add(new(ActorClaims.ProviderId, provider.ToString()));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    /// <summary>APIs answer 401; pages send the browser to the local sign-in page.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (SignInPaths.IsApi(Request)) return base.HandleChallengeAsync(properties);
        Response.Redirect(SignInPaths.SignIn(Request));
        return Task.CompletedTask;
    }
}

/// <summary>Which requests are API calls (401/403 problem answers) and which are pages (redirect to sign-in).</summary>
public static class SignInPaths
{
    public static bool IsApi(HttpRequest r) =>
        r.Path.StartsWithSegments("/api") || r.Path.StartsWithSegments("/webhooks") || r.Path.StartsWithSegments("/health") || r.Path.StartsWithSegments("/openapi");

    public static string SignIn(HttpRequest r) => "/signin?returnUrl=" + Uri.EscapeDataString(r.PathBase + r.Path + r.QueryString);
}

public static class ActorClaims
{
    public const string ProviderId = "provider_id";

    /// <summary>The actor behind a request: user id, the first app role the user holds, provider id if any.</summary>
    public static Actor ToActor(this ClaimsPrincipal user)
    {
        var role = Roles.All.FirstOrDefault(user.IsInRole) ?? "Anonymous";
        var id = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.FindFirstValue("oid") ?? "anonymous";
        return new Actor(id, role, user.FindFirstValue(ActorClaims.ProviderId), user.Identity?.Name);
    }
}

/// <summary>Named authorisation policies, by who may do what.</summary>
public static class Policies
{
    public const string Staff = "Staff";
    public const string Admin = "Admin";
    public const string Authenticated = "Authenticated";

    public static readonly string[] StaffRoles =
        [Roles.DischargeTeam, Roles.Brokerage, Roles.CareManager, Roles.SeniorCareManager, Roles.QualityAssurance, Roles.SafeguardingLead, Roles.Admin];
}
