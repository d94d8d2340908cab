using System.Collections.Immutable;
using CareWorkflows.Definitions;
using NodaTime;

namespace CareWorkflows.Tests.Runtime;

/// <summary>A small workflow for exercising the runtime: it sets named timers, sends a message, records what happens.</summary>
public sealed class TestWorkflow : Workflow<TestWorkflow.State, TestWorkflow.Begin>
{
    public sealed record State(string Name, ImmutableList<string> Fired, int Pokes, ImmutableList<string> Failures, bool Done);

    public sealed record Begin(string Name, IReadOnlyList<(string Timer, Duration After)> Timers, bool SendMessage = true) : WorkflowInput;
    public sealed record Poke(int N) : WorkflowInput;
    public sealed record Finish : WorkflowInput;

    public sealed record Started(string Name) : WorkflowEvent;
    public sealed record Poked(int N) : WorkflowEvent;
    public sealed record Fired(string Timer, Instant At) : WorkflowEvent;
    public sealed record DeliveryFailed(Guid MessageId, string Error) : WorkflowEvent;
    public sealed record Finished : WorkflowEvent;

    public override string Type => "TST";
    public override State Initial => new("", [], 0, [], false);

    public override Decision Decide(State state, WorkflowInput input, WorkflowContext ctx) => input switch
    {
        Begin b when b.Name.Length == 0 => Decision.Invalid("A name is required."),
        Begin b => OnBegin(b, ctx),
        Poke p when state.Done => Decision.Conflict("Finished."),
        Poke p => new DecisionBuilder().Record(new Poked(p.N)).Build(),
        Finish => new DecisionBuilder().Record(new Finished()).Build(),
        TimerFired t => new DecisionBuilder().Record(new Fired(t.Name, ctx.Now)).Build(),
        MessageFailed f => new DecisionBuilder().Record(new DeliveryFailed(f.MessageId, f.Error)).Build(),
        _ => Decision.Invalid($"{input.GetType().Name} is not an input of TST."),
    };

    private static Decision OnBegin(Begin b, WorkflowContext ctx)
    {
        var d = new DecisionBuilder().Record(new Started(b.Name));
        foreach (var (name, after) in b.Timers) d.SetTimer(name, ctx.Now + after);
        if (b.SendMessage)
            d.Send(new OutboundMessage(MessageChannel.Email, "someone@example.org", "hello", $"{ctx.Reference}: hello", "Body"));
        return d.Build();
    }

    public override State Evolve(State s, WorkflowEvent e) => e switch
    {
        Started x => s with { Name = x.Name },
        Poked => s with { Pokes = s.Pokes + 1 },
        Fired f => s with { Fired = s.Fired.Add(f.Timer) },
        DeliveryFailed f => s with { Failures = s.Failures.Add(f.Error) },
        Finished => s with { Done = true },
        _ => s,
    };

    public override string Status(State s) => s.Done ? "Done" : "Open";
    public override bool IsCompleted(State s) => s.Done;
}
