using System.Net;
using System.Net.Sockets;
using CareWorkflows.TaskHub.Engine;
using CareWorkflows.TaskHub.Hosting;
using CareWorkflows.TaskHub.Postgres;
using CareWorkflows.TaskHub.Sqlite;
using CareWorkflows.TaskHub.Store;
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

namespace CareWorkflows.Bench;

/// <summary>
/// One Durable Task backend with Microsoft's real worker and client (Microsoft.DurableTask 1.28, gRPC) connected to it —
/// the same set-ups as tests/CareWorkflows.Tests/TaskHub/Backends.cs, without the test clock.
/// </summary>
public sealed class Engine(string name, DurableTaskClient client, Func<ValueTask> dispose, string? database = null) : IAsyncDisposable
{
    /// <summary>The PostgreSQL database of our server (ours-pg), for counting its transactions.</summary>
    public string? Database { get; } = database;
    public string Name { get; } = name;
    public DurableTaskClient Client { get; } = client;
    public ValueTask DisposeAsync() => dispose();

    /// <summary>
    /// Systems: ours-pg, ours-sqlite, inproc, azure-storage. <paramref name="database"/>: an existing PostgreSQL database
    /// for ours-pg (one seeded in bulk), instead of a new one.
    /// </summary>
    public static async Task<Engine> StartAsync(string system, ChildContext x, Action<DurableTaskRegistry> tasks, string? database = null)
    {
        switch (system)
        {
            case "ours-pg":
            case "ours-sqlite":
            {
                database ??= system == "ours-pg" ? x.NewPgDatabase("cwb_dt") : null;
                ITaskHubStore store = database is not null
                    ? new PostgresTaskHubStore(database)
                    : new SqliteTaskHubStore(Path.Combine(Path.GetTempPath(), $"cwbench-{Guid.NewGuid():N}.db"));
                var options = new TaskHubOptions { GrpcEndpoint = $"http://127.0.0.1:{FreePort()}" };
                var builder = Host.CreateApplicationBuilder();
                builder.Logging.ClearProviders();
                builder.Services.AddSingleton<IClock>(SystemClock.Instance);
                builder.Services.AddTaskHubServer(store, options);
                builder.Services.AddDurableTaskWorker(b => { b.AddTasks(tasks); b.UseGrpc(options.GrpcEndpoint); });
                builder.Services.AddDurableTaskClient(b => b.UseGrpc(options.GrpcEndpoint));
                var host = builder.Build();
                await host.StartAsync();
                return new Engine(system, host.Services.GetRequiredService<DurableTaskClient>(), async () =>
                {
                    await host.StopAsync(TimeSpan.FromSeconds(10));
                    host.Dispose();
                }, database);
            }
            case "inproc":
            {
                var host = await DurableTaskTestHost.StartAsync(tasks, new DurableTaskTestHostOptions { Port = FreePort() });
                return new Engine(system, host.Client, () => host.DisposeAsync());
            }
            case "azure-storage":
                return await AzureStorageAsync(x, tasks);
            default:
                throw new ArgumentOutOfRangeException(nameof(system), system, "unknown system");
        }
    }

    private static async Task<Engine> AzureStorageAsync(ChildContext x, Action<DurableTaskRegistry> tasks)
    {
        var settings = new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = "cwb" + Guid.NewGuid().ToString("N")[..12],
            StorageAccountClientProvider = new StorageAccountClientProvider(x.Azurite ?? throw new InvalidOperationException("no Azurite connection string (--azurite)")),
            // Defaults of the package (4 partitions), as a Durable Functions app gets them; polling tightened like the tests.
            MaxQueuePollingInterval = TimeSpan.FromMilliseconds(500),
        };
        var service = new AzureStorageOrchestrationService(settings);
        await service.CreateIfNotExistsAsync();
        var address = $"http://127.0.0.1:{FreePort()}";
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
                web.Configure(app => { app.UseRouting(); app.UseEndpoints(e => e.MapGrpcService<TaskHubGrpcServer>()); });
            }).Build();
        await sidecar.StartAsync();
        var worker = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .ConfigureServices(s =>
            {
                s.AddDurableTaskWorker(b => { b.AddTasks(tasks); b.UseGrpc(address); });
                s.AddDurableTaskClient(b => b.UseGrpc(address));
            }).Build();
        await worker.StartAsync();
        return new Engine("azure-storage", worker.Services.GetRequiredService<DurableTaskClient>(), async () =>
        {
            await worker.StopAsync(TimeSpan.FromSeconds(10));
            worker.Dispose();
            await sidecar.StopAsync(TimeSpan.FromSeconds(10));
            sidecar.Dispose();
            await service.DeleteAsync();
        });
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
