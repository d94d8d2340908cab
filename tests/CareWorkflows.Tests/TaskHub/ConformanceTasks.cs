using System.Collections.Concurrent;
using Microsoft.DurableTask;

namespace CareWorkflows.Tests.TaskHub;

/// <summary>
/// The small orchestrations of the conformance suite: each exercises one part of the protocol. Registered the same way
/// on every backend.
/// </summary>
public static class ConformanceTasks
{
    /// <summary>Attempts per (instance, activity) for the retry case; survives across attempts in this process.</summary>
    public static readonly ConcurrentDictionary<string, int> Attempts = new();

    public static void Register(DurableTaskRegistry r)
    {
        r.AddActivityFunc<int, int>("Double", (_, x) => x * 2);
        r.AddActivityFunc<string, string>("Shout", (_, s) => s.ToUpperInvariant() + "!");

        // Activity chain: five activities in sequence.
        r.AddOrchestratorFunc<int, int>("Chain", async (ctx, x) =>
        {
            for (var i = 0; i < 5; i++) x = await ctx.CallActivityAsync<int>("Double", x);
            return x;
        });

        // Fan-out/fan-in: n activities at once, then their sum.
        r.AddOrchestratorFunc<int, int>("FanOut", async (ctx, n) =>
        {
            var tasks = Enumerable.Range(1, n).Select(i => ctx.CallActivityAsync<int>("Double", i)).ToList();
            return (await Task.WhenAll(tasks)).Sum();
        });

        // Human interaction: an approval event against a timeout timer (the loser is cancelled).
        r.AddOrchestratorFunc<int, string>("Approval", async (ctx, timeoutSeconds) =>
        {
            using var cts = new CancellationTokenSource();
            var approval = ctx.WaitForExternalEvent<string>("Approval", cts.Token);
            var timeout = ctx.CreateTimer(ctx.CurrentUtcDateTime.AddSeconds(timeoutSeconds), cts.Token);
            ctx.SetCustomStatus("waiting");
            var winner = await Task.WhenAny(approval, timeout);
            cts.Cancel();
            return winner == approval ? $"approved by {approval.Result}" : "timed out";
        });

        // A timer of any length: returns the time it woke at, as seen by the orchestration.
        r.AddOrchestratorFunc<int, DateTime>("Sleep", async (ctx, days) =>
        {
            await ctx.CreateTimer(ctx.CurrentUtcDateTime.AddDays(days), CancellationToken.None);
            return ctx.CurrentUtcDateTime;
        });

        // Waits for one event and returns it (event raised before the orchestration ran).
        r.AddOrchestratorFunc<string?, string>("WaitForOne", async (ctx, _) => await ctx.WaitForExternalEvent<string>("Go"));

        // ContinueAsNew: adds up "Add" events, one per generation, until it has `count`; events that arrive while it is
        // between generations must be carried into the next.
        r.AddOrchestratorFunc<AddState, int>("Accumulate", async (ctx, state) =>
        {
            var value = await ctx.WaitForExternalEvent<int>("Add");
            // An activity between the event and ContinueAsNew: events that arrive meanwhile are buffered and must be carried.
            value = await ctx.CallActivityAsync<int>("Double", value) / 2;
            state = state with { Total = state.Total + value, Seen = state.Seen + 1 };
            if (state.Seen < state.Count)
            {
                ctx.ContinueAsNew(state, preserveUnprocessedEvents: true);
                return 0;
            }
            return state.Total;
        });

        // Sub-orchestration: the parent calls a child that calls an activity.
        r.AddOrchestratorFunc<string, string>("Parent", async (ctx, s) =>
            "parent(" + await ctx.CallSubOrchestratorAsync<string>("Child", s, new SubOrchestrationOptions { InstanceId = ctx.InstanceId + "-child" }) + ")");
        r.AddOrchestratorFunc<string, string>("Child", async (ctx, s) => await ctx.CallActivityAsync<string>("Shout", s));

        // Waits for ever (terminate, suspend/resume cases).
        r.AddOrchestratorFunc<string?, string>("Forever", async (ctx, _) =>
        {
            ctx.SetCustomStatus("waiting for Finish");
            return await ctx.WaitForExternalEvent<string>("Finish");
        });

        // An activity that fails twice, then succeeds, under an SDK retry policy.
        r.AddActivityFunc<string, string>("Flaky", (ctx, key) =>
        {
            var n = Attempts.AddOrUpdate(key, 1, (_, v) => v + 1);
            if (n < 3) throw new InvalidOperationException($"attempt {n} fails");
            return $"succeeded on attempt {n}";
        });
        r.AddOrchestratorFunc<string?, string>("Retry", async (ctx, _) =>
            await ctx.CallActivityAsync<string>("Flaky", ctx.InstanceId,
                new TaskOptions(new TaskRetryOptions(new RetryPolicy(4, TimeSpan.FromMilliseconds(200), backoffCoefficient: 1.0)))));

        // An activity that always fails: the orchestration fails with its details.
        r.AddActivityFunc<string, string>("Broken", (TaskActivityContext _, string _) => Broken());
        r.AddOrchestratorFunc<string?, string>("Fails", async (ctx, _) => await ctx.CallActivityAsync<string>("Broken", "x"));

        // Custom status set step by step.
        r.AddOrchestratorFunc<string?, string>("Status", async (ctx, _) =>
        {
            ctx.SetCustomStatus(new { stage = "one" });
            await ctx.WaitForExternalEvent<string>("Next");
            ctx.SetCustomStatus(new { stage = "two" });
            return "done";
        });
    }

    private static string Broken() => throw new InvalidOperationException("The directory is unreachable.");

    public sealed record AddState(int Count, int Seen = 0, int Total = 0);
}
