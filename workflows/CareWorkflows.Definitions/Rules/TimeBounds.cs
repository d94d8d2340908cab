using NodaTime;

namespace CareWorkflows.Definitions.Rules;

/// <summary>
/// Bounds on instants and dates people type. A year-9999 or year-0001 value is a typing error: taken as given it breaks
/// deadline arithmetic, writes timers nobody will see fire or calls an incident reported decades late. Each method
/// returns why a value is refused (naming the field), or null when it is within bounds. Pure.
/// </summary>
public static class TimeBounds
{
    /// <summary>How far in the past a first call may be (clock differences, a call just made).</summary>
    public static readonly Duration FirstCallGrace = Duration.FromMinutes(5);
    /// <summary>How far ahead a first call may be: the same 28 days a discharge may be booked ahead.</summary>
    public static readonly Duration FirstCallHorizon = Duration.FromDays(28);

    /// <summary>
    /// A D2A first call, whether a provider offers it or brokerage awards with it (App M §6, B 4.6.4: care starts at
    /// discharge): not more than <see cref="FirstCallGrace"/> in the past, not more than <see cref="FirstCallHorizon"/> ahead.
    /// </summary>
    public static string? FirstCall(Instant firstCall, Instant now)
    {
        if (firstCall < now - FirstCallGrace) return "The first call time is in the past.";
        if (firstCall > now + FirstCallHorizon) return $"The first call time is more than {FirstCallHorizon.Days} days away.";
        return null;
    }

    /// <summary>
    /// Something that has happened (an incident): not later than <paramref name="skew"/> after now, not earlier than
    /// <paramref name="maxAge"/> before it.
    /// </summary>
    public static string? InPlausiblePast(string field, Instant at, Instant now, Duration skew, Duration maxAge)
    {
        if (at > now + skew) return $"{field} is in the future.";
        if (at < now - maxAge) return $"{field} is more than {maxAge.Days} days ago: check the date (a report this late needs the council's safeguarding team directly).";
        return null;
    }

    /// <summary>
    /// A deadline a person chooses (a quality concern's new due date, B 15.2): not before today, and within
    /// <paramref name="maxDaysAhead"/> days. Beyond that it is refused as a typing error before the calendar is asked.
    /// </summary>
    public static string? DueDate(string field, LocalDate date, LocalDate today, int maxDaysAhead)
    {
        if (date < today) return $"{field} {date:yyyy-MM-dd} is in the past.";
        if (date > today.PlusDays(maxDaysAhead)) return $"{field} {date:yyyy-MM-dd} is more than {maxDaysAhead} days ahead.";
        return null;
    }

    /// <summary>How far one move of the simulation clock may reach.</summary>
    public static readonly Duration SimulationHorizon = Duration.FromDays(3660);

    /// <summary>
    /// Where the simulation clock may be moved (training, demos, tests): forward only; at most ten years on (instants near
    /// year 9999 overflow deadline arithmetic); and not past the last day the bank-holiday data covers, where every
    /// working-day deadline would be held (DOMAIN.md: a date beyond the data is an error, never a guess).
    /// </summary>
    public static string? SimulationTarget(Instant now, Instant target, LocalDate calendarCoveredTo)
    {
        if (target < now) return "The simulation clock only moves forward.";
        if (target > now + SimulationHorizon) return "The simulation clock moves at most ten years at a time.";
        var date = target.InZone(WorkflowContext.London).Date;
        if (date > calendarCoveredTo)
            return $"The bank-holiday data ends on {calendarCoveredTo:yyyy-MM-dd}: the simulation clock cannot go to {date:yyyy-MM-dd}. Load newer data first.";
        return null;
    }
}
