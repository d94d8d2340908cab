using System.Net.Http.Json;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Hosting;
using CareWorkflows.Functions.ServiceBus;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using static CareWorkflows.Tests.D2A.D2ATestKit;

namespace CareWorkflows.Tests.ServiceBus;

/// <summary>
/// The standalone host's receiver for the hospital-referrals queue, message by message: the real app (SQLite, the real
/// D2A intake) behind it, Service Bus' side mocked (ServiceBusModelFactory messages, mocked ProcessMessageEventArgs).
/// </summary>
public sealed class ReferralQueueReceiverTests : IAsyncDisposable
{
    private CareWorkflowsApp _app = new(settings: new Dictionary<string, string?> { ["ServiceBus:MaxDeliveryCount"] = "3" });

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private ReferralQueueReceiver Receiver() => new(Mock.Of<ServiceBusClient>(), _app.Services.GetRequiredService<ReferralQueueHandler>(),
        _app.Services.GetRequiredService<IConfiguration>(), NullLogger<ReferralQueueReceiver>.Instance);

    private static ServiceBusReceivedMessage Message(string body, string id, int deliveryCount = 1) =>
        ServiceBusModelFactory.ServiceBusReceivedMessage(body: BinaryData.FromString(body), messageId: id, correlationId: "hospital-batch-7", deliveryCount: deliveryCount);

    /// <summary>Delivers the message to the receiver; returns the event args to verify how it was settled.</summary>
    private async Task<Mock<ProcessMessageEventArgs>> DeliverAsync(ServiceBusReceivedMessage message)
    {
        var args = new Mock<ProcessMessageEventArgs>(message, Mock.Of<ServiceBusReceiver>(), CancellationToken.None);
        await Receiver().ProcessAsync(args.Object);
        return args;
    }

    private static void SettledOnlyBy(Mock<ProcessMessageEventArgs> args, string how, ServiceBusReceivedMessage m)
    {
        args.Verify(a => a.CompleteMessageAsync(m, It.IsAny<CancellationToken>()), how == "complete" ? Times.Once() : Times.Never());
        args.Verify(a => a.AbandonMessageAsync(m, It.IsAny<IDictionary<string, object>>(), It.IsAny<CancellationToken>()), how == "abandon" ? Times.Once() : Times.Never());
        args.Verify(a => a.DeadLetterMessageAsync(m, It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), how == "dead-letter" ? Times.Once() : Times.Never());
    }

    private async Task<List<JsonElement>> DeadLettersAsync() =>
        (await _app.As(Roles.Admin).GetFromJsonAsync<List<JsonElement>>("/api/intake/dead-letters"))!;

    [Fact]
    public async Task A_referral_is_raised_and_completed_once_even_when_redelivered()
    {
        var json = JsonSerializer.Serialize(Referral());
        var first = Message(json, "msg-1");
        var again = Message(json, "msg-1", deliveryCount: 2);

        SettledOnlyBy(await DeliverAsync(first), "complete", first);
        SettledOnlyBy(await DeliverAsync(again), "complete", again);

        var referral = Assert.Single((await _app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/instances?type=D2A")).EnumerateArray());
        Assert.Equal("OfferedToPatch", referral.GetProperty("status").GetString());
        Assert.Empty(await DeadLettersAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_is_dead_lettered_at_once_with_a_reason_and_recorded()
    {
        var m = Message("PID|1|not json", "msg-hl7");

        var args = await DeliverAsync(m);

        SettledOnlyBy(args, "dead-letter", m);
        args.Verify(a => a.DeadLetterMessageAsync(m, ReferralQueueHandler.NotJson, "The message body is not a JSON object.", It.IsAny<CancellationToken>()));
        var letter = Assert.Single(await DeadLettersAsync());
        Assert.Equal(("msg-hl7", false), (letter.GetProperty("messageId").GetString(), letter.GetProperty("gaveUp").GetBoolean()));
    }

    [Fact]
    public async Task An_invalid_referral_is_dead_lettered_with_a_reason_that_holds_no_personal_data()
    {
        var m = Message(JsonSerializer.Serialize(Referral(nhs: "943 476 5918")), "msg-bad-nhs");
        string? reason = null, description = null;
        var args = new Mock<ProcessMessageEventArgs>(m, Mock.Of<ServiceBusReceiver>(), CancellationToken.None);
        args.Setup(a => a.DeadLetterMessageAsync(m, It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback<ServiceBusReceivedMessage, string, string, CancellationToken>((_, r, d, _) => (reason, description) = (r, d))
            .Returns(Task.CompletedTask);

        await Receiver().ProcessAsync(args.Object);

        SettledOnlyBy(args, "dead-letter", m);
        Assert.Equal(ReferralQueueHandler.ReferralRefused, reason);
        Assert.Contains("NHS number is not valid", description);
        foreach (var secret in PersonalData) Assert.DoesNotContain(secret, description);
        Assert.Empty((await _app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/instances?type=D2A")).EnumerateArray());
    }

    [Fact]
    public async Task A_failure_that_may_pass_is_abandoned_for_redelivery_and_dead_lettered_on_the_last_delivery()
    {
        await _app.DisposeAsync();
        _app = new CareWorkflowsApp(settings: new Dictionary<string, string?> { ["ServiceBus:MaxDeliveryCount"] = "3" },
            services: s => s.AddSingleton<IServiceBusReferralIntake>(new FailingIntake()));
        var json = JsonSerializer.Serialize(Referral());

        foreach (var delivery in new[] { 1, 2 })
        {
            var m = Message(json, "msg-flaky", delivery);
            SettledOnlyBy(await DeliverAsync(m), "abandon", m);
        }
        Assert.Empty(await DeadLettersAsync());

        var last = Message(json, "msg-flaky", deliveryCount: 3);
        var args = await DeliverAsync(last);

        SettledOnlyBy(args, "dead-letter", last);
        args.Verify(a => a.DeadLetterMessageAsync(last, ReferralQueueHandler.FailedOnEveryDelivery, It.Is<string>(d => d.Contains("TimeoutException")), It.IsAny<CancellationToken>()));
        Assert.True(Assert.Single(await DeadLettersAsync()).GetProperty("gaveUp").GetBoolean());
    }

    private sealed class FailingIntake : IServiceBusReferralIntake
    {
        public Task<IntakeResult> AcceptAsync(ServiceBusReferral referral, CancellationToken ct) => throw new TimeoutException("database did not answer");
    }
}
