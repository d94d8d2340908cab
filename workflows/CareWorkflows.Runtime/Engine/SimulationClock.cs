using NodaTime;

namespace CareWorkflows.Runtime.Engine;

/// <summary>
/// A clock for training, demos and end-to-end tests (setting Simulation:Enabled; refused in Production).
/// It stands still until moved, and only moves forward.
/// </summary>
public sealed class SimulationClock(Instant start) : IClock
{
    private long _ticks = start.ToUnixTimeTicks();

    public Instant GetCurrentInstant() => Instant.FromUnixTimeTicks(Interlocked.Read(ref _ticks));

    /// <summary>Moves the clock to <paramref name="to"/>; refuses to go back.</summary>
    public void MoveTo(Instant to)
    {
        var now = GetCurrentInstant();
        if (to < now) throw new ArgumentOutOfRangeException(nameof(to), $"The simulation clock only moves forward (now {now}).");
        Interlocked.Exchange(ref _ticks, to.ToUnixTimeTicks());
    }
}

/// <summary>
/// Moves the simulation clock, firing every timer due on the way in due order (each at its own due time) and
/// dispatching the messages they write, before returning.
/// </summary>
public sealed class Simulator(SimulationClock clock, TimerPump pump, OutboxDispatcher dispatcher, Store.IWorkflowStore store)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public SimulationClock Clock => clock;

    public async Task<int> MoveToAsync(Instant target, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (target < clock.GetCurrentInstant()) throw new ArgumentOutOfRangeException(nameof(target), "The simulation clock only moves forward.");
            var fired = await pump.RunDueAsync(ct);
            await dispatcher.RunOnceAsync(ct);
            while (await store.NextTimerDueAsync(ct) is { } next && next <= target)
            {
                if (next > clock.GetCurrentInstant()) clock.MoveTo(next);
                var n = await pump.RunDueAsync(ct);
                fired += n;
                await dispatcher.RunOnceAsync(ct);
                if (n == 0 && next <= clock.GetCurrentInstant())
                    break; // a timer held back (e.g. deferred for calendar data): do not spin
            }
            clock.MoveTo(target);
            fired += await pump.RunDueAsync(ct);
            await dispatcher.RunOnceAsync(ct);
            return fired;
        }
        finally { _gate.Release(); }
    }
}
