using Azure.Monitor.OpenTelemetry.Exporter;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CareWorkflows.Functions.Extensions;

/// <summary>
/// OpenTelemetry traces, metrics and logs. Sources: the Durable Task server's ActivitySource and meter (one span per
/// orchestration step, tagged workflow.reference/orchestration/delivered; steps, timers fired and their lateness), the
/// service's meter (messages sent/failed, instances by type and status), ASP.NET Core and HttpClient. Exporters: Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING
/// is set, OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (both may be), none otherwise.
/// </summary>
public static class Telemetry
{
    public const string ServiceName = "careworkflows";

    public static WebApplicationBuilder AddCareWorkflowsTelemetry(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeFormattedMessage = true;
            o.IncludeScopes = true;
        });
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(config["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : ServiceName))
            .WithTracing(t => t
                .AddSource(CareWorkflows.TaskHub.Engine.TaskHubTelemetry.Name)
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/health"))
                .AddHttpClientInstrumentation())
            .WithMetrics(m => m
                .AddMeter(RuntimeMetrics.MeterName, CareWorkflows.TaskHub.Engine.TaskHubTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation());

        builder.Services.AddHostedService<InstanceCountsRefresher>();

        if (!string.IsNullOrEmpty(config["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
            otel.UseAzureMonitorExporter(o => o.ConnectionString = config["APPLICATIONINSIGHTS_CONNECTION_STRING"]);
        if (!string.IsNullOrEmpty(config["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter();
        return builder;
    }
}

/// <summary>Counts instances by type and status once a minute for the <c>careworkflows.instances</c> gauge.</summary>
public sealed class InstanceCountsRefresher(CareWorkflows.Functions.Workflows.WorkflowClient workflows, ILogger<InstanceCountsRefresher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await RuntimeMetrics.RefreshInstanceCountsAsync(workflows.CountByStatusAsync, Interval, stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Counting instances for the instances-by-state metric failed");
            }
            try { await Task.Delay(Interval, stoppingToken); }
            catch (OperationCanceledException) { }
        }
    }
}
