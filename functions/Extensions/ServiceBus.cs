using Azure.Identity;
using Azure.Messaging.ServiceBus;
using CareWorkflows.Functions.ServiceBus;
using CareWorkflows.Runtime.Integration;

namespace CareWorkflows.Functions.Extensions;

/// <summary>
/// Service Bus: integration events out (a topic) and hospital referrals in (a queue). The connection is the setting the
/// Functions Service Bus trigger uses too, <c>ServiceBusConnection</c>: a connection string, or
/// <c>ServiceBusConnection:fullyQualifiedNamespace</c> (<c>ServiceBusConnection__fullyQualifiedNamespace</c> in app
/// settings) with the app's managed identity. Without either, events go nowhere (<see cref="NoIntegrationEvents"/>) and
/// nothing receives the queue.
/// </summary>
public static class ServiceBusRegistration
{
    public const string ConnectionSetting = "ServiceBusConnection";

    public static IServiceCollection AddCareWorkflowsServiceBus(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton<ReferralQueueHandler>(); // every receiver's one handler
        var section = config.GetSection(ConnectionSetting);
        if (string.IsNullOrEmpty(section.Value) && string.IsNullOrEmpty(section["fullyQualifiedNamespace"]))
        {
            services.AddSingleton<IIntegrationEvents, NoIntegrationEvents>();
            return services;
        }
        AddServiceBusClient(services, config, section);
        return services;
    }

    // Its own method, so the Service Bus and identity assemblies load only when a connection is set (start-up time).
    private static void AddServiceBusClient(IServiceCollection services, IConfiguration config, IConfigurationSection section)
    {
        services.AddSingleton(section.Value is { Length: > 0 } connectionString ? new ServiceBusClient(connectionString)
            : new ServiceBusClient(section["fullyQualifiedNamespace"], new DefaultAzureCredential()));
        var topic = config["ServiceBus:IntegrationEventsTopic"] ?? ServiceBusIntegrationEvents.DefaultTopic;
        services.AddSingleton<IIntegrationEvents>(sp => new ServiceBusIntegrationEvents(sp.GetRequiredService<ServiceBusClient>().CreateSender(topic)));
        // This app receives the queue, standalone and inside the Functions worker alike (the isolated Service Bus trigger
        // is not available to us: docs/deployment.md). ServiceBus:ReferralIntake / VisitAlertIntake = false turn them off.
        if (config.GetValue("ServiceBus:ReferralIntake", true))
            services.AddHostedService<ReferralQueueReceiver>();
        if (config.GetValue("ServiceBus:VisitAlertIntake", true))
            services.AddHostedService<Visits.VisitAlertQueueReceiver>();
    }
}
