using System.Collections.Concurrent;
using NodaTime;

namespace CareWorkflows.Runtime.Engine;

/// <summary>A timer the pump holds back because its transition needs a date beyond the loaded bank-holiday data.</summary>
public sealed record HeldTimer(string Reference, string Timer, string Date, Instant FirstHeldAt, Instant LastTriedAt, int Attempts);

/// <summary>A request refused because it needed a date beyond the loaded bank-holiday data.</summary>
public sealed record RefusedRequest(string Method, string Path, string Date, Instant At);

/// <summary>
/// What operators must see when the working-day calendar runs out (DOMAIN.md, time rules: an unknown year is an
/// error, never a guess). Kept in memory on this node next to the critical log line, and shown by
/// GET /api/calendar/bank-holidays. A held timer leaves the list when it fires.
/// </summary>
public sealed class CalendarAlerts
{
    private const int MaxRefused = 100;
    private readonly ConcurrentDictionary<(string, string), HeldTimer> _held = new();
    private readonly ConcurrentQueue<RefusedRequest> _refused = new();

    public IReadOnlyList<HeldTimer> HeldTimers => _held.Values.OrderBy(h => h.FirstHeldAt).ToList();
    public IReadOnlyList<RefusedRequest> RefusedRequests => _refused.ToList();

    public void TimerHeld(string reference, string timer, string date, Instant now) =>
        _held.AddOrUpdate((reference, timer), _ => new HeldTimer(reference, timer, date, now, now, 1),
            (_, h) => h with { Date = date, LastTriedAt = now, Attempts = h.Attempts + 1 });

    public void TimerReleased(string reference, string timer) => _held.TryRemove((reference, timer), out _);

    public void RequestRefused(string method, string path, string date, Instant now)
    {
        _refused.Enqueue(new RefusedRequest(method, path, date, now));
        while (_refused.Count > MaxRefused) _refused.TryDequeue(out _);
    }
}
