using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.QualityConcerns;
using CareWorkflows.FunctionApp.Hosting;
using CareWorkflows.Functions.Extensions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Extensions.DurableTask;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Moq;
using NodaTime;

namespace CareWorkflows.Tests.Hosting;

/// <summary>
/// The Durable extension in the isolated model makes its worker's and client's DataConverter from the worker's
/// serializer (WorkerOptions.Serializer; a DataConverter set directly is overwritten). With the app's set-up, starts,
/// inputs, activity payloads and custom status are written exactly as our own server's client writes them.
/// </summary>
public sealed class FunctionsSerializationTests
{
    /// <summary>The worker's services as the Functions worker builds them: the Durable extension's start-up, then the app's.</summary>
    public static ServiceProvider WorkerServices(bool withAppSetup = true)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddOptions();
        var builder = new Mock<IFunctionsWorkerApplicationBuilder>();
        builder.SetupGet(b => b.Services).Returns(services);
        builder.Setup(b => b.Use(It.IsAny<Func<FunctionExecutionDelegate, FunctionExecutionDelegate>>())).Returns(builder.Object);
        new DurableTaskExtensionStartup().Configure(builder.Object); // what the worker's generated start-up code runs
        if (withAppSetup) FunctionsSetup.AddServices(services, Mock.Of<IHostEnvironment>(e => e.EnvironmentName == "Development"));
        return services.BuildServiceProvider();
    }

    private static readonly WorkflowStart<QualityConcern.Raise> Start = new("start-1", new Actor("qa-1", Roles.QualityAssurance, DisplayName: "Quinn (QA)"),
        new QualityConcern.Raise("prov-7", "CareFirst Ltd", "quality@carefirst.example", "Late evening calls.", 3),
        WorkflowSetup.From(PolicySettings.Default, Contacts.Default, WorkingCalendar.Shipped));

    private static readonly InputEvent Input = InputEvent.Of("key-1", new QualityConcern.Respond("Looked into it.", true, "Retrained staff."),
        new Actor("p-1", Roles.Provider, "prov-7", "CareFirst office"), via: "link");

    private static readonly WorkflowStatus Status = new("QC", "AwaitingResponse", false, "Late evening calls.", Instant.FromUtc(2026, 11, 27, 23, 59, 59),
        [], [new InputOutcome("key-1", 201, "Raised", null, Instant.FromUtc(2026, 11, 24, 10, 0))]);

    private static readonly MessageToSend Message = new("QC-ABCDE", Guid.Parse("6f1c8b1e-0000-4000-8000-000000000001"),
        new OutboundMessage(MessageChannel.Email, "quality@carefirst.example", "request", "Subject", "Body", Sign: [new LinkRequest("answer", "prov-7", "respond", Instant.FromUtc(2026, 12, 27, 0, 0))]));

    public static TheoryData<string> Payloads => ["start", "input", "status", "message"];

    private static object Payload(string name) => name switch
    {
        "start" => Start, "input" => Input, "status" => Status, "message" => Message, _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void The_extensions_client_and_worker_write_and_read_payloads_exactly_as_our_servers_client(string name)
    {
        using var worker = WorkerServices();
        var client = worker.GetRequiredService<IOptions<DurableTaskClientOptions>>().Value.DataConverter;
        var orchestrations = worker.GetRequiredService<IOptions<DurableTaskWorkerOptions>>().Value.DataConverter;
        var payload = Payload(name);
        var ours = DurableTaskHosting.Converter.Serialize(payload);

        Assert.Equal(ours, client.Serialize(payload));
        Assert.Equal(ours, orchestrations.Serialize(payload));
        // Written by one, read by the other, written again: nothing lost (NodaTime values, enums, the input's JSON body).
        var read = orchestrations.Deserialize(ours, payload.GetType());
        Assert.Equal(ours, DurableTaskHosting.Converter.Serialize(read));
        Assert.Equal(ours, DurableTaskHosting.Converter.Serialize(DurableTaskHosting.Converter.Deserialize(client.Serialize(payload), payload.GetType())));
    }

    [Fact]
    public void The_input_events_body_arrives_as_the_workflow_reads_it()
    {
        using var worker = WorkerServices();
        var orchestrations = worker.GetRequiredService<IOptions<DurableTaskWorkerOptions>>().Value.DataConverter;
        var arrived = orchestrations.Deserialize<InputEvent>(DurableTaskHosting.Converter.Serialize(Input))!;
        Assert.Equal(new QualityConcern.Respond("Looked into it.", true, "Retrained staff."),
            new InputTypes(typeof(QualityConcern.Respond)).Read(arrived));
        Assert.Equal(Input.Actor, arrived.Actor);
    }

    [Fact]
    public void Without_the_apps_serializer_the_extension_would_write_another_JSON()
    {
        using var worker = WorkerServices(withAppSetup: false);
        var client = worker.GetRequiredService<IOptions<DurableTaskClientOptions>>().Value.DataConverter;
        Assert.NotEqual(DurableTaskHosting.Converter.Serialize(Start), SafeSerialize(client, Start));
    }

    private static string? SafeSerialize(DataConverter converter, object value)
    {
        try { return converter.Serialize(value); }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException) { return e.GetType().Name; }
    }
}
