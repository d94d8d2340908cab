using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.Runtime;

public sealed class MultiWorkerTests
{
    [Fact]
    public async Task Two_workers_on_one_PostgreSQL_fire_each_of_2000_due_timers_exactly_once()
    {
        var store = await TestDatabases.NewStoreAsync(TestDatabases.StorePostgres);
        var a = new RuntimeHarness(store, worker: "a");
        var b = new RuntimeHarness(store, worker: "b", clock: a.Clock);
        var references = new List<string>();
        for (var i = 0; i < 1000; i++)
            references.Add(await a.StartAsync($"i{i}", ("x", Duration.FromMinutes(5)), ("y", Duration.FromMinutes(5))));
        a.Clock.Advance(Duration.FromMinutes(5));

        var fired = await Task.WhenAll(Task.Run(() => a.Pump.RunDueAsync()), Task.Run(() => b.Pump.RunDueAsync()));

        Assert.Equal(2000, fired.Sum());
        Assert.True(fired[0] > 0 && fired[1] > 0, $"work should be shared: {fired[0]} / {fired[1]}");
        foreach (var r in references)
        {
            var state = await a.StateAsync(r);
            Assert.Equal(2, state.Fired.Count);
            Assert.Equal(["x", "y"], state.Fired.Order());
        }
        Assert.Null(await store.NextTimerDueAsync());
    }
}
