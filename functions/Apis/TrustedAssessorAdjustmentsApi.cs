using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.TrustedAssessor;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;
using TA = CareWorkflows.Definitions.TrustedAssessor.TrustedAssessorAdjustment;

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
/// Trusted-assessor adjustments (B 4.2.7–4.2.9, 9.8, App G, App N), on Durable Task. A provider proposes; the registry supplies
/// the assessor and package facts (read here, at once, and passed in the start input); the API runs the workflow's own
/// rules against the state the instance publishes and answers at once what they refuse; the orchestration has the last
/// word, and it alone moves the package's hours in the registry (through an activity).
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
        api.MapPost("/{reference}/sign-off", (string reference, NoteRequest? body, HttpContext http, WorkflowClient w, IIdempotencyStore i, CancellationToken ct) =>
            ActAsync(reference, new TA.SignOff(body?.Note), http, w, i, ct));
        api.MapPost("/{reference}/concern", (string reference, ConcernRequest? body, HttpContext http, WorkflowClient w, IIdempotencyStore i, CancellationToken ct) =>
            ActAsync(reference, new TA.RaiseConcern(body?.Concern ?? ""), http, w, i, ct));
        api.MapPost("/{reference}/concern-response", (string reference, TaConcernResponseRequest? body, HttpContext http, WorkflowClient w, IIdempotencyStore i, CancellationToken ct) =>
            ActAsync(reference, new TA.RespondToConcern(body?.Response ?? ""), http, w, i, ct));
        api.MapPost("/{reference}/pause", (string reference, ReasonRequest? body, HttpContext http, WorkflowClient w, IIdempotencyStore i, CancellationToken ct) =>
            ActAsync(reference, new TA.PausePendingReview(body?.Reason ?? ""), http, w, i, ct));
        api.MapPost("/{reference}/reinstated", (string reference, NoteRequest? body, HttpContext http, WorkflowClient w, IIdempotencyStore i, CancellationToken ct) =>
            ActAsync(reference, new TA.ConfirmReinstatement(body?.Note), http, w, i, ct));
        api.MapPost("/{reference}/approve", (string reference, ReasonRequest? body, HttpContext http, WorkflowClient w, IIdempotencyStore i, CancellationToken ct) =>
            ActAsync(reference, new TA.Approve(body?.Reason), http, w, i, ct));
        api.MapPost("/{reference}/reject", (string reference, ReasonRequest? body, HttpContext http, WorkflowClient w, IIdempotencyStore i, CancellationToken ct) =>
            ActAsync(reference, new TA.Reject(body?.Reason ?? ""), http, w, i, ct));
        api.MapPost("/{reference}/review-outcome", ReviewOutcomeAsync);
        return app;
    }

    private static string? IdempotencyKey(HttpContext http) =>
        http.Request.Headers["Idempotency-Key"].ToString() is { Length: > 0 and <= 200 } k ? $"ta:{http.User.ToActor().Id}:{k}" : null;

    private static async Task<Results<Created<AdjustmentView>, Ok<AdjustmentView>, ProblemHttpResult>> ProposeAsync(
        ProposeAdjustmentRequest? body, HttpContext http, WorkflowClient workflows, ITrustedAssessorDirectory directory, IIdempotencyStore idempotency, CancellationToken ct)
    {
        var actor = http.User.ToActor();
        if (actor.Role != Roles.Provider || actor.ProviderId is null)
            return Problems.Forbidden("Only a provider user (with a provider id) may propose a trusted-assessor adjustment.");
        if (body is null) return Problems.BadRequest("A JSON body is required.");
        var r = await ProposeAdjustmentAsync(body, actor, IdempotencyKey(http), workflows, directory, idempotency, ct);
        if (r.Errors is not null) return Problems.Validation(r.Errors);
        if (r.Refusal is { } no) return Problems.From(no);
        var view = (await LoadAsync(r.Reference!, workflows, ct))!;
        return r.Created ? TypedResults.Created($"/api/ta-adjustments/{r.Reference}", view) : TypedResults.Ok(view);
    }

    /// <summary>What a proposal came to: a reference (Created when new), field errors, or a refusal.</summary>
    public sealed record ProposeResult(string? Reference, bool Created, IDictionary<string, string[]>? Errors, Rejection? Refusal);

    private static ProposeResult Refused(RejectionKind kind, string detail, string field) =>
        new(null, false, null, new Rejection(kind, kind switch { RejectionKind.Forbidden => "Not allowed", RejectionKind.Conflict => "Not possible in the current state", _ => "The request is not valid" }, detail, field));

    /// <summary>
    /// Checks and starts a proposal (shared by the API and the provider's page): registry facts for the package and the
    /// assessor (their qualification is read here, at proposal time), one open adjustment per package, the workflow's own
    /// rules; then the orchestration, which takes the package first-writer-wins and refuses if another proposal got it.
    /// A retry with a used idempotency key gets the first answer back.
    /// </summary>
    public static async Task<ProposeResult> ProposeAdjustmentAsync(ProposeAdjustmentRequest body, Actor actor, string? key, WorkflowClient workflows,
        ITrustedAssessorDirectory directory, IIdempotencyStore idempotency, CancellationToken ct)
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
        if (package is null) return Refused(RejectionKind.Invalid, $"There is no registered package {body.PackageId}.", "packageId");
        if (package.ProviderId != actor.ProviderId) return Refused(RejectionKind.Forbidden, $"{package.Id} is not delivered by {actor.ProviderId}.", "packageId");
        var assessor = await directory.GetAssessorAsync(body.AssessorId!, ct);
        if (assessor is null) return Refused(RejectionKind.Invalid, $"There is no registered trusted assessor {body.AssessorId}.", "assessorId");

        var input = new TA.ProposeAdjustment(
            new TA.RegisteredPackage(package.Id, package.ProviderId, package.WeeklyHours, package.LowLevel, package.MovingAndHandling, package.AdjustmentReference),
            new TA.RegisteredAssessor(assessor.Id, assessor.ProviderId, assessor.Name, assessor.Email, assessor.Qualified, assessor.Active),
            body.CurrentWeeklyHours!.Value, body.ProposedWeeklyHours!.Value, body.EffectiveDate!.Value, body.PersonAgreed!.Value,
            body.AgreedBy ?? "the person", body.Goals ?? "", body.Rationale ?? "", body.Evidence ?? "",
            body.TouchesMovingAndHandling ?? false, body.NeedsOtReview ?? false);
        var retry = key is not null && await idempotency.FindCommandResultAsync(key, ct) is not null;
        if (!retry)
        {
            // One adjustment at a time per package: the hours it works from must be the hours in effect.
            if (package.AdjustmentReference is { } open && await workflows.LoadAsync(open, withTimeline: false, ct) is { Row.Completed: false })
                return Refused(RejectionKind.Conflict, $"{package.Id} already has an open trusted-assessor adjustment ({open}); it must be closed first.", "packageId");
            if (TrustedAssessorAdjustmentRules.CheckPropose(input, actor, workflows.Clock.GetCurrentInstant(), workflows.Setup.PolicySettings) is { } no)
                return new(null, false, null, no);
        }
        var outcome = await workflows.StartAsync(TA.Type, input, actor, key, ct);
        switch (outcome.Kind)
        {
            case OutcomeKind.Rejected:
                // Refused by the orchestration (e.g. another proposal took the package first): nothing of it is kept.
                // The published outcome carries no field; the one refusal the rules above cannot foresee is the package's claim.
                if (!retry && outcome.Reference is { } refused) await workflows.DiscardRefusedStartAsync(refused, ct);
                return new(null, false, null, outcome.Rejection is { Field: null, Kind: RejectionKind.Conflict } r ? r with { Field = "packageId" } : outcome.Rejection);
            case OutcomeKind.NotFound: return Refused(RejectionKind.Conflict, $"There is no workflow instance {outcome.Reference}.", "packageId");
        }
        return new(outcome.Reference, outcome.Kind == OutcomeKind.Applied, null, null);
    }

    private static async Task<Results<Ok<AdjustmentView>, ProblemHttpResult>> GetAsync(string reference, HttpContext http, WorkflowClient workflows, CancellationToken ct)
    {
        var view = await LoadAsync(reference, workflows, ct);
        if (view is null || !MaySee(http.User.ToActor(), view)) return Problems.NotFound(reference);
        return TypedResults.Ok(view);
    }

    private static bool MaySee(Actor actor, AdjustmentView view) =>
        actor.Role == Roles.Provider ? actor.ProviderId == view.ProviderId : Policies.StaffRoles.Contains(actor.Role);

    private static Task<Results<Ok<AdjustmentView>, ProblemHttpResult>> ReviewOutcomeAsync(
        string reference, ReviewOutcomeRequest? body, HttpContext http, WorkflowClient workflows, IIdempotencyStore idempotency, CancellationToken ct)
    {
        bool? approve = body?.Outcome?.Trim().ToLowerInvariant() switch { "approve" => true, "reverse" => false, _ => null };
        if (approve is null)
            return Task.FromResult<Results<Ok<AdjustmentView>, ProblemHttpResult>>(
                Problems.Validation(new Dictionary<string, string[]> { ["outcome"] = ["outcome must be 'approve' or 'reverse'."] }));
        return ActAsync(reference, new TA.RecordReviewOutcome(approve.Value, body!.Reason ?? ""), http, workflows, idempotency, ct);
    }

    /// <summary>
    /// Checks at once what can be checked (the workflow's rules against the state the instance publishes: role, provider,
    /// stage, text), then sends the input and answers with its outcome. A retry with a used idempotency key skips the
    /// checks and gets its first answer back.
    /// </summary>
    private static async Task<Results<Ok<AdjustmentView>, ProblemHttpResult>> ActAsync(
        string reference, WorkflowInput input, HttpContext http, WorkflowClient workflows, IIdempotencyStore idempotency, CancellationToken ct)
    {
        reference = reference.ToUpperInvariant();
        if (!reference.StartsWith(TA.Type + "-", StringComparison.Ordinal) || !References.IsWellFormed(reference)) return Problems.NotFound(reference);
        var actor = http.User.ToActor();
        var key = IdempotencyKey(http);
        if (key is null || await idempotency.FindCommandResultAsync(key, ct) is null)
        {
            var instance = await workflows.LoadAsync(reference, withTimeline: false, ct);
            if (instance is null) return Problems.NotFound(reference);
            var state = (TA.State)instance.State;
            if (instance.Row.Completed && !state.Closed) return Problems.Conflict($"{reference} is {instance.Row.Status.ToLowerInvariant()}; nothing more can be done to it.");
            if (TrustedAssessorAdjustmentRules.Check(state, actor, input, reference) is { } no) return Problems.From(no);
        }
        var outcome = await workflows.ApplyAsync(reference, input, actor, key, ct: ct);
        if (Problems.For(outcome) is { } problem) return problem;
        return TypedResults.Ok((await LoadAsync(reference, workflows, ct))!);
    }

    private static async Task<AdjustmentView?> LoadAsync(string reference, WorkflowClient workflows, CancellationToken ct)
    {
        reference = reference.ToUpperInvariant();
        if (!reference.StartsWith(TA.Type + "-", StringComparison.Ordinal) || !References.IsWellFormed(reference)) return null;
        var instance = await workflows.LoadAsync(reference, withTimeline: true, ct);
        if (instance is null) return null;
        var (row, s) = (instance.Row, (TA.State)instance.State);
        return new AdjustmentView(row.Reference, row.Status, row.Completed, s.PackageId, s.ProviderId, s.AssessorId, s.OriginalHours, s.ProposedHours, s.HoursInEffect,
            s.ChangePercent, s.WithinParameters, s.EffectiveDate, s.Due, s.Due is { } d ? WorkflowContext.Local(d) : null,
            instance.Timeline.Select(e =>
            {
                using var doc = JsonDocument.Parse(e.Data);
                return new TimelineView(e.Seq, e.Type, doc.RootElement.Clone(), e.ActorId, e.ActorRole, e.At, WorkflowContext.Local(e.At));
            }).ToList());
    }
}
