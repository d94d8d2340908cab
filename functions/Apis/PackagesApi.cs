using CareWorkflows.Definitions.TrustedAssessor;
using CareWorkflows.Functions.Auth;
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
/// moving-and-handling flags. Admin registers (POST upserts by id). The hours in effect are written by the package's
/// trusted-assessor adjustment itself (its orchestration, through an activity), whichever way it was answered.
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
        string? providerId, HttpContext http, ITrustedAssessorDirectory directory, CancellationToken ct)
    {
        if (providerId is not null && !TrustedAssessorsApi.ValidId(providerId)) return Problems.BadRequest("providerId is not a valid id.");
        var (allowed, filter) = TrustedAssessorsApi.Scope(http.User.ToActor(), providerId);
        if (!allowed) return Problems.Forbidden("You may list only your own provider's packages.");
        var rows = await directory.ListPackagesAsync(filter, ct);
        return TypedResults.Ok(rows.Select(PackageView.From).ToList());
    }

    private static async Task<Results<Ok<PackageView>, ProblemHttpResult>> GetAsync(
        string id, HttpContext http, ITrustedAssessorDirectory directory, CancellationToken ct)
    {
        var row = TrustedAssessorsApi.ValidId(id) ? await directory.GetPackageAsync(id, ct) : null;
        var (allowed, filter) = TrustedAssessorsApi.Scope(http.User.ToActor(), null);
        if (row is null || !allowed || (filter is not null && row.ProviderId != filter))
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"There is no package {id} you can see.");
        return TypedResults.Ok(PackageView.From(row));
    }
}
