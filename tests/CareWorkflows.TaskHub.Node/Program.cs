using CareWorkflows.TaskHub.Engine;
using CareWorkflows.TaskHub.Hosting;
using CareWorkflows.TaskHub.Postgres;
using CareWorkflows.TaskHub.Sqlite;
using CareWorkflows.TaskHub.Store;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;

// One node: our Durable Task server on the given store, with a worker running the probe orchestrations.
// Settings (environment): CW_NODE_STORE Sqlite|Postgres, CW_NODE_CONNECTION (file or connection string),
// CW_NODE_PORT (gRPC), CW_NODE_NAME, CW_NODE_LEASE_SECONDS.
var name = Environment.GetEnvironmentVariable("CW_NODE_NAME") ?? "node";
var connection = Environment.GetEnvironmentVariable("CW_NODE_CONNECTION") ?? throw new InvalidOperationException("CW_NODE_CONNECTION");
ITaskHubStore store = Environment.GetEnvironmentVariable("CW_NODE_STORE") == "Postgres"
    ? new PostgresTaskHubStore(connection)
    : new SqliteTaskHubStore(connection);
var options = new TaskHubOptions
{
    GrpcEndpoint = $"http://127.0.0.1:{Environment.GetEnvironmentVariable("CW_NODE_PORT")}",
    Lease = Duration.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("CW_NODE_LEASE_SECONDS") ?? "30")),
    PollInterval = TimeSpan.FromSeconds(1),
    WorkerId = name,
};

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<IClock>(SystemClock.Instance);
builder.Services.AddTaskHubServer(store, options);
builder.Services.AddDurableTaskWorker(b =>
{
    b.UseGrpc(options.GrpcEndpoint);
    b.AddTasks(r =>
    {
        r.AddActivityFunc<string?, string>("WhereAmI", (_, _) => name);
        // Holds its claim for CW_NODE_HOLD_SECONDS (set per node by the test), else for the seconds it is given.
        r.AddActivityFunc<int, string>("Hold", async (_, seconds) =>
        {
            var hold = int.TryParse(Environment.GetEnvironmentVariable("CW_NODE_HOLD_SECONDS"), out var h) ? h : seconds;
            await Task.Delay(TimeSpan.FromSeconds(hold));
            return name;
        });
        // A timer due at the given time, then which node woke it.
        r.AddOrchestratorFunc<DateTime, string>("TimerProbe", async (ctx, dueAt) =>
        {
            await ctx.CreateTimer(dueAt, CancellationToken.None);
            return await ctx.CallActivityAsync<string>("WhereAmI", null) + "@" + ctx.CurrentUtcDateTime.ToString("O");
        });
        // An activity that holds its claim for a while (the crash test kills the node meanwhile).
        r.AddOrchestratorFunc<int, string>("HoldProbe", async (ctx, seconds) => await ctx.CallActivityAsync<string>("Hold", seconds));
    });
});
var host = builder.Build();
await host.StartAsync();
Console.WriteLine($"ready {name}");
await host.WaitForShutdownAsync();
