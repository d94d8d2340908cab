using CareWorkflows.Functions.Auth;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Functions.Apis;

public sealed record DevMessage(Guid Id, string Channel, string To, string Subject, string Body, IReadOnlyList<string> Links, Instant CreatedAt, string Reference, string Purpose);

/// <summary>Messages the dev channel has kept instead of sending. Only when a dev channel is configured.</summary>
public static class DevOutboxApi
{
    public static WebApplication MapDevOutboxApi(this WebApplication app)
    {
        if (!app.Services.GetServices<IMessageChannel>().Any(c => c is DevChannel)) return app;
        app.MapGet("/api/dev/outbox", async (string? reference, string? to, IWorkflowStore store, CancellationToken ct) =>
        {
            var messages = await store.GetMessagesAsync(reference?.ToUpperInvariant(), to, provider: "Dev", status: OutboxStatus.Sent, limit: 5000, ct: ct);
            return TypedResults.Ok(messages.Select(m => new DevMessage(m.Id, m.Channel.ToString().ToLowerInvariant(), m.To, m.Subject, m.Body, m.Links, m.CreatedAt, m.Reference, m.Purpose)).ToList());
        }).RequireAuthorization(Policies.Staff).WithTags("Dev"); // staff only: the kept messages hold every provider's signed links
        return app;
    }
}
