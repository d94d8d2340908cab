using System.Diagnostics.Metrics;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Runtime.Engine;

/// <summary>
/// The runtime's own metrics (meter <c>CareWorkflows.Runtime</c>, beside the ActivitySource of the same name).
/// Exported by whatever the host wires up (functions/Extensions/Telemetry.cs); free when nobody listens.
/// </summary>
public static class RuntimeMetrics
{
    public const string MeterName = "CareWorkflows.Runtime";
    public static readonly Meter Meter = new(MeterName);

    /// <summary>Timers the pump found due and claimed.</summary>
    public static readonly Counter<long> TimersDue = Meter.CreateCounter<long>("careworkflows.timers.due", "{timer}", "Timers found due and claimed by the timer pump");

    /// <summary>Timers whose transition committed.</summary>
    public static readonly Counter<long> TimersFired = Meter.CreateCounter<long>("careworkflows.timers.fired", "{timer}", "Timers fired (their transition committed)");

    /// <summary>How long after its due time each timer fired: the promise is about a second.</summary>
    public static readonly Histogram<double> TimerLateness = Meter.CreateHistogram<double>("careworkflows.timers.lateness", "s", "Seconds between a timer's due time and its firing");

    public static readonly Counter<long> MessagesSent = Meter.CreateCounter<long>("careworkflows.messages.sent", "{message}", "Outbox messages handed to a channel");

    /// <summary>Failed send attempts; <c>final</c>=true when the message was given up and its workflow told.</summary>
    public static readonly Counter<long> MessagesFailed = Meter.CreateCounter<long>("careworkflows.messages.failed", "{message}", "Outbox send attempts that failed");

    /// <summary>Instances entering a status (new instances and status changes), by workflow type and status.</summary>
    public static readonly Counter<long> InstancesEntered = Meter.CreateCounter<long>("careworkflows.instances.entered", "{instance}", "Instances entering a status, by type and status");

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

    public static void TimerFired(string name, Duration late)
    {
        var tag = new KeyValuePair<string, object?>("timer.name", name);
        TimersFired.Add(1, tag);
        TimerLateness.Record(Math.Max(0, late.TotalSeconds), tag);
    }

    public static void StatusEntered(string type, string status) =>
        InstancesEntered.Add(1, new KeyValuePair<string, object?>("workflow.type", type), new KeyValuePair<string, object?>("workflow.status", status));
}
