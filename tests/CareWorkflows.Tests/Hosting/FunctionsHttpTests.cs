using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.FunctionApp.Functions;
using CareWorkflows.FunctionApp.Hosting;
using CareWorkflows.Functions.Extensions;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.TaskHub.Engine;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Azure.Functions.Worker.Converters;
using Microsoft.Azure.Functions.Worker.Extensions.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace CareWorkflows.Tests.Hosting;

/// <summary>
/// The Functions app's HTTP triggers beside the standalone host, over one database and one engine: our Durable Task
/// server (the standalone app's), reached from the Functions side through the Durable extension's own client, made by
/// its [DurableClient] binding converter with its DataConverter (FunctionsSetup). The Functions side is what the worker
/// runs: a server whose routes are the generated functions.metadata's HTTP triggers, each calling its function.
/// </summary>
public sealed class FunctionsSide : IAsyncLifetime
{
    public CareWorkflowsApp Standalone { get; } = new(settings: new Dictionary<string, string?> { ["Simulation:Enabled"] = "false" });
    public DurableTaskClient BoundByTheHost { get; private set; } = null!;
    public HostedApp Hosted { get; private set; } = null!;
    private ServiceProvider _worker = null!;
    private WebApplication _functions = null!;

    public async ValueTask InitializeAsync()
    {
        var endpoint = Standalone.Services.GetRequiredService<TaskHubOptions>().GrpcEndpoint; // starts the standalone app and its server
        _worker = FunctionsSerializationTests.WorkerServices();
        BoundByTheHost = await BindAsync(_worker, endpoint);
        var bound = _worker.GetRequiredService<BoundDurableTaskClient>();
        Hosted = await HostedApp.StartAsync(new HostedEngine(bound), "Development", b => b.Configuration.AddInMemoryCollection(Standalone.Settings),
            FunctionsApp.StandaloneContentRoot);

        var functions = new HttpFunctions(AppHost.Of(Hosted), bound);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        _functions = builder.Build();
        foreach (var (name, function) in FunctionsApp.Metadata().Where(f => FunctionsApp.Trigger(f.Value).GetProperty("type").GetString() == "httpTrigger"))
        {
            var route = FunctionsApp.Trigger(function).GetProperty("route").GetString()!;
            var method = typeof(HttpFunctions).GetMethod(name)!;
            _functions.Map("/" + route, async (HttpContext http) =>
            {
                // As the worker does: invoke the function with its bindings, then execute the IResult it returned.
                var result = await (Task<IResult>)method.Invoke(functions, [http.Request, BoundByTheHost])!;
                await result.ExecuteAsync(http);
            });
        }
        await _functions.StartAsync();
    }

    /// <summary>What [DurableClient] gives a function: the extension's converter turning the host's binding data into its client.</summary>
    private static async Task<DurableTaskClient> BindAsync(IServiceProvider worker, string endpoint)
    {
        var assembly = typeof(DurableTaskExtensionStartup).Assembly;
        var provider = worker.GetRequiredService(assembly.GetType("Microsoft.Azure.Functions.Worker.Extensions.DurableTask.FunctionsDurableClientProvider", true)!);
        var converter = (IInputConverter)Activator.CreateInstance(assembly.GetType("Microsoft.Azure.Functions.Worker.Extensions.DurableTask.DurableTaskClientConverter", true)!, provider)!;
        var context = new Mock<ConverterContext>();
        context.SetupGet(c => c.TargetType).Returns(typeof(DurableTaskClient));
        context.SetupGet(c => c.Source).Returns(JsonSerializer.Serialize(new
        {
            rpcBaseUrl = endpoint, taskHubName = "careworkflows", connectionName = "Storage", requiredQueryStringParameters = "code=not-a-key",
            httpBaseUrl = "http://localhost/runtime/webhooks/durabletask",
            // The host always sends this (4 MiB unless configured); without it the client's channel accepts no reply at all.
            maxGrpcMessageSizeInBytes = 4 * 1024 * 1024,
        }));
        var result = await converter.ConvertAsync(context.Object);
        Assert.True(result.Status == ConversionStatus.Succeeded, result.Error?.ToString());
        Assert.Equal("FunctionsDurableTaskClient", result.Value!.GetType().Name);
        return (DurableTaskClient)result.Value!;
    }

    public HttpClient Functions(string? role = null, string? provider = null) => Signed(_functions.GetTestClient(), role, provider);

    public HttpClient StandaloneClient(string? role = null, string? provider = null) => Signed(Standalone.Anonymous(), role, provider);

    private static HttpClient Signed(HttpClient c, string? role, string? provider)
    {
        if (role is not null)
        {
            c.DefaultRequestHeaders.Add("X-Demo-Role", role);
            c.DefaultRequestHeaders.Add("X-Demo-User", $"test-{role.ToLowerInvariant()}");
        }
        if (provider is not null) c.DefaultRequestHeaders.Add("X-Demo-Provider", provider);
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        await _functions.DisposeAsync();
        await Hosted.DisposeAsync();
        await _worker.DisposeAsync();
        await Standalone.DisposeAsync();
    }
}

/// <summary>One table of requests, each sent to the standalone host and through the Functions app's HTTP triggers: the answers are the same.</summary>
public sealed partial class FunctionsHttpParityTests(FunctionsSide side) : IClassFixture<FunctionsSide>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    public sealed record Request(string Method, string Path, string? Role = null, string? Body = null, string ContentType = "application/json", string? Provider = null)
    {
        public override string ToString() => $"{Method} {Path}{(Role is null ? "" : " as " + Role)}{(Body is null ? "" : " " + Body)}";
    }

    private const string Form = "application/x-www-form-urlencoded";

    public static TheoryData<Request> Requests =>
    [
        new Request("GET", "/health"),
        new Request("GET", "/health/ready"),
        new Request("GET", "/api/instances"), // not signed in
        new Request("GET", "/api/instances", Roles.Brokerage),
        new Request("GET", "/api/instances?type=QC&overdue=maybe", Roles.Brokerage),
        new Request("GET", "/api/instances/QC-ZZZZZ", Roles.Brokerage),
        new Request("DELETE", "/api/instances", Roles.Brokerage),
        new Request("GET", "/api/nothing-here", Roles.Brokerage),
        new Request("POST", "/api/quality-concerns", Roles.QualityAssurance, "{not json"),
        new Request("POST", "/api/quality-concerns", Roles.QualityAssurance, "{}"),
        new Request("POST", "/api/quality-concerns", Roles.QualityAssurance, """{"providerId":"no-such-provider","concern":"Late calls."}"""),
        new Request("POST", "/api/quality-concerns", Roles.Provider, """{"providerId":"east-kestrel","concern":"Late calls."}""", Provider: "east-kestrel"),
        new Request("POST", "/api/quality-concerns/QC-ZZZZZ/response", Roles.Provider, """{"investigation":"Looked.","issueFound":false}""", Provider: "east-kestrel"),
        new Request("POST", "/api/instances/QC-ZZZZZ/cancel", Roles.Brokerage, """{"reason":"Raised in error."}"""),
        new Request("GET", "/api/calendar/bank-holidays", Roles.Brokerage),
        new Request("GET", "/api/calendar/bank-holidays", Roles.Provider, Provider: "east-kestrel"),
        new Request("GET", "/l/not-a-signed-link"),
        new Request("POST", "/l/not-a-signed-link", Body: "answer=accept", ContentType: Form),
        new Request("POST", "/webhooks/twilio/status", Body: "MessageSid=SM123&MessageStatus=delivered", ContentType: Form),
        new Request("POST", "/webhooks/sendgrid/inbound/wrong-secret", Body: "from=a%40b.example", ContentType: Form),
        new Request("GET", "/webhooks/twilio/status"),
        new Request("GET", "/", Roles.Brokerage),
        new Request("GET", "/"),
        new Request("GET", "/SignIn"),
        new Request("GET", "/Instances/Details?reference=QC-ZZZZZ", Roles.Brokerage),
        new Request("GET", "/css/site.css"),
        new Request("GET", "/openapi/v1.json"),
    ];

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task The_Functions_app_answers_as_the_standalone_host(Request request)
    {
        var standalone = await SendAsync(side.StandaloneClient(request.Role, request.Provider), request);
        var functions = await SendAsync(side.Functions(request.Role, request.Provider), request);
        Assert.Equal(standalone, functions);
    }

    public sealed record Answer(HttpStatusCode Status, string? ContentType, string Headers, string Body);

    private static readonly string[] ComparedHeaders =
        ["Location", "Cache-Control", "Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "WWW-Authenticate", "Allow"];

    private static async Task<Answer> SendAsync(HttpClient client, Request r)
    {
        using var message = new HttpRequestMessage(new HttpMethod(r.Method), r.Path);
        if (r.Body is not null) message.Content = new StringContent(r.Body, Encoding.UTF8, r.ContentType);
        using var response = await client.SendAsync(message, Ct);
        var headers = ComparedHeaders.Select(h => $"{h}: {string.Join(",", response.Headers.TryGetValues(h, out var v) ? v : response.Content.Headers.TryGetValues(h, out var c) ? c : [])}")
            .Append("Set-Cookie: " + string.Join(",", response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.Select(c => c.Split('=')[0]) : []));
        return new Answer(response.StatusCode, response.Content.Headers.ContentType?.ToString(), string.Join("\n", headers),
            Normalise(await response.Content.ReadAsStringAsync(Ct)));
    }

    /// <summary>What differs between any two answers of one app: trace ids and antiforgery tokens.</summary>
    private static string Normalise(string body) =>
        AntiforgeryToken().Replace(TraceId().Replace(body, "\"traceId\":\"*\""), "$1*\"");

    [GeneratedRegex("\"traceId\":\"[^\"]*\"")]
    private static partial Regex TraceId();

    [GeneratedRegex("(name=\"__RequestVerificationToken\" type=\"hidden\" value=\")[^\"]*\"")]
    private static partial Regex AntiforgeryToken();
}

/// <summary>
/// A quality concern's life through the Functions app's HTTP triggers: WorkflowClient over the Durable extension's own
/// client starts the orchestration, waits for its outcome in the custom status, raises the provider's answer, reads the
/// history for the timeline and terminates; the standalone host, on the same engine, sees each step.
/// </summary>
public sealed class FunctionsWorkflowClientTests(FunctionsSide side) : IClassFixture<FunctionsSide>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_concern_raised_answered_and_cancelled_through_the_Functions_triggers_is_the_same_instance_standalone()
    {
        var raised = await side.Functions(Roles.QualityAssurance).PostAsJsonAsync("/api/quality-concerns", new { providerId = "east-kestrel", concern = "Late calls." }, Ct);
        Assert.Equal(HttpStatusCode.Created, raised.StatusCode); // the orchestration's own answer, read from its custom status
        var reference = (await raised.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("reference").GetString()!;
        Assert.StartsWith("QC-", reference);
        Assert.Equal("AwaitingResponse", await StatusAsync(side.StandaloneClient(Roles.Brokerage), reference, "AwaitingResponse"));

        var answered = await side.Functions(Roles.Provider, "east-kestrel").PostAsJsonAsync($"/api/quality-concerns/{reference}/response",
            new { investigation = "Rotas changed; calls on time since Monday.", issueFound = true, actions = "Retrained the evening team." }, Ct);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal("AwaitingDecision", await StatusAsync(side.StandaloneClient(Roles.Brokerage), reference, "AwaitingDecision"));

        // The timeline comes from the instance's history, read through the extension's client.
        var viaFunctions = await side.Functions(Roles.Brokerage).GetFromJsonAsync<JsonElement>($"/api/instances/{reference}", Ct);
        var timeline = viaFunctions.GetProperty("timeline").EnumerateArray().Select(e => e.ToString()).ToList();
        Assert.Contains(timeline, e => e.Contains("ResponseReceived"));

        var cancelled = await side.Functions(Roles.Brokerage).PostAsJsonAsync($"/api/instances/{reference}/cancel", new { reason = "Raised against the wrong provider." }, Ct);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.Equal(WorkflowClient.CancelledStatus, await StatusAsync(side.StandaloneClient(Roles.Brokerage), reference, WorkflowClient.CancelledStatus));
    }

    private static async Task<string?> StatusAsync(HttpClient client, string reference, string expected)
    {
        string? status = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(100, Ct))
        {
            var instance = await client.GetFromJsonAsync<JsonElement>($"/api/instances/{reference}", Ct);
            status = instance.GetProperty("status").GetString();
            if (status == expected) break;
        }
        return status;
    }
}
