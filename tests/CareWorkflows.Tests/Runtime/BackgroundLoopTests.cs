using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace CareWorkflows.Tests.Runtime;

/// <summary>The standalone loops on the real system clock: a timer fires within about a second of its due time, without polling every 30 s.</summary>
public sealed class BackgroundLoopTests
{
    [Theory, MemberData(nameof(TestDatabases.Stores), MemberType = typeof(TestDatabases))]
    public async Task A_timer_fires_within_a_second_of_its_due_time_and_its_message_is_sent(string kind)
    {
        await using var app = new CareWorkflowsApp(kind, settings: new Dictionary<string, string?>
        {
            ["Simulation:Enabled"] = "false",
            ["Runtime:BackgroundLoops"] = "true",
        }, services: s => s.AddSingleton<IWorkflowDefinition, TestWorkflow>());
        _ = app.Server; // start the host and its loops
        var runtime = app.Services.GetRequiredService<WorkflowRuntime>();
        var store = app.Services.GetRequiredService<IWorkflowStore>();
        var clock = app.Services.GetRequiredService<IClock>();
        // Wait far beyond the 500 ms cross-node check so the loop is asleep when the timer is set.
        await Task.Delay(1200, TestContext.Current.CancellationToken);

        var started = clock.GetCurrentInstant();
        var o = await runtime.StartAsync("TST", new TestWorkflow.Begin("loop", [("soon", Duration.FromMilliseconds(1500))]), RuntimeHarness.Tester);
        var due = started + Duration.FromMilliseconds(1500);

        TimelineEntry? fired = null;
        for (var i = 0; i < 60 && fired is null; i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            fired = (await store.GetTimelineAsync(o.Reference!)).FirstOrDefault(e => e.Type == "Fired");
        }
        Assert.NotNull(fired);
        var lateness = fired.At - due;
        Assert.True(lateness >= -Duration.FromMilliseconds(1), $"fired early by {-lateness}");
        Assert.True(lateness < Duration.FromSeconds(1), $"fired {lateness} after due");
        var message = Assert.Single(await store.GetMessagesAsync(o.Reference));
        Assert.Equal(OutboxStatus.Sent, message.Status);
    }
}
