using CareWorkflows.Functions.Apis;

namespace CareWorkflows.Functions.Extensions;

/// <summary>
/// Every endpoint of the service (the API, webhooks, signed links; the pages are mapped in UseCareWorkflowsAsync). One
/// list, so the standalone host and the Azure Functions app (functions/FunctionApp, whose HTTP triggers hand each request
/// to this same app) serve the same routes with the same handlers.
/// </summary>
public static class Endpoints
{
    public static WebApplication MapCareWorkflowsEndpoints(this WebApplication app)
    {
        app.MapHealthApi();
        app.MapInstancesApi();
        app.MapMessagesApi();
        app.MapSimulationApi();
        app.MapDevOutboxApi();
        app.MapLinksApi();
        app.MapCalendarApi();
        app.MapWebhooksApi();
        app.MapIntakeDeadLettersApi();
        app.MapWorkflowApis();
        return app;
    }
}
