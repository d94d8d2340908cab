using System.Diagnostics.Metrics;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Runtime.Engine;

/// <summary>
/// The service's own metrics (meter <c>CareWorkflows.Runtime</c>): messages sent and failed, instances by type and status.
/// The Durable Task server has its own (steps, timers: CareWorkflows.TaskHub.Engine.TaskHubTelemetry). Exported by whatever
/// the host wires up (functions/Extensions/Telemetry.cs); free when nobody listens.
/// </summary>
public static class RuntimeMetrics
{
    public const string MeterName = "CareWorkflows.Runtime";
    public static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> MessagesSent = Meter.CreateCounter<long>("careworkflows.messages.sent", "{message}", "Messages handed to a channel");

    /// <summary>Failed send attempts; <c>final</c>=true when the message was given up (its orchestration is told).</summary>
    public static readonly Counter<long> MessagesFailed = Meter.CreateCounter<long>("careworkflows.messages.failed", "{message}", "Message send attempts that failed");

    private static volatile IReadOnlyList<StatusCount> _instanceCounts = [];
    private static long _countedAtTicks;

    /// <summary>Instances by type and status, as last counted (<see cref="RefreshInstanceCountsAsync"/>).</summary>
    public static readonly ObservableGauge<long> Instances = Meter.CreateObservableGauge("careworkflows.instances",
        () => _instanceCounts.Select(c => new Measurement<long>(c.Count,
            new KeyValuePair<string, object?>("workflow.type", c.Type), new KeyValuePair<string, object?>("workflow.status", c.Status))),
        "{instance}", "Instances by workflow type and status, as last counted");

    /// <summary>Counts instances by type and status for the gauge, at most once per <paramref name="minInterval"/>.</summary>
    public static async Task RefreshInstanceCountsAsync(Func<CancellationToken, Task<IReadOnlyList<StatusCount>>> count, TimeSpan minInterval, CancellationToken ct = default)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _countedAtTicks);
        if (last != 0 && minInterval > TimeSpan.Zero && now - last < minInterval.TotalMilliseconds) return;
        if (Interlocked.CompareExchange(ref _countedAtTicks, now, last) != last) return; // someone else is counting
        _instanceCounts = await count(ct);
    }


}
