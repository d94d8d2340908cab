using CareWorkflows.Functions.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CareWorkflows.FunctionApp.Hosting;

/// <summary>
/// The standalone app (functions/CareWorkflows.Functions: the same services, middleware, endpoints and pages) running
/// inside the Functions worker with the engine elsewhere (<see cref="HostedEngine"/>: no Durable Task server or worker of
/// its own) and no server of its own: the HTTP triggers hand it each request (<see cref="ServeAsync"/>) as Kestrel would.
/// </summary>
public sealed class HostedApp : IAsyncDisposable
{
    private readonly WebApplication? _app;

    /// <summary>The app's services (activities and timers take theirs from here).</summary>
    public IServiceProvider Services { get; }

    private HostedApp(WebApplication app, FunctionsServer server) : this(app.Services, server.ServeAsync)
    {
        _app = app;
    }

    private readonly Func<HttpContext, Task>? _serve;

    /// <summary>Services and, optionally, a stand-in pipeline (unit tests of the wrappers).</summary>
    internal HostedApp(IServiceProvider services, Func<HttpContext, Task>? serve = null)
    {
        Services = services;
        _serve = serve;
    }

    /// <param name="configure">Runs before the app's own registration (tests add settings here).</param>
    /// <param name="contentRoot">Where appsettings.json and wwwroot are: the app's folder (default).</param>
    public static async Task<HostedApp> StartAsync(HostedEngine engine, string environmentName, Action<WebApplicationBuilder>? configure = null,
        string? contentRoot = null, CancellationToken ct = default)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            // The standalone app's name: its Razor pages are found, and its settings read, exactly as when it runs alone.
            ApplicationName = typeof(CareWorkflowsServices).Assembly.GetName().Name,
            EnvironmentName = environmentName,
            ContentRootPath = contentRoot ?? AppContext.BaseDirectory,
        });
        configure?.Invoke(builder);
        builder.AddCareWorkflows(engine);
        var server = new FunctionsServer();
        builder.Services.AddSingleton<IServer>(server); // instead of Kestrel: the worker's own server takes the requests
        var app = builder.Build();
        await app.UseCareWorkflowsAsync();
        app.MapCareWorkflowsEndpoints();
        await app.StartAsync(ct);
        return new HostedApp(app, server);
    }

    /// <summary>Serves one request the Functions host forwarded to an HTTP trigger: the app writes the response.</summary>
    public Task ServeAsync(HttpContext http) =>
        (_serve ?? throw new InvalidOperationException("This app was made without its pipeline.")).Invoke(http);

    public async ValueTask DisposeAsync()
    {
        if (_app is null) return;
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(wait.Token);
        await _app.DisposeAsync();
    }

    /// <summary>
    /// A server that listens nowhere: it takes requests from the Functions worker's HttpContext. Each request gets a fresh
    /// context over the worker's request and response features (the same connection, body and headers; the forwarded
    /// scheme and host already applied), with the app's own request services, routing, user and items, so the app's
    /// hosting layer runs the pipeline exactly as under Kestrel.
    /// </summary>
    private sealed class FunctionsServer : IServer
    {
        private static readonly HashSet<Type> OwnedByTheWorker =
        [
            typeof(IServiceProvidersFeature), typeof(IEndpointFeature), typeof(IRouteValuesFeature), typeof(IHttpAuthenticationFeature),
            typeof(IItemsFeature), typeof(IHttpActivityFeature), typeof(IHttpMetricsTagsFeature), typeof(IFormFeature), typeof(IQueryFeature),
            typeof(IRequestCookiesFeature), typeof(IResponseCookiesFeature), typeof(ISessionFeature),
        ];

        private Func<HttpContext, Task>? _serve;

        public IFeatureCollection Features { get; } = ServerFeatures();

        private static FeatureCollection ServerFeatures()
        {
            var features = new FeatureCollection();
            features.Set<IServerAddressesFeature>(new ServerAddressesFeature()); // no addresses: links use Links:BaseUrl
            return features;
        }

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull
        {
            _serve = async outer =>
            {
                var features = new FeatureCollection();
                foreach (var (type, feature) in outer.Features)
                    if (!OwnedByTheWorker.Contains(type)) features[type] = feature;
                var context = application.CreateContext(features);
                Exception? error = null;
                try
                {
                    await application.ProcessRequestAsync(context);
                    // As Kestrel does before it lets go of a request: start the response (its OnStarting callbacks, e.g.
                    // the security headers, read this request's context, which is disposed below).
                    if (!outer.Response.HasStarted) await outer.Response.StartAsync();
                }
                catch (Exception e) { error = e; throw; }
                finally { application.DisposeContext(context, error); }
            };
            return Task.CompletedTask;
        }

        public Task ServeAsync(HttpContext outer) =>
            (_serve ?? throw new InvalidOperationException("The app has not started.")).Invoke(outer);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose() { }
    }
}

/// <summary>
/// Starts the hosted app when the worker starts (in the background: the worker answers the host at once) and stops it
/// with the worker. Every function awaits <see cref="ReadyAsync"/>.
/// </summary>
public sealed class AppHost(Func<CancellationToken, Task<HostedApp>> start) : IHostedService
{
    private readonly object _gate = new();
    private Task<HostedApp>? _app;

    /// <summary>An app that is already running (tests).</summary>
    public static AppHost Of(HostedApp app) => new(_ => Task.FromResult(app));

    public Task<HostedApp> ReadyAsync(CancellationToken ct = default) => Started().WaitAsync(ct);

    private Task<HostedApp> Started()
    {
        lock (_gate) return _app ??= Task.Run(() => start(CancellationToken.None));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Started();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task<HostedApp>? app;
        lock (_gate) app = _app;
        if (app is { IsCompletedSuccessfully: true }) await app.Result.DisposeAsync();
    }
}
