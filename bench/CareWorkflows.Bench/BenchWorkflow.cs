using CareWorkflows.Definitions;
using NodaTime;

namespace CareWorkflows.Bench;

/// <summary>
/// The workflow the benchmarks drive. A <see cref="Poke"/> records one event, updates the state and (re)sets one
/// timer — the same shape as the raw driver transaction it is compared with (read row, insert history row, update
/// row, insert timer). A fired timer records one event.
/// </summary>
public sealed class BenchWorkflow : Workflow<BenchWorkflow.State, BenchWorkflow.Begin>
{
    public const string TypeName = "BEN";

    public sealed record State(int Pokes, int Fired);
    public sealed record Begin : WorkflowInput;
    public sealed record Poke(int N) : WorkflowInput;

    public sealed record Started : WorkflowEvent;
    public sealed record Poked(int N) : WorkflowEvent;
    public sealed record Fired(string Timer) : WorkflowEvent;

    public override string Type => TypeName;
    public override State Initial => new(0, 0);

    public override Decision Decide(State state, WorkflowInput input, WorkflowContext ctx) => input switch
    {
        Begin => new DecisionBuilder().Record(new Started()).Build(),
        Poke p => new DecisionBuilder().Record(new Poked(p.N)).SetTimer("reminder", ctx.Now + Duration.FromDays(1)).Build(),
        TimerFired t => new DecisionBuilder().Record(new Fired(t.Name)).Build(),
        _ => Decision.Invalid($"{input.GetType().Name} is not an input of {TypeName}."),
    };

    public override State Evolve(State s, WorkflowEvent e) => e switch
    {
        Poked => s with { Pokes = s.Pokes + 1 },
        Fired => s with { Fired = s.Fired + 1 },
        _ => s,
    };

    public override string Status(State s) => "Open";
    public override bool IsCompleted(State s) => false;
}
