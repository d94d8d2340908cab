using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Workflows;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;
using TA = CareWorkflows.Definitions.Workflows.TrustedAssessorAdjustment;

namespace CareWorkflows.Functions.Apis;

public sealed record ProposeAdjustmentRequest(
    string? PackageId,
    string? AssessorId,
    decimal? CurrentWeeklyHours,
    decimal? ProposedWeeklyHours,
    LocalDate? EffectiveDate,
    bool? PersonAgreed,
    string? AgreedBy,
    string? Goals,
    string? Rationale,
    string? Evidence,
    bool? TouchesMovingAndHandling,
    bool? NeedsOtReview);

public sealed record NoteRequest(string? Note);
public sealed record ReasonRequest(string? Reason);
public sealed record ConcernRequest(string? Concern);
public sealed record TaConcernResponseRequest(string? Response);
public sealed record ReviewOutcomeRequest(string? Outcome, string? Reason);

public sealed record AdjustmentView(string Reference, string Status, bool Completed, string PackageId, string ProviderId, string AssessorId,
    decimal OriginalHours, decimal ProposedHours, decimal HoursInEffect, decimal ChangePercent, bool WithinParameters, LocalDate EffectiveDate,
    Instant? Due, string? DueLocal, IReadOnlyList<TimelineView> Timeline);

/// <summary>
/// Trusted-assessor adjustments (B 4.2.7–4.2.9, 9.8, App G, App N). A provider proposes; the registry supplies the assessor and
/// package facts; the workflow decides. After every accepted transition the package's weekly hours are brought in line with the
/// hours in effect in the workflow state.
/// </summary>
public static class TrustedAssessorAdjustmentsApi
{
    public static WebApplication MapTrustedAssessorAdjustmentsApi(this WebApplication app)
    {
        app.MapTrustedAssessorsApi();
        app.MapPackagesApi();
        var api = app.MapGroup("/api/ta-adjustments").RequireAuthorization(Policies.Authenticated).WithTags("Trusted-assessor adjustments");
        api.MapPost("/", ProposeAsync);
        api.MapGet("/{reference}", GetAsync);
        api.MapPost("/{reference}/sign-off", (string reference, NoteRequest? body, HttpContext http, WorkflowRuntime r, ITrustedAssessorDirectory d, CancellationToken ct) =>
            ActAsync(reference, new TA.SignOff(body?.Note), http, r, d, ct));
        api.MapPost("/{reference}/concern", (string reference, ConcernRequest? body, HttpContext http, WorkflowRuntime r, ITrustedAssessorDirectory d, CancellationToken ct) =>
            ActAsync(reference, new TA.RaiseConcern(body?.Concern ?? ""), http, r, d, ct));
        api.MapPost("/{reference}/concern-response", (string reference, TaConcernResponseRequest? body, HttpContext http, WorkflowRuntime r, ITrustedAssessorDirectory d, CancellationToken ct) =>
            ActAsync(reference, new TA.RespondToConcern(body?.Response ?? ""), http, r, d, ct));
        api.MapPost("/{reference}/pause", (string reference, ReasonRequest? body, HttpContext http, WorkflowRuntime r, ITrustedAssessorDirectory d, CancellationToken ct) =>
            ActAsync(reference, new TA.PausePendingReview(body?.Reason ?? ""), http, r, d, ct));
        api.MapPost("/{reference}/reinstated", (string reference, NoteRequest? body, HttpContext http, WorkflowRuntime r, ITrustedAssessorDirectory d, CancellationToken ct) =>
            ActAsync(reference, new TA.ConfirmReinstatement(body?.Note), http, r, d, ct));
        api.MapPost("/{reference}/approve", (string reference, ReasonRequest? body, HttpContext http, WorkflowRuntime r, ITrustedAssessorDirectory d, CancellationToken ct) =>
            ActAsync(reference, new TA.Approve(body?.Reason), http, r, d, ct));
        api.MapPost("/{reference}/reject", (string reference, ReasonRequest? body, HttpContext http, WorkflowRuntime r, ITrustedAssessorDirectory d, CancellationToken ct) =>
            ActAsync(reference, new TA.Reject(body?.Reason ?? ""), http, r, d, ct));
        api.MapPost("/{reference}/review-outcome", ReviewOutcomeAsync);
        app.Use(SyncAfterSignedLinkAnswerAsync);
        return app;
    }

    /// <summary>
    /// Answers by signed link (POST /l/{token}) go through the generic links endpoint; once one has been recorded for an
    /// adjustment, the package's hours are brought in line here, after the response, so the row never waits for a read.
    /// </summary>
    private static async Task SyncAfterSignedLinkAnswerAsync(HttpContext http, RequestDelegate next)
    {
        await next(http);
        if (!HttpMethods.IsPost(http.Request.Method) || http.Response.StatusCode != StatusCodes.Status200OK
            || !http.Request.Path.StartsWithSegments("/l", out var rest) || rest.Value is not { Length: > 1 } token) return;
        var services = http.RequestServices;
        var runtime = services.GetRequiredService<WorkflowRuntime>();
        services.GetRequiredService<Runtime.Links.HmacLinkIssuer>().Validate(token.Trim('/'), runtime.Clock.GetCurrentInstant(), out var claims);
        if (claims is null || runtime.Registry.ForReference(claims.Reference)?.Type != TA.TypeName) return;
        try { await PackageHours.SyncAsync(claims.Reference, runtime, services.GetRequiredService<ITrustedAssessorDirectory>(), http.RequestAborted); }
        catch (Exception e) when (e is System.Data.Common.DbException or OperationCanceledException)
        {
            // The next read of the package re-syncs it; the answer itself is already recorded.
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TrustedAssessorAdjustmentsApi))
                .LogWarning(e, "Could not bring package hours in line with {Reference} after a signed-link answer", claims.Reference);
        }
    }

    private static string? IdempotencyKey(HttpContext http) =>
        http.Request.Headers["Idempotency-Key"].ToString() is { Length: > 0 and <= 200 } k ? $"ta:{http.User.ToActor().Id}:{k}" : null;

    private static async Task<Results<Created<AdjustmentView>, Ok<AdjustmentView>, ProblemHttpResult>> ProposeAsync(
        ProposeAdjustmentRequest? body, HttpContext http, WorkflowRuntime runtime, ITrustedAssessorDirectory directory, CancellationToken ct)
    {
        var actor = http.User.ToActor();
        if (actor.Role != Roles.Provider || actor.ProviderId is null)
            return Problems.Forbidden("Only a provider user (with a provider id) may propose a trusted-assessor adjustment.");
        if (body is null) return Problems.BadRequest("A JSON body is required.");
        var r = await ProposeAdjustmentAsync(body, actor, IdempotencyKey(http), runtime, directory, ct);
        if (r.Errors is not null) return Problems.Validation(r.Errors);
        if (r.Refusal is { } no) return TypedResults.Problem(statusCode: no.Status, title: no.Title, detail: no.Detail);
        var view = (await LoadAsync(r.Reference!, runtime, ct))!;
        return r.Created ? TypedResults.Created($"/api/ta-adjustments/{r.Reference}", view) : TypedResults.Ok(view);
    }

    /// <summary>What a proposal came to: a reference (Created when new), field errors, or a refusal (status and detail).</summary>
    public sealed record ProposeResult(string? Reference, bool Created, IDictionary<string, string[]>? Errors, (int Status, string Title, string Detail)? Refusal);

    /// <summary>
    /// Checks and starts a proposal (shared by the API and the provider's page): registry facts for the package and the
    /// assessor, one open adjustment per package, then the workflow decides.
    /// </summary>
    public static async Task<ProposeResult> ProposeAdjustmentAsync(ProposeAdjustmentRequest body, Actor actor, string? key, WorkflowRuntime runtime,
        ITrustedAssessorDirectory directory, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (!TrustedAssessorsApi.ValidId(body.PackageId)) errors["packageId"] = ["packageId is required."];
        if (!TrustedAssessorsApi.ValidId(body.AssessorId)) errors["assessorId"] = ["assessorId is required."];
        if (body.CurrentWeeklyHours is null) errors["currentWeeklyHours"] = ["currentWeeklyHours is required."];
        if (body.ProposedWeeklyHours is null) errors["proposedWeeklyHours"] = ["proposedWeeklyHours is required."];
        if (body.EffectiveDate is null) errors["effectiveDate"] = ["effectiveDate is required (yyyy-MM-dd)."];
        if (body.PersonAgreed is null) errors["personAgreed"] = ["personAgreed is required: the person (or representative) must agree (B 9.8)."];
        if (errors.Count > 0) return new(null, false, errors, null);

        var package = await directory.GetPackageAsync(body.PackageId!, ct);
        if (package is null) return new(null, false, null, (422, "The request is not valid", $"There is no registered package {body.PackageId}."));
        if (package.ProviderId != actor.ProviderId) return new(null, false, null, (403, "Not allowed", $"{package.Id} is not delivered by {actor.ProviderId}."));
        var assessor = await directory.GetAssessorAsync(body.AssessorId!, ct);
        if (assessor is null) return new(null, false, null, (422, "The request is not valid", $"There is no registered trusted assessor {body.AssessorId}."));

        // One adjustment at a time per package: the hours it works from must be the hours in effect.
        // (A retry with a used idempotency key skips this and gets the first answer back from StartAsync.)
        var retry = key is not null && await runtime.Store.FindCommandResultAsync(key, ct) is not null;
        package = await PackageHours.RefreshAsync(package, runtime, directory, ct);
        if (!retry && package.AdjustmentReference is { } open && await runtime.Store.LoadAsync(open, ct) is { Completed: false })
            return new(null, false, null, (409, "Not possible in the current state", $"{package.Id} already has an open trusted-assessor adjustment ({open}); it must be closed first."));

        var input = new TA.ProposeAdjustment(
            new TA.RegisteredPackage(package.Id, package.ProviderId, package.WeeklyHours, package.LowLevel, package.MovingAndHandling),
            new TA.RegisteredAssessor(assessor.Id, assessor.ProviderId, assessor.Name, assessor.Email, assessor.Qualified, assessor.Active),
            body.CurrentWeeklyHours!.Value, body.ProposedWeeklyHours!.Value, body.EffectiveDate!.Value, body.PersonAgreed!.Value,
            body.AgreedBy ?? "the person", body.Goals ?? "", body.Rationale ?? "", body.Evidence ?? "",
            body.TouchesMovingAndHandling ?? false, body.NeedsOtReview ?? false);
        var outcome = await runtime.StartAsync(TA.TypeName, input, actor, key, ct);
        if (outcome.Kind == OutcomeKind.NotFound) return new(null, false, null, (404, "Not found", $"There is no workflow instance {outcome.Reference}."));
        if (outcome.Kind == OutcomeKind.Rejected) return new(null, false, null, ((int)outcome.Rejection!.Kind, outcome.Rejection.Title, outcome.Rejection.Detail));
        if (outcome.Kind == OutcomeKind.Stale) return new(null, false, null, (409, "Not possible in the current state", "The instance moved on meanwhile."));
        var reference = outcome.Reference!;
        if (outcome.Kind == OutcomeKind.Applied)
        {
            var state = (TA.State)runtime.DeserializeState((await runtime.Store.LoadAsync(reference, ct))!);
            await directory.LinkPackageAdjustmentAsync(package.Id, reference, state.HoursInEffect, runtime.Clock.GetCurrentInstant(), ct);
        }
        return new(reference, outcome.Kind == OutcomeKind.Applied, null, null);
    }

    private static async Task<Results<Ok<AdjustmentView>, ProblemHttpResult>> GetAsync(string reference, HttpContext http, WorkflowRuntime runtime, CancellationToken ct)
    {
        var view = await LoadAsync(reference, runtime, ct);
        if (view is null || !MaySee(http.User.ToActor(), view)) return Problems.NotFound(reference);
        return TypedResults.Ok(view);
    }

    private static bool MaySee(Actor actor, AdjustmentView view) =>
        actor.Role == Roles.Provider ? actor.ProviderId == view.ProviderId : Policies.StaffRoles.Contains(actor.Role);

    private static Task<Results<Ok<AdjustmentView>, ProblemHttpResult>> ReviewOutcomeAsync(
        string reference, ReviewOutcomeRequest? body, HttpContext http, WorkflowRuntime runtime, ITrustedAssessorDirectory directory, CancellationToken ct)
    {
        bool? approve = body?.Outcome?.Trim().ToLowerInvariant() switch { "approve" => true, "reverse" => false, _ => null };
        if (approve is null)
            return Task.FromResult<Results<Ok<AdjustmentView>, ProblemHttpResult>>(
                Problems.Validation(new Dictionary<string, string[]> { ["outcome"] = ["outcome must be 'approve' or 'reverse'."] }));
        return ActAsync(reference, new TA.RecordReviewOutcome(approve.Value, body!.Reason ?? ""), http, runtime, directory, ct);
    }

    private static async Task<Results<Ok<AdjustmentView>, ProblemHttpResult>> ActAsync(
        string reference, WorkflowInput input, HttpContext http, WorkflowRuntime runtime, ITrustedAssessorDirectory directory, CancellationToken ct)
    {
        reference = reference.ToUpperInvariant();
        if (runtime.Registry.ForReference(reference)?.Type != TA.TypeName) return Problems.NotFound(reference);
        var outcome = await runtime.ApplyAsync(reference, input, http.User.ToActor(), IdempotencyKey(http), ct: ct);
        if (Problems.For(outcome) is { } problem) return problem;
        await PackageHours.SyncAsync(reference, runtime, directory, ct);
        return TypedResults.Ok((await LoadAsync(reference, runtime, ct))!);
    }

    private static async Task<AdjustmentView?> LoadAsync(string reference, WorkflowRuntime runtime, CancellationToken ct)
    {
        reference = reference.ToUpperInvariant();
        if (runtime.Registry.ForReference(reference)?.Type != TA.TypeName) return null;
        var row = await runtime.Store.LoadAsync(reference, ct);
        if (row is null || row.Type != TA.TypeName) return null;
        var s = (TA.State)runtime.DeserializeState(row);
        var timeline = await runtime.Store.GetTimelineAsync(reference, ct);
        return new AdjustmentView(row.Reference, row.Status, row.Completed, s.PackageId, s.ProviderId, s.AssessorId, s.OriginalHours, s.ProposedHours, s.HoursInEffect,
            s.ChangePercent, s.WithinParameters, s.EffectiveDate, s.Due, s.Due is { } d ? WorkflowContext.Local(d) : null,
            timeline.Select(e =>
            {
                using var doc = JsonDocument.Parse(e.Data);
                return new TimelineView(e.Seq, e.Type, doc.RootElement.Clone(), e.ActorId, e.ActorRole, e.At, WorkflowContext.Local(e.At));
            }).ToList());
    }
}
