using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Visits;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Providers;
using NodaTime;

namespace CareWorkflows.Functions.Visits;

/// <summary>
/// An alert or report from a provider's electronic call monitoring system (B 21.2), as JSON: the alert's and visit's ids
/// in that system, the provider (its directory id), the council's person id (never a name), the planned start and the
/// report's time with their offsets, and the kind: Late, Missed, Short (an alert), Started or Completed (the call).
/// </summary>
public sealed record VisitAlertMessage(string? AlertId, string? VisitId, string? ProviderId, string? PersonId, string? PlannedStart, string? Kind, string? ReportedAt);

/// <summary>What the intake did: 201 (an alert raised), 200 (a repeat, an update, or a call report with no alert open), or 4xx and why.</summary>
public sealed record AlertIntakeOutcome(int Status, string? Reference, string Outcome, string? Detail = null, IDictionary<string, string[]>? Errors = null, string? Title = null)
{
    public bool Accepted => Status < 400;
}

/// <summary>
/// The one intake for call-monitoring messages, shared by the signed HTTP endpoint and the Service Bus queue. A visit has
/// at most one alert instance (keyed by provider and visit id, <see cref="WorkflowClient.StartOnceAsync"/>): a repeat of
/// the same alert is one alert, a later alert on the same visit (late, then missed) is recorded on it, and the call
/// started or completed ends it. Nothing is written for a message that is refused.
/// </summary>
public sealed class VisitAlertIntake(WorkflowClient workflows, IProviderDirectory directory, IClock clock)
{
    public static string VisitKey(string providerId, string visitId) => $"visit-alert:{providerId}:{visitId}";

    public async Task<AlertIntakeOutcome> AcceptAsync(VisitAlertMessage m, string systemId, IReadOnlySet<string>? providers, CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var c = new RequestChecks();
        var alertId = c.Text("alertId", m.AlertId, VisitRules.MaxIdLength);
        if (alertId.Length > 0 && !VisitRules.IsId(alertId)) c.Add("alertId", "alertId may hold only letters, digits and . _ : / -.");
        var visitId = c.Text("visitId", m.VisitId, VisitRules.MaxIdLength);
        if (visitId.Length > 0 && !VisitRules.IsId(visitId)) c.Add("visitId", "visitId may hold only letters, digits and . _ : / -.");
        var providerId = c.Text("providerId", m.ProviderId, 100);
        var personId = c.Text("personId", m.PersonId, 40);
        if (personId.Length > 0 && !VisitRules.IsPersonId(personId)) c.Add("personId", "personId must be the council's person id (letters, digits and dashes, with a digit): never a name.");
        var plannedStart = c.Instant("plannedStart", m.PlannedStart);
        var kind = c.Enum<MonitoringKind>("kind", m.Kind);
        var reportedAt = string.IsNullOrWhiteSpace(m.ReportedAt) ? now : c.Instant("reportedAt", m.ReportedAt);
        if (!c.Ok) return new(422, null, "Invalid", string.Join(" ", c.Errors.SelectMany(e => e.Value)), c.Errors);
        if (providers is not null && !providers.Contains(providerId))
            return new(403, null, "Forbidden", $"Call-monitoring system {systemId} does not report for provider {providerId}.", Title: "Not allowed");
        if (await directory.GetProviderAsync(providerId, ct) is not { } provider)
            return Field("providerId", $"There is no provider {providerId} in the provider directory.");

        var actor = new Actor($"call-monitoring:{systemId}", Roles.System, provider.Id, $"Call monitoring ({systemId})");
        var key = VisitKey(provider.Id, visitId);
        var report = new VisitAlert.Monitoring(alertId, kind!.Value, reportedAt);
        if (kind is MonitoringKind.Started or MonitoringKind.Completed)
        {
            // A call may start before its planned time: only a report from the future is refused.
            if (reportedAt > now + VisitAlertRules.ClockSkew) return Field("reportedAt", $"reportedAt ({VisitRules.Local(reportedAt)}) is in the future.");
            return await workflows.ReservedAsync(key, ct) is { } open ? await ReportAsync(open, report, actor, alertId, ct)
                : new(200, null, "NoAlert", $"No alert is open for visit {visitId}: nothing to do.");
        }
        var raise = new VisitAlert.Raise(alertId, systemId, provider.Id, provider.Name, provider.Email, provider.Mobile, visitId, personId, plannedStart, kind.Value, reportedAt);
        if (VisitAlertRules.CheckRaise(raise, now, workflows.Setup.PolicySettings) is { } no) return From(no);
        var (outcome, created) = await workflows.StartOnceAsync(VisitAlert.Type, raise, actor, key, ct);
        if (!created) return await ReportAsync(outcome.Reference!, report, actor, alertId, ct);
        return outcome.Kind switch
        {
            OutcomeKind.Rejected => From(outcome.Rejection!) with { Reference = outcome.Reference },
            _ => new(201, outcome.Reference, "Raised"),
        };
    }

    /// <summary>A report on the visit's alert: an ended alert changes nothing (answered 200, so systems do not retry).</summary>
    private async Task<AlertIntakeOutcome> ReportAsync(string reference, VisitAlert.Monitoring report, Actor actor, string alertId, CancellationToken ct)
    {
        var outcome = await workflows.ApplyAsync(reference, report, actor, idempotencyKey: $"ecm:{actor.ProviderId}:{alertId}:{report.Kind}", via: "call-monitoring", ct: ct);
        return outcome.Kind switch
        {
            OutcomeKind.Applied or OutcomeKind.Replayed or OutcomeKind.Accepted => new(200, reference, "Recorded"),
            OutcomeKind.Rejected when outcome.Rejection!.Kind == RejectionKind.Conflict => new(200, reference, "AlertEnded", outcome.Rejection.Detail),
            OutcomeKind.Rejected => From(outcome.Rejection!) with { Reference = reference },
            _ => new(200, reference, "AlertEnded", $"{reference} has ended."),
        };
    }

    private static AlertIntakeOutcome Field(string field, string detail) => new(422, null, "Invalid", detail, new Dictionary<string, string[]> { [field] = [detail] });

    private static AlertIntakeOutcome From(Rejection r) =>
        new((int)r.Kind, null, r.Kind.ToString(), r.Detail, r.Field is null ? null : new Dictionary<string, string[]> { [r.Field] = [r.Detail] }, r.Title);
}

/// <summary>Starts the no-reply a visit alert hands over to (the StartNoReply activity's work): one per alert.</summary>
public sealed class NoReplyStarter(IServiceProvider services) : INoReplyStarter
{
    public async Task<NoReplyStarted> StartAsync(NoReplyStart start, CancellationToken ct)
    {
        var workflows = services.GetRequiredService<WorkflowClient>(); // resolved late: the worker is built before the client
        var (outcome, _) = await workflows.StartOnceAsync(NoReply.Type, start.Report, start.Actor, start.Key, ct);
        return outcome.Kind is OutcomeKind.Applied or OutcomeKind.Replayed or OutcomeKind.Accepted
            ? new NoReplyStarted(outcome.Reference, null)
            : new NoReplyStarted(null, outcome.Rejection?.Detail ?? outcome.Kind.ToString());
    }
}
