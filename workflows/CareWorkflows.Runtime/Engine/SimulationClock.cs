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

/// <summary>Another engine the simulation clock drives (the Durable Task server): its next due time, and "let it finish what is due".</summary>
public interface ISimulatedEngine
{
    Task<Instant?> NextDueAfterAsync(Instant now, CancellationToken ct);
    Task SettleAsync(CancellationToken ct);
}

/// <summary>
/// Moves the simulation clock, firing every timer due on the way in due order (each at its own due time) and
/// dispatching the messages they write, before returning — in this runtime and in every <see cref="ISimulatedEngine"/>.
/// </summary>
public sealed class Simulator(SimulationClock clock, TimerPump pump, OutboxDispatcher dispatcher, Store.IWorkflowStore store, IEnumerable<ISimulatedEngine> engines)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public SimulationClock Clock => clock;

    public async Task<int> MoveToAsync(Instant target, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (target < clock.GetCurrentInstant()) throw new ArgumentOutOfRangeException(nameof(target), "The simulation clock only moves forward.");
            var fired = await RunDueAsync(ct);
            while (await NextAsync(ct) is { } next && next <= target)
            {
                if (next > clock.GetCurrentInstant()) clock.MoveTo(next);
                var n = await RunDueAsync(ct);
                fired += n;
                if (n == 0 && next <= clock.GetCurrentInstant() && await store.NextTimerDueAsync(ct) is { } old && old <= clock.GetCurrentInstant())
                    break; // a timer held back (e.g. deferred for calendar data): do not spin
            }
            clock.MoveTo(target);
            fired += await RunDueAsync(ct);
            return fired;
        }
        finally { _gate.Release(); }
    }

    private async Task<int> RunDueAsync(CancellationToken ct)
    {
        var fired = await pump.RunDueAsync(ct);
        await dispatcher.RunOnceAsync(ct);
        foreach (var e in engines) await e.SettleAsync(ct);
        return fired;
    }

    /// <summary>The earliest due time of any engine (this runtime's timers: due now or later; the others': after now).</summary>
    private async Task<Instant?> NextAsync(CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var next = await store.NextTimerDueAsync(ct);
        if (next is { } n && n <= now) next = null; // already handled (or held back) at this time
        foreach (var e in engines)
            if (await e.NextDueAfterAsync(now, ct) is { } d && (next is null || d < next)) next = d;
        return next;
    }
}
