using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace CareWorkflows.Runtime.Engine;

public sealed record PumpOptions(string WorkerId, int BatchSize = 200, int Parallelism = 8, Duration? Lease = null)
{
    public Duration LeaseDuration => Lease ?? Duration.FromSeconds(60);
}

/// <summary>
/// Fires due timers. Claims a batch with a lease (a crashed worker's claims expire and are taken again), then feeds
/// <see cref="TimerFired"/> to each instance in a transition that also deletes the timer row: a timer fires once.
/// Timers of one instance run in due order; different instances run in parallel.
/// </summary>
public sealed class TimerPump(WorkflowRuntime runtime, PumpOptions options, ILogger<TimerPump> logger)
{
    /// <summary>Fires every timer due at the runtime clock's now. Returns how many fired.</summary>
    public async Task<int> RunDueAsync(CancellationToken ct = default)
    {
        var total = 0;
        while (!ct.IsCancellationRequested)
        {
            var now = runtime.Clock.GetCurrentInstant();
            var claimed = await runtime.Store.ClaimDueTimersAsync(now, options.BatchSize, options.WorkerId, options.LeaseDuration, ct);
            if (claimed.Count == 0) break;
            RuntimeMetrics.TimersDue.Add(claimed.Count);
            var fired = 0;
            await Parallel.ForEachAsync(claimed.GroupBy(t => t.Reference), new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = ct },
                async (group, token) =>
                {
                    foreach (var timer in group.OrderBy(t => t.DueAt))
                        if (await FireAsync(timer, token)) Interlocked.Increment(ref fired);
                });
            total += fired;
            if (claimed.Count < options.BatchSize) break;
        }
        return total;
    }

    private async Task<bool> FireAsync(ClaimedTimer timer, CancellationToken ct)
    {
        try
        {
            var outcome = await runtime.ApplyAsync(timer.Reference, new TimerFired(timer.Name), Actor.System, consumeTimerId: timer.Id, ct: ct, timerDueAt: timer.DueAt);
            if (outcome.Kind == OutcomeKind.NotDue)
            {
                // The clock stepped back after the claim. Keep the timer and hold the claim only until its due time, so it
                // fires once, when it is due again by the clock (any worker may take it then).
                logger.LogWarning("Timer {Name} of {Reference} was claimed but is not due at {Now} (due {Due}): the clock stepped back; kept",
                    timer.Name, timer.Reference, runtime.Clock.GetCurrentInstant(), timer.DueAt);
                await runtime.Store.DeferTimerAsync(timer.Id, timer.DueAt, ct);
                return false;
            }
            if (outcome.Kind == OutcomeKind.NotFound)
                logger.LogWarning("Timer {Name} belongs to unknown instance {Reference}", timer.Name, timer.Reference);
            runtime.Environment.CalendarAlerts.TimerReleased(timer.Reference, timer.Name);
            if (outcome.Kind == OutcomeKind.Applied) RuntimeMetrics.TimerFired(timer.Name, runtime.Clock.GetCurrentInstant() - timer.DueAt);
            return outcome.Kind == OutcomeKind.Applied;
        }
        catch (CalendarOutOfRangeException e)
        {
            // Another node may have loaded newer data: take it, and retry at once if it now reaches this date.
            if (await runtime.Environment.RefreshCalendarAsync(runtime.Store, ct) && runtime.Environment.Calendar.CoveredTo >= e.Date)
                return await FireAsync(timer, ct);
            // Never guess a working day: hold the timer, alert operators, and try again when data may have been loaded.
            logger.LogCritical(e, "OPERATOR ACTION NEEDED: timer {Name} of {Reference} needs calendar data: {Message}", timer.Name, timer.Reference, e.Message);
            runtime.Environment.CalendarAlerts.TimerHeld(timer.Reference, timer.Name, e.Date.ToString("yyyy-MM-dd", null), runtime.Clock.GetCurrentInstant());
            await runtime.Store.DeferTimerAsync(timer.Id, runtime.Clock.GetCurrentInstant() + Duration.FromMinutes(5), ct);
            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The lease expires and another attempt follows; a transition that throws is a bug to see in logs.
            logger.LogError(e, "Timer {Name} of {Reference} failed; it will be retried when its lease expires", timer.Name, timer.Reference);
            return false;
        }
    }
}
