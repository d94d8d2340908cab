using Microsoft.DurableTask;

namespace CareWorkflows.Definitions.Visits;

/// <summary>A no-reply to start from a visit alert (the alert desk reported no reply at the door).</summary>
/// <param name="Key">Idempotency key: one no-reply per alert, however often the activity runs.</param>
public sealed record NoReplyStart(string AlertReference, NoReply.Report Report, Actor Actor, string Key);

/// <summary>The no-reply started (its reference), or why not.</summary>
public sealed record NoReplyStarted(string? Reference, string? Refused);

/// <summary>Starts a no-reply instance. The edges implement it (the workflow client); the same key gives the same instance.</summary>
public interface INoReplyStarter
{
    Task<NoReplyStarted> StartAsync(NoReplyStart start, CancellationToken ct);
}

/// <summary>Hands a visit alert over to the no-reply procedure (B Appendix E): starts its instance.</summary>
[DurableTask(VisitAlertOrchestration.StartNoReplyActivity)]
public sealed class StartNoReply(INoReplyStarter starter) : TaskActivity<NoReplyStart, NoReplyStarted>
{
    public override Task<NoReplyStarted> RunAsync(TaskActivityContext context, NoReplyStart input) => starter.StartAsync(input, CancellationToken.None);
}
