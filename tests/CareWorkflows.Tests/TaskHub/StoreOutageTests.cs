using CareWorkflows.TaskHub.Engine;
using CareWorkflows.TaskHub.Postgres;
using CareWorkflows.Tests.Reliability;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.Tests.TaskHub;

/// <summary>
/// Our server while its PostgreSQL is down: calls answer gRPC <c>Unavailable</c> (retryable, and a 503 in the app's API),
/// not <c>Unknown</c>; once PostgreSQL is back (crash recovery) the same server, not restarted, takes calls and runs
/// orchestrations again. PostgreSQL is a server of the test's own, killed with SIGKILL.
/// </summary>
[Collection(AppProcessCollection.Name)]
public sealed class StoreOutageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WhilePostgresIsDownCallsAnswerUnavailableAndTheServerCarriesOnOnceItIsBack()
    {
        await using var pg = await OwnPostgres.StartAsync();
        var store = new PostgresTaskHubStore(await pg.NewDatabaseAsync("outage"));
        await store.MigrateAsync(Ct);
        await using var server = await OurServerBackend.StartAsync("postgres", r => r.AddOrchestratorFunc<int, int>("Double", (_, x) => x * 2), store);
        var endpoint = server.Services.GetRequiredService<TaskHubOptions>().GrpcEndpoint;
        var raw = new P.TaskHubSidecarService.TaskHubSidecarServiceClient(GrpcChannel.ForAddress(endpoint));

        var before = await server.Client.ScheduleNewOrchestrationInstanceAsync("Double", 21, Ct);
        Assert.Equal(42, (await server.Client.WaitForInstanceCompletionAsync(before, true, Ct)).ReadOutputAs<int>());

        await pg.KillAsync();
        var down = await Assert.ThrowsAsync<RpcException>(async () => await raw.GetInstanceAsync(new P.GetInstanceRequest { InstanceId = before }, cancellationToken: Ct));
        Assert.Equal(StatusCode.Unavailable, down.StatusCode);
        var start = await Assert.ThrowsAsync<RpcException>(async () =>
            await raw.StartInstanceAsync(new P.CreateInstanceRequest { InstanceId = "during-outage", Name = "Double", Input = "1" }, cancellationToken: Ct));
        Assert.Equal(StatusCode.Unavailable, start.StatusCode);

        await pg.RestartAsync();
        // The pool's connections died with the server; the first calls after it is back may still find one.
        P.GetInstanceResponse? found = null;
        for (var i = 0; i < 50 && found is null; i++)
        {
            try { found = await raw.GetInstanceAsync(new P.GetInstanceRequest { InstanceId = before }, cancellationToken: Ct); }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable) { await Task.Delay(200, Ct); }
        }
        Assert.True(found is { Exists: true }, "the server did not answer after PostgreSQL came back");
        Assert.Null(await server.Client.GetInstanceAsync("during-outage", Ct)); // refused while down: nothing written
        var after = await server.Client.ScheduleNewOrchestrationInstanceAsync("Double", 50, Ct);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        wait.CancelAfter(TimeSpan.FromSeconds(60));
        Assert.Equal(100, (await server.Client.WaitForInstanceCompletionAsync(after, true, wait.Token)).ReadOutputAs<int>());
    }
}
