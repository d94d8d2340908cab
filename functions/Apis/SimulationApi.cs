using CareWorkflows.Functions.Auth;
using CareWorkflows.Runtime.Engine;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Functions.Apis;

public sealed record ClockView(Instant Now, string Local);
public sealed record SetClockRequest(string? Now);
public sealed record AdvanceRequest(string? By);

/// <summary>The simulation clock (Simulation:Enabled only; otherwise these routes do not exist and answer 404).</summary>
public static class SimulationApi
{
    public static WebApplication MapSimulationApi(this WebApplication app)
    {
        if (app.Services.GetService<Simulator>() is null) return app;
        var api = app.MapGroup("/api/simulation").RequireAuthorization(Policies.Staff).WithTags("Simulation");
        api.MapGet("/clock", (SimulationClock clock) => TypedResults.Ok(View(clock.GetCurrentInstant())));
        api.MapPost("/clock", SetAsync);
        api.MapPost("/advance", AdvanceAsync);
        return app;
    }

    private static ClockView View(Instant now) => new(now, InstancesApi.Local(now));

    private static async Task<Results<Ok<ClockView>, ProblemHttpResult>> SetAsync(SetClockRequest? body, Simulator simulator, CancellationToken ct)
    {
        var parsed = InstantPattern.ExtendedIso.Parse(body?.Now ?? "");
        if (!parsed.Success) return Problems.BadRequest("now must be an ISO-8601 instant, e.g. 2026-10-24T19:00:00Z.");
        if (parsed.Value < simulator.Clock.GetCurrentInstant()) return Problems.Unprocessable("The simulation clock only moves forward.");
        await simulator.MoveToAsync(parsed.Value, ct);
        return TypedResults.Ok(View(simulator.Clock.GetCurrentInstant()));
    }

    private static async Task<Results<Ok<ClockView>, ProblemHttpResult>> AdvanceAsync(AdvanceRequest? body, Simulator simulator, CancellationToken ct)
    {
        if (!TryParseDuration(body?.By, out var by)) return Problems.BadRequest("by must be an ISO-8601 duration such as PT1H, PT30M, P2D or P6W.");
        if (by <= Duration.Zero) return Problems.Unprocessable("by must be positive: the simulation clock only moves forward.");
        if (by > Duration.FromDays(3660)) return Problems.Unprocessable("by must be at most ten years.");
        await simulator.MoveToAsync(simulator.Clock.GetCurrentInstant() + by, ct);
        return TypedResults.Ok(View(simulator.Clock.GetCurrentInstant()));
    }

    /// <summary>ISO-8601 durations in elapsed time: weeks, days (24 h), hours, minutes, seconds. Months and years are refused (not fixed lengths).</summary>
    public static bool TryParseDuration(string? text, out Duration duration)
    {
        duration = Duration.Zero;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64) return false;
        var r = PeriodPattern.NormalizingIso.Parse(text.Trim());
        if (!r.Success || r.Value.Years != 0 || r.Value.Months != 0) return false;
        try { duration = r.Value.Normalize().ToDuration(); return true; }
        catch (Exception e) when (e is InvalidOperationException or OverflowException) { return false; }
    }
}
