using System.Text.Json;
using Azure.Messaging.ServiceBus;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Hosting;
using CareWorkflows.Functions.ServiceBus;

namespace CareWorkflows.Functions.Visits;

/// <summary>
/// Call-monitoring alerts from the Service Bus queue (ServiceBus:VisitAlertQueue, default "visit-alerts"): the same JSON
/// as the HTTP endpoint, with the sending system in "systemId" (or the message's Subject). The queue is authenticated by
/// Service Bus itself (the system's send-only identity), so no signature; the system must still be configured
/// (CallMonitoring:Systems:{id}) and report only for its providers. Handled as queued referrals are: a message that is
/// not JSON, or that the intake refuses, is dead-lettered with the reason and recorded (GET /api/intake/dead-letters);
/// a failure that may pass is abandoned for redelivery, and given up on the last delivery. Nothing is written for a
/// refused message; a redelivered one is the same alert.
/// </summary>
public sealed class VisitAlertQueueHandler(VisitAlertIntake intake, CallMonitoringSignatures systems, IntakeDeadLetters deadLetters, IConfiguration config,
    ILogger<VisitAlertQueueHandler> logger)
{
    public const string AlertRefused = "AlertRefused";

    public async Task<ReferralSettlement> HandleAsync(ReferralDelivery d, CancellationToken ct)
    {
        var kept = d.Body.Length > ReferralQueueHandler.MaxBodyChars ? d.Body[..ReferralQueueHandler.MaxBodyChars] : d.Body;
        try
        {
            if (!ReferralQueueHandler.TryReadBody(d.Body, out var body))
                return await DeadLetterAsync(d, kept, "The message body is not a JSON object.", ReferralQueueHandler.NotJson, ct);
            VisitAlertMessage? message;
            try { message = body.Deserialize<VisitAlertMessage>(WorkflowJson.Options); }
            catch (JsonException) { message = null; }
            var systemId = body.TryGetProperty("systemId", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : d.CorrelationId;
            if (message is null) return await DeadLetterAsync(d, kept, "The message is not a call-monitoring alert.", AlertRefused, ct);
            if (systems.System(systemId) is not { } system)
                return await DeadLetterAsync(d, kept, $"systemId '{systemId}' is not a configured call-monitoring system (CallMonitoring:Systems).", AlertRefused, ct);
            var outcome = await intake.AcceptAsync(message, system.Id, system.Providers, ct);
            if (outcome.Accepted) return new(ReferralSettlementAction.Complete, $"alert {outcome.Reference ?? "-"}: {outcome.Outcome}");
            return await DeadLetterAsync(d, kept, $"{outcome.Status} {outcome.Outcome}: {outcome.Detail}", AlertRefused, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var max = config.GetValue("ServiceBus:MaxDeliveryCount", 10);
            logger.LogWarning(e, "Service Bus visit alert {MessageId} failed on delivery {DeliveryCount} of {Max}", d.MessageId, d.DeliveryCount, max);
            if (d.DeliveryCount < max)
                return new(ReferralSettlementAction.Abandon, $"failed on delivery {d.DeliveryCount} of {max} ({e.GetType().Name}); it will be delivered again");
            var gaveUp = $"Failed on every delivery ({d.DeliveryCount}); last error: {e.GetType().Name}: {e.Message}";
            try { await deadLetters.RecordAsync(d.MessageId, gaveUp, d.DeliveryCount, gaveUp: true, d.CorrelationId, kept, ct); }
            catch (Exception recordError) when (recordError is not OperationCanceledException) { logger.LogError(recordError, "Could not record dead letter {MessageId}", d.MessageId); }
            return new(ReferralSettlementAction.GiveUp, gaveUp, ReferralQueueHandler.FailedOnEveryDelivery);
        }
    }

    private async Task<ReferralSettlement> DeadLetterAsync(ReferralDelivery d, string kept, string reason, string code, CancellationToken ct)
    {
        await deadLetters.RecordAsync(d.MessageId, reason, d.DeliveryCount, gaveUp: false, d.CorrelationId, kept, ct);
        return new(ReferralSettlementAction.DeadLetter, reason, code);
    }

    /// <summary>Handles a received message and settles it (a Functions Service Bus trigger is this one call).</summary>
    public async Task<ReferralSettlement> HandleAsync(ServiceBusReceivedMessage message, IReferralMessageSettler settle, CancellationToken ct)
    {
        var d = ReferralDelivery.From(message);
        if (!string.IsNullOrEmpty(message.Subject)) d = d with { CorrelationId = d.CorrelationId ?? message.Subject };
        var outcome = await HandleAsync(d, ct);
        switch (outcome.Action)
        {
            case ReferralSettlementAction.Complete: await settle.CompleteAsync(ct); break;
            case ReferralSettlementAction.Abandon: await settle.AbandonAsync(ct); break;
            default: await settle.DeadLetterAsync(outcome.DeadLetterReason!, outcome.Detail.Length > 4000 ? outcome.Detail[..4000] : outcome.Detail, ct); break;
        }
        return outcome;
    }
}

/// <summary>The standalone host's receiver for the visit-alerts queue (peek-lock, settled by hand), as for hospital referrals.</summary>
public sealed class VisitAlertQueueReceiver(ServiceBusClient client, VisitAlertQueueHandler handler, IConfiguration config, ILogger<VisitAlertQueueReceiver> logger)
    : IHostedService, IAsyncDisposable
{
    public const string DefaultQueue = "visit-alerts";
    private ServiceBusProcessor? _processor;

    public async Task StartAsync(CancellationToken ct)
    {
        var queue = config["ServiceBus:VisitAlertQueue"] ?? DefaultQueue;
        _processor = client.CreateProcessor(queue, new ServiceBusProcessorOptions
        {
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            AutoCompleteMessages = false,
            MaxConcurrentCalls = config.GetValue("ServiceBus:MaxConcurrentCalls", 4),
            MaxAutoLockRenewalDuration = TimeSpan.FromMinutes(5),
        });
        _processor.ProcessMessageAsync += args => handler.HandleAsync(args.Message, new Settler(args), args.CancellationToken);
        _processor.ProcessErrorAsync += args =>
        {
            logger.LogError(args.Exception, "Service Bus {Source} failed on {EntityPath}", args.ErrorSource, args.EntityPath);
            return Task.CompletedTask;
        };
        await _processor.StartProcessingAsync(ct);
        logger.LogInformation("Receiving call-monitoring alerts from Service Bus queue {Queue}", queue);
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (_processor is not null) await _processor.StopProcessingAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_processor is not null) await _processor.DisposeAsync();
    }

    private sealed class Settler(ProcessMessageEventArgs args) : IReferralMessageSettler
    {
        public Task CompleteAsync(CancellationToken ct) => args.CompleteMessageAsync(args.Message, ct);
        public Task DeadLetterAsync(string reason, string description, CancellationToken ct) => args.DeadLetterMessageAsync(args.Message, reason, description, ct);
        public Task AbandonAsync(CancellationToken ct) => args.AbandonMessageAsync(args.Message, cancellationToken: ct);
    }
}

/// <summary>The visit workflows' edge services.</summary>
public static class VisitsRegistration
{
    public static IServiceCollection AddVisits(this IServiceCollection services)
    {
        services.AddSingleton<CallMonitoringSignatures>();
        services.AddSingleton<VisitAlertIntake>();
        services.AddSingleton<VisitAlertQueueHandler>();
        return services;
    }
}
