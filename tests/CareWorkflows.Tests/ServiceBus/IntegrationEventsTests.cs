using System.Text.Json;
using Azure.Messaging.ServiceBus;
using CareWorkflows.Functions.ServiceBus;
using CareWorkflows.Runtime.Integration;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Moq;
using NodaTime;

namespace CareWorkflows.Tests.ServiceBus;

/// <summary>Integration events to a Service Bus topic, through a mocked ServiceBusSender (the one seam we do not own).</summary>
public sealed class IntegrationEventsTests
{
    private static readonly Instant At = Instant.FromUtc(2026, 11, 24, 9, 0);

    private static (ServiceBusIntegrationEvents Events, List<ServiceBusMessage> Sent) Publisher()
    {
        var sent = new List<ServiceBusMessage>();
        var sender = new Mock<ServiceBusSender>();
        sender.Setup(s => s.SendMessageAsync(It.IsAny<ServiceBusMessage>(), It.IsAny<CancellationToken>()))
            .Callback<ServiceBusMessage, CancellationToken>((m, _) => sent.Add(m))
            .Returns(Task.CompletedTask);
        return (new ServiceBusIntegrationEvents(sender.Object), sent);
    }

    [Fact]
    public async Task An_event_is_one_message_keyed_by_the_callers_idempotency_key_with_subject_properties_and_a_body_without_personal_data()
    {
        var (events, sent) = Publisher();

        await events.PublishAsync(IntegrationEvent.ReferralAwarded("D2A-7K3QX", At, firstCallAt: At + Duration.FromHours(5)));

        var m = Assert.Single(sent);
        Assert.Equal("D2A-7K3QX:referral.awarded:1", m.MessageId);
        Assert.Equal("referral.awarded", m.Subject);
        Assert.Equal("application/json", m.ContentType);
        Assert.Equal("D2A-7K3QX", m.CorrelationId);
        Assert.Equal(new Dictionary<string, object> { ["eventType"] = "referral.awarded", ["workflowType"] = "D2A", ["reference"] = "D2A-7K3QX" },
            m.ApplicationProperties.ToDictionary(p => p.Key, p => p.Value));
        using var body = JsonDocument.Parse(m.Body.ToString());
        // Exactly these fields: reference, type, outcome and times; nothing a person could be identified by.
        Assert.Equal(["version", "event", "workflowType", "reference", "outcome", "occurredAt", "times"], body.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("referral.awarded", "D2A", "D2A-7K3QX", "Awarded"),
            (body.RootElement.GetProperty("event").GetString(), body.RootElement.GetProperty("workflowType").GetString(),
             body.RootElement.GetProperty("reference").GetString(), body.RootElement.GetProperty("outcome").GetString()));
        Assert.Equal("2026-11-24T09:00:00Z", body.RootElement.GetProperty("occurredAt").GetString());
        Assert.Equal("2026-11-24T14:00:00Z", body.RootElement.GetProperty("times").GetProperty("firstCallAt").GetString());
    }

    public static TheoryData<string, string, string, string> Events => new()
    {
        { "referral.no-provider-found", "D2A-7K3QX", "NoProviderFound", "D2A" },
        { "incident.escalated", "SI-7K3QX", "Escalated", "SI" },
        { "concern.overdue", "QC-7K3QX", "Overdue", "QC" },
        { "adjustment.approved", "TA-7K3QX", "Approved", "TA" },
    };

    [Theory, MemberData(nameof(Events))]
    public async Task Each_event_names_its_workflow_type_and_outcome_and_a_second_occurrence_has_its_own_key(string name, string reference, string outcome, string type)
    {
        var (events, sent) = Publisher();
        IntegrationEvent Make(int n) => name switch
        {
            IntegrationEventNames.ReferralNoProviderFound => IntegrationEvent.ReferralNoProviderFound(reference, At, n),
            IntegrationEventNames.IncidentEscalated => IntegrationEvent.IncidentEscalated(reference, At, n),
            IntegrationEventNames.ConcernOverdue => IntegrationEvent.ConcernOverdue(reference, At, At - Duration.FromDays(1), n),
            _ => IntegrationEvent.AdjustmentApproved(reference, At, n),
        };

        await events.PublishAsync(Make(1));
        await events.PublishAsync(Make(1)); // a retry: the same MessageId, so the topic's duplicate detection drops it
        await events.PublishAsync(Make(2));

        Assert.Equal([$"{reference}:{name}:1", $"{reference}:{name}:1", $"{reference}:{name}:2"], sent.Select(m => m.MessageId));
        Assert.All(sent, m => Assert.Equal((name, type), (m.Subject, (string)m.ApplicationProperties["workflowType"])));
        using var body = JsonDocument.Parse(sent[0].Body.ToString());
        Assert.Equal(outcome, body.RootElement.GetProperty("outcome").GetString());
    }

    [Theory]
    [InlineData("Jane Smith")]
    [InlineData("943 476 5919")]
    [InlineData("D2A-7K3QX Flat 2, 1 High St")]
    [InlineData("")]
    public void Anything_but_a_workflow_reference_is_refused_so_no_personal_data_reaches_the_topic(string reference) =>
        Assert.Throws<ArgumentException>(() => IntegrationEvent.IncidentEscalated(reference, At));

    [Fact]
    public async Task A_failed_send_reaches_the_caller_so_its_retry_publishes_again()
    {
        var sender = new Mock<ServiceBusSender>();
        sender.Setup(s => s.SendMessageAsync(It.IsAny<ServiceBusMessage>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ServiceBusException("namespace busy", ServiceBusFailureReason.ServiceBusy));

        var e = await Assert.ThrowsAsync<ServiceBusException>(() => new ServiceBusIntegrationEvents(sender.Object).PublishAsync(IntegrationEvent.IncidentEscalated("SI-7K3QX", At)));

        Assert.True(e.IsTransient);
    }

    [Fact]
    public async Task Without_a_Service_Bus_connection_events_go_nowhere_and_nothing_receives_the_queue()
    {
        await using var app = new CareWorkflowsApp();

        Assert.IsType<NoIntegrationEvents>(app.Services.GetRequiredService<IIntegrationEvents>());
        await app.Services.GetRequiredService<IIntegrationEvents>().PublishAsync(IntegrationEvent.IncidentEscalated("SI-7K3QX", At));
        Assert.DoesNotContain(app.Services.GetServices<IHostedService>(), s => s is ReferralQueueReceiver);
    }

    // A well-formed connection string to nothing (loopback): the receiver's connection attempts are refused locally.
    private const string FakeConnection = "Endpoint=sb://127.0.0.1;SharedAccessKeyName=test;SharedAccessKey=bm90LWEta2V5;UseDevelopmentEmulator=true";

    [Theory]
    [InlineData(null, true)] // standalone and inside the Functions worker alike
    [InlineData("false", false)] // e.g. a copy of the app that must not take referrals
    public void With_a_Service_Bus_connection_events_go_to_the_topic_and_the_app_receives_the_queue_unless_told_not_to(string? referralIntake, bool receives)
    {
        var settings = new Dictionary<string, string?> { ["ServiceBusConnection"] = FakeConnection };
        if (referralIntake is not null) settings["ServiceBus:ReferralIntake"] = referralIntake;
        using var app = new CareWorkflowsApp(settings: settings);

        Assert.IsType<ServiceBusIntegrationEvents>(app.Services.GetRequiredService<IIntegrationEvents>());
        Assert.Equal(receives, app.Services.GetServices<IHostedService>().Any(s => s is ReferralQueueReceiver));
    }
}
