using System.Net;
using CareWorkflows.Functions.Auth;
using Microsoft.AspNetCore.Mvc.Core.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace CareWorkflows.Functions.Pages;

/// <summary>
/// A page outside Razor (signed-link pages, error pages) in the same look: the stylesheet, the skip link, the header
/// and one main region whose first heading is the h1.
/// </summary>
public static class PlainPage
{
    public static string Html(string title, string heading, string bodyHtml, bool alert = false, string? headerHtml = null) => $$"""
        <!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{H(title)}} – CareWorkflows</title><link rel="stylesheet" href="/css/site.css"></head>
        <body><a href="#main" class="skip-link">Skip to main content</a>
        <header class="header"><div class="header__inner">{{headerHtml ?? "<span class=\"header__title\">CareWorkflows</span>"}}</div></header>
        <main id="main" tabindex="-1">{{(alert ? "<div class=\"notice notice--warning\" role=\"alert\">" : "")}}<h1>{{H(heading)}}</h1>{{bodyHtml}}{{(alert ? "</div>" : "")}}</main></body></html>
        """;

    private static string H(string s) => WebUtility.HtmlEncode(s);
}

/// <summary>
/// Pages answer a refusal without a body (403, 404, a form whose antiforgery token failed, …) with an HTML page that
/// says what happened and what to do next. APIs, webhooks, health and OpenAPI keep RFC 7807 problem details, and so
/// does any request that asks for JSON rather than HTML.
/// </summary>
public static class StatusPages
{
    /// <summary>Set on the request when the antiforgery check refused a page form (see <see cref="AntiforgeryFailureFilter"/>).</summary>
    public const string AntiforgeryFailed = "cw-antiforgery-failed";

    public static IApplicationBuilder UseCareWorkflowsStatusPages(this IApplicationBuilder app) => app.UseStatusCodePages(async context =>
    {
        var http = context.HttpContext;
        if (WantsHtml(http.Request))
        {
            var (title, body) = Explain(http);
            http.Response.ContentType = "text/html; charset=utf-8";
            http.Response.Headers.CacheControl = "no-store";
            await http.Response.WriteAsync(PlainPage.Html(title, title, body, headerHtml: "<a href=\"/\" class=\"header__title\">CareWorkflows</a>"));
            return;
        }
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Status = http.Response.StatusCode } }))
            await http.Response.WriteAsync($"Status Code: {http.Response.StatusCode}");
    });

    /// <summary>A browser's page request: not an API, webhook, health or OpenAPI path, and not asking for JSON instead of HTML.</summary>
    public static bool WantsHtml(HttpRequest r)
    {
        if (SignInPaths.IsApi(r)) return false;
        var accept = r.Headers.Accept.ToString();
        var json = accept.Contains("json", StringComparison.OrdinalIgnoreCase);
        return !json || accept.Contains("text/html", StringComparison.OrdinalIgnoreCase);
    }

    private static (string Title, string BodyHtml) Explain(HttpContext http)
    {
        const string dashboard = "<a href=\"/\">Go to your dashboard</a>";
        return http.Response.StatusCode switch
        {
            404 => ("Page not found", "<p>If you typed the web address, check it is correct. A case reference looks like D2A-7K3QX.</p>" +
                                      "<p>If you followed a link to a case, the case may not exist, or it may not concern your organisation.</p>" +
                                      $"<p>{dashboard} to find your work.</p>"),
            403 => ("You cannot see this page", "<p>Your role does not allow it. If you need it for your work, ask your administrator to give you the right role.</p>" +
                                                $"<p>{dashboard}, or <a href=\"/signin\">sign in as someone else</a>.</p>"),
            400 when http.Items.ContainsKey(AntiforgeryFailed) =>
                ("Your form could not be sent", "<p>Nothing was saved. The page had been open too long, or you signed in again in another tab, so the form's security check failed.</p>" +
                                                "<p>Go back, reload the page and send the form again. If that does not work, sign out and sign in again.</p>" +
                                                $"<p>{dashboard}.</p>"),
            405 => ("This page cannot do that", $"<p>Nothing was changed. Use the buttons and links on the page instead of typing the address.</p><p>{dashboard}.</p>"),
            _ => ("Something was wrong with the request", $"<p>Nothing was changed (status {http.Response.StatusCode}). Go back and try again.</p><p>{dashboard}.</p>"),
        };
    }
}

/// <summary>Marks a page form refused by the antiforgery check, so its 400 page can say what happened.</summary>
public sealed class AntiforgeryFailureFilter : IAlwaysRunResultFilter
{
    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (context.Result is IAntiforgeryValidationFailedResult) context.HttpContext.Items[StatusPages.AntiforgeryFailed] = true;
    }

    public void OnResultExecuted(ResultExecutedContext context) { }
}
