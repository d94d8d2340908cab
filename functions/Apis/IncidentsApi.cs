using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Incidents;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Engine;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace CareWorkflows.Functions.Apis;

/// <summary>An initial serious-incident report (B 12.4). Times carry their offset: 2026-10-24T20:00:00+01:00.</summary>
public sealed record IncidentReportRequest(
    string? Category,
    string? OccurredAt,
    string? BecameAwareAt,
    string? Description,
    string? Parties,
    bool? EmergencyServicesInvolved,
    string? EmergencyServicesDetail,
    string? ImmediateAction,
    string? FurtherAction,
    string? ServiceUserGroup,
    string? ServiceUserId,
    string? ServiceUserName,
    string? ProviderName,
    string? ContactEmail);

public sealed record FullReportRequest(string? Details, string? ActionsTaken, string? LessonsLearned);
public sealed record IncidentUpdateRequest(string? Text);
public sealed record IncidentCloseRequest(string? Reason);
/// <summary>Routes: SafeguardingEnquiry (s42), Cqc, ContractReview.</summary>
public sealed record IncidentEscalateRequest(IReadOnlyList<string>? To, string? Reason);

public sealed record IncidentReportAccepted(string Reference, string Status, bool ReportedLate, Instant FullReportDueAt, string FullReportDueLocal);
public sealed record WorkflowStep(string Reference, string Status);

/// <summary>
/// Serious incidents (B 12, B 10.5, X 13.3): providers report and follow up; council staff close or escalate. Each
/// request is checked at once (shape, then the incident's own rules against the state it publishes) and handed to
/// the orchestration, which has the last word.
/// </summary>
public static class IncidentsApi
{
    public static WebApplication MapIncidentsApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/incidents").WithTags("Serious incidents");
        api.MapPost("/", ReportAsync).RequireAuthorization(Policies.Authenticated);
        api.MapPost("/{reference}/full-report", FullReportAsync).RequireAuthorization(Policies.Authenticated);
        api.MapPost("/{reference}/updates", UpdateAsync).RequireAuthorization(Policies.Authenticated);
        api.MapPost("/{reference}/close", CloseAsync).RequireAuthorization(Policies.Staff);
        api.MapPost("/{reference}/escalate", EscalateAsync).RequireAuthorization(Policies.Staff);
        return app;
    }

    /// <summary>The initial report as an input; field errors go to <paramref name="c"/> (shared with the page form).</summary>
    public static SeriousIncident.Report ReportInput(IncidentReportRequest body, string providerId, RequestChecks c)
    {
        var category = c.Enum<IncidentCategory>("category", body.Category);
        var report = new SeriousIncident.Report(
            category ?? default,
            c.Instant("occurredAt", body.OccurredAt),
            c.Instant("becameAwareAt", body.BecameAwareAt),
            c.Text("description", body.Description),
            c.Text("parties", body.Parties),
            body.EmergencyServicesInvolved ?? Missing(c, "emergencyServicesInvolved"),
            c.OptionalText("emergencyServicesDetail", body.EmergencyServicesDetail),
            c.Text("immediateAction", body.ImmediateAction),
            c.Text("furtherAction", body.FurtherAction),
            c.Text("serviceUserGroup", body.ServiceUserGroup, 200),
            c.Text("serviceUserId", body.ServiceUserId, 100),
            c.OptionalText("serviceUserName", body.ServiceUserName, 200),
            providerId,
            // The provider's name and contact come with the report until the provider directory serves them.
            c.Text("providerName", body.ProviderName, 200),
            c.Email("contactEmail", body.ContactEmail));
        // The workflow refuses these too; checked here so every field at fault is named at once.
        foreach (var (field, message) in SeriousIncidentRules.PersonalDataInReport(report)) c.Add(field, message);
        return report;
    }

    /// <summary>The report's own rules at <paramref name="now"/> (provider, plausible times, personal data); shared with the page.</summary>
    public static Rejection? CheckReport(SeriousIncident.Report report, Actor actor, WorkflowClient workflows) =>
        SeriousIncidentRules.CheckReport(report, actor, workflows.Clock.GetCurrentInstant(), workflows.Setup.PolicySettings);

    private static async Task<Results<Created<IncidentReportAccepted>, ProblemHttpResult>> ReportAsync(
        IncidentReportRequest? body, HttpContext http, WorkflowClient workflows, CancellationToken ct)
    {
        var actor = http.User.ToActor();
        if (actor.Role != Roles.Provider || string.IsNullOrEmpty(actor.ProviderId))
            return Problems.Forbidden("Serious incidents are reported by a provider user (with a provider id).");
        if (body is null) return Problems.BadRequest("A JSON body is required.");
        var c = new RequestChecks();
        var report = ReportInput(body, actor.ProviderId, c);
        if (!c.Ok) return Problems.Validation(c.Errors);
        if (CheckReport(report, actor, workflows) is { } no) return Problems.From(no);

        var outcome = await workflows.StartAsync(SeriousIncident.Type, report, actor, RequestChecks.IdempotencyKey(http, actor), ct);
        if (Problems.For(outcome) is { } p) return p;
        // What the orchestration recorded; if it has not published yet, the same rules at this moment.
        var state = (await workflows.LoadAsync(outcome.Reference!, withTimeline: false, ct))?.State as SeriousIncident.State
            ?? SeriousIncidentRules.Reported(report, workflows.Clock.GetCurrentInstant(), workflows.Setup.PolicySettings);
        return TypedResults.Created($"/api/instances/{outcome.Reference}",
            new IncidentReportAccepted(outcome.Reference!, outcome.Status!, state.ReportedLate, state.FullReportDueAt, WorkflowContext.Local(state.FullReportDueAt)));
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> FullReportAsync(string reference, FullReportRequest? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        var input = new SeriousIncident.SubmitFullReport(c.Text("details", body?.Details), c.Text("actionsTaken", body?.ActionsTaken), c.OptionalText("lessonsLearned", body?.LessonsLearned));
        return ApplyAsync(reference, c, input, http, workflows, ct);
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> UpdateAsync(string reference, IncidentUpdateRequest? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        return ApplyAsync(reference, c, new SeriousIncident.SubmitUpdate(c.Text("text", body?.Text)), http, workflows, ct);
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> CloseAsync(string reference, IncidentCloseRequest? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        return ApplyAsync(reference, c, new SeriousIncident.Close(c.Text("reason", body?.Reason)), http, workflows, ct);
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> EscalateAsync(string reference, IncidentEscalateRequest? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        var routes = new List<IncidentEscalationRoute>();
        if (body?.To is not { Count: > 0 }) c.Add("to", "to is required: one or more of SafeguardingEnquiry (s42), Cqc, ContractReview.");
        else
            foreach (var r in body.To)
                if (c.Enum<IncidentEscalationRoute>("to", r is "s42" or "S42" ? nameof(IncidentEscalationRoute.SafeguardingEnquiry) : r) is { } route) routes.Add(route);
        return ApplyAsync(reference, c, new SeriousIncident.Escalate(routes, c.Text("reason", body?.Reason)), http, workflows, ct);
    }

    /// <summary>
    /// Checks at once what can be checked (shape, role, the provider's identity, the phase the incident publishes), then
    /// sends the input; the orchestration has the last word.
    /// </summary>
    private static async Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> ApplyAsync(string reference, RequestChecks c, WorkflowInput input, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        reference = reference.ToUpperInvariant();
        if (!reference.StartsWith(SeriousIncident.Type + "-", StringComparison.Ordinal) || !References.IsWellFormed(reference)) return Problems.NotFound(reference);
        if (!c.Ok) return Problems.Validation(c.Errors);
        var actor = http.User.ToActor();
        // A resend answered before gets its first answer, whatever the checks below would say now.
        if (await workflows.AnsweredBeforeAsync(reference, RequestChecks.IdempotencyKey(http, actor), ct) is { } before)
            return Problems.For(before) is { } replayed ? replayed : TypedResults.Ok(new WorkflowStep(before.Reference!, before.Status ?? ""));
        var instance = await workflows.LoadAsync(reference, withTimeline: false, ct);
        if (instance is null) return Problems.NotFound(reference);
        if (instance.Row.Completed) return Problems.Conflict($"{reference} is {instance.Row.Status.ToLowerInvariant()}.");
        if (instance.State is SeriousIncident.State s && Check(s, actor, input, reference) is { } no) return Problems.From(no);
        var outcome = await workflows.ApplyAsync(reference, input, actor, RequestChecks.IdempotencyKey(http, actor), ct: ct);
        return Problems.For(outcome) is { } p ? p : TypedResults.Ok(new WorkflowStep(outcome.Reference!, outcome.Status ?? instance.Row.Status));
    }

    /// <summary>The incident's own rules, run against the state it published (shared with the instance page).</summary>
    public static Rejection? Check(SeriousIncident.State s, Actor actor, WorkflowInput input, string reference) => input switch
    {
        SeriousIncident.SubmitFullReport f => SeriousIncidentRules.CheckFullReport(s, actor, f, reference),
        SeriousIncident.SubmitUpdate u => SeriousIncidentRules.CheckUpdate(s, actor, u, reference),
        SeriousIncident.Close c => SeriousIncidentRules.CheckClose(s, actor, c, reference),
        SeriousIncident.Escalate e => SeriousIncidentRules.CheckEscalate(s, actor, e, reference),
        _ => null,
    };

    private static bool Missing(RequestChecks c, string field)
    {
        c.Add(field, $"{field} is required (true or false).");
        return false;
    }
}
