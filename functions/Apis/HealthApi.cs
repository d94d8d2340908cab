using CareWorkflows.Runtime.Store;

namespace CareWorkflows.Functions.Apis;

public static class HealthApi
{
    public static WebApplication MapHealthApi(this WebApplication app)
    {
        // Live: the process answers. Ready: the database answers and every migration is applied.
        app.MapGet("/health", () => TypedResults.Ok(new { status = "live" })).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/health/ready", async (IWorkflowStore store, CancellationToken ct) =>
            await store.IsReadyAsync(ct)
                ? Results.Ok(new { status = "ready", store = store.Name })
                : Results.Problem(statusCode: 503, title: "Not ready", detail: "The database is unreachable or not migrated."))
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }
}
