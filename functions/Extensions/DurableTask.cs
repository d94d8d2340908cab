using CareWorkflows.Definitions;
using CareWorkflows.Definitions.D2A;
using CareWorkflows.Definitions.Incidents;
using CareWorkflows.Definitions.QualityConcerns;
using CareWorkflows.Definitions.TrustedAssessor;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.TaskHub.Engine;
using CareWorkflows.TaskHub.Hosting;
using CareWorkflows.TaskHub.Postgres;
using CareWorkflows.TaskHub.Sqlite;
using CareWorkflows.TaskHub.Store;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Worker;
using NodaTime;

namespace CareWorkflows.Functions.Extensions;

/// <summary>
/// The workflows on Durable Task, standalone: our Durable Task server inside the app (store by Storage:Provider, gRPC on
/// DurableTask:GrpcEndpoint), Microsoft's worker running every orchestration and activity, and Microsoft's client the
/// APIs and pages use. In Azure the Functions host takes the server's place (docs/deployment.md).
/// </summary>
public static class DurableTaskHosting
{
    /// <summary>Every orchestration (one registration per version) and activity of the service.</summary>
    public static void RegisterWorkflows(DurableTaskRegistry r)
    {
        r.AddOrchestrator<QualityConcernOrchestration>();
        r.AddOrchestrator<D2AReferralOrchestration>();
        r.AddOrchestrator<SeriousIncidentOrchestration>();
        r.AddOrchestrator<Definitions.Visits.VisitAlertOrchestration>();
        r.AddOrchestrator<Definitions.Visits.NoReplyOrchestration>();
        r.AddActivity<Definitions.Visits.StartNoReply>();
        r.AddOrchestrator<TrustedAssessorAdjustmentOrchestration>();
        r.AddActivity<ClaimPackage>();
        r.AddActivity<SetPackageHours>();
        r.AddActivity<SendMessage>();
        r.AddActivity<Note>();
        r.AddActivity<ReadSetup>();
        r.AddActivity<HoldForCalendar>();
        r.AddActivity<PublishIntegrationEvent>();
    }

    /// <summary>Payloads (inputs, events, results, custom status) in the service's JSON: NodaTime in ISO, enums as names.</summary>
    public static readonly DataConverter Converter = new JsonDataConverter(WorkflowJson.Options);

    public static IServiceCollection AddDurableTaskWorkflows(this IServiceCollection services, IConfiguration config, string workerId, bool simulation,
        HostedEngine? engine = null)
    {
        services.AddSingleton<IMessageSender, MessageSender>();
        services.AddSingleton<IWorkflowSetupSource, WorkflowSetupSource>();
        services.AddSingleton<ICalendarAlerts, CalendarAlertsForOperators>();
        services.AddSingleton<IIntegrationPublisher, IntegrationPublisher>();
        services.AddSingleton<Definitions.Visits.INoReplyStarter, Visits.NoReplyStarter>();
        services.AddSingleton<WorkflowClient>();
        services.AddSingleton<MessageResender>();
        if (engine is not null)
        {
            // Azure Functions: the Durable extension runs the orchestrations and activities; the client is the host's.
            services.AddSingleton(engine.Client);
            return services;
        }

        var section = config.GetSection("DurableTask");
        var options = new TaskHubOptions
        {
            GrpcEndpoint = Endpoint(section["GrpcEndpoint"] ?? "http://127.0.0.1:4001"),
            Lease = Duration.FromSeconds(section.GetValue("LeaseSeconds", 30.0)),
            PollInterval = TimeSpan.FromSeconds(section.GetValue("PollSeconds", 5.0)),
            Retention = section.GetValue<double?>("RetentionDays") is { } days ? Duration.FromDays(days) : null,
            WorkerId = workerId,
        };
        var provider = config["Storage:Provider"] ?? "Sqlite";
        ITaskHubStore store = provider == "Postgres"
            ? new PostgresTaskHubStore(config.GetConnectionString("Postgres") ?? throw new InvalidOperationException("Storage:Provider is Postgres but ConnectionStrings:Postgres is not set."),
                section.GetValue<int?>("PostgresMaxConcurrentWrites"))
            : new SqliteTaskHubStore(config["Storage:SqlitePath"] ?? Path.Combine("data", "careworkflows.db"));
        services.AddTaskHubServer(store, options);
        if (simulation)
        {
            services.AddSingleton<IAdjustableClock>(sp => new SimulatedClock(sp.GetRequiredService<SimulationClock>()));
            services.AddSingleton<ClockAdvancer>();
            services.AddSingleton<ISimulatedEngine, TaskHubEngine>();
        }

        services.AddDurableTaskWorker(b =>
        {
            b.AddTasks(RegisterWorkflows);
            b.UseGrpc(options.GrpcEndpoint);
            b.Configure(o => o.DataConverter = Converter);
        });
        services.AddDurableTaskClient(b =>
        {
            b.UseGrpc(options.GrpcEndpoint);
            b.Configure(o => o.DataConverter = Converter);
        });
        return services;
    }

    /// <summary>Port 0 means "any free port" (tests, and several copies of the app on one machine): one is chosen now.</summary>
    private static string Endpoint(string configured)
    {
        var uri = new Uri(configured);
        if (uri.Port != 0) return configured;
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        return new UriBuilder(uri) { Port = port }.Uri.ToString().TrimEnd('/');
    }

    /// <summary>The simulation clock as the Durable Task server moves it.</summary>
    private sealed class SimulatedClock(SimulationClock clock) : IAdjustableClock
    {
        public Instant GetCurrentInstant() => clock.GetCurrentInstant();
        public void MoveTo(Instant to) { if (to > clock.GetCurrentInstant()) clock.MoveTo(to); }
    }

    /// <summary>The Durable Task server as the simulator drives it: its next timer, and waiting until all that is due is done.</summary>
    private sealed class TaskHubEngine(ITaskHubStore store, ClockAdvancer advancer, TaskHubSignals signals) : ISimulatedEngine
    {
        public Task<Instant?> NextDueAfterAsync(Instant now, CancellationToken ct) => store.NextVisibleAfterAsync(now, ct);

        public async Task SettleAsync(CancellationToken ct)
        {
            signals.WorkAvailable();
            await advancer.WaitForIdleAsync(TimeSpan.FromSeconds(120), ct);
        }
    }
}

/// <summary>
/// The orchestrations run elsewhere and <paramref name="Client"/> reaches them: under Azure Functions the Durable extension
/// runs them and the host binds the client. With it the app starts no Durable Task server or worker of its own.
/// </summary>
public sealed record HostedEngine(DurableTaskClient Client);
