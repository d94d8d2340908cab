using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Workflows;
using CareWorkflows.Functions.Apis;

namespace CareWorkflows.Functions.Extensions;

/// <summary>The workflow types this service runs, and their APIs. One line each.</summary>
public static class Workflows
{
    public static IServiceCollection AddWorkflowDefinitions(this IServiceCollection services)
    {
        services.AddD2AReferrals();
        services.AddTrustedAssessorAdjustments();
        CareWorkflows.Functions.Visits.VisitsRegistration.AddVisits(services);
        return services;
    }

    public static WebApplication MapWorkflowApis(this WebApplication app)
    {
        app.MapD2AReferralsApi();
        app.MapTrustedAssessorAdjustmentsApi();
        app.MapIncidentsApi();
        app.MapQualityConcernsApi();
        app.MapVisitAlertsApi();
        app.MapNoRepliesApi();
        return app;
    }
}
