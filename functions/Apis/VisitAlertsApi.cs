using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Visits;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Visits;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Engine;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Functions.Apis;

/// <summary>A step the provider's alert desk records: step (Reassured, CarerContacted, ReplacementSent, ReplacementTold, PersonUnreachable, NextOfKinTold, DelayTold), when (at: 14:35 UK time or with its offset; empty for now).</summary>
public sealed record VisitStepRequest(string? Step, string? At, string? CarerName, string? Note);
/// <summary>A cancellation (B 7.27): confirmedWith Person or NextOfKin, confirmedBy the senior member of staff.</summary>
public sealed record VisitCancellationRequest(string? ConfirmedWith, string? ConfirmedBy, string? At, string? Note);
public sealed record VisitNoReplyRequest(string? At, string? Note);

public sealed record VisitAlertView(string? Reference, string Outcome, string? Detail);
public sealed record VisitKpisView(LocalDate From, LocalDate To, IReadOnlyList<VisitFigure> Figures);

/// <summary>
/// Late or missed visits (B 21–22): call monitoring posts alerts (signed per system, docs/visits.md); the provider's
/// alert desk records its actions here, on the alert's page, or by replying to the alert; the KPIs come from the record.
/// </summary>
public static class VisitAlertsApi
{
    public const int MaxAlertBytes = 64 * 1024;

    public static WebApplication MapVisitAlertsApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/visit-alerts").WithTags("Visit alerts");
        api.MapPost("/", RaiseAsync).AllowAnonymous(); // authenticated by the call-monitoring system's signature
        api.MapPost("/{reference}/steps", StepAsync).RequireAuthorization(Policies.Authenticated);
        api.MapPost("/{reference}/cancellation", CancellationAsync).RequireAuthorization(Policies.Authenticated);
        api.MapPost("/{reference}/no-reply", NoReplyAsync).RequireAuthorization(Policies.Authenticated);
        app.MapGet("/api/kpis/visits", KpisAsync).RequireAuthorization(Policies.Staff).WithTags("Visit alerts");
        return app;
    }

    /// <summary>
    /// An alert from a call-monitoring system: the signature first (401, nothing read further, nothing written), then the
    /// body's shape (400/422 naming the field), then the intake. 201 raised; 200 a repeat, an update or nothing to do.
    /// </summary>
    private static async Task<IResult> RaiseAsync(HttpContext http, CallMonitoringSignatures signatures, VisitAlertIntake intake, ILoggerFactory logs, CancellationToken ct)
    {
        var request = http.Request;
        if (request.ContentLength is > MaxAlertBytes) return Problems.BadRequest($"An alert is at most {MaxAlertBytes / 1024} KB.");
        using var buffer = new MemoryStream();
        var read = new byte[8192];
        int n;
        while ((n = await request.Body.ReadAsync(read, ct)) > 0)
        {
            buffer.Write(read, 0, n);
            if (buffer.Length > MaxAlertBytes) return Problems.BadRequest($"An alert is at most {MaxAlertBytes / 1024} KB.");
        }
        var body = buffer.ToArray();
        var (check, system) = signatures.Check(request.Headers[CallMonitoringSignatures.SystemHeader], request.Headers[CallMonitoringSignatures.TimestampHeader],
            request.Headers[CallMonitoringSignatures.SignatureHeader], body);
        if (check != SignatureCheck.Valid)
        {
            logs.CreateLogger("CareWorkflows.VisitAlerts").LogWarning("Call-monitoring alert refused: {Check} (system {System})", check, system?.Id ?? "unknown");
            return TypedResults.Problem(statusCode: 401, title: "Not authenticated", detail: check switch
            {
                SignatureCheck.Missing => $"{CallMonitoringSignatures.SystemHeader}, {CallMonitoringSignatures.TimestampHeader} and {CallMonitoringSignatures.SignatureHeader} are required.",
                SignatureCheck.Stale => $"{CallMonitoringSignatures.TimestampHeader} is not within {signatures.Window.TotalSeconds:0} seconds of now: a delayed or replayed request.",
                _ => "The signature is not valid for this system.",
            });
        }
        VisitAlertMessage? message;
        try { message = JsonSerializer.Deserialize<VisitAlertMessage>(body, WorkflowJson.Options); }
        catch (JsonException) { return Problems.BadRequest("The body is not a JSON alert: alertId, visitId, providerId, personId, plannedStart, kind (and reportedAt)."); }
        if (message is null) return Problems.BadRequest("A JSON body is required.");
        return Result(await intake.AcceptAsync(message, system!.Id, system.Providers, ct));
    }

    public static IResult Result(AlertIntakeOutcome o) => o.Status switch
    {
        201 => TypedResults.Created($"/api/instances/{o.Reference}", new VisitAlertView(o.Reference, o.Outcome, o.Detail)),
        < 400 => TypedResults.Ok(new VisitAlertView(o.Reference, o.Outcome, o.Detail)),
        _ => TypedResults.Problem(statusCode: o.Status, title: o.Title ?? "The request is not valid", detail: o.Detail,
            extensions: o.Errors is null ? null : new Dictionary<string, object?> { ["errors"] = o.Errors }),
    };

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> StepAsync(string reference, VisitStepRequest? body, HttpContext http, WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        var step = c.Enum<VisitStep>("step", body?.Step);
        var (at, atLocal) = Time(c, body?.At);
        var carer = c.OptionalText("carerName", body?.CarerName, VisitRules.MaxName);
        var note = c.OptionalText("note", body?.Note, VisitRules.MaxNote);
        return ApplyAsync(reference, c, new VisitAlert.RecordStep(step ?? VisitStep.Reassured, at, atLocal, carer, note), http, workflows, ct);
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> CancellationAsync(string reference, VisitCancellationRequest? body, HttpContext http, WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        var with = c.Enum<ConfirmedWith>("confirmedWith", body?.ConfirmedWith);
        var by = c.Text("confirmedBy", body?.ConfirmedBy, VisitRules.MaxName);
        var (at, atLocal) = Time(c, body?.At);
        var note = c.OptionalText("note", body?.Note, VisitRules.MaxNote);
        return ApplyAsync(reference, c, new VisitAlert.RecordCancellation(with ?? ConfirmedWith.Person, by, at, atLocal, note), http, workflows, ct);
    }

    private static Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> NoReplyAsync(string reference, VisitNoReplyRequest? body, HttpContext http, WorkflowClient workflows, CancellationToken ct)
    {
        var c = new RequestChecks();
        var (at, atLocal) = Time(c, body?.At);
        var note = c.OptionalText("note", body?.Note, VisitRules.MaxNote);
        return ApplyAsync(reference, c, new VisitAlert.ReportNoReply(at, atLocal, note), http, workflows, ct);
    }

    /// <summary>"at": a UK time (14:35) or an instant with its offset; empty means now.</summary>
    public static (Instant? At, LocalTime? AtLocal) Time(RequestChecks c, string? text)
    {
        var (at, atLocal, error) = VisitRules.ReadTime(text, "at");
        if (error is not null) c.Add("at", error);
        return (at, atLocal);
    }

    /// <summary>
    /// Checks at once what can be checked (shape, role, the provider's identity, the stage the alert publishes, the time
    /// given against now), then sends the input; the orchestration has the last word.
    /// </summary>
    private static async Task<Results<Ok<WorkflowStep>, ProblemHttpResult>> ApplyAsync(string reference, RequestChecks c, WorkflowInput input, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        reference = reference.ToUpperInvariant();
        if (!reference.StartsWith(VisitAlert.Type + "-", StringComparison.Ordinal) || !References.IsWellFormed(reference)) return Problems.NotFound(reference);
        if (!c.Ok) return Problems.Validation(c.Errors);
        var actor = http.User.ToActor();
        var instance = await workflows.LoadAsync(reference, withTimeline: false, ct);
        if (instance is null || instance.State is not VisitAlert.State s) return Problems.NotFound(reference);
        if (Check(s, actor, input, reference, workflows.Clock.GetCurrentInstant()) is { } no) return Problems.From(no);
        if (instance.Row.Completed) return Problems.Conflict($"{reference} has ended ({instance.Row.Status}).");
        var outcome = await workflows.ApplyAsync(reference, input, actor, RequestChecks.IdempotencyKey(http, actor), ct: ct);
        return Problems.For(outcome) is { } p ? p : TypedResults.Ok(new WorkflowStep(outcome.Reference!, outcome.Status ?? instance.Row.Status));
    }

    /// <summary>The alert's own rules, run against the state it published (and the time given, against now).</summary>
    public static Rejection? Check(VisitAlert.State s, Actor actor, WorkflowInput input, string reference, Instant now)
    {
        var (rule, at, atLocal) = input switch
        {
            VisitAlert.RecordStep r => (VisitAlertRules.CheckStep(s, actor, r, reference), r.At, r.AtLocal),
            VisitAlert.RecordCancellation x => (VisitAlertRules.CheckCancellation(s, actor, x, reference), x.At, x.AtLocal),
            VisitAlert.ReportNoReply x => (VisitAlertRules.CheckNoReply(s, actor, x, reference), x.At, x.AtLocal),
            _ => (null, null, null),
        };
        if (rule is not null) return rule;
        var notBefore = input is VisitAlert.RecordCancellation ? VisitAlertRules.EarliestStep(s) - Duration.FromDays(1) : VisitAlertRules.EarliestStep(s);
        return VisitRules.ResolveTime(at, atLocal, now, notBefore).Refused;
    }

    private static async Task<IResult> KpisAsync(string? from, string? to, WorkflowClient workflows, CancellationToken ct)
    {
        var now = workflows.Clock.GetCurrentInstant();
        var today = now.InZone(WorkingCalendar.London).Date;
        var c = new RequestChecks();
        var f = c.Date("from", from) ?? today.PlusDays(-30);
        var t = c.Date("to", to) ?? today;
        if (c.Ok && t < f) c.Add("to", "to must be on or after from.");
        if (c.Ok && Period.Between(f, t, PeriodUnits.Days).Days > 3660) c.Add("to", "The period is at most ten years.");
        if (!c.Ok) return Problems.Validation(c.Errors);
        return TypedResults.Ok(new VisitKpisView(f, t, await VisitKpiReport.ComputeAsync(workflows, f, t, now, ct)));
    }
}
