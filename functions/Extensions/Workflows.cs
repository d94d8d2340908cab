using CareWorkflows.Functions.Apis;
using CareWorkflows.Definitions;

namespace CareWorkflows.Functions.Extensions;

/// <summary>The workflow types this service runs, and their APIs. One line each.</summary>
public static class Workflows
{
    public static IServiceCollection AddWorkflowDefinitions(this IServiceCollection services)
    {
        services.AddTrustedAssessorAdjustments();
        return services;
    }

    public static WebApplication MapWorkflowApis(this WebApplication app)
    {
        app.MapTrustedAssessorAdjustmentsApi();
        return app;
    }
}
