using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Visits;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Visits;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Providers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CareWorkflows.Functions.Apis;

/// <summary>A no-reply at a visit (B App E): the visit's id, the council's person id (never a name), when (optional), a note. providerId only for administrators.</summary>
public sealed record NoReplyReportRequest(string? ProviderId, string? VisitId, string? PersonId, string? At, string? Note);
/// <summary>Checks made: Letterbox, Windows, BackDoor, Neighbours, Warden, NextOfKin, Hospitals.</summary>
public sealed record NoReplyChecksRequest(IReadOnlyList<string>? Checks, string? Note);
/// <summary>The outcome: FoundSafe, FoundEmergencyServicesCalled, AdmittedToHospital or NotLocated.</summary>
public sealed record NoReplyOutcomeRequest(string? Outcome, IReadOnlyList<string>? Checks, string? At, string? Note);

public sealed record NoReplyView(string Reference, string Status, IReadOnlyList<CouncilContact> CouncilTold, string? AlertReference);

/// <summary>No reply at the door (B Appendix E; X 21.3): the carer or office reports it, then records the checks and the outcome.</summary>
public static class NoRepliesApi
{
    public static WebApplication MapNoRepliesApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/no-replies").WithTags("No replies");
        api.MapPost("/", ReportAsync).RequireAuthorization(Policies.Authenticated);
        api.MapPost("/{reference}/checks", ChecksAsync).RequireAuthorization(Policies.Authenticated);
        api.MapPost("/{reference}/outcome", OutcomeAsync).RequireAuthorization(Policies.Authenticated);
        return app;
    }

    /// <summary>
    /// The report as the start input; field errors go to <paramref name="c"/> (shared with the page form). A provider user
    /// reports for its own provider; an administrator names the provider. The provider comes from the directory.
    /// </summary>
    public static async Task<NoReply.Report?> ReportInputAsync(NoReplyReportRequest body, Actor actor, IProviderDirectory directory, RequestChecks c, CancellationToken ct)
    {
        string providerId;
        if (actor.IsIn(Roles.Provider))
        {
            providerId = actor.ProviderId ?? "";
            if (!string.IsNullOrWhiteSpace(body.ProviderId) && body.ProviderId.Trim() != providerId) c.Add("providerId", "A provider reports no-replies for its own visits only.");
        }
        else providerId = c.Text("providerId", body.ProviderId, 100);
        var visitId = c.Text("visitId", body.VisitId, VisitRules.MaxIdLength);
        if (visitId.Length > 0 && !VisitRules.IsId(visitId)) c.Add("visitId", "visitId may hold only letters, digits and . _ : / -.");
        var personId = c.Text("personId", body.PersonId, 40);
        if (personId.Length > 0 && !VisitRules.IsPersonId(personId)) c.Add("personId", "personId must be the council's person id (letters, digits and dashes, with a digit): never a name.");
        var (at, atLocal) = VisitAlertsApi.Time(c, body.At);
        var note = c.OptionalText("note", body.Note, VisitRules.MaxNote);
        var provider = providerId.Length > 0 ? await directory.GetProviderAsync(providerId, ct) : null;
        if (providerId.Length > 0 && provider is null) c.Add("providerId", $"There is no provider {providerId} in the provider directory.");
        if (!c.Ok || provider is null) return null;
        return new NoReply.Report(provider.Id, provider.Name, provider.Email, provider.Mobile, visitId, personId, null, at, atLocal, note);
    }

    /// <summary>
    /// Starts the no-reply. When call monitoring has an alert open for the same visit, the report goes to that alert
    /// instead (it hands over to the no-reply, so the council is not escalated to twice); the no-reply's reference is answered.
    /// </summary>
    public static async Task<(TransitionOutcome Outcome, string? AlertReference)> StartAsync(NoReply.Report input, Actor actor, string? idempotencyKey,
        WorkflowClient workflows, CancellationToken ct)
    {
        if (await workflows.ReservedAsync(VisitAlertIntake.VisitKey(input.ProviderId, input.VisitId), ct) is { } alert
            && await workflows.LoadAsync(alert, withTimeline: false, ct) is { Row.Completed: false, State: VisitAlert.State { Stage: AlertStage.Open } })
        {
            var handed = await workflows.ApplyAsync(alert, new VisitAlert.ReportNoReply(input.At, input.AtLocal, input.Note), actor, idempotencyKey, ct: ct);
            if (handed.Kind is OutcomeKind.Applied or OutcomeKind.Replayed
                && await workflows.LoadAsync(alert, withTimeline: false, ct) is { State: VisitAlert.State { NoReplyReference: { } started } })
                return (new TransitionOutcome(OutcomeKind.Applied, started, "AwaitingOutcome"), alert);
            return (handed, alert);
        }
        return (await workflows.StartAsync(NoReply.Type, input, actor, idempotencyKey, ct), null);
    }

    private static async Task<Results<Created<NoReplyView>, ProblemHttpResult>> ReportAsync(NoReplyReportRequest? body, HttpContext http, WorkflowClient workflows,
        IProviderDirectory directory, CancellationToken ct)
    {
        var actor = http.User.ToActor();
        if (!actor.IsIn(Roles.Provider, Roles.Admin)) return Problems.Forbidden("A provider's carers and office, or an administrator, report a no-reply.");
        if (body is null) return Problems.BadRequest("A JSON body is required.");
        var c = new RequestChecks();
        var input = await ReportInputAsync(body, actor, directory, c, ct);
        if (!c.Ok || input is null) return Problems.Validation(c.Errors);
        if (NoReplyRules.CheckReport(input, actor) is { } no) return Problems.From(no);
        var now = workflows.Clock.GetCurrentInstant();
        if (VisitRules.ResolveTime(input.At, input.AtLocal, now, now - NoReplyRules.MaxReportAge).Refused is { } badTime) return Problems.From(badTime);
        var (outcome, alert) = await StartAsync(input, actor, RequestChecks.IdempotencyKey(http, actor), workflows, ct);
        if (Problems.For(outcome) is { } p) return p;
        var state = (await workflows.LoadAsync(outcome.Reference!, withTimeline: false, ct))?.State as NoReply.State;
        return TypedResults.Created($"/api/instances/{outcome.Reference}", new NoReplyView(outcome.Reference!, outcome.Status ?? "AwaitingOutcome", state?.CouncilTold ?? [], alert));
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> ChecksAsync(string reference, NoReplyChecksRequest? body, HttpContext http, WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        var checks = Checks(c, body?.Checks, required: true);
        var note = c.OptionalText("note", body?.Note, VisitRules.MaxNote);
        return ApplyAsync(reference, c, new NoReply.RecordChecks(checks, note), http, workflows, ct);
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> OutcomeAsync(string reference, NoReplyOutcomeRequest? body, HttpContext http, WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        var outcome = c.Enum<NoReplyOutcome>("outcome", body?.Outcome);
        var checks = Checks(c, body?.Checks, required: false);
        var (at, atLocal) = VisitAlertsApi.Time(c, body?.At);
        var note = c.OptionalText("note", body?.Note, VisitRules.MaxNote);
        return ApplyAsync(reference, c, new NoReply.RecordOutcome(outcome ?? NoReplyOutcome.FoundSafe, checks, at, atLocal, note), http, workflows, ct);
    }

    private static List<DoorCheck> Checks(RequestChecks c, IReadOnlyList<string>? names, bool required)
    {
        var checks = new List<DoorCheck>();
        if ((names is null || names.Count == 0) && required) c.Add("checks", "checks is required: Letterbox, Windows, BackDoor, Neighbours, Warden, NextOfKin, Hospitals.");
        foreach (var n in names ?? []) if (c.Enum<DoorCheck>("checks", n) is { } d) checks.Add(d);
        return checks;
    }

    private static async Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> ApplyAsync(string reference, RequestChecks c, WorkflowInput input, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        reference = reference.ToUpperInvariant();
        if (!reference.StartsWith(NoReply.Type + "-", StringComparison.Ordinal) || !References.IsWellFormed(reference)) return Problems.NotFound(reference);
        if (!c.Ok) return Problems.Validation(c.Errors);
        var actor = http.User.ToActor();
        // A resend answered before gets its first answer, whatever the checks below would say now.
        if (await workflows.AnsweredBeforeAsync(reference, RequestChecks.IdempotencyKey(http, actor), ct) is { } before)
            return Problems.For(before) is { } replayed ? replayed : TypedResults.Ok(new WorkflowStep(before.Reference!, before.Status ?? ""));
        var instance = await workflows.LoadAsync(reference, withTimeline: false, ct);
        if (instance is null || instance.State is not NoReply.State s) return Problems.NotFound(reference);
        if (Check(s, actor, input, reference, workflows.Clock.GetCurrentInstant()) is { } no) return Problems.From(no);
        if (instance.Row.Completed) return Problems.Conflict($"{reference} is closed ({instance.Row.Status}).");
        var outcome = await workflows.ApplyAsync(reference, input, actor, RequestChecks.IdempotencyKey(http, actor), ct: ct);
        return Problems.For(outcome) is { } p ? p : TypedResults.Ok(new WorkflowStep(outcome.Reference!, outcome.Status ?? instance.Row.Status));
    }

    public static Rejection? Check(NoReply.State s, Actor actor, WorkflowInput input, string reference, NodaTime.Instant now) => input switch
    {
        NoReply.RecordChecks x => NoReplyRules.CheckChecks(s, actor, x, reference),
        NoReply.RecordOutcome x => NoReplyRules.CheckOutcome(s, actor, x, reference) ?? VisitRules.ResolveTime(x.At, x.AtLocal, now, s.OccurredAt).Refused,
        _ => null,
    };
}
