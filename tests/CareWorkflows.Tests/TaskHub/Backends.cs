using System.Net;
using System.Net.Sockets;
using CareWorkflows.TaskHub.Engine;
using CareWorkflows.TaskHub.Hosting;
using CareWorkflows.TaskHub.Postgres;
using CareWorkflows.TaskHub.Sqlite;
using CareWorkflows.TaskHub.Store;
using CareWorkflows.Tests.Infrastructure;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace CareWorkflows.Tests.TaskHub;

/// <summary>
/// A Durable Task backend the conformance suite runs against, with Microsoft's real worker and client connected to it.
/// </summary>
public interface IConformanceBackend : IAsyncDisposable
{
    string Name { get; }
    DurableTaskClient Client { get; }

    /// <summary>Null where the backend's time is the wall clock only (then cases that move time are skipped, saying so).</summary>
    Func<Duration, Task>? Advance { get; }
}

/// <summary>A clock that follows the wall clock but can be skipped forward (never back): our server's time in the suite.</summary>
public sealed class SkippingClock : IAdjustableClock
{
    private long _offsetTicks;

    public Instant GetCurrentInstant() => SystemClock.Instance.GetCurrentInstant() + Duration.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void MoveTo(Instant to)
    {
        var now = GetCurrentInstant();
        if (to > now) Interlocked.Add(ref _offsetTicks, (to - now).BclCompatibleTicks);
    }
}

public static class Ports
{
    public static int Free()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>Our Durable Task server (SQLite or PostgreSQL) with Microsoft's worker and client over gRPC.</summary>
public sealed class OurServerBackend : IConformanceBackend
{
    private readonly IHost _host;

    private OurServerBackend(string name, IHost host, ITaskHubStore store)
    {
        Name = name;
        _host = host;
        Store = store;
        Client = host.Services.GetRequiredService<DurableTaskClient>();
        var advancer = host.Services.GetRequiredService<ClockAdvancer>();
        Advance = by => advancer.MoveToAsync(advancer.Clock.GetCurrentInstant() + by, TimeSpan.FromSeconds(60));
    }

    public string Name { get; }
    public DurableTaskClient Client { get; }
    public Func<Duration, Task>? Advance { get; }
    public ITaskHubStore Store { get; }
    public IServiceProvider Services => _host.Services;

    public static ITaskHubStore NewStore(string kind) => kind switch
    {
        TestDatabases.StoreSqlite => new SqliteTaskHubStore(TestDatabases.NewSqlitePath()),
        TestDatabases.StorePostgres => new PostgresTaskHubStore(TestDatabases.NewPostgresDatabase()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static async Task<OurServerBackend> StartAsync(string kind, Action<DurableTaskRegistry> tasks, ITaskHubStore? store = null,
        Action<TaskHubOptions>? configure = null, IAdjustableClock? clock = null)
    {
        store ??= NewStore(kind);
        var options = new TaskHubOptions { GrpcEndpoint = $"http://127.0.0.1:{Ports.Free()}", PollInterval = TimeSpan.FromSeconds(1) };
        configure?.Invoke(options);
        clock ??= new SkippingClock();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IClock>(clock);
        builder.Services.AddSingleton(clock);
        builder.Services.AddTaskHubServer(store, options);
        builder.Services.AddSingleton<ClockAdvancer>();
        builder.Services.AddDurableTaskWorker(b =>
        {
            b.AddTasks(tasks);
            b.UseGrpc(options.GrpcEndpoint);
        });
        builder.Services.AddDurableTaskClient(b => b.UseGrpc(options.GrpcEndpoint));
        var host = builder.Build();
        await host.StartAsync();
        return new OurServerBackend($"ours-{kind}", host, store);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(10));
        _host.Dispose();
    }
}

/// <summary>Microsoft's in-process test host (in memory, wall clock): the reference.</summary>
public sealed class InProcessBackend(DurableTaskTestHost host) : IConformanceBackend
{
    public string Name => "in-process-test-host";
    public DurableTaskClient Client => host.Client;
    public Func<Duration, Task>? Advance => null;

    public static async Task<InProcessBackend> StartAsync(Action<DurableTaskRegistry> tasks) =>
        new(await DurableTaskTestHost.StartAsync(tasks, new DurableTaskTestHostOptions { Port = Ports.Free() }));

    public ValueTask DisposeAsync() => host.DisposeAsync();
}

/// <summary>
/// DurableTask.AzureStorage (the backend Durable Functions uses in Azure) on Azurite, behind the in-process test host's
/// public <see cref="TaskHubGrpcServer"/>, with Microsoft's worker and client connected over gRPC.
/// </summary>
public sealed class AzureStorageBackend : IConformanceBackend
{
    private readonly IHost _sidecar, _worker;
    private readonly AzureStorageOrchestrationService _service;

    private AzureStorageBackend(IHost sidecar, IHost worker, AzureStorageOrchestrationService service)
    {
        _sidecar = sidecar;
        _worker = worker;
        _service = service;
        Client = worker.Services.GetRequiredService<DurableTaskClient>();
    }

    public string Name => "azure-storage-azurite";
    public DurableTaskClient Client { get; }
    public Func<Duration, Task>? Advance => null;

    public static string Azurite =>
        Environment.GetEnvironmentVariable("CW_TEST_AZURITE") is { Length: > 0 } cs ? cs
        : throw new InvalidOperationException("CW_TEST_AZURITE is not set: run the tests with scripts/test.sh, which starts Azurite.");

    public static async Task<AzureStorageBackend> StartAsync(Action<DurableTaskRegistry> tasks)
    {
        var settings = new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = "cw" + Guid.NewGuid().ToString("N")[..12],
            StorageAccountClientProvider = new StorageAccountClientProvider(Azurite),
            PartitionCount = 1,
            MaxQueuePollingInterval = TimeSpan.FromMilliseconds(500),
        };
        var service = new AzureStorageOrchestrationService(settings);
        await service.CreateIfNotExistsAsync();
        var address = $"http://127.0.0.1:{Ports.Free()}";
        var sidecar = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureWebHostDefaults(web =>
            {
                web.UseUrls(address);
                web.ConfigureKestrel(k => k.ConfigureEndpointDefaults(l => l.Protocols = HttpProtocols.Http2));
                web.ConfigureServices(s =>
                {
                    s.AddGrpc();
                    s.AddSingleton<IOrchestrationService>(service);
                    s.AddSingleton<IOrchestrationServiceClient>(service);
                    s.AddSingleton<TaskHubGrpcServer>();
                });
                web.Configure(app =>
                {
                    app.UseRouting();
                    app.UseEndpoints(e => e.MapGrpcService<TaskHubGrpcServer>());
                });
            }).Build();
        await sidecar.StartAsync();
        var worker = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureServices(s =>
            {
                s.AddDurableTaskWorker(b =>
                {
                    b.AddTasks(tasks);
                    b.UseGrpc(address);
                });
                s.AddDurableTaskClient(b => b.UseGrpc(address));
            }).Build();
        await worker.StartAsync();
        return new AzureStorageBackend(sidecar, worker, service);
    }

    public async ValueTask DisposeAsync()
    {
        await _worker.StopAsync(TimeSpan.FromSeconds(10));
        _worker.Dispose();
        await _sidecar.StopAsync(TimeSpan.FromSeconds(10));
        _sidecar.Dispose();
        await _service.DeleteAsync();
    }
}
