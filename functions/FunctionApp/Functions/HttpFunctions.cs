using CareWorkflows.FunctionApp.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace CareWorkflows.FunctionApp.Functions;

/// <summary>
/// The HTTP triggers: every request goes to the hosted app, which answers it with the same route table, middleware
/// (security headers, problem details, sign-in, authorisation) and handlers as the standalone host. So there is no
/// second copy of a check here, and a route a colleague adds to the app is served without a new function. Anonymous at
/// the Functions level: the app authenticates (Entra tokens and sign-in, signed links, webhook signatures). host.json
/// sets routePrefix "", so the paths are the app's own.
/// </summary>
public sealed class HttpFunctions(AppHost app, BoundDurableTaskClient bound)
{
    public const string ApiRoute = "api/{*path}", WebhooksRoute = "webhooks/{*path}", LinksRoute = "l/{*path}", PagesRoute = "{*path}";

    [Function("Api")]
    public Task<IResult> Api([HttpTrigger(AuthorizationLevel.Anonymous, Route = ApiRoute)] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        ServeAsync(request, client);

    /// <summary>Delivery reports and inbound replies from the channels (signatures checked by the app).</summary>
    [Function("Webhooks")]
    public Task<IResult> Webhooks([HttpTrigger(AuthorizationLevel.Anonymous, Route = WebhooksRoute)] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        ServeAsync(request, client);

    /// <summary>The signed links in emails and SMS: the provider's answer page.</summary>
    [Function("Links")]
    public Task<IResult> Links([HttpTrigger(AuthorizationLevel.Anonymous, Route = LinksRoute)] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        ServeAsync(request, client);

    /// <summary>Everything else: the staff pages, sign-in, the stylesheet, health.</summary>
    [Function("Pages")]
    public Task<IResult> Pages([HttpTrigger(AuthorizationLevel.Anonymous, Route = PagesRoute)] HttpRequest request, [DurableClient] DurableTaskClient client) =>
        ServeAsync(request, client);

    private async Task<IResult> ServeAsync(HttpRequest request, DurableTaskClient client)
    {
        bound.Use(client);
        var hosted = await app.ReadyAsync(request.HttpContext.RequestAborted);
        await hosted.ServeAsync(request.HttpContext);
        return Answered; // the app has written the response
    }

    private static readonly IResult Answered = Results.Empty;
}
