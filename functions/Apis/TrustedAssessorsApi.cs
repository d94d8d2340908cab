using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace CareWorkflows.Functions.Apis;

public sealed record RegisterTrustedAssessorRequest(string? Id, string? ProviderId, string? Name, string? Email, bool? LbbTrainingCompleted, int? DiplomaLevel, bool? Active);

public sealed record TrustedAssessorView(string Id, string ProviderId, string Name, string Email, bool LbbTrainingCompleted, int DiplomaLevel, bool Active,
    bool Qualified, bool MayPropose, Instant CreatedAt, Instant UpdatedAt)
{
    public static TrustedAssessorView From(TrustedAssessorRecord a) =>
        new(a.Id, a.ProviderId, a.Name, a.Email, a.LbbTrainingCompleted, a.DiplomaLevel, a.Active, a.Qualified, a.Qualified && a.Active, a.CreatedAt, a.UpdatedAt);
}

/// <summary>
/// The registry of providers' trusted assessors (B 4.2.7–4.2.9, App G.1). Admin registers and updates (POST is an upsert by id;
/// deactivate with active=false); staff list all, a provider lists its own.
/// </summary>
public static partial class TrustedAssessorsApi
{
    public static WebApplication MapTrustedAssessorsApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/trusted-assessors").WithTags("Trusted assessors");
        api.MapPost("/", RegisterAsync).RequireAuthorization(Policies.Admin);
        api.MapGet("/", ListAsync).RequireAuthorization(Policies.Authenticated);
        api.MapGet("/{id}", GetAsync).RequireAuthorization(Policies.Authenticated);
        return app;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    internal static partial Regex IdPattern();

    internal static bool ValidId(string? id) => id is not null && IdPattern().IsMatch(id);

    /// <summary>Staff see everything; a provider user sees only its own provider's rows; anyone else nothing.</summary>
    internal static (bool Allowed, string? ProviderFilter) Scope(Actor actor, string? requested)
    {
        if (actor.Role == Roles.Provider)
            return actor.ProviderId is { } own && (requested is null || requested == own) ? (true, own) : (false, null);
        return Policies.StaffRoles.Contains(actor.Role) ? (true, requested) : (false, null);
    }

    private static async Task<Results<Created<TrustedAssessorView>, Ok<TrustedAssessorView>, ProblemHttpResult>> RegisterAsync(
        RegisterTrustedAssessorRequest? body, ITrustedAssessorDirectory directory, IClock clock, CancellationToken ct)
    {
        if (body is null) return Problems.BadRequest("A JSON body is required.");
        var errors = new Dictionary<string, string[]>();
        if (!ValidId(body.Id)) errors["id"] = ["id is required: 1–64 letters, digits, '-', '_' or '.'."];
        if (!ValidId(body.ProviderId)) errors["providerId"] = ["providerId is required: 1–64 letters, digits, '-', '_' or '.'."];
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200) errors["name"] = ["name is required (at most 200 characters)."];
        if (string.IsNullOrWhiteSpace(body.Email) || body.Email.Length > 254 || !body.Email.Contains('@') || body.Email.Any(char.IsWhiteSpace))
            errors["email"] = ["email is required and must be an email address."];
        if (body.LbbTrainingCompleted is null) errors["lbbTrainingCompleted"] = ["lbbTrainingCompleted is required (App G.1)."];
        if (body.DiplomaLevel is not (>= 0 and <= 8)) errors["diplomaLevel"] = ["diplomaLevel is required: the highest diploma level in care, 0–8 (App G.1 asks for at least 2)."];
        if (body.Active is null) errors["active"] = ["active is required."];
        if (errors.Count > 0) return Problems.Validation(errors);

        var now = clock.GetCurrentInstant();
        var existing = await directory.GetAssessorAsync(body.Id!, ct);
        var record = new TrustedAssessorRecord(body.Id!, body.ProviderId!, body.Name!.Trim(), body.Email!.Trim(), body.LbbTrainingCompleted!.Value,
            body.DiplomaLevel!.Value, body.Active!.Value, existing?.CreatedAt ?? now, now);
        var created = await directory.UpsertAssessorAsync(record, ct);
        var view = TrustedAssessorView.From(record);
        return created ? TypedResults.Created($"/api/trusted-assessors/{record.Id}", view) : TypedResults.Ok(view);
    }

    private static async Task<Results<Ok<List<TrustedAssessorView>>, ProblemHttpResult>> ListAsync(
        string? providerId, HttpContext http, ITrustedAssessorDirectory directory, CancellationToken ct)
    {
        if (providerId is not null && !ValidId(providerId)) return Problems.BadRequest("providerId is not a valid id.");
        var (allowed, filter) = Scope(http.User.ToActor(), providerId);
        if (!allowed) return Problems.Forbidden("You may list only your own provider's trusted assessors.");
        var rows = await directory.ListAssessorsAsync(filter, ct);
        return TypedResults.Ok(rows.Select(TrustedAssessorView.From).ToList());
    }

    private static async Task<Results<Ok<TrustedAssessorView>, ProblemHttpResult>> GetAsync(
        string id, HttpContext http, ITrustedAssessorDirectory directory, CancellationToken ct)
    {
        var row = ValidId(id) ? await directory.GetAssessorAsync(id, ct) : null;
        var (allowed, filter) = Scope(http.User.ToActor(), null);
        if (row is null || !allowed || (filter is not null && row.ProviderId != filter))
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"There is no trusted assessor {id} you can see.");
        return TypedResults.Ok(TrustedAssessorView.From(row));
    }
}
