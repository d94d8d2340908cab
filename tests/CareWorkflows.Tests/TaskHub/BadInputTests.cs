using CareWorkflows.TaskHub.Engine;
using CareWorkflows.TaskHub.Sqlite;
using CareWorkflows.TaskHub.Store;
using Microsoft.Extensions.DependencyInjection;
using CareWorkflows.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.DurableTask.Client;
using Microsoft.Data.Sqlite;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.Tests.TaskHub;

/// <summary>
/// Bad input on every client call of our server, sent raw over gRPC: each gets a status code with a message a caller can
/// act on, and nothing is written (the database is compared before and after).
/// </summary>
public sealed class BadInputTests(OurSqliteBackend fixture) : IClassFixture<OurSqliteBackend>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly OurServerBackend _server = (OurServerBackend)fixture.Backend;

    private P.TaskHubSidecarService.TaskHubSidecarServiceClient Raw()
    {
        var options = _server.Services.GetRequiredService<TaskHubOptions>();
        return new P.TaskHubSidecarService.TaskHubSidecarServiceClient(GrpcChannel.ForAddress(options.GrpcEndpoint));
    }

    /// <summary>Every task hub table's row count and the latest instance change: what a refused call must leave as it was.</summary>
    private async Task<string> SnapshotAsync()
    {
        await _server.Services.GetRequiredService<ClockAdvancer>().WaitForIdleAsync(TimeSpan.FromSeconds(30), Ct);
        await using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = ((SqliteTaskHubStore)_server.Store).Path }.ToString());
        await c.OpenAsync(Ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT (SELECT COUNT(*) FROM dt_instances) || '/' || (SELECT COUNT(*) FROM dt_inbox) || '/' || (SELECT COUNT(*) FROM dt_history) || '/' || " +
                          "(SELECT COUNT(*) FROM dt_tasks) || '/' || (SELECT COALESCE(MAX(updated_at), 0) FROM dt_instances)";
        return (string)(await cmd.ExecuteScalarAsync(Ct))!;
    }

    private async Task Refused(StatusCode code, string messagePart, Func<P.TaskHubSidecarService.TaskHubSidecarServiceClient, Task> call)
    {
        var before = await SnapshotAsync();
        var e = await Assert.ThrowsAsync<RpcException>(() => call(Raw()));
        Assert.Equal(code, e.StatusCode);
        Assert.Contains(messagePart, e.Status.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await SnapshotAsync());
    }

    public static TheoryData<string, string> BadIds => new()
    {
        { "", "required" },
        { new string('x', 101), "at most 100" },
        { "D2A/7K3QX", "not allowed" },
        { "D2A#1", "not allowed" },
        { "line\nbreak", "not allowed" },
        { " D2A-1", "white space" },
    };

    [Theory, MemberData(nameof(BadIds))]
    public async Task MalformedInstanceIdsAreRefusedOnEveryCall(string id, string why)
    {
        await Refused(StatusCode.InvalidArgument, why, c => c.StartInstanceAsync(new P.CreateInstanceRequest { InstanceId = id, Name = "Chain", Input = "1" }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, why, c => c.RaiseEventAsync(new P.RaiseEventRequest { InstanceId = id, Name = "Go" }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, why, c => c.GetInstanceAsync(new P.GetInstanceRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, why, c => c.TerminateInstanceAsync(new P.TerminateRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, why, c => c.SuspendInstanceAsync(new P.SuspendRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, why, c => c.ResumeInstanceAsync(new P.ResumeRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, why, c => c.PurgeInstancesAsync(new P.PurgeInstancesRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, why, c => c.WaitForInstanceCompletionAsync(new P.GetInstanceRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task UnknownInstancesAreNotFound()
    {
        const string id = "D2A-NOPE1";
        await Refused(StatusCode.NotFound, id, c => c.RaiseEventAsync(new P.RaiseEventRequest { InstanceId = id, Name = "Go" }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.NotFound, id, c => c.TerminateInstanceAsync(new P.TerminateRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.NotFound, id, c => c.SuspendInstanceAsync(new P.SuspendRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.NotFound, id, c => c.ResumeInstanceAsync(new P.ResumeRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.NotFound, id, c => c.WaitForInstanceCompletionAsync(new P.GetInstanceRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.NotFound, id, c => c.WaitForInstanceStartAsync(new P.GetInstanceRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        Assert.Null(await _server.Client.GetInstanceAsync(id, Ct)); // the SDK client's answer for an unknown id: null, not an error
        Assert.Equal(0, (await _server.Client.PurgeInstanceAsync(id, Ct)).PurgedInstanceCount);
    }

    [Fact]
    public async Task OversizedPayloadsAreRefused()
    {
        var big = "\"" + new string('x', 1024 * 1024) + "\"";
        await Refused(StatusCode.InvalidArgument, "at most 1048576", c => c.StartInstanceAsync(new P.CreateInstanceRequest { InstanceId = "big-1", Name = "Chain", Input = big }, cancellationToken: Ct).ResponseAsync);
        var id = await _server.Client.ScheduleNewOrchestrationInstanceAsync("Forever", cancellation: Ct);
        await Refused(StatusCode.InvalidArgument, "at most 1048576", c => c.RaiseEventAsync(new P.RaiseEventRequest { InstanceId = id, Name = "Finish", Input = big }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, "at most 1048576", c => c.TerminateInstanceAsync(new P.TerminateRequest { InstanceId = id, Output = big }, cancellationToken: Ct).ResponseAsync);
        await _server.Client.TerminateInstanceAsync(id, "clean up", Ct);
    }

    [Fact]
    public async Task EventsToAnEndedInstanceAreRefusedWithItsStatus()
    {
        var id = await _server.Client.ScheduleNewOrchestrationInstanceAsync("Chain", 1, Ct);
        await _server.Client.WaitForInstanceCompletionAsync(id, Ct);
        await Refused(StatusCode.FailedPrecondition, "Completed", c => c.RaiseEventAsync(new P.RaiseEventRequest { InstanceId = id, Name = "Go", Input = "1" }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.FailedPrecondition, "ended", c => c.SuspendInstanceAsync(new P.SuspendRequest { InstanceId = id }, cancellationToken: Ct).ResponseAsync);
        // Terminating an ended instance changes nothing (and is not an error).
        await Raw().TerminateInstanceAsync(new P.TerminateRequest { InstanceId = id, Output = "\"late\"" }, cancellationToken: Ct);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await _server.Client.GetInstanceAsync(id, Ct))!.RuntimeStatus);
    }

    [Fact]
    public async Task OtherBadArgumentsAreRefusedWithTheReason()
    {
        await Refused(StatusCode.InvalidArgument, "name is required", c => c.StartInstanceAsync(new P.CreateInstanceRequest { InstanceId = "noname-1" }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, "event name is required", c => c.RaiseEventAsync(new P.RaiseEventRequest { InstanceId = "x-1" }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, "continuation token", c => c.QueryInstancesAsync(new P.QueryInstancesRequest { Query = new P.InstanceQuery { ContinuationToken = "garbage" } }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, "negative", c => c.QueryInstancesAsync(new P.QueryInstancesRequest { Query = new P.InstanceQuery { MaxInstanceCount = -1 } }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, "Only ended instances", c => c.PurgeInstancesAsync(new P.PurgeInstancesRequest { PurgeInstanceFilter = new P.PurgeInstanceFilter { RuntimeStatus = { P.OrchestrationStatus.Running } } }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, "Give an instance id", c => c.PurgeInstancesAsync(new P.PurgeInstancesRequest(), cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.InvalidArgument, "completion token", c => c.CompleteOrchestratorTaskAsync(new P.OrchestratorResponse { InstanceId = "x" }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.NotFound, "completion token", c => c.CompleteOrchestratorTaskAsync(new P.OrchestratorResponse { InstanceId = "x", CompletionToken = "o|x|forged" }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.NotFound, "completion token", c => c.CompleteActivityTaskAsync(new P.ActivityResponse { InstanceId = "x", CompletionToken = "forged" }, cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task AnExistingIdIsRefusedAsAlreadyExisting()
    {
        var id = await _server.Client.ScheduleNewOrchestrationInstanceAsync("Forever", cancellation: Ct);
        await Refused(StatusCode.AlreadyExists, id, c => c.StartInstanceAsync(new P.CreateInstanceRequest { InstanceId = id, Name = "Chain", Input = "1" }, cancellationToken: Ct).ResponseAsync);
        await _server.Client.TerminateInstanceAsync(id, "clean up", Ct);
    }

    [Fact]
    public async Task EntitiesAnswerUnimplementedWithAClearMessage()
    {
        await Refused(StatusCode.Unimplemented, "entities are not supported", c => c.SignalEntityAsync(new P.SignalEntityRequest { InstanceId = "@counter@a", Name = "add" }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.Unimplemented, "entities are not supported", c => c.GetEntityAsync(new P.GetEntityRequest { InstanceId = "@counter@a" }, cancellationToken: Ct).ResponseAsync);
        await Refused(StatusCode.Unimplemented, "entities are not supported", c => c.QueryEntitiesAsync(new P.QueryEntitiesRequest { Query = new P.EntityQuery() }, cancellationToken: Ct).ResponseAsync);
    }
}
