using CareWorkflows.Definitions;
using CareWorkflows.Functions.Auth;

namespace CareWorkflows.Functions.Extensions;

/// <summary>The staff and provider pages (Razor Pages under Pages/) and the headers every response carries.</summary>
public static class WebPages
{
    /// <summary>Roles that run operations (failed messages, overdue list, cancel, simulation clock).</summary>
    public static readonly string[] OperatorRoles = [Roles.Admin, Roles.Brokerage];

    public static IServiceCollection AddCareWorkflowsPages(this IServiceCollection services)
    {
        services.AddRazorPages(o =>
        {
            // Every page needs a signed-in user unless it says otherwise; pages narrow this further by role.
            o.Conventions.AuthorizeFolder("/", Policies.Authenticated);
            o.Conventions.AllowAnonymousToPage("/SignIn");
            o.Conventions.AllowAnonymousToPage("/Denied");
        }).AddMvcOptions(o => o.Filters.Add<CareWorkflows.Functions.Pages.AntiforgeryFailureFilter>());
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "cw-af";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.FormFieldName = "__RequestVerificationToken";
        });
        return services;
    }

    /// <summary>
    /// Security headers on every response (pages, APIs, links, errors). The CSP allows no inline script or style: the
    /// pages use one stylesheet and one small script, both from /.
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        http.Response.OnStarting(() =>
        {
            var h = http.Response.Headers;
            h["Content-Security-Policy"] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
                                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
            h["X-Content-Type-Options"] = "nosniff";
            h["X-Frame-Options"] = "DENY";
            h["Referrer-Policy"] = "no-referrer";
            h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
            h["Cross-Origin-Opener-Policy"] = "same-origin";
            h["Cross-Origin-Resource-Policy"] = "same-origin";
            // API answers and pages carry personal data (patients, incidents, concerns): no browser, proxy or shared
            // computer's cache may keep a copy. Only the stylesheet is static and may be cached.
            if (!http.Request.Path.StartsWithSegments("/css")) h.CacheControl = "no-store";
            if (http.Request.IsHttps) h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains";
            return Task.CompletedTask;
        });
        return next();
    });
}
