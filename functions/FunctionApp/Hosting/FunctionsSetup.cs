using Azure.Core.Serialization;
using CareWorkflows.Definitions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CareWorkflows.FunctionApp.Hosting;

/// <summary>What the Functions worker itself holds: the serializer, the bound Durable client, and the app it hosts.</summary>
public static class FunctionsSetup
{
    public static FunctionsApplicationBuilder AddCareWorkflowsFunctions(this FunctionsApplicationBuilder builder)
    {
        AddServices(builder.Services, builder.Environment);
        // Function invocations as spans in the app's OpenTelemetry (functions/Extensions/Telemetry.cs exports them).
        builder.Services.AddOpenTelemetry().UseFunctionsWorkerDefaults();
        return builder;
    }

    public static void AddServices(IServiceCollection services, IHostEnvironment environment)
    {
        // The Durable extension builds its worker's and client's DataConverter from the worker's serializer (and ignores
        // any DataConverter set directly), and activity triggers bind through the same one: so orchestration inputs,
        // events, activity inputs and results and custom status are all in the service's JSON, as on our own server.
        services.Configure<WorkerOptions>(o => o.Serializer = Serializer);
        services.AddSingleton<BoundDurableTaskClient>();
        services.AddSingleton(sp => new AppHost(ct => HostedApp.StartAsync(new(sp.GetRequiredService<BoundDurableTaskClient>()), EnvironmentName(environment), ct: ct)));
        services.AddHostedService(sp => sp.GetRequiredService<AppHost>());
    }

    /// <summary>The worker's serializer: the service's JSON options (camelCase, NodaTime ISO, enums as names).</summary>
    public static readonly ObjectSerializer Serializer = new JsonObjectSerializer(WorkflowJson.Options);

    /// <summary>Functions names the environment in AZURE_FUNCTIONS_ENVIRONMENT (Core Tools: Development; infra/: Production).</summary>
    private static string EnvironmentName(IHostEnvironment environment) =>
        Environment.GetEnvironmentVariable("AZURE_FUNCTIONS_ENVIRONMENT") is { Length: > 0 } name ? name : environment.EnvironmentName;
}
