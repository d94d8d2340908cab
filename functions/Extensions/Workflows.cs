using CareWorkflows.Definitions;

namespace CareWorkflows.Functions.Extensions;

/// <summary>The workflow types this service runs, and their APIs. One line each.</summary>
public static class Workflows
{
    public static IServiceCollection AddWorkflowDefinitions(this IServiceCollection services)
    {
        return services;
    }

    public static WebApplication MapWorkflowApis(this WebApplication app)
    {
        return app;
    }
}
