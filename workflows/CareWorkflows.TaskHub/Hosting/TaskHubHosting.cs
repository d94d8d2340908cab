using CareWorkflows.TaskHub.Engine;
using CareWorkflows.TaskHub.Grpc;
using CareWorkflows.TaskHub.Postgres;
using CareWorkflows.TaskHub.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;
using Npgsql;

namespace CareWorkflows.TaskHub.Hosting;

public static class TaskHubHosting
{
    /// <summary>
    /// Our Durable Task server inside the app: the store, the dispatcher, housekeeping, and a gRPC listener of its own on
    /// <see cref="TaskHubOptions.GrpcEndpoint"/> (HTTP/2), which Microsoft's worker and client — in this process or
    /// another — connect to. Needs an <see cref="IClock"/> registered (the system clock or the simulation clock).
    /// Register it before the Durable Task worker so the listener is up when the worker connects.
    /// </summary>
    public static IServiceCollection AddTaskHubServer(this IServiceCollection services, ITaskHubStore store, TaskHubOptions options)
    {
        services.AddSingleton(store);
        services.AddSingleton(options);
        services.AddSingleton<TaskHubSignals>();
        services.AddSingleton<WorkDispatcher>();
        services.AddSingleton<TaskHubGrpcService>();
        services.AddHostedService<TaskHubStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkDispatcher>());
        services.AddHostedService<TaskHubGrpcListener>();
        if (store is PostgresTaskHubStore) services.AddHostedService<PostgresWorkListener>();
        if (options.Retention is not null) services.AddHostedService<RetentionPurge>();
        return services;
    }
}

/// <summary>Migrates the store before anything else of the server starts.</summary>
internal sealed class TaskHubStartup(ITaskHubStore store) : IHostedService
{
    public Task StartAsync(CancellationToken ct) => store.MigrateAsync(ct);
    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// The gRPC endpoint: a small Kestrel server of its own (HTTP/2 without TLS) serving <see cref="TaskHubGrpcService"/>, so
/// the server is reachable whatever hosts the app (Kestrel, a test server) and from other processes.
/// </summary>
public sealed class TaskHubGrpcListener(TaskHubGrpcService service, WorkDispatcher dispatcher, TaskHubOptions options, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken ct)
    {
        var uri = new Uri(options.GrpcEndpoint);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(TaskHubGrpcListener).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (uri.Host is "localhost") k.ListenLocalhost(uri.Port, l => l.Protocols = HttpProtocols.Http2);
            else k.Listen(System.Net.IPAddress.Parse(uri.Host == "*" ? "0.0.0.0" : uri.Host), uri.Port, l => l.Protocols = HttpProtocols.Http2);
            k.Limits.MaxRequestBodySize = null;
        });
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = 16 * 1024 * 1024; // a step with many actions; payloads are checked one by one
            o.MaxSendMessageSize = null;
            o.EnableDetailedErrors = false;
            o.Interceptors.Add<StoreUnavailableInterceptor>();
        });
        builder.Services.AddSingleton(service);
        _app = builder.Build();
        _app.MapGrpcService<TaskHubGrpcService>();
        await _app.StartAsync(ct);
    }

    public async Task StopAsync(CancellationToken ct)
    {
        dispatcher.CloseStreams(); // workers reconnect at once instead of waiting out the stream
        if (_app is not null) await _app.StopAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}

/// <summary>
/// PostgreSQL: LISTEN for the NOTIFY sent by any node's transaction that made work visible, and wake the dispatcher,
/// so new work is picked up within moments without polling.
/// </summary>
internal sealed class PostgresWorkListener(ITaskHubStore store, TaskHubSignals signals, ILogger<PostgresWorkListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var source = ((PostgresTaskHubStore)store).DataSource;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var c = await source.OpenConnectionAsync(ct);
                c.Notification += (_, _) => signals.WorkAvailable();
                await using (var cmd = new NpgsqlCommand($"LISTEN {PostgresTaskHubStore.WorkChannel}", c)) await cmd.ExecuteNonQueryAsync(ct);
                while (!ct.IsCancellationRequested) await c.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning(e, "LISTEN connection lost; reconnecting.");
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}

/// <summary>Purges instances that ended longer ago than the retention setting, once an hour.</summary>
internal sealed class RetentionPurge(ITaskHubStore store, IClock clock, TaskHubOptions options, ILogger<RetentionPurge> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        do
        {
            try
            {
                var before = clock.GetCurrentInstant() - options.Retention!.Value;
                var n = await store.PurgeInstancesAsync(new PurgeFilter(null, null, before, TaskHubStatus.Terminal), ct);
                if (n > 0) logger.LogInformation("Purged {Count} instances that ended before {Before} (retention {Retention}).", n, before, options.Retention);
            }
            catch (Exception e) when (!ct.IsCancellationRequested) { logger.LogError(e, "Retention purge failed."); }
        } while (await timer.WaitForNextTickAsync(ct).AsTask().ContinueWith(t => !t.IsCanceled && t.Result, TaskScheduler.Default));
    }
}

/// <summary>
/// A store that cannot be reached (the database down, restarting or out of connections: a transient
/// <see cref="System.Data.Common.DbException"/>, or a socket error under one) answers gRPC <c>Unavailable</c>, not
/// <c>Unknown</c>: clients and workers retry it, and the app's API answers 503 rather than 500.
/// </summary>
public sealed class StoreUnavailableInterceptor : global::Grpc.Core.Interceptors.Interceptor
{
    public static bool IsUnavailable(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is System.Data.Common.DbException { IsTransient: true } or System.Net.Sockets.SocketException) return true;
        return false;
    }

    private static global::Grpc.Core.RpcException Unavailable(Exception e) =>
        new(new global::Grpc.Core.Status(global::Grpc.Core.StatusCode.Unavailable, "The task hub's store is unavailable; try again.", e));

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, global::Grpc.Core.ServerCallContext context,
        global::Grpc.Core.UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (Exception e) when (e is not global::Grpc.Core.RpcException && IsUnavailable(e)) { throw Unavailable(e); }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, global::Grpc.Core.IServerStreamWriter<TResponse> responseStream,
        global::Grpc.Core.ServerCallContext context, global::Grpc.Core.ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (Exception e) when (e is not global::Grpc.Core.RpcException && IsUnavailable(e)) { throw Unavailable(e); }
    }
}
