using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Hosting;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NodaTime;

namespace CareWorkflows.Tests.Hosting;

/// <summary>
/// The custom-handler contract: what the Functions host POSTs (timer, Service Bus message) and forwards (HTTP), and
/// what the app must answer ({Outputs, Logs, ReturnValue}) and do.
/// </summary>
public sealed class CustomHandlerContractTests
{
    private static void AssertInvocationShape(JsonElement body)
    {
        Assert.Equal(JsonValueKind.Object, body.GetProperty("Outputs").ValueKind);
        Assert.Equal(JsonValueKind.Array, body.GetProperty("Logs").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("ReturnValue").ValueKind);
    }

    private static string Logs(JsonElement body) => string.Join("\n", body.GetProperty("Logs").EnumerateArray().Select(l => l.GetString()));

    [Fact]
    public async Task Timer_invocation_fires_the_timers_that_are_due_and_sends_their_messages()
    {
        await using var app = new FunctionsHostApp();
        var reference = await app.StartAsync("timer-contract", ("reminder", Duration.FromHours(1)), ("later", Duration.FromHours(5)));

        // Before anything is due: nothing fires, but the start message goes out.
        var (status, body) = await app.InvokeAsync(FunctionsHosting.RuntimeTimer, FunctionsHostApp.TimerPayload(app.Clock.GetCurrentInstant()));
        Assert.Equal(200, status);
        AssertInvocationShape(body);
        Assert.Contains("Fired 0 due timer(s); dispatched 1 message(s)", Logs(body));
        Assert.Empty((await app.StateAsync(reference)).Fired);
        var sent = await app.Runtime.Store.GetMessagesAsync(reference, status: OutboxStatus.Sent);
        Assert.Single(sent);

        // Two hours on: the one-hour timer is due, the five-hour one is not.
        app.Clock.MoveTo(app.Clock.GetCurrentInstant() + Duration.FromHours(2));
        (status, body) = await app.InvokeAsync(FunctionsHosting.RuntimeTimer, FunctionsHostApp.TimerPayload(app.Clock.GetCurrentInstant(), pastDue: true));
        Assert.Equal(200, status);
        AssertInvocationShape(body);
        Assert.Contains("Fired 1 due timer(s)", Logs(body));
        Assert.Equal(["reminder"], (await app.StateAsync(reference)).Fired);
        Assert.Equal(["later"], (await app.Runtime.Store.GetTimersAsync(reference)).Select(t => t.Name));
    }

    [Fact]
    public async Task Service_bus_message_reaches_the_referral_intake_with_its_body_id_and_delivery_count()
    {
        var intake = new RecordingIntake(_ => IntakeResult.Started("D2A-7K3QX"));
        await using var app = new FunctionsHostApp(s => s.AddSingleton<IServiceBusReferralIntake>(intake));

        var (status, body) = await app.InvokeAsync(FunctionsHosting.ReferralQueue,
            FunctionsHostApp.ServiceBusPayload("""{"hospital":"RTH","ward":"5B"}""", "msg-001", deliveryCount: 2));

        Assert.Equal(200, status);
        AssertInvocationShape(body);
        Assert.Contains("D2A-7K3QX", Logs(body));
        var got = Assert.Single(intake.Received);
        Assert.Equal("msg-001", got.MessageId);
        Assert.Equal("servicebus:msg-001", got.IdempotencyKey);
        Assert.Equal(2, got.DeliveryCount);
        Assert.Equal("hospital-batch-7", got.CorrelationId);
        Assert.Equal("5B", got.Body.GetProperty("ward").GetString());
        Assert.Empty(await app.As(Roles.Admin).GetFromJsonAsync<List<JsonElement>>("/api/intake/dead-letters") ?? []);
    }

    [Theory]
    [InlineData("""{"ward":"5B"}""")]              // body as a JSON string (what the host sends for a string message)
    [InlineData("\"{\\\"ward\\\":\\\"5B\\\"}\"")]  // encoded twice
    public void Message_body_is_unwrapped_to_the_referral_object(string data)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(data));
        Assert.True(ReferralQueueFunction.TryReadBody(doc.RootElement, out var body));
        Assert.Equal("5B", body.GetProperty("ward").GetString());

        using var asObject = JsonDocument.Parse("""{"ward":"5B"}""");
        Assert.True(ReferralQueueFunction.TryReadBody(asObject.RootElement, out body));
        Assert.Equal("5B", body.GetProperty("ward").GetString());
    }

    [Fact]
    public async Task Until_D2A_intake_is_registered_queued_referrals_are_refused_and_kept_as_dead_letters()
    {
        await using var app = new FunctionsHostApp();

        var (status, body) = await app.InvokeAsync(FunctionsHosting.ReferralQueue, FunctionsHostApp.ServiceBusPayload("""{"ward":"5B"}""", "msg-early"));

        Assert.Equal(200, status); // completed: retrying cannot help
        Assert.Contains("not available", Logs(body));
        var list = await app.As(Roles.Admin).GetFromJsonAsync<List<JsonElement>>("/api/intake/dead-letters");
        var entry = Assert.Single(list!);
        Assert.Equal("msg-early", entry.GetProperty("messageId").GetString());
        Assert.Equal(ReferralIntakeNotAvailable.Reason, entry.GetProperty("reason").GetString());
        Assert.False(entry.TryGetProperty("body", out _)); // the list carries no personal data
        var letter = await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/intake/dead-letters/msg-early");
        Assert.Contains("5B", letter.GetProperty("body").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.DischargeTeam).GetAsync("/api/intake/dead-letters")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Admin).GetAsync("/api/intake/dead-letters/nope")).StatusCode);
    }

    [Fact]
    public async Task A_message_that_is_not_json_is_kept_as_a_dead_letter_and_not_retried()
    {
        var intake = new RecordingIntake(_ => IntakeResult.Started("D2A-22222"));
        await using var app = new FunctionsHostApp(s => s.AddSingleton<IServiceBusReferralIntake>(intake));

        var (status, _) = await app.InvokeAsync(FunctionsHosting.ReferralQueue, FunctionsHostApp.ServiceBusPayload("PID|1|not json", "msg-hl7"));

        Assert.Equal(200, status);
        Assert.Empty(intake.Received);
        var letter = await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/intake/dead-letters/msg-hl7");
        Assert.Equal("PID|1|not json", letter.GetProperty("body").GetString());
        Assert.Contains("not a JSON object", letter.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_failing_intake_answers_500_for_redelivery_and_leaves_a_dead_letter_on_the_last_delivery()
    {
        var intake = new RecordingIntake(_ => throw new TimeoutException("database did not answer"));
        await using var app = new FunctionsHostApp(s => s.AddSingleton<IServiceBusReferralIntake>(intake),
            settings: new Dictionary<string, string?> { ["ServiceBus:MaxDeliveryCount"] = "3" });

        var (status, body) = await app.InvokeAsync(FunctionsHosting.ReferralQueue, FunctionsHostApp.ServiceBusPayload("""{"ward":"5B"}""", "msg-flaky", deliveryCount: 1));
        Assert.Equal(500, status);
        AssertInvocationShape(body);
        Assert.Empty(await app.As(Roles.Admin).GetFromJsonAsync<List<JsonElement>>("/api/intake/dead-letters") ?? []);

        (status, _) = await app.InvokeAsync(FunctionsHosting.ReferralQueue, FunctionsHostApp.ServiceBusPayload("""{"ward":"5B"}""", "msg-flaky", deliveryCount: 3));
        Assert.Equal(500, status); // Service Bus moves it to its own dead-letter queue as well
        var entry = Assert.Single((await app.As(Roles.Admin).GetFromJsonAsync<List<JsonElement>>("/api/intake/dead-letters"))!);
        Assert.True(entry.GetProperty("gaveUp").GetBoolean());
        Assert.Contains("TimeoutException", entry.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_payload_that_is_not_an_invocation_fails_the_invocation()
    {
        await using var app = new FunctionsHostApp();
        var r = await app.Host().PostAsync("/" + FunctionsHosting.ReferralQueue, new StringContent("[1,2]", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
    }

    [Fact]
    public async Task Requests_from_outside_cannot_reach_the_invocation_endpoints_through_the_pages_route()
    {
        await using var app = new FunctionsHostApp();
        var reference = await app.StartAsync("outside", ("reminder", Duration.FromMinutes(1)));
        app.Clock.MoveTo(app.Clock.GetCurrentInstant() + Duration.FromMinutes(5));

        foreach (var header in new[] { "X-Forwarded-For", "X-ARR-LOG-ID", "X-Original-URL", "DISGUISED-HOST" })
        {
            var c = app.Host();
            c.DefaultRequestHeaders.Add(header, "203.0.113.9");
            Assert.Equal(HttpStatusCode.NotFound, (await c.PostAsJsonAsync("/" + FunctionsHosting.RuntimeTimer, FunctionsHostApp.TimerPayload(app.Clock.GetCurrentInstant()))).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await c.PostAsJsonAsync("/" + FunctionsHosting.ReferralQueue, FunctionsHostApp.ServiceBusPayload("{}", "forged"))).StatusCode);
        }
        Assert.Empty((await app.StateAsync(reference)).Fired);
    }

    [Fact]
    public async Task Standalone_the_invocation_endpoints_do_not_exist_and_the_background_loops_run()
    {
        await using var standalone = new FunctionsHostApp(hostedByFunctions: false, settings: new Dictionary<string, string?> { ["Runtime:BackgroundLoops"] = null });
        Assert.Equal(HttpStatusCode.NotFound, (await standalone.Host().PostAsJsonAsync("/" + FunctionsHosting.RuntimeTimer, FunctionsHostApp.TimerPayload(Instant.MinValue))).StatusCode);
        Assert.Single(standalone.Services.GetServices<IHostedService>().OfType<RuntimeLoops>());

        await using var hosted = new FunctionsHostApp(settings: new Dictionary<string, string?> { ["Runtime:BackgroundLoops"] = null });
        Assert.Empty(hosted.Services.GetServices<IHostedService>().OfType<RuntimeLoops>());

        await using var forced = new FunctionsHostApp(settings: new Dictionary<string, string?> { ["Runtime:BackgroundLoops"] = "true" });
        Assert.Single(forced.Services.GetServices<IHostedService>().OfType<RuntimeLoops>());
    }

    [Fact]
    public async Task Forwarded_HTTP_requests_are_served_as_if_they_came_directly()
    {
        await using var app = new FunctionsHostApp();
        var reference = await app.StartAsync("forwarded", ("reminder", Duration.FromHours(1)));
        var direct = await app.As(Roles.Admin).GetStringAsync($"/api/instances/{reference}");

        // What the host passes on with enableProxyingHttpRequest: the original method, path, query, headers and body,
        // plus the platform's front-end headers.
        var forwarded = app.As(Roles.Admin);
        forwarded.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.9:51234");
        forwarded.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        forwarded.DefaultRequestHeaders.Add("X-ARR-LOG-ID", Guid.NewGuid().ToString());
        forwarded.DefaultRequestHeaders.Add("X-Original-URL", $"/api/instances/{reference}");
        forwarded.DefaultRequestHeaders.Add("DISGUISED-HOST", "careworkflows-dev.azurewebsites.net");
        Assert.Equal(direct, await forwarded.GetStringAsync($"/api/instances/{reference}"));

        var cancel = await forwarded.PostAsJsonAsync($"/api/instances/{reference}/cancel", new { reason = "Duplicate referral" });
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(WorkflowRuntime.CancelledStatus, (await app.Runtime.Store.LoadAsync(reference))!.Status);

        Assert.Equal(HttpStatusCode.OK, (await forwarded.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Host().GetAsync("/api/instances")).StatusCode);
    }

    private sealed class RecordingIntake(Func<ServiceBusReferral, IntakeResult> answer) : IServiceBusReferralIntake
    {
        public List<ServiceBusReferral> Received { get; } = [];

        public Task<IntakeResult> AcceptAsync(ServiceBusReferral referral, CancellationToken ct)
        {
            lock (Received) Received.Add(referral);
            return Task.FromResult(answer(referral));
        }
    }
}
