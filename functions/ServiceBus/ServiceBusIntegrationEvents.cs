using Azure.Messaging.ServiceBus;
using CareWorkflows.Runtime.Integration;

namespace CareWorkflows.Functions.ServiceBus;

/// <summary>
/// Integration events to a Service Bus topic (ServiceBus:IntegrationEventsTopic, default integration-events). One
/// message per event: MessageId = the event's idempotency key (the topic's duplicate detection drops a retry's repeat),
/// Subject = the event name, application properties eventType / workflowType / reference for subscription filters,
/// body the event's JSON (<see cref="IntegrationEvent.ToJson"/>: no personal data). The SDK retries transient failures
/// (ServiceBusClientOptions.RetryOptions); what still fails throws to the calling activity.
/// </summary>
public sealed class ServiceBusIntegrationEvents(ServiceBusSender sender) : IIntegrationEvents
{
    public const string DefaultTopic = "integration-events";

    public Task PublishAsync(IntegrationEvent e, CancellationToken ct = default) => sender.SendMessageAsync(ToMessage(e), ct);

    public static ServiceBusMessage ToMessage(IntegrationEvent e) => new(BinaryData.FromString(e.ToJson()))
    {
        MessageId = e.IdempotencyKey,
        Subject = e.Name,
        ContentType = "application/json",
        CorrelationId = e.Reference,
        ApplicationProperties =
        {
            ["eventType"] = e.Name,
            ["workflowType"] = e.WorkflowType,
            ["reference"] = e.Reference,
        },
    };
}
