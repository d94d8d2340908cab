using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Links;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using CareWorkflows.Tests.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;

namespace CareWorkflows.Tests.Reliability;

/// <summary>
/// The system clock jumping backwards or forwards (NTP steps, a VM resumed, an operator's mistake) never fires a timer
/// early or twice (issue 9, "Clock"). The clock is a stepped test clock; the store is real SQLite and PostgreSQL.
/// </summary>
public sealed class ClockJumpTests
{
    private static readonly Instant Base = Instant.FromUtc(2026, 3, 28, 12, 0);

    /// <summary>A clock moved by hand, backwards too; it can be told to jump right after its next reading.</summary>
    private sealed class SteppedClock(Instant start) : IClock
    {
        private readonly Lock _gate = new();
        private Instant _now = start;
        private Instant? _afterNextRead;

        public Instant GetCurrentInstant()
        {
            lock (_gate)
            {
                var now = _now;
                if (_afterNextRead is { } next) { _now = next; _afterNextRead = null; }
                return now;
            }
        }

        public void Set(Instant to) { lock (_gate) _now = to; }

        /// <summary>The next reading returns the current time; every later one returns <paramref name="to"/>.</summary>
        public void JumpAfterNextRead(Instant to) { lock (_gate) _afterNextRead = to; }
    }

    private sealed class Rig
    {
        public Rig(IWorkflowStore store, SteppedClock clock, string worker = "w1")
        {
            Store = store;
            Clock = clock;
            var env = new RuntimeEnvironment(PolicySettings.Default, new HmacLinkIssuer("clock-key-0123456789abcdef", "http://localhost"), Contacts.Default, WorkingCalendar.Shipped);
            Runtime = new WorkflowRuntime(store, new WorkflowRegistry([new TestWorkflow()]), clock, env, new RuntimeSignals(), NullLogger<WorkflowRuntime>.Instance);
            Pump = new TimerPump(Runtime, new PumpOptions(worker, BatchSize: 50, Lease: Duration.FromSeconds(30)), NullLogger<TimerPump>.Instance);
        }

        public IWorkflowStore Store { get; }
        public SteppedClock Clock { get; }
        public WorkflowRuntime Runtime { get; }
        public TimerPump Pump { get; }

        public async Task<string> StartAsync(string name, params (string, Duration)[] timers)
        {
            var o = await Runtime.StartAsync("TST", new TestWorkflow.Begin(name, timers, SendMessage: false), RuntimeHarness.Tester);
            Assert.Equal(OutcomeKind.Applied, o.Kind);
            return o.Reference!;
        }

        /// <summary>Every firing recorded in the timeline: (timer, the clock reading the transition used).</summary>
        public async Task<List<(string Timer, Instant At)>> FiringsAsync(string reference) =>
            (await Store.GetTimelineAsync(reference)).Where(e => e.Type == nameof(TestWorkflow.Fired))
                .Select(e => System.Text.Json.JsonSerializer.Deserialize<TestWorkflow.Fired>(e.Data, WorkflowJson.Options)!)
                .Select(f => (f.Timer, f.At)).ToList();
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task A_clock_stepping_back_between_claim_and_transition_does_not_fire_the_timer_early(string kind)
    {
        var clock = new SteppedClock(Base);
        var rig = new Rig(await TestDatabases.NewStoreAsync(kind), clock);
        var reference = await rig.StartAsync("alpha", ("a", Duration.FromMinutes(10)));
        var due = Base + Duration.FromMinutes(10);

        // The pump reads the clock (due) and claims the timer; the clock then steps back 5 minutes before the transition.
        clock.Set(due);
        clock.JumpAfterNextRead(due - Duration.FromMinutes(5));
        Assert.Equal(0, await rig.Pump.RunDueAsync());

        Assert.Empty(await rig.FiringsAsync(reference));
        var kept = Assert.Single(await rig.Store.GetTimersAsync(reference));
        Assert.Equal(due, kept.DueAt);
        Assert.Equal(0, await rig.Pump.RunDueAsync()); // still not due by the clock

        // The clock reaches the due time again: it fires, once, at or after its due time.
        clock.Set(due);
        Assert.Equal(1, await rig.Pump.RunDueAsync());
        clock.Set(due + Duration.FromHours(1));
        Assert.Equal(0, await rig.Pump.RunDueAsync());
        var fired = Assert.Single(await rig.FiringsAsync(reference));
        Assert.Equal("a", fired.Timer);
        Assert.True(fired.At >= due, $"fired at {fired.At}, due {due}");
        Assert.Empty(await rig.Store.GetTimersAsync(reference));
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task The_runtime_refuses_a_claimed_timer_that_is_not_due_at_its_own_clock_reading(string kind)
    {
        var clock = new SteppedClock(Base);
        var rig = new Rig(await TestDatabases.NewStoreAsync(kind), clock);
        var reference = await rig.StartAsync("alpha", ("a", Duration.FromMinutes(10)));
        var due = Base + Duration.FromMinutes(10);
        var claimed = Assert.Single(await rig.Store.ClaimDueTimersAsync(due, 10, "w1", Duration.FromSeconds(30)));

        clock.Set(due - Duration.FromSeconds(1));
        var outcome = await rig.Runtime.ApplyAsync(reference, new TimerFired("a"), Actor.System, consumeTimerId: claimed.Id, timerDueAt: claimed.DueAt);
        Assert.Equal(OutcomeKind.NotDue, outcome.Kind);

        // Without the due time the store itself refuses to consume a timer that is not due at the transition's now.
        var stale = await rig.Runtime.ApplyAsync(reference, new TimerFired("a"), Actor.System, consumeTimerId: claimed.Id);
        Assert.Equal(OutcomeKind.Stale, stale.Kind);
        Assert.Empty(await rig.FiringsAsync(reference));
        Assert.Single(await rig.Store.GetTimersAsync(reference));
    }

    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task Random_jumps_back_and_forth_never_fire_a_timer_early_or_twice(string kind)
    {
        var clock = new SteppedClock(Base);
        var store = await TestDatabases.NewStoreAsync(kind);
        var rigs = new[] { new Rig(store, clock, "w1"), new Rig(store, clock, "w2") };
        var rng = new Random(9_2026);
        var due = new Dictionary<(string Reference, string Timer), Instant>();
        for (var i = 0; i < 40; i++)
        {
            var timers = Enumerable.Range(0, 3).Select(k => ($"t{k}", Duration.FromMinutes(rng.Next(1, 200)))).ToArray();
            var reference = await rigs[0].StartAsync($"i{i}", timers);
            foreach (var (name, after) in timers) due[(reference, name)] = Base + after;
        }

        // A random walk of the clock (steps of -20 to +25 minutes), and every other step a second jump right after the
        // pump's claim; two workers pump concurrently. Timers keep coming due at the edge the clock moves back and forth over.
        var position = Base - Duration.FromMinutes(10);
        for (var step = 0; step < 120; step++)
        {
            position += Duration.FromMinutes(rng.Next(-20, 26));
            clock.Set(position);
            if (rng.Next(2) == 0) clock.JumpAfterNextRead(position + Duration.FromMinutes(rng.Next(-20, 11)));
            await Task.WhenAll(rigs.Select(r => Task.Run(() => r.Pump.RunDueAsync())));
        }
        // Finally the clock settles past every due time.
        clock.Set(Base + Duration.FromHours(8));
        await Task.WhenAll(rigs.Select(r => Task.Run(() => r.Pump.RunDueAsync())));

        var problems = new List<string>();
        foreach (var reference in due.Keys.Select(k => k.Reference).Distinct())
        {
            var firings = await rigs[0].FiringsAsync(reference);
            foreach (var g in firings.GroupBy(f => f.Timer))
                if (g.Count() != 1) problems.Add($"{reference}/{g.Key} fired {g.Count()} times");
            foreach (var (timer, at) in firings)
                if (at < due[(reference, timer)]) problems.Add($"{reference}/{timer} fired early: at {at}, due {due[(reference, timer)]}");
            foreach (var timer in new[] { "t0", "t1", "t2" })
                if (firings.All(f => f.Timer != timer)) problems.Add($"{reference}/{timer} never fired");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
        Assert.Null(await store.NextTimerDueAsync());
    }
}
