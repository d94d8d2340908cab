using System.Diagnostics;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using CareWorkflows.Tests.Runtime;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CareWorkflows.Tests.Hosting;

/// <summary>
/// What the app's OpenTelemetry set-up (functions/Extensions/Telemetry.cs) collects, read with the in-memory exporter
/// added beside it: a span per input applied and the runtime's metrics.
/// </summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task Each_input_applied_is_one_span_and_a_fired_timer_is_counted()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        await using var app = new CareWorkflowsApp(services: s =>
        {
            s.AddSingleton<IWorkflowDefinition>(new TestWorkflow());
            s.ConfigureOpenTelemetryTracerProvider(b => b.AddInMemoryExporter(spans));
            s.ConfigureOpenTelemetryMeterProvider(b => b.AddInMemoryExporter(metrics));
        });
        var runtime = app.Services.GetRequiredService<WorkflowRuntime>();
        var clock = app.Services.GetRequiredService<SimulationClock>();
        // The timer name is unique to this test: the runtime's meter is process-wide and other tests fire timers too.
        var timer = "otel-" + Guid.NewGuid().ToString("N")[..8];
        var started = await runtime.StartAsync("TST", new TestWorkflow.Begin("telemetry", [(timer, Duration.FromMinutes(30))]), RuntimeHarness.Tester);
        var reference = started.Reference!;
        Assert.Equal(OutcomeKind.Applied, (await runtime.ApplyAsync(reference, new TestWorkflow.Poke(1), RuntimeHarness.Tester)).Kind);
        clock.MoveTo(clock.GetCurrentInstant() + Duration.FromMinutes(31));
        // A caller's span around the pump's pass (sampled, so the runtime's span under it is recorded too).
        using (new Activity("timer-loop-tick") { ActivityTraceFlags = ActivityTraceFlags.Recorded }.Start())
            Assert.Equal(1, await app.Services.GetRequiredService<TimerPump>().RunDueAsync());

        app.Services.GetRequiredService<TracerProvider>().ForceFlush();
        app.Services.GetRequiredService<MeterProvider>().ForceFlush();

        List<Activity> mine;
        lock (spans) mine = spans.Where(a => a.Source.Name == "CareWorkflows.Runtime" && (a.GetTagItem("workflow.reference") as string) == reference).ToList();
        Assert.Equal(["workflow.start", "workflow.apply", "workflow.apply"], mine.Select(a => a.OperationName));
        Assert.Equal(["Begin", "Poke", "TimerFired"], mine.Select(a => a.GetTagItem("workflow.input")));
        Assert.All(mine, a =>
        {
            Assert.Equal("TST", a.GetTagItem("workflow.type"));
            Assert.Equal("Open", a.GetTagItem("workflow.outcome"));
        });
        // The timer's span sits inside the span of the pass that fired it.
        Assert.Equal("timer-loop-tick", mine[2].Parent?.OperationName);

        long fired = 0;
        double? lateness = null;
        lock (metrics)
            foreach (var metric in metrics.Where(m => m.MeterName == RuntimeMetrics.MeterName))
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var tagged = false;
                    foreach (var tag in point.Tags) tagged |= tag.Key == "timer.name" && (string?)tag.Value == timer;
                    if (!tagged) continue;
                    if (metric.Name == "careworkflows.timers.fired") fired = point.GetSumLong();
                    if (metric.Name == "careworkflows.timers.lateness") lateness = point.GetHistogramSum();
                }
        Assert.Equal(1, fired);
        Assert.Equal(60, lateness); // due at +30 min, fired at +31 min (simulation clock)
    }
}

public sealed class InstanceCountMetricTests
{
    [Theory]
    [MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task The_instances_gauge_reports_instances_by_type_and_status(string kind)
    {
        var harness = new RuntimeHarness(await TestDatabases.NewStoreAsync(kind));
        var open = await harness.StartAsync("one");
        await harness.StartAsync("two");
        Assert.Equal(OutcomeKind.Applied, (await harness.Runtime.ApplyAsync(open, new TestWorkflow.Finish(), RuntimeHarness.Tester)).Kind);

        Assert.Equal([new StatusCount("TST", "Done", 1), new StatusCount("TST", "Open", 1)],
            (await ((IInstanceCounts)harness.Store).CountByStatusAsync()).OrderBy(c => c.Status));

        // The gauge reads the last count; the snapshot is process-wide, so observe right after counting (and again
        // if another app in this test process counted its own database in between).
        Dictionary<string, long> seen = [];
        for (var attempt = 0; attempt < 3 && !(seen.GetValueOrDefault("Done") == 1 && seen.GetValueOrDefault("Open") == 1); attempt++)
        {
            seen.Clear();
            await RuntimeMetrics.RefreshInstanceCountsAsync(harness.Store, TimeSpan.Zero);
            using var listener = new System.Diagnostics.Metrics.MeterListener();
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RuntimeMetrics.MeterName && instrument.Name == "careworkflows.instances") l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string? type = null, status = null;
                foreach (var t in tags)
                {
                    if (t.Key == "workflow.type") type = t.Value as string;
                    if (t.Key == "workflow.status") status = t.Value as string;
                }
                if (type == "TST" && status is not null) seen[status] = value;
            });
            listener.Start();
            listener.RecordObservableInstruments();
        }
        Assert.Equal(1, seen.GetValueOrDefault("Done"));
        Assert.Equal(1, seen.GetValueOrDefault("Open"));
    }
}
