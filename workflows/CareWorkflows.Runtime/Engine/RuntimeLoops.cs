using CareWorkflows.Runtime.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace CareWorkflows.Runtime.Engine;

/// <summary>
/// The in-process loops for standalone hosting: the timer pump sleeps until the nearest due timer (or a local
/// commit sets an earlier one; other nodes' timers are seen within <see cref="CrossNodeCheck"/>), and the
/// dispatcher sleeps until the next message is due. Off when Azure Functions drives them (Runtime:BackgroundLoops=false).
/// </summary>
public sealed class RuntimeLoops(TimerPump pump, OutboxDispatcher dispatcher, IWorkflowStore store, IClock clock, RuntimeSignals signals, ILogger<RuntimeLoops> logger)
    : BackgroundService
{
    public static readonly Duration CrossNodeCheck = Duration.FromMilliseconds(500);
    private readonly SemaphoreSlim _timerWake = new(0, int.MaxValue);
    private readonly SemaphoreSlim _outboxWake = new(0, int.MaxValue);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        signals.TimerSet += _ => _timerWake.Release();
        signals.MessageWritten += () => _outboxWake.Release();
        return Task.WhenAll(
            Loop("timer pump", () => pump.RunDueAsync(stoppingToken), store.NextTimerDueAsync, _timerWake, stoppingToken),
            Loop("outbox dispatcher", () => dispatcher.RunOnceAsync(stoppingToken), store.NextOutboxDueAsync, _outboxWake, stoppingToken));
    }

    private async Task Loop(string name, Func<Task<int>> work, Func<CancellationToken, Task<Instant?>> nextDue, SemaphoreSlim wake, CancellationToken ct)
    {
        await Task.Yield();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await work();
                var next = await nextDue(ct);
                var wait = CrossNodeCheck;
                if (next is { } due)
                {
                    var untilDue = due - clock.GetCurrentInstant();
                    if (untilDue < wait) wait = untilDue < Duration.Zero ? Duration.Zero : untilDue;
                }
                if (wait > Duration.Zero) await wake.WaitAsync(wait.ToTimeSpan(), ct);
                while (wake.CurrentCount > 0) await wake.WaitAsync(0, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogError(e, "The {Loop} failed; trying again in a second", name);
                try { await Task.Delay(1000, ct); } catch (OperationCanceledException) { }
            }
        }
    }
}
