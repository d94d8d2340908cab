using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace CareWorkflows.Functions.Apis;

public sealed record CancelRequest(string? Reason);

public sealed record InstanceListItem(string Reference, string Type, string Status, bool Completed, string Summary, Instant CreatedAt, Instant UpdatedAt,
    Instant? NextDueAt, string? NextDueLocal, bool Overdue);

public sealed record TimerView(string Name, Instant DueAt, string DueLocal);
public sealed record TimelineView(long Seq, string Type, JsonElement Data, string ActorId, string ActorRole, Instant At, string AtLocal);
public sealed record MessageView(Guid Id, string Channel, string To, string Purpose, string Subject, string Body, IReadOnlyList<string> Links, string Status,
    int Attempts, Instant CreatedAt, string? Provider, string? ProviderMessageId, Instant? SentAt, string? LastError, string? DeliveryStatus)
{
    public static MessageView From(OutboxMessage m) => new(m.Id, m.Channel.ToString().ToLowerInvariant(), m.To, m.Purpose, m.Subject, m.Body, m.Links,
        m.Status.ToString(), m.Attempts, m.CreatedAt, m.Provider, m.ProviderMessageId, m.SentAt, m.LastError, m.DeliveryStatus);
}

public sealed record InstanceView(string Reference, string Type, string Status, bool Completed, string Summary, long Version, Instant CreatedAt, Instant UpdatedAt,
    JsonElement State, IReadOnlyList<TimerView> Timers, IReadOnlyList<TimelineView> Timeline, IReadOnlyList<MessageView> Messages);

public static class InstancesApi
{
    public static WebApplication MapInstancesApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/instances").RequireAuthorization(Policies.Staff).WithTags("Instances");
        api.MapGet("/", ListAsync);
        api.MapGet("/{reference}", GetAsync);
        // Operators cancel (DESIGN: "operators can ... cancel"): brokerage and administrators.
        api.MapPost("/{reference}/cancel", CancelAsync).RequireAuthorization(p => p.RequireRole(Extensions.WebPages.OperatorRoles));
        return app;
    }

    public static string Local(Instant i) => WorkflowContext.Local(i);

    private static async Task<Results<Ok<IReadOnlyList<InstanceListItem>>, ProblemHttpResult>> ListAsync(
        string? type, string? status, string? overdue, Workflows.WorkflowClient workflows, IClock clock, CancellationToken ct)
    {
        bool? overdueOnly = null;
        if (overdue is not null)
        {
            if (!bool.TryParse(overdue, out var o)) return Problems.BadRequest("overdue must be true or false.");
            overdueOnly = o;
        }
        if (type is not null && !workflows.Types.Contains(type)) return Problems.BadRequest($"Unknown type '{type}'. Known: {string.Join(", ", workflows.Types)}.");
        var now = clock.GetCurrentInstant();
        var rows = await workflows.ListAsync(new InstanceFilter(type, status, overdueOnly), now, ct);
        IReadOnlyList<InstanceListItem> items = rows.Select(r => new InstanceListItem(r.Reference, r.Type, r.Status, r.Completed, r.Summary, r.CreatedAt, r.UpdatedAt,
            r.NextDueAt, r.NextDueAt is { } d ? Local(d) : null, r.NextDueAt <= now)).ToList();
        return TypedResults.Ok(items);
    }

    private static async Task<Results<Ok<InstanceView>, ProblemHttpResult>> GetAsync(string reference, Workflows.WorkflowClient workflows, HttpContext http, CancellationToken ct)
    {
        // Staff answers carry personal data: never kept by a browser or proxy.
        http.Response.Headers.CacheControl = "no-store";
        var view = await LoadViewAsync(reference, workflows, ct);
        return view is null ? Problems.NotFound(reference) : TypedResults.Ok(view);
    }

    public static async Task<InstanceView?> LoadViewAsync(string reference, Workflows.WorkflowClient workflows, CancellationToken ct)
    {
        reference = reference.ToUpperInvariant();
        if (!References.IsWellFormed(reference)) return null;
        var instance = await workflows.LoadAsync(reference, withTimeline: true, ct);
        if (instance is null) return null;
        var (row, timers, timeline, messages) = (instance.Row, instance.Timers, instance.Timeline, instance.Messages);
        using var state = JsonDocument.Parse(row.State);
        return new InstanceView(row.Reference, row.Type, row.Status, row.Completed, row.Summary, row.Version, row.CreatedAt, row.UpdatedAt, state.RootElement.Clone(),
            timers.Select(t => new TimerView(t.Name, t.DueAt, Local(t.DueAt))).ToList(),
            timeline.Select(e =>
            {
                using var d = JsonDocument.Parse(e.Data);
                return new TimelineView(e.Seq, e.Type, d.RootElement.Clone(), e.ActorId, e.ActorRole, e.At, Local(e.At));
            }).ToList(),
            messages.Select(MessageView.From).ToList());
    }

    /// <summary>Why a cancellation reason is refused, or null when it will do (shared with the instance page).</summary>
    public static string? CancelReasonError(string? reason) =>
        string.IsNullOrWhiteSpace(reason) ? "A reason is required to cancel an instance."
        : reason.Length > 2000 ? "The reason is longer than 2,000 characters." : null;

    private static async Task<Results<Ok<TransitionOutcome>, ProblemHttpResult>> CancelAsync(
        string reference, CancelRequest? body, HttpContext http, Workflows.WorkflowClient workflows, CancellationToken ct)
    {
        if (CancelReasonError(body?.Reason) is { } error) return Problems.Unprocessable(error);
        reference = reference.ToUpperInvariant();
        if (!References.IsWellFormed(reference)) return Problems.NotFound(reference);
        var outcome = await workflows.CancelAsync(reference, body!.Reason!.Trim(), http.User.ToActor(), ct);
        return Problems.For(outcome) is { } p ? p : TypedResults.Ok(outcome);
    }
}
