using System.Diagnostics;
using System.Net;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.QualityConcerns;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using CareWorkflows.TaskHub.Engine;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CareWorkflows.Tests.Hosting;

/// <summary>
/// What the app's OpenTelemetry set-up (functions/Extensions/Telemetry.cs) collects, read with the in-memory exporter
/// added beside it: a span per orchestration step committed by our Durable Task server, timers fired with their lateness,
/// messages sent.
/// </summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task Each_orchestration_step_is_one_span_and_fired_timers_and_sent_messages_are_counted()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        await using var app = new CareWorkflowsApp(services: s =>
        {
            s.ConfigureOpenTelemetryTracerProvider(b => b.AddInMemoryExporter(spans));
            s.ConfigureOpenTelemetryMeterProvider(b => b.AddInMemoryExporter(metrics));
        });
        var r = await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns",
            new { providerId = "east-kestrel", concern = "Late evening calls in the week of 16 Nov.", responseWorkingDays = 3 });
        Assert.Equal(HttpStatusCode.Created, r.Status);
        var reference = r.Str("reference");
        var view = await app.InstanceAsync(reference);
        var overdueAt = InstantPattern.ExtendedIso.Parse(view.GetProperty("timers").EnumerateArray()
            .Single(t => t.GetProperty("name").GetString() == QualityConcern.OverdueDeadline).GetProperty("dueAt").GetString()!).Value;
        await app.AdvanceToAsync(overdueAt + Duration.FromMinutes(1));
        await app.SettleAsync();

        app.Services.GetRequiredService<TracerProvider>().ForceFlush();
        app.Services.GetRequiredService<MeterProvider>().ForceFlush();

        List<Activity> mine;
        lock (spans) mine = spans.Where(a => a.Source.Name == TaskHubTelemetry.Name && (a.GetTagItem("workflow.reference") as string) == reference).ToList();
        Assert.NotEmpty(mine);
        Assert.All(mine, a =>
        {
            Assert.Equal("orchestration.step", a.OperationName);
            Assert.Equal(QualityConcern.Orchestration, a.GetTagItem("workflow.orchestration"));
        });
        Assert.Contains("ExecutionStarted", (string)mine[0].GetTagItem("workflow.delivered")!);
        // The reminder and the overdue deadline each came as a timer delivered to a step.
        Assert.True(mine.Sum(a => (int)a.GetTagItem("workflow.timers_fired")!) >= 2, string.Join(" | ", mine.Select(a => a.GetTagItem("workflow.delivered"))));

        long fired = 0, sent = 0;
        double? lateness = null;
        lock (metrics)
            foreach (var metric in metrics)
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var qc = false;
                    foreach (var tag in point.Tags) qc |= tag.Key == "workflow.orchestration" && (string?)tag.Value == QualityConcern.Orchestration;
                    if (metric.MeterName == TaskHubTelemetry.Name && qc && metric.Name == "careworkflows.timers.fired") fired = point.GetSumLong();
                    if (metric.MeterName == TaskHubTelemetry.Name && qc && metric.Name == "careworkflows.timers.lateness") lateness = point.GetHistogramSum();
                    if (metric.MeterName == RuntimeMetrics.MeterName && metric.Name == "careworkflows.messages.sent") sent += point.GetSumLong();
                }
        Assert.True(fired >= 2, $"timers fired: {fired}");
        Assert.Equal(0, lateness); // the simulation clock fires each timer at its own time
        Assert.True(sent >= 2, $"messages sent: {sent}"); // the concern, the reminder, the overdue notices
    }
}

public sealed class InstanceCountMetricTests
{
    [Theory]
    [MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task The_instances_gauge_reports_instances_by_type_and_status(string kind)
    {
        await using var app = new CareWorkflowsApp(kind, settings: new Dictionary<string, string?> { ["Providers:SeedDemo"] = "true" });
        var qa = app.As(Roles.QualityAssurance);
        var references = new List<string>();
        for (var i = 0; i < 2; i++)
            references.Add((await qa.PostJsonAsync("/api/quality-concerns", new { providerId = "east-kestrel", concern = $"Concern {i}: late calls.", responseWorkingDays = 3 })).Str("reference"));
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.Admin).PostJsonAsync($"/api/instances/{references[0]}/cancel", new { reason = "Raised in error" })).Status);
        var workflows = app.Services.GetRequiredService<CareWorkflows.Functions.Workflows.WorkflowClient>();

        Assert.Equal([new StatusCount(QualityConcern.Type, "AwaitingResponse", 1), new StatusCount(QualityConcern.Type, "Cancelled", 1)],
            (await workflows.CountByStatusAsync(TestContext.Current.CancellationToken)).Where(c => c.Type == QualityConcern.Type).OrderBy(c => c.Status));

        // The gauge reads the last count; the snapshot is process-wide, so observe right after counting (and again
        // if another app in this test process counted its own database in between).
        Dictionary<string, long> seen = [];
        for (var attempt = 0; attempt < 3 && !(seen.GetValueOrDefault("Cancelled") == 1 && seen.GetValueOrDefault("AwaitingResponse") == 1); attempt++)
        {
            seen.Clear();
            await RuntimeMetrics.RefreshInstanceCountsAsync(workflows.CountByStatusAsync, TimeSpan.Zero);
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
                if (type == QualityConcern.Type && status is not null) seen[status] = value;
            });
            listener.Start();
            listener.RecordObservableInstruments();
        }
        Assert.Equal(1, seen.GetValueOrDefault("Cancelled"));
        Assert.Equal(1, seen.GetValueOrDefault("AwaitingResponse"));
    }
}
