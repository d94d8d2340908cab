using CareWorkflows.Definitions;
using CareWorkflows.Functions.Extensions;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace CareWorkflows.Functions.Apis;

public sealed record MessageRetried(Guid Id, string Reference, string Status);

/// <summary>A failed message as operators see it: which instance, to whom, why it failed (no body: it may hold personal data).</summary>
public sealed record FailedMessageView(Guid Id, string Reference, string Channel, string To, string Purpose, string Subject, int Attempts, Instant CreatedAt,
    string? Provider, string? LastError, string? DeliveryStatus)
{
    public static FailedMessageView From(OutboxMessage m) => new(m.Id, m.Reference, m.Channel.ToString().ToLowerInvariant(), m.To, m.Purpose, m.Subject,
        m.Attempts, m.CreatedAt, m.Provider, m.LastError, m.DeliveryStatus);
}

/// <summary>
/// Operators' view of messages that could not be delivered (DESIGN: "retry a failed message"). A retry puts the
/// message back to pending with its attempts reset; the dispatcher sends it on its next pass with the same outbox id
/// (the provider's idempotency key). The workflow already heard about the failure (MessageFailed) when it happened.
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

    private static async Task<Results<Ok<MessageRetried>, ProblemHttpResult>> RetryAsync(string id, IWorkflowStore store, IClock clock, CancellationToken ct)
    {
        var (result, problem) = await RetryMessageAsync(id, store, clock, ct);
        return problem is { } p ? TypedResults.Problem(statusCode: p.Status, title: p.Title, detail: p.Detail) : TypedResults.Ok(result!);
    }

    /// <summary>Requeues one failed message (shared with the operations page): 404 unknown id, 409 not failed.</summary>
    public static async Task<(MessageRetried? Result, (int Status, string Title, string Detail)? Problem)> RetryMessageAsync(string id, IWorkflowStore store, IClock clock, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var guid)) return (null, (404, "Not found", $"There is no message {id}."));
        var message = await store.GetMessageAsync(guid, ct);
        if (message is null) return (null, (404, "Not found", $"There is no message {id}."));
        if (message.Status != OutboxStatus.Failed || !await store.RequeueMessageAsync(guid, clock.GetCurrentInstant(), ct))
            return (null, (409, "Not possible in the current state", $"Message {id} is {message.Status}, not Failed: only failed messages are retried."));
        return (new MessageRetried(guid, message.Reference, OutboxStatus.Pending.ToString()), null);
    }
}
