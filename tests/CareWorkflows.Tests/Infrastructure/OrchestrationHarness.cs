using System.Text.Json;
using CareWorkflows.Definitions;
using Microsoft.DurableTask;
using Moq;
using NodaTime;

namespace CareWorkflows.Tests.Infrastructure;

/// <summary>
/// An orchestrator run against a mocked <see cref="TaskOrchestrationContext"/> (Moq), without any engine: the test
/// sees every timer it creates (with its fire time), every activity it calls (with its input), what it publishes, and
/// drives it by firing timers and sending inputs. Activities answer at once (messages sent, notes written) unless told
/// otherwise.
/// </summary>
public sealed class OrchestrationHarness
{
    public sealed record Timer(DateTime FireAt, TaskCompletionSource Fired, CancellationToken Cancel)
    {
        public bool Cancelled => Cancel.IsCancellationRequested;
    }

    public sealed record Call(string Name, object? Input, TaskOptions? Options);

    private readonly List<TaskCompletionSource<InputEvent>> _waiting = [];
    private int _guid;

    public Mock<TaskOrchestrationContext> Context { get; } = new() { CallBase = true };
    public Instant Now { get; set; }
    public List<Timer> Timers { get; } = [];
    public List<Call> Calls { get; } = [];
    public object? CustomStatus { get; private set; }

    /// <summary>What activities with a yes/no answer answer, by name and input (default: yes).</summary>
    public Func<string, object?, bool> BoolResult { get; set; } = (_, _) => true;

    /// <summary>What the SendMessage activity answers (default: sent through "Dev").</summary>
    public Func<MessageToSend, MessageResult> SendResult { get; set; } =
        m => new MessageResult(m.Id, m.Message.Purpose, m.Message.To, true, "Dev", $"dev-{m.Id:N}", null);

    public OrchestrationHarness(string instanceId, Instant now)
    {
        Now = now;
        Context.SetupGet(c => c.InstanceId).Returns(instanceId);
        Context.SetupGet(c => c.CurrentUtcDateTime).Returns(() => Now.ToDateTimeUtc());
        Context.SetupGet(c => c.IsReplaying).Returns(false);
        Context.Setup(c => c.NewGuid()).Returns(() => new Guid(++_guid, 0, 0, new byte[8]));
        Context.Setup(c => c.SetCustomStatus(It.IsAny<object?>())).Callback<object?>(s => CustomStatus = s);
        Context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .Returns<DateTime, CancellationToken>((at, ct) =>
            {
                var timer = new Timer(at, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), ct);
                Timers.Add(timer);
                ct.Register(() => timer.Fired.TrySetCanceled());
                return timer.Fired.Task;
            });
        Context.Setup(c => c.WaitForExternalEvent<InputEvent>(InputEvent.EventName, It.IsAny<CancellationToken>()))
            .Returns<string, CancellationToken>((_, _) =>
            {
                var waiter = new TaskCompletionSource<InputEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting.Add(waiter);
                return waiter.Task;
            });
        // Moq matches generic type arguments by assignability and the latest setup wins: the object setup goes first.
        Context.Setup(c => c.CallActivityAsync<object>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns<TaskName, object?, TaskOptions?>((name, input, options) =>
            {
                Calls.Add(new Call(name.Name, input, options));
                return Task.FromResult<object>(true);
            });
        Context.Setup(c => c.CallActivityAsync<bool>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns<TaskName, object?, TaskOptions?>((name, input, options) =>
            {
                Calls.Add(new Call(name.Name, input, options));
                return Task.FromResult(BoolResult(name.Name, input));
            });
        Context.Setup(c => c.CallActivityAsync<MessageResult>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns<TaskName, object?, TaskOptions?>((name, input, options) =>
            {
                Calls.Add(new Call(name.Name, input, options));
                return Task.FromResult(SendResult((MessageToSend)input!));
            });
    }

    /// <summary>Messages sent so far.</summary>
    public IEnumerable<OutboundMessage> Sent => Calls.Where(c => c.Name == WorkflowScope.SendMessageActivity).Select(c => ((MessageToSend)c.Input!).Message);

    /// <summary>Kinds of the decisions noted so far, in order.</summary>
    public IEnumerable<string> Notes => Calls.Where(c => c.Name == WorkflowScope.NoteActivity).Select(c => ((TimelineNote)c.Input!).Kind);

    /// <summary>Starts <paramref name="orchestrator"/> and waits until it waits.</summary>
    public async Task<Task<TOut>> StartAsync<TIn, TOut>(TaskOrchestrator<TIn, TOut> orchestrator, TIn input)
    {
        var run = orchestrator.RunAsync(Context.Object, input);
        await SettleAsync();
        if (run.IsFaulted) await run; // an orchestrator that failed at once: show why
        return run;
    }

    /// <summary>What the orchestration published last.</summary>
    public WorkflowStatus Status => (WorkflowStatus)CustomStatus!;

    /// <summary>Timers still to come (created, not fired, not cancelled).</summary>
    public IEnumerable<Timer> Pending => Timers.Where(t => !t.Cancelled && !t.Fired.Task.IsCompleted);

    /// <summary>Moves the clock to <paramref name="at"/> and fires every pending timer due by then, in order.</summary>
    public async Task AdvanceToAsync(Instant at)
    {
        while (Pending.Where(t => Instant.FromDateTimeUtc(t.FireAt) <= at).OrderBy(t => t.FireAt).FirstOrDefault() is { } next)
        {
            Now = Instant.FromDateTimeUtc(next.FireAt);
            next.Fired.TrySetResult();
            await SettleAsync();
        }
        Now = at;
    }

    /// <summary>Waits until the orchestration has stopped moving (it is waiting for something the test controls).</summary>
    public async Task SettleAsync()
    {
        var quiet = 0;
        var last = (-1, -1, -1, (object?)null);
        while (quiet < 3)
        {
            await Task.Delay(5);
            var now = (Calls.Count, Timers.Count, _waiting.Count, CustomStatus);
            quiet = now == last ? quiet + 1 : 0;
            last = now;
        }
    }

    /// <summary>Sends a person's input; returns the outcome the orchestration published for it.</summary>
    public async Task<InputOutcome?> SendAsync(WorkflowInput input, Actor actor, string? id = null)
    {
        id ??= Guid.NewGuid().ToString("N");
        var waiter = _waiting.LastOrDefault(w => !w.Task.IsCompleted) ?? throw new InvalidOperationException("The orchestration is not waiting for an input.");
        waiter.SetResult(InputEvent.Of(id, input, actor));
        await SettleAsync();
        // A first call into slow-to-warm code (a regex built on first use, on a busy machine) can outlast the quiet spell.
        for (var until = DateTime.UtcNow.AddSeconds(10); Status.Outcomes.All(o => o.Id != id) && DateTime.UtcNow < until;) await SettleAsync();
        return Status.Outcomes.LastOrDefault(o => o.Id == id);
    }

    public T View<T>() => Status.View!.Value.Deserialize<T>(WorkflowJson.Options)!;
}
