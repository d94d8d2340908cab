using System.Diagnostics;
using System.Diagnostics.Metrics;
using CareWorkflows.TaskHub.Store;
using NodaTime;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.TaskHub.Engine;

/// <summary>
/// The server's traces and metrics (ActivitySource and Meter <c>CareWorkflows.TaskHub</c>): one span per orchestration step
/// committed, tagged with the instance (its reference), the orchestration and what the step delivered; durable timers
/// fired and their lateness (step time − fire time, on the server's clock, so 0 under the simulation clock).
/// </summary>
public static class TaskHubTelemetry
{
    public const string Name = "CareWorkflows.TaskHub";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Steps = Meter.CreateCounter<long>("careworkflows.orchestration.steps", "{step}", "Orchestration steps committed");
    public static readonly Counter<long> TimersFired = Meter.CreateCounter<long>("careworkflows.timers.fired", "{timer}", "Durable timers delivered to their orchestration");
    public static readonly Histogram<double> TimerLateness = Meter.CreateHistogram<double>("careworkflows.timers.lateness", "s", "Seconds between a durable timer's fire time and the step that delivered it");

    /// <summary>Records a committed step: its span (from when it was sent to the worker) and its timers.</summary>
    public static void StepCommitted(OrchestrationWorkItem item, IReadOnlyList<InboxMessage> delivered, Instant stepAt, DateTimeOffset sentAt, string? outcome)
    {
        var orchestration = new KeyValuePair<string, object?>("workflow.orchestration", item.Name);
        Steps.Add(1, orchestration);
        var timers = 0;
        foreach (var m in delivered)
            if (m.Event.TimerFired?.FireAt is { } fireAt)
            {
                timers++;
                TimersFired.Add(1, orchestration);
                TimerLateness.Record(Math.Max(0, (stepAt - Instant.FromDateTimeOffset(fireAt.ToDateTimeOffset())).TotalSeconds), orchestration);
            }
        using var span = Source.StartActivity("orchestration.step", ActivityKind.Internal, parentContext: default, startTime: sentAt);
        if (span is null) return;
        span.SetTag("workflow.reference", item.InstanceId);
        span.SetTag("workflow.orchestration", item.Name);
        span.SetTag("workflow.delivered", string.Join(",", delivered.Select(m => m.Event.EventTypeCase.ToString())));
        span.SetTag("workflow.timers_fired", timers);
        if (outcome is not null) span.SetTag("workflow.outcome", outcome);
    }
}
