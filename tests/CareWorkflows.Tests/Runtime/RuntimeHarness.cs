using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Links;
using CareWorkflows.Runtime.Store;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;
using NodaTime.Testing;

namespace CareWorkflows.Tests.Runtime;

/// <summary>The runtime wired by hand over a real store, with a FakeClock that moves only when told.</summary>
public sealed class RuntimeHarness
{
    public RuntimeHarness(IWorkflowStore store, IMessageChannel? channel = null, string worker = "w1", int maxAttempts = 3, FakeClock? clock = null)
    {
        Store = store;
        Clock = clock ?? new FakeClock(Instant.FromUtc(2026, 3, 28, 12, 0));
        var env = new RuntimeEnvironment(PolicySettings.Default, new HmacLinkIssuer("harness-key-0123456789abcdef", "http://localhost"), Contacts.Default, WorkingCalendar.Shipped);
        Runtime = new WorkflowRuntime(store, new WorkflowRegistry([new TestWorkflow()]), Clock, env, new RuntimeSignals(), NullLogger<WorkflowRuntime>.Instance);
        Pump = new TimerPump(Runtime, new PumpOptions(worker, BatchSize: 100, Lease: Duration.FromSeconds(30)), NullLogger<TimerPump>.Instance);
        Dispatcher = new OutboxDispatcher(Runtime, new ChannelRouter([channel ?? new DevChannel(MessageChannel.Email)]),
            new OutboxOptions(worker, MaxAttempts: maxAttempts, BaseDelay: Duration.FromSeconds(10), Lease: Duration.FromSeconds(30)), NullLogger<OutboxDispatcher>.Instance);
    }

    public IWorkflowStore Store { get; }
    public FakeClock Clock { get; }
    public WorkflowRuntime Runtime { get; }
    public TimerPump Pump { get; }
    public OutboxDispatcher Dispatcher { get; }

    public static readonly Actor Tester = new("tester", Roles.Admin);

    public async Task<string> StartAsync(string name, params (string, Duration)[] timers)
    {
        var o = await Runtime.StartAsync("TST", new TestWorkflow.Begin(name, timers), Tester);
        Assert.Equal(OutcomeKind.Applied, o.Kind);
        return o.Reference!;
    }

    public async Task<TestWorkflow.State> StateAsync(string reference) =>
        (TestWorkflow.State)Runtime.DeserializeState((await Store.LoadAsync(reference))!);
}
