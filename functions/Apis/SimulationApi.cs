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
        // Moving the clock fires every deadline on the way for every instance: administrators only.
        api.MapPost("/clock", SetAsync).RequireAuthorization(Policies.Admin);
        api.MapPost("/advance", AdvanceAsync).RequireAuthorization(Policies.Admin);
        return app;
    }

    /// <summary>Why the clock may not move to <paramref name="target"/>, or null (shared with the operations page).</summary>
    public static string? MoveError(Simulator simulator, RuntimeEnvironment env, Instant target) =>
        CareWorkflows.Definitions.Rules.TimeBounds.SimulationTarget(simulator.Clock.GetCurrentInstant(), target, env.Calendar.CoveredTo);

    private static ClockView View(Instant now) => new(now, InstancesApi.Local(now));

    private static async Task<Results<Ok<ClockView>, ProblemHttpResult>> SetAsync(SetClockRequest? body, Simulator simulator, RuntimeEnvironment env, CancellationToken ct)
    {
        var parsed = InstantPattern.ExtendedIso.Parse(body?.Now ?? "");
        if (!parsed.Success) return Problems.BadRequest("now must be an ISO-8601 instant, e.g. 2026-10-24T19:00:00Z.");
        if (MoveError(simulator, env, parsed.Value) is { } error) return Field("now", error);
        await simulator.MoveToAsync(parsed.Value, ct);
        return TypedResults.Ok(View(simulator.Clock.GetCurrentInstant()));
    }

    private static async Task<Results<Ok<ClockView>, ProblemHttpResult>> AdvanceAsync(AdvanceRequest? body, Simulator simulator, RuntimeEnvironment env, CancellationToken ct)
    {
        if (!TryParseDuration(body?.By, out var by)) return Problems.BadRequest("by must be an ISO-8601 duration such as PT1H, PT30M, P2D or P6W.");
        if (by <= Duration.Zero) return Field("by", "by must be positive: the simulation clock only moves forward.");
        if (by > CareWorkflows.Definitions.Rules.TimeBounds.SimulationHorizon) return Field("by", "by must be at most ten years.");
        if (MoveError(simulator, env, simulator.Clock.GetCurrentInstant() + by) is { } error) return Field("by", error);
        await simulator.MoveToAsync(simulator.Clock.GetCurrentInstant() + by, ct);
        return TypedResults.Ok(View(simulator.Clock.GetCurrentInstant()));
    }

    private static ProblemHttpResult Field(string field, string message) => Problems.Validation(new Dictionary<string, string[]> { [field] = [message] });

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
