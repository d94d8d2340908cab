using System.Security.Cryptography;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Hosting;
using CareWorkflows.Functions.Pages;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Links;
using CareWorkflows.Runtime.Postgres;
using CareWorkflows.Runtime.Sqlite;
using CareWorkflows.Runtime.Providers;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Runtime.Tables;
using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NodaTime;

namespace CareWorkflows.Functions.Extensions;

/// <summary>All service registration in one place; Program.cs stays a screenful.</summary>
public static class CareWorkflowsServices
{
    /// <param name="engine">
    /// Null standalone: our Durable Task server, Microsoft's worker and its client run in this process. Under Azure Functions
    /// (functions/FunctionApp) the Durable extension runs the orchestrations and this is the client the host binds; the
    /// app then starts no server, worker or listener of its own (the Function App's HTTP triggers hand it each request).
    /// </param>
    public static WebApplicationBuilder AddCareWorkflows(this WebApplicationBuilder builder, HostedEngine? engine = null)
    {
        var env = builder.Environment;
        var config = builder.Configuration;
        if (env.IsDevelopment()) AddLocalSettings(builder);
        EnsureKeyVaultReferencesResolved(config);

        if (engine is null && string.IsNullOrEmpty(config["urls"]) && string.IsNullOrEmpty(config["ASPNETCORE_URLS"]) && string.IsNullOrEmpty(config["HTTP_PORTS"]))
            builder.WebHost.UseUrls("http://localhost:7071");

        var services = builder.Services;
        services.AddProblemDetails();
        services.AddExceptionHandler<CalendarOutOfRangeHandler>(); // before the general one: records the refusal for operators
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.ConfigureHttpJsonOptions(o => WorkflowJson.Configure(o.SerializerOptions));
        services.AddOpenApi();
        services.AddCareWorkflowsPages();
        services.AddStoreDataProtection(); // one key ring for every copy of the app (cookies, antiforgery)

        // ---- clock: the system clock, or the simulation clock when Simulation:Enabled (never in Production) ----
        var simulation = config.GetValue("Simulation:Enabled", false);
        if (simulation && env.IsProduction())
            throw new InvalidOperationException("Simulation:Enabled is refused in Production.");
        if (simulation && engine is not null)
            throw new InvalidOperationException("Simulation:Enabled is not available under Azure Functions: Durable Functions' timers follow the real clock. Use the standalone host for training and demos.");
        if (simulation)
        {
            var start = config["Simulation:Start"] is { Length: > 0 } s
                ? NodaTime.Text.InstantPattern.ExtendedIso.Parse(s).GetValueOrThrow()
                : NodaTime.SystemClock.Instance.GetCurrentInstant();
            var sim = new SimulationClock(start);
            services.AddSingleton(sim);
            services.AddSingleton<IClock>(sim);
        }
        else services.AddSingleton<IClock>(NodaTime.SystemClock.Instance);

        // ---- store ----
        var provider = config["Storage:Provider"] ?? "Sqlite";
        services.AddSingleton<IWorkflowStore>(_ => provider switch
        {
            "Sqlite" => new SqliteWorkflowStore(config["Storage:SqlitePath"] ?? Path.Combine("data", "careworkflows.db")),
            "Postgres" => new PostgresWorkflowStore(config.GetConnectionString("Postgres")
                ?? throw new InvalidOperationException("Storage:Provider is Postgres but ConnectionStrings:Postgres is not set.")),
            _ => throw new InvalidOperationException($"Storage:Provider must be Sqlite or Postgres, not '{provider}'."),
        });

        AddServiceData(services, config);

        // ---- workflows ----
        // Lease owner id: unique per process, at most 40 characters (the lease columns' width) whatever the machine name.
        var workerId = config["Runtime:WorkerId"] ?? WorkerId($"{Environment.ProcessId}-{Guid.NewGuid():N}-{Environment.MachineName}");
        services.AddSingleton(sp => new RuntimeEnvironment(
            new PolicySettings(Section(config, "Policy")),
            sp.GetRequiredService<HmacLinkIssuer>(),
            new Contacts(Section(config, "Contacts")),
            WorkingCalendar.Shipped.WithEndOfDay(CalendarLoading.EndOfDay(config))));
        services.AddSingleton(sp => new HmacLinkIssuer(SigningKey(config, env), LinkBaseUrl(config, sp)));
        services.AddSingleton<ChannelRouter>();
        if (simulation) services.AddSingleton<Simulator>();
        services.AddWorkflowDefinitions();
        services.AddDurableTaskWorkflows(config, workerId, simulation, engine);

        // ---- channels (Channels:Email / Channels:Sms) ----
        foreach (var (kind, key) in new[] { (MessageChannel.Email, "Channels:Email"), (MessageChannel.Sms, "Channels:Sms") })
        {
            var name = config[key] ?? "Dev";
            if (name == "Dev") services.AddSingleton<IMessageChannel>(new DevChannel(kind));
            else if (!services.AddChannel(kind, name, config))
                throw new InvalidOperationException($"{key}={name} is not a known channel.");
        }

        services.AddSingleton<CareWorkflows.Functions.Channels.InboundReplies>();
        services.AddSingleton<CareWorkflows.Functions.Channels.DeliveryReports>();

        services.TryAddSingleton<IServiceBusReferralIntake, ReferralIntakeNotAvailable>();
        services.AddSingleton<IntakeDeadLetters>();
        services.AddCareWorkflowsServiceBus(config);
        builder.AddCareWorkflowsTelemetry();

        // ---- sign-in ----
        var authMode = config["Auth:Mode"] ?? (env.IsDevelopment() ? "Demo" : "Entra");
        if (authMode == "Demo")
        {
            if (!env.IsDevelopment())
                throw new InvalidOperationException("Auth:Mode=Demo (the local demo sign-in) is only allowed when the environment is Development.");
            services.AddAuthentication(DemoAuthenticationHandler.SchemeName)
                .AddScheme<AuthenticationSchemeOptions, DemoAuthenticationHandler>(DemoAuthenticationHandler.SchemeName, null);
        }
        else services.AddEntraAuthentication(config);
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Staff, p => p.RequireRole(Policies.StaffRoles))
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Policies.Authenticated, p => p.RequireAuthenticatedUser());
        return builder;
    }

    public static async Task UseCareWorkflowsAsync(this WebApplication app)
    {
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseCareWorkflowsStatusPages(); // HTML for pages, problem details for APIs
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi();
        app.MapRazorPages();
        await app.Services.GetRequiredService<IWorkflowStore>().MigrateAsync();
        await app.Services.LoadOperatorCalendarAsync();
    }

    /// <summary>
    /// Where the data beside the engine lives (Storage:ServiceData): documents (bank holidays, data-protection keys, dead
    /// letters), idempotency keys, inbound replies, the provider and trusted-assessor directories.
    /// <c>Database</c> (default): the workflow database (SQLite / PostgreSQL). <c>Tables</c>: Azure Table storage, as
    /// beside Durable Functions in Azure; ConnectionStrings:Tables, or Storage:TableServiceUri with the app's managed
    /// identity; tables named Storage:TablePrefix (default cw) + Documents, Commands, Inbound, Providers, TrustedAssessors.
    /// </summary>
    private static void AddServiceData(IServiceCollection services, IConfiguration config)
    {
        var mode = config["Storage:ServiceData"] ?? "Database";
        switch (mode)
        {
            case "Database":
                services.AddSingleton<IDocumentStore>(sp => sp.GetRequiredService<IWorkflowStore>());
                services.AddSingleton<IIdempotencyStore>(sp => sp.GetRequiredService<IWorkflowStore>());
                services.AddSingleton(sp => (IInboundStore)sp.GetRequiredService<IWorkflowStore>());
                services.AddSingleton(sp => (IProviderDirectory)sp.GetRequiredService<IWorkflowStore>());
                services.AddSingleton(sp => (ITrustedAssessorDirectory)sp.GetRequiredService<IWorkflowStore>());
                break;
            case "Tables":
                AddTableServiceData(services, config);
                break;
            default:
                throw new InvalidOperationException($"Storage:ServiceData must be Database or Tables, not '{mode}'.");
        }
    }

    // Its own method, so the Azure SDK assemblies load only when Table storage is chosen (start-up time).
    private static void AddTableServiceData(IServiceCollection services, IConfiguration config)
    {
        var service = config.GetConnectionString("Tables") is { Length: > 0 } connection ? new TableServiceClient(connection)
            : config["Storage:TableServiceUri"] is { Length: > 0 } uri ? new TableServiceClient(new Uri(uri), new DefaultAzureCredential())
            : throw new InvalidOperationException("Storage:ServiceData=Tables needs ConnectionStrings:Tables or Storage:TableServiceUri (managed identity; see docs/deployment.md).");
        services.AddSingleton(new ServiceTables(service, config["Storage:TablePrefix"] ?? ServiceTables.DefaultPrefix));
        services.AddSingleton<IDocumentStore, TableDocumentStore>();
        services.AddSingleton<IIdempotencyStore, TableIdempotencyStore>();
        services.AddSingleton<IInboundStore, TableInboundStore>();
        services.AddSingleton<IProviderDirectory, TableProviderDirectory>();
        services.AddSingleton<ITrustedAssessorDirectory, TableTrustedAssessorDirectory>();
    }

    /// <summary>
    /// App Service and Functions leave an app setting holding its "@Microsoft.KeyVault(...)" text when they cannot resolve
    /// it (secret missing, no Key Vault Secrets User yet). Run with that text as a webhook secret or signing key and
    /// anyone who can guess it is let in: stop instead, naming the settings (never their values).
    /// </summary>
    private static void EnsureKeyVaultReferencesResolved(IConfiguration config)
    {
        var unresolved = config.AsEnumerable()
            .Where(kv => kv.Value is { } v && v.TrimStart().StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase))
            .Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        if (unresolved.Count > 0)
            throw new InvalidOperationException(
                $"Key Vault references were not resolved for {string.Join(", ", unresolved)}: the secret is missing or the app's identity cannot read it " +
                "(Key Vault Secrets User). See docs/deployment.md.");
    }

    /// <summary>
    /// Links:BaseUrl when set (the public address: behind a proxy or Front Door only settings know it). Otherwise the
    /// address the server actually listens on (https first), wildcard hosts read as localhost; before it listens, the
    /// configured URL. Never a hard-coded port: links must open where the app is.
    /// </summary>
    private static Func<string> LinkBaseUrl(IConfiguration config, IServiceProvider services)
    {
        if (config["Links:BaseUrl"] is { Length: > 0 } configured) return () => configured;
        string? served = null;
        return () =>
        {
            if (served is not null) return served;
            var addresses = services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.Features
                .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
            var listening = addresses.OrderByDescending(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase)).FirstOrDefault();
            if (listening is not null) return served = PublicForm(listening);
            var urls = config["urls"] ?? config["ASPNETCORE_URLS"];
            return PublicForm(urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "http://localhost");
        };
    }

    /// <summary>"http://+:8080", "http://[::]:8080", "http://0.0.0.0:8080" → "http://localhost:8080".</summary>
    private static string PublicForm(string address)
    {
        foreach (var wildcard in new[] { "://+", "://*", "://0.0.0.0", "://[::]" })
            if (address.Contains(wildcard, StringComparison.Ordinal)) return address.Replace(wildcard, "://localhost", StringComparison.Ordinal).TrimEnd('/');
        return address.TrimEnd('/');
    }

    private static string WorkerId(string id) => id.Length <= 40 ? id : id[..40];

    private static IReadOnlyDictionary<string, string> Section(IConfiguration config, string name) =>
        config.GetSection(name).AsEnumerable(makePathsRelative: true).Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!);

    /// <summary>
    /// Links:SigningKey from settings / Key Vault. In Development without one, a random key is kept in ./data so
    /// links survive restarts; elsewhere a missing key stops the start.
    /// </summary>
    private static string SigningKey(IConfiguration config, IHostEnvironment env)
    {
        if (config["Links:SigningKey"] is { Length: > 0 } key) return key;
        if (!env.IsDevelopment()) throw new InvalidOperationException("Links:SigningKey is not set.");
        var path = Path.GetFullPath(Path.Combine("data", "dev-signing.key"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!File.Exists(path)) File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        return File.ReadAllText(path).Trim();
    }

    /// <summary>Reads local.settings.json (Functions style: "Values" with __ or : separators) in Development.</summary>
    private static void AddLocalSettings(WebApplicationBuilder builder)
    {
        var path = Path.Combine(builder.Environment.ContentRootPath, "local.settings.json");
        if (!File.Exists(path)) path = Path.Combine(builder.Environment.ContentRootPath, "..", "local.settings.json");
        if (!File.Exists(path)) return;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (!doc.RootElement.TryGetProperty("Values", out var values)) return;
        var dict = values.EnumerateObject().ToDictionary(p => p.Name.Replace("__", ":"), p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText());
        // Settings already given by environment or command line still win.
        IList<IConfigurationSource> sources = ((IConfigurationBuilder)builder.Configuration).Sources;
        var at = sources.ToList().FindIndex(s => s is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource);
        sources.Insert(at < 0 ? sources.Count : at, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = dict });
    }
}
