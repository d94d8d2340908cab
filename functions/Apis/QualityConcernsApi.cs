using CareWorkflows.Definitions;
using CareWorkflows.Definitions.QualityConcerns;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Providers;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace CareWorkflows.Functions.Apis;

/// <summary>
/// A quality concern raised with a provider (B 15.1). The provider is named by its id in the provider directory, which
/// supplies its name and contact email (as D2A referrals do).
/// </summary>
public sealed record RaiseConcernRequest(string? ProviderId, string? Concern, int? ResponseWorkingDays);
public sealed record ConcernResponseRequest(string? Investigation, bool? IssueFound, string? Actions);
public sealed record ActionPlanRequest(string? Plan);
/// <summary>Either workingDays (from when the request was sent) or dueDate (yyyy-MM-dd, a working day), with a reason.</summary>
public sealed record DueDateRequest(int? WorkingDays, string? DueDate, string? Reason);
/// <summary>outcome (one) or outcomes (several): Accepted, ActionPlanRequired, DefaultNotice, SafeguardingReferral.</summary>
public sealed record ConcernDecisionRequest(string? Outcome, IReadOnlyList<string>? Outcomes, string? Reason, int? ActionPlanWorkingDays);

public sealed record ConcernRaisedView(string Reference, string Status, Instant DueAt, string DueLocal);

/// <summary>Quality concerns (B 15): QA raises, the provider responds (here or by its signed link), QA decides.</summary>
public static class QualityConcernsApi
{
    public static WebApplication MapQualityConcernsApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/quality-concerns").WithTags("Quality concerns");
        api.MapPost("/", RaiseAsync).RequireAuthorization(Policies.Staff);
        api.MapPost("/{reference}/response", RespondAsync).RequireAuthorization(Policies.Authenticated);
        api.MapPost("/{reference}/action-plan", ActionPlanAsync).RequireAuthorization(Policies.Authenticated);
        api.MapPost("/{reference}/due-date", DueDateAsync).RequireAuthorization(Policies.Staff);
        api.MapPost("/{reference}/decision", DecisionAsync).RequireAuthorization(Policies.Staff);
        return app;
    }

    /// <summary>
    /// The start input for a concern; field errors go to <paramref name="c"/> (shared with the page form). The provider comes
    /// from the directory: an unknown id is refused on providerId, never written to a workflow with a made-up contact.
    /// </summary>
    public static async Task<QualityConcern.Raise> RaiseInputAsync(RaiseConcernRequest body, IProviderDirectory directory, RequestChecks c, CancellationToken ct)
    {
        var id = c.Text("providerId", body.ProviderId, 100);
        var provider = id.Length > 0 ? await directory.GetProviderAsync(id, ct) : null;
        if (id.Length > 0 && provider is null) c.Add("providerId", $"There is no provider {id} in the provider directory.");
        var concern = c.Text("concern", body.Concern);
        if (body.ResponseWorkingDays is < 1 or > QualityConcern.MaxWorkingDays)
            c.Add("responseWorkingDays", $"responseWorkingDays must be between 1 and {QualityConcern.MaxWorkingDays}.");
        return new QualityConcern.Raise(provider?.Id ?? id, provider?.Name ?? "", provider?.Email ?? "", concern, body.ResponseWorkingDays);
    }

    private static async Task<Results<Created<ConcernRaisedView>, ProblemHttpResult>> RaiseAsync(RaiseConcernRequest? body, HttpContext http, WorkflowClient workflows,
        IWorkflowSetupSource setup, IProviderDirectory directory, CancellationToken ct)
    {
        var actor = http.User.ToActor();
        if (!actor.IsIn(QualityConcern.CouncilRoles)) return Problems.Forbidden("Only the Quality Assurance team can raise a quality concern.");
        if (body is null) return Problems.BadRequest("A JSON body is required.");
        var c = new RequestChecks();
        var input = await RaiseInputAsync(body, directory, c, ct);
        if (!c.Ok) return Problems.Validation(c.Errors);
        var current = setup.Current;
        if (QualityConcernRules.CheckRaise(input, actor, current.PolicySettings) is { } no) return Problems.From(no);
        // The due date the orchestration will set, from the same rule and data (B 15.2).
        var (_, dueAt) = QualityConcernRules.Due(workflows.Clock.GetCurrentInstant(), QualityConcernRules.ResponseDays(input, current.PolicySettings), current.Calendar);
        var outcome = await workflows.StartAsync(QualityConcern.Type, input, actor, RequestChecks.IdempotencyKey(http, actor), ct);
        if (Problems.For(outcome) is { } p) return p;
        return TypedResults.Created($"/api/instances/{outcome.Reference}", new ConcernRaisedView(outcome.Reference!, outcome.Status!, dueAt, WorkflowContext.Local(dueAt)));
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> RespondAsync(string reference, ConcernResponseRequest? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        var investigation = c.Text("investigation", body?.Investigation);
        if (body?.IssueFound is null) c.Add("issueFound", "issueFound is required (true or false).");
        var actions = c.OptionalText("actions", body?.Actions);
        if (body?.IssueFound == true && actions is null) c.Add("actions", "actions are required when an issue was found: the actions taken and their timescales (B 15.2).");
        return ApplyAsync(reference, c, new QualityConcern.Respond(investigation, body?.IssueFound ?? false, actions), http, workflows, ct);
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> ActionPlanAsync(string reference, ActionPlanRequest? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        return ApplyAsync(reference, c, new QualityConcern.SubmitActionPlan(c.Text("plan", body?.Plan)), http, workflows, ct);
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> DueDateAsync(string reference, DueDateRequest? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        var reason = c.Text("reason", body?.Reason);
        var date = c.Date("dueDate", body?.DueDate);
        if ((body?.WorkingDays is null) == string.IsNullOrWhiteSpace(body?.DueDate)) c.Add("dueDate", "Give either workingDays or dueDate.");
        if (body?.WorkingDays is < 1 or > QualityConcern.MaxWorkingDays) c.Add("workingDays", $"workingDays must be between 1 and {QualityConcern.MaxWorkingDays}.");
        return ApplyAsync(reference, c, new QualityConcern.ChangeDueDate(body?.WorkingDays, date, reason), http, workflows, ct);
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> DecisionAsync(string reference, ConcernDecisionRequest? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        return ApplyAsync(reference, c, DecisionInput(body, c), http, workflows, ct);
    }

    /// <summary>QA's decision as an input; field errors go to <paramref name="c"/> (shared with the instance page).</summary>
    public static QualityConcern.RecordDecision DecisionInput(ConcernDecisionRequest? body, RequestChecks c)
    {
        var names = new List<string?>();
        if (body?.Outcome is not null) names.Add(body.Outcome);
        if (body?.Outcomes is not null) names.AddRange(body.Outcomes);
        var outcomes = new List<ConcernOutcome>();
        if (names.Count == 0) c.Add("outcome", "outcome is required: Accepted, ActionPlanRequired, DefaultNotice or SafeguardingReferral.");
        foreach (var n in names) if (c.Enum<ConcernOutcome>("outcome", n) is { } o) outcomes.Add(o);
        var reason = c.Text("reason", body?.Reason);
        return new QualityConcern.RecordDecision(outcomes, reason, body?.ActionPlanWorkingDays);
    }

    /// <summary>
    /// Checks at once what can be checked (shape, role, the provider's identity, the stage the concern publishes), then
    /// sends the input; the orchestration has the last word.
    /// </summary>
    private static async Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> ApplyAsync(string reference, RequestChecks c, WorkflowInput input, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        reference = reference.ToUpperInvariant();
        if (!reference.StartsWith(QualityConcern.Type + "-", StringComparison.Ordinal) || !References.IsWellFormed(reference)) return Problems.NotFound(reference);
        if (!c.Ok) return Problems.Validation(c.Errors);
        var actor = http.User.ToActor();
        // A resend answered before gets its first answer, whatever the checks below would say now.
        if (await workflows.AnsweredBeforeAsync(reference, RequestChecks.IdempotencyKey(http, actor), ct) is { } before)
            return Problems.For(before) is { } replayed ? replayed : TypedResults.Ok(new WorkflowStep(before.Reference!, before.Status ?? ""));
        var instance = await workflows.LoadAsync(reference, withTimeline: false, ct);
        if (instance is null) return Problems.NotFound(reference);
        if (instance.Row.Completed) return Problems.Conflict($"{reference} is {instance.Row.Status.ToLowerInvariant()}.");
        if (Check((QualityConcern.State)instance.State, actor, input, reference, workflows) is { } no) return Problems.From(no);
        var outcome = await workflows.ApplyAsync(reference, input, actor, RequestChecks.IdempotencyKey(http, actor), ct: ct);
        return Problems.For(outcome) is { } p ? p : TypedResults.Ok(new WorkflowStep(outcome.Reference!, outcome.Status ?? instance.Row.Status));
    }

    /// <summary>The concern's own rules, run against the state it published.</summary>
    public static Rejection? Check(QualityConcern.State s, Actor actor, WorkflowInput input, string reference, WorkflowClient workflows) => input switch
    {
        QualityConcern.Respond r => QualityConcernRules.CheckRespond(s, actor, r, reference),
        QualityConcern.SubmitActionPlan p => QualityConcernRules.CheckActionPlan(s, actor, p, reference),
        QualityConcern.RecordDecision d => QualityConcernRules.CheckDecision(s, actor, d, workflows.Setup.PolicySettings, reference),
        QualityConcern.ChangeDueDate d => QualityConcernRules.CheckChangeDueDate(s, actor, d, workflows.Clock.GetCurrentInstant(), workflows.Setup.Calendar, reference).Refused,
        _ => null,
    };
}
