using Azure.Messaging.ServiceBus;

namespace CareWorkflows.Functions.ServiceBus;

/// <summary>
/// The standalone host's receiver for the hospital-referrals queue (ServiceBus:ReferralQueue): a ServiceBusProcessor in
/// peek-lock mode, messages settled by hand (never auto-completed) from <see cref="ReferralQueueHandler"/>'s answer.
/// Registered only when a Service Bus connection is set and the app is not hosted by Azure Functions (whose own
/// trigger receives the queue there).
/// </summary>
public sealed class ReferralQueueReceiver(ServiceBusClient client, ReferralQueueHandler handler, IConfiguration config, ILogger<ReferralQueueReceiver> logger)
    : IHostedService, IAsyncDisposable
{
    public const string DefaultQueue = "hospital-referrals";
    private ServiceBusProcessor? _processor;

    public async Task StartAsync(CancellationToken ct)
    {
        var queue = config["ServiceBus:ReferralQueue"] ?? DefaultQueue;
        _processor = client.CreateProcessor(queue, new ServiceBusProcessorOptions
        {
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            AutoCompleteMessages = false,
            MaxConcurrentCalls = config.GetValue("ServiceBus:MaxConcurrentCalls", 4),
            MaxAutoLockRenewalDuration = TimeSpan.FromMinutes(5),
        });
        _processor.ProcessMessageAsync += ProcessAsync;
        _processor.ProcessErrorAsync += args =>
        {
            logger.LogError(args.Exception, "Service Bus {Source} failed on {EntityPath}", args.ErrorSource, args.EntityPath);
            return Task.CompletedTask;
        };
        await _processor.StartProcessingAsync(ct);
        logger.LogInformation("Receiving hospital referrals from Service Bus queue {Queue}", queue);
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (_processor is not null) await _processor.StopProcessingAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_processor is not null) await _processor.DisposeAsync();
    }

    /// <summary>One message: handled, then completed, dead-lettered or abandoned. An exception here (shutdown) leaves the
    /// lock to expire, so Service Bus delivers it again.</summary>
    internal Task ProcessAsync(ProcessMessageEventArgs args) =>
        handler.HandleAsync(args.Message, new EventArgsSettler(args), args.CancellationToken);

    private sealed class EventArgsSettler(ProcessMessageEventArgs args) : IReferralMessageSettler
    {
        public Task CompleteAsync(CancellationToken ct) => args.CompleteMessageAsync(args.Message, ct);
        public Task DeadLetterAsync(string reason, string description, CancellationToken ct) => args.DeadLetterMessageAsync(args.Message, reason, description, ct);
        public Task AbandonAsync(CancellationToken ct) => args.AbandonMessageAsync(args.Message, cancellationToken: ct);
    }
}
