using CareWorkflows.Definitions;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Extensions;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace CareWorkflows.Functions.Apis;

public sealed record MessageRetried(Guid Id, string Reference, string Status, string? Error = null);

/// <summary>A failed message as operators see it: which instance, to whom, why it failed (no body: it may hold personal data).</summary>
public sealed record FailedMessageView(Guid Id, string Reference, string Channel, string To, string Purpose, string Subject, int Attempts, Instant CreatedAt,
    string? Provider, string? LastError, string? DeliveryStatus)
{
    public static FailedMessageView From(OutboxMessage m) => new(m.Id, m.Reference, m.Channel.ToString().ToLowerInvariant(), m.To, m.Purpose, m.Subject,
        m.Attempts, m.CreatedAt, m.Provider, m.LastError, m.DeliveryStatus);
}

/// <summary>
/// Operators' view of messages that could not be delivered (DESIGN: "retry a failed message"). A retry sends the stored
/// message again at once through its channel, with the same id (the provider's idempotency key), and answers with what
/// happened (Sent, or Failed with the error); the instance's timeline notes the retry. The orchestration already acted on
/// the failure (fell back, escalated) when it happened.
/// </summary>
public static class MessagesApi
{
    public static WebApplication MapMessagesApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/messages").RequireAuthorization(p => p.RequireRole(WebPages.OperatorRoles)).WithTags("Messages");
        api.MapGet("/failed", ListFailedAsync);
        api.MapPost("/{id}/retry", RetryAsync);
        return app;
    }

    private static async Task<Ok<List<FailedMessageView>>> ListFailedAsync(string? reference, IWorkflowStore store, CancellationToken ct) =>
        TypedResults.Ok((await FailedAsync(store, reference, ct)).Select(FailedMessageView.From).ToList());

    public static Task<IReadOnlyList<OutboxMessage>> FailedAsync(IWorkflowStore store, string? reference, CancellationToken ct) =>
        store.GetMessagesAsync(reference: reference?.Trim().ToUpperInvariant(), status: OutboxStatus.Failed, limit: 500, ct: ct);

    private static async Task<Results<Ok<MessageRetried>, ProblemHttpResult>> RetryAsync(string id, Workflows.MessageResender resender, HttpContext http, CancellationToken ct)
    {
        var (result, problem) = await resender.RetryAsync(id, http.User.ToActor(), ct);
        return problem is { } p ? TypedResults.Problem(statusCode: p.Status, title: p.Title, detail: p.Detail) : TypedResults.Ok(result!);
    }
}
