using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Runtime.Providers;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace CareWorkflows.Functions.Apis;

/// <summary>A provider as the API takes it (POST, PUT). Every field is required; patches only for patch providers.</summary>
public sealed record ProviderBody(string? Id, string? Name, ProviderKind? Kind, IReadOnlyList<string>? Patches, string? Email, string? Mobile,
    CqcRating? CqcRating, bool? Active, decimal? WeeklyHours);

/// <summary>The provider directory: admins maintain it; brokerage may read it. Patches are listed for staff.</summary>
public static class ProvidersApi
{
    public static WebApplication MapProvidersApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/providers").WithTags("Providers");
        api.MapGet("/", ListAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Brokerage));
        api.MapGet("/{id}", GetAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Brokerage));
        api.MapPost("/", AddAsync).RequireAuthorization(Policies.Admin);
        api.MapPut("/{id}", UpdateAsync).RequireAuthorization(Policies.Admin);
        app.MapGet("/api/patches", PatchesAsync).RequireAuthorization(Policies.Staff).WithTags("Providers");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<ProviderRecord>>> ListAsync(IProviderDirectory directory, CancellationToken ct) =>
        TypedResults.Ok(await directory.ListProvidersAsync(ct));

    private static async Task<Results<Ok<ProviderRecord>, ProblemHttpResult>> GetAsync(string id, IProviderDirectory directory, CancellationToken ct) =>
        await directory.GetProviderAsync(id, ct) is { } p ? TypedResults.Ok(p) : NotFound(id);

    private static async Task<Ok<IReadOnlyList<PatchRecord>>> PatchesAsync(IProviderDirectory directory, CancellationToken ct) =>
        TypedResults.Ok(await directory.ListPatchesAsync(ct));

    private static async Task<Results<Created<ProviderRecord>, ProblemHttpResult>> AddAsync(ProviderBody? body, IProviderDirectory directory, IClock clock, CancellationToken ct)
    {
        if (body is null) return Problems.BadRequest("A provider is required.");
        var (record, errors) = await ValidateAsync(body, body.Id, directory, clock, ct);
        if (record is null) return Problems.Validation(errors);
        if (!await directory.AddProviderAsync(record, ct)) return Problems.Conflict($"There is already a provider {record.Id}.");
        return TypedResults.Created($"/api/providers/{record.Id}", record);
    }

    private static async Task<Results<Ok<ProviderRecord>, ProblemHttpResult>> UpdateAsync(string id, ProviderBody? body, IProviderDirectory directory, IClock clock, CancellationToken ct)
    {
        if (body is null) return Problems.BadRequest("A provider is required.");
        if (body.Id is not null && body.Id != id) return Problems.Unprocessable("The id in the body differs from the id in the address.");
        if (await directory.GetProviderAsync(id, ct) is null) return NotFound(id);
        var (record, errors) = await ValidateAsync(body, id, directory, clock, ct);
        if (record is null) return Problems.Validation(errors);
        return await directory.UpdateProviderAsync(record, ct) ? TypedResults.Ok(record) : NotFound(id);
    }

    private static readonly Regex IdPattern = new("^[a-z0-9][a-z0-9-]{1,62}$", RegexOptions.CultureInvariant);
    private static readonly Regex MobilePattern = new(@"^\+[1-9][0-9]{7,14}$", RegexOptions.CultureInvariant);

    private static async Task<(ProviderRecord?, Dictionary<string, string[]>)> ValidateAsync(ProviderBody b, string? id, IProviderDirectory directory, IClock clock, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (id is null || !IdPattern.IsMatch(id)) errors["id"] = ["The id must be 2–63 lower-case letters, digits or dashes."];
        if (string.IsNullOrWhiteSpace(b.Name) || b.Name.Length > 200) errors["name"] = ["The name is required (up to 200 characters)."];
        if (b.Kind is not { } kind || !Enum.IsDefined(kind)) errors["kind"] = ["The kind must be Patch or Framework."];
        if (string.IsNullOrWhiteSpace(b.Email) || b.Email.Length > 254 || !b.Email.Contains('@')) errors["email"] = ["A valid email is required."];
        if (b.Mobile is null || !MobilePattern.IsMatch(b.Mobile)) errors["mobile"] = ["The mobile must be in international form, e.g. +447700900123."];
        if (b.CqcRating is not { } rating || !Enum.IsDefined(rating)) errors["cqcRating"] = ["The CQC rating is required."];
        if (b.Active is null) errors["active"] = ["Say whether the provider is active."];
        if (b.WeeklyHours is not { } hours || hours < 0 || hours > 100_000) errors["weeklyHours"] = ["Weekly hours must be between 0 and 100,000."];
        var known = (await directory.ListPatchesAsync(ct)).Select(p => p.Name).ToList();
        var patches = new List<string>();
        foreach (var p in b.Patches ?? [])
        {
            var match = known.FirstOrDefault(k => string.Equals(k, p, StringComparison.OrdinalIgnoreCase));
            if (match is null) { errors["patches"] = [$"Unknown patch '{p}'. Known: {string.Join(", ", known)}."]; break; }
            if (!patches.Contains(match)) patches.Add(match);
        }
        if (b.Kind == ProviderKind.Patch && patches.Count == 0 && !errors.ContainsKey("patches")) errors["patches"] = ["A patch provider serves at least one patch."];
        if (b.Kind == ProviderKind.Framework && patches.Count > 0) errors["patches"] = ["Framework providers work borough-wide: give no patches."];
        if (errors.Count > 0) return (null, errors);
        return (new ProviderRecord(id!, b.Name!.Trim(), b.Kind!.Value, patches, b.Email!.Trim(), b.Mobile!, b.CqcRating!.Value, b.Active!.Value, b.WeeklyHours!.Value,
            clock.GetCurrentInstant()), errors);
    }

    private static ProblemHttpResult NotFound(string id) => TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"There is no provider {id}.");
}
