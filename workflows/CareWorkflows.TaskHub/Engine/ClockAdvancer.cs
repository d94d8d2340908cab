using CareWorkflows.TaskHub.Store;
using NodaTime;

namespace CareWorkflows.TaskHub.Engine;

/// <summary>A clock that can be moved forward (the simulation clock; tests' skipping clock). Never backward.</summary>
public interface IAdjustableClock : IClock
{
    void MoveTo(Instant to);
}

/// <summary>
/// Moves an adjustable clock forward through every timer due on the way, in due order: each step goes to the next
/// timer's time, lets the orchestrations take everything that is then due (and whatever that produces, including
/// further timers within the range), and only then moves on. Returns when the target is reached and all is quiet.
/// </summary>
public sealed class ClockAdvancer(IAdjustableClock clock, ITaskHubStore store, WorkDispatcher dispatcher, TaskHubSignals signals)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public IAdjustableClock Clock => clock;

    public async Task MoveToAsync(Instant target, TimeSpan timeout, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var deadline = DateTime.UtcNow + timeout;
            await WaitForIdleAsync(deadline, ct);
            while (await store.NextVisibleAfterAsync(clock.GetCurrentInstant(), ct) is { } next && next <= target)
            {
                clock.MoveTo(next);
                signals.WorkAvailable();
                await WaitForIdleAsync(deadline, ct);
            }
            if (target > clock.GetCurrentInstant()) clock.MoveTo(target);
            signals.WorkAvailable();
            await WaitForIdleAsync(deadline, ct);
        }
        finally { _gate.Release(); }
    }

    /// <summary>Waits until nothing is visible to do and nothing is out with a worker (seen twice in a row).</summary>
    public Task WaitForIdleAsync(TimeSpan timeout, CancellationToken ct = default) => WaitForIdleAsync(DateTime.UtcNow + timeout, ct);

    private async Task WaitForIdleAsync(DateTime deadline, CancellationToken ct)
    {
        var quiet = 0;
        while (true)
        {
            if (dispatcher.InFlight == 0 && !await store.HasVisibleWorkAsync(clock.GetCurrentInstant(), ct))
            {
                if (++quiet >= 2) return;
            }
            else quiet = 0;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Orchestrations were still busy at {clock.GetCurrentInstant()} after the time allowed " +
                                           $"({dispatcher.InFlight} work items out with workers). Is a worker connected, or is a work item failing over and over?");
            await Task.Delay(TimeSpan.FromMilliseconds(quiet > 0 ? 2 : 5), ct);
        }
    }
}
