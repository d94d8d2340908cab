using CareWorkflows.Definitions.Workflows;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace CareWorkflows.Functions.Apis;

public sealed record RegisterPackageRequest(string? Id, string? ProviderId, decimal? WeeklyHours, bool? LowLevel, bool? MovingAndHandling);

public sealed record PackageView(string Id, string ProviderId, decimal WeeklyHours, bool LowLevel, bool MovingAndHandling, string? AdjustmentReference,
    Instant CreatedAt, Instant UpdatedAt)
{
    public static PackageView From(CarePackageRecord p) =>
        new(p.Id, p.ProviderId, p.WeeklyHours, p.LowLevel, p.MovingAndHandling, p.AdjustmentReference, p.CreatedAt, p.UpdatedAt);
}

/// <summary>
/// Packages a trusted assessor may adjust: id, provider delivering it, weekly hours now in effect (2 dp), low-level and
/// moving-and-handling flags. Admin registers (POST upserts by id); reads bring the hours up to date from the package's
/// latest trusted-assessor adjustment first, so a change answered by signed link shows here too.
/// </summary>
public static class PackagesApi
{
    public static WebApplication MapPackagesApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/packages").WithTags("Packages");
        api.MapPost("/", RegisterAsync).RequireAuthorization(Policies.Admin);
        api.MapGet("/", ListAsync).RequireAuthorization(Policies.Authenticated);
        api.MapGet("/{id}", GetAsync).RequireAuthorization(Policies.Authenticated);
        return app;
    }

    private static async Task<Results<Created<PackageView>, Ok<PackageView>, ProblemHttpResult>> RegisterAsync(
        RegisterPackageRequest? body, ITrustedAssessorDirectory directory, IClock clock, CancellationToken ct)
    {
        if (body is null) return Problems.BadRequest("A JSON body is required.");
        var errors = new Dictionary<string, string[]>();
        if (!TrustedAssessorsApi.ValidId(body.Id)) errors["id"] = ["id is required: 1–64 letters, digits, '-', '_' or '.'."];
        if (!TrustedAssessorsApi.ValidId(body.ProviderId)) errors["providerId"] = ["providerId is required: 1–64 letters, digits, '-', '_' or '.'."];
        if (body.WeeklyHours is not { } h || h <= 0 || h > TrustedAssessorAdjustment.MaxWeeklyHours)
            errors["weeklyHours"] = [$"weeklyHours is required: more than 0 and at most {TrustedAssessorAdjustment.MaxWeeklyHours}."];
        else if (AdjustmentParameters.RoundHours(h) != h) errors["weeklyHours"] = ["weeklyHours has at most 2 decimal places."];
        if (body.LowLevel is null) errors["lowLevel"] = ["lowLevel is required (App G.6: increases are for low-level packages)."];
        if (errors.Count > 0) return Problems.Validation(errors);

        var now = clock.GetCurrentInstant();
        var existing = await directory.GetPackageAsync(body.Id!, ct);
        var record = new CarePackageRecord(body.Id!, body.ProviderId!, body.WeeklyHours!.Value, body.LowLevel!.Value, body.MovingAndHandling ?? false,
            existing?.AdjustmentReference, existing?.CreatedAt ?? now, now);
        var created = await directory.UpsertPackageAsync(record, ct);
        var view = PackageView.From(record);
        return created ? TypedResults.Created($"/api/packages/{record.Id}", view) : TypedResults.Ok(view);
    }

    private static async Task<Results<Ok<List<PackageView>>, ProblemHttpResult>> ListAsync(
        string? providerId, HttpContext http, ITrustedAssessorDirectory directory, WorkflowRuntime runtime, CancellationToken ct)
    {
        if (providerId is not null && !TrustedAssessorsApi.ValidId(providerId)) return Problems.BadRequest("providerId is not a valid id.");
        var (allowed, filter) = TrustedAssessorsApi.Scope(http.User.ToActor(), providerId);
        if (!allowed) return Problems.Forbidden("You may list only your own provider's packages.");
        var rows = await directory.ListPackagesAsync(filter, ct);
        var views = new List<PackageView>();
        foreach (var p in rows) views.Add(PackageView.From(await PackageHours.RefreshAsync(p, runtime, directory, ct)));
        return TypedResults.Ok(views);
    }

    private static async Task<Results<Ok<PackageView>, ProblemHttpResult>> GetAsync(
        string id, HttpContext http, ITrustedAssessorDirectory directory, WorkflowRuntime runtime, CancellationToken ct)
    {
        var row = TrustedAssessorsApi.ValidId(id) ? await directory.GetPackageAsync(id, ct) : null;
        var (allowed, filter) = TrustedAssessorsApi.Scope(http.User.ToActor(), null);
        if (row is null || !allowed || (filter is not null && row.ProviderId != filter))
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"There is no package {id} you can see.");
        return TypedResults.Ok(PackageView.From(await PackageHours.RefreshAsync(row, runtime, directory, ct)));
    }
}

/// <summary>
/// Keeps a package's weekly hours equal to the hours in effect in its latest trusted-assessor adjustment. The workflow state is
/// the source; the package row is a copy the edge writes after a transition commits (and on reads, to catch answers that came
/// by signed link or timers). Only the adjustment the package is linked to may move its hours.
/// </summary>
public static class PackageHours
{
    public static async Task SyncAsync(string reference, WorkflowRuntime runtime, ITrustedAssessorDirectory directory, CancellationToken ct)
    {
        var row = await runtime.Store.LoadAsync(reference, ct);
        if (row is null || row.Type != TrustedAssessorAdjustment.TypeName) return;
        var state = (TrustedAssessorAdjustment.State)runtime.DeserializeState(row);
        if (state.Stage == TrustedAssessorAdjustment.Stage.New) return;
        await directory.SetPackageHoursFromAdjustmentAsync(state.PackageId, reference, state.HoursInEffect, runtime.Clock.GetCurrentInstant(), ct);
    }

    public static async Task<CarePackageRecord> RefreshAsync(CarePackageRecord package, WorkflowRuntime runtime, ITrustedAssessorDirectory directory, CancellationToken ct)
    {
        if (package.AdjustmentReference is not { } reference) return package;
        await SyncAsync(reference, runtime, directory, ct);
        return await directory.GetPackageAsync(package.Id, ct) ?? package;
    }
}
