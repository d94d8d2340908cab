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
/// Moves the simulation clock, firing every timer due on the way in due order (each at its own due time) and letting
/// the engine finish what that makes due (activities, messages), before returning.
/// </summary>
public sealed class Simulator(SimulationClock clock, IEnumerable<ISimulatedEngine> engines)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public SimulationClock Clock => clock;

    public async Task MoveToAsync(Instant target, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (target < clock.GetCurrentInstant()) throw new ArgumentOutOfRangeException(nameof(target), "The simulation clock only moves forward.");
            await SettleAsync(ct);
            while (await NextAsync(ct) is { } next && next <= target)
            {
                clock.MoveTo(next);
                await SettleAsync(ct);
            }
            clock.MoveTo(target);
            await SettleAsync(ct);
        }
        finally { _gate.Release(); }
    }

    private async Task SettleAsync(CancellationToken ct)
    {
        foreach (var e in engines) await e.SettleAsync(ct);
    }

    /// <summary>The earliest due time after now of any engine.</summary>
    private async Task<Instant?> NextAsync(CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        Instant? next = null;
        foreach (var e in engines)
            if (await e.NextDueAfterAsync(now, ct) is { } d && (next is null || d < next)) next = d;
        return next;
    }
}
