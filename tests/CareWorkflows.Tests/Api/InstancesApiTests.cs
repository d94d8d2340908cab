using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Tests.Infrastructure;
using CareWorkflows.Tests.Runtime;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace CareWorkflows.Tests.Api;

/// <summary>The runtime's HTTP API over the real pipeline, with the test workflow registered.</summary>
public sealed class InstancesApiTests
{
    private static CareWorkflowsApp NewApp(string store = TestDatabases.StoreSqlite, string? path = null, IDictionary<string, string?>? settings = null) =>
        new(store, databasePath: path, settings: settings, services: s => s.AddSingleton<IWorkflowDefinition, TestWorkflow>());

    private static async Task<string> StartAsync(CareWorkflowsApp app, params (string, Duration)[] timers)
    {
        var runtime = app.Services.GetRequiredService<WorkflowRuntime>();
        var o = await runtime.StartAsync("TST", new TestWorkflow.Begin("api", timers), RuntimeHarness.Tester);
        return o.Reference!;
    }

    [Fact]
    public async Task Instance_view_shows_state_pending_timers_timeline_and_messages()
    {
        await using var app = NewApp();
        var reference = await StartAsync(app, ("t1", Duration.FromHours(2)));

        var view = await app.InstanceAsync(reference);

        Assert.Equal(reference, view.GetProperty("reference").GetString());
        Assert.Equal("Open", view.GetProperty("status").GetString());
        Assert.Equal("api", view.GetProperty("state").GetProperty("name").GetString());
        var timer = Assert.Single(view.GetProperty("timers").EnumerateArray());
        Assert.Equal("t1", timer.GetProperty("name").GetString());
        Assert.Equal("2026-11-24T11:00:00Z", timer.GetProperty("dueAt").GetString());
        Assert.Equal("11:00 on Tue 24 Nov 2026", timer.GetProperty("dueLocal").GetString());
        var started = Assert.Single(view.GetProperty("timeline").EnumerateArray());
        Assert.Equal("Started", started.GetProperty("type").GetString());
        Assert.Equal("tester", started.GetProperty("actorId").GetString());
        Assert.Equal("Pending", Assert.Single(view.GetProperty("messages").EnumerateArray()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Advancing_the_simulation_clock_fires_due_timers_in_order_and_dispatches_messages()
    {
        await using var app = NewApp();
        var reference = await StartAsync(app, ("late", Duration.FromHours(3)), ("early", Duration.FromMinutes(30)), ("never", Duration.FromDays(30)));

        await app.AdvanceAsync(Duration.FromHours(3));

        var view = await app.InstanceAsync(reference);
        Assert.Equal(["early", "late"], view.GetProperty("state").GetProperty("fired").EnumerateArray().Select(e => e.GetString()));
        var fired = view.GetProperty("timeline").EnumerateArray().Where(e => e.GetProperty("type").GetString() == "Fired").ToList();
        // Each timer fired at its own due time, not at the end of the jump.
        Assert.Equal("2026-11-24T09:30:00Z", fired[0].GetProperty("data").GetProperty("at").GetString());
        Assert.Equal("2026-11-24T12:00:00Z", fired[1].GetProperty("data").GetProperty("at").GetString());
        Assert.Equal("never", Assert.Single(view.GetProperty("timers").EnumerateArray()).GetProperty("name").GetString());
        var sent = Assert.Single(await app.OutboxAsync(reference));
        Assert.Equal("someone@example.org", sent.To);
        Assert.Equal("email", sent.Channel);
        Assert.Equal(DateTimeOffset.Parse("2026-11-24T12:00:00Z"), (await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/simulation/clock", CareWorkflowsApp.Json)).GetProperty("now").GetDateTimeOffset());
    }

    [Fact]
    public async Task Listing_filters_by_type_status_and_overdue()
    {
        await using var app = NewApp();
        var soon = await StartAsync(app, ("t", Duration.FromMinutes(10)));
        var later = await StartAsync(app, ("t", Duration.FromDays(2)));
        var done = await StartAsync(app);
        await app.Services.GetRequiredService<WorkflowRuntime>().ApplyAsync(done, new TestWorkflow.Finish(), RuntimeHarness.Tester);
        var staff = app.As(Roles.Brokerage);

        var all = await staff.GetFromJsonAsync<JsonElement[]>("/api/instances?type=TST", CareWorkflowsApp.Json);
        var open = await staff.GetFromJsonAsync<JsonElement[]>("/api/instances?status=Open", CareWorkflowsApp.Json);
        // Move the clock without firing: set it past the first timer through the store-free path (simulation clock only).
        app.Services.GetRequiredService<SimulationClock>().MoveTo(app.Now + Duration.FromMinutes(11));
        var overdue = await staff.GetFromJsonAsync<JsonElement[]>("/api/instances?overdue=true", CareWorkflowsApp.Json);

        Assert.Equal(3, all!.Length);
        Assert.Equal(soon, all[0].GetProperty("reference").GetString()); // nearest deadline first
        Assert.Equal(new[] { soon, later }.Order(), open!.Select(e => e.GetProperty("reference").GetString()).Order());
        Assert.Equal(soon, Assert.Single(overdue!).GetProperty("reference").GetString());
    }

    [Fact]
    public async Task Cancel_records_the_reason_stops_timers_and_refuses_later_inputs()
    {
        await using var app = NewApp();
        var reference = await StartAsync(app, ("t", Duration.FromMinutes(10)));
        var admin = app.As(Roles.Admin);

        var noReason = await admin.PostAsJsonAsync($"/api/instances/{reference}/cancel", new { reason = " " });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noReason.StatusCode);
        var ok = await admin.PostAsJsonAsync($"/api/instances/{reference}/cancel", new { reason = "Raised in error" });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var again = await admin.PostAsJsonAsync($"/api/instances/{reference}/cancel", new { reason = "Twice" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        var view = await app.InstanceAsync(reference);
        Assert.Equal("Cancelled", view.GetProperty("status").GetString());
        Assert.Empty(view.GetProperty("timers").EnumerateArray());
        var cancelled = view.GetProperty("timeline").EnumerateArray().Last();
        Assert.Equal("InstanceCancelled", cancelled.GetProperty("type").GetString());
        Assert.Equal("Raised in error", cancelled.GetProperty("data").GetProperty("reason").GetString());
        Assert.Equal("Admin", cancelled.GetProperty("actorRole").GetString());
        var poke = await app.Services.GetRequiredService<WorkflowRuntime>().ApplyAsync(reference, new TestWorkflow.Poke(1), RuntimeHarness.Tester);
        Assert.Equal(OutcomeKind.Rejected, poke.Kind);
    }

    [Fact]
    public async Task Bad_input_gets_problem_details_and_changes_nothing()
    {
        await using var app = NewApp();
        var reference = await StartAsync(app, ("t", Duration.FromHours(1)));
        var admin = app.As(Roles.Admin);

        var unknown = await admin.GetAsync("/api/instances/TST-ZZZZZ");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("/api/instances/TST-ZZZZZ/cancel", new { reason = "x" })).StatusCode);

        var malformed = await admin.PostAsync("/api/simulation/advance", new StringContent("{\"by\": ", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        foreach (var by in new[] { "1 hour", "PT", "P1M", "-PT1H", "PT-5M", "" })
        {
            var r = await admin.PostAsJsonAsync("/api/simulation/advance", new { by });
            Assert.True(r.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, $"{by}: {r.StatusCode}");
        }
        var wrongType = await admin.PostAsync("/api/simulation/advance", new StringContent("{\"by\": 5}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        var backwards = await admin.PostAsJsonAsync("/api/simulation/clock", new { now = "2020-01-01T00:00:00Z" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, backwards.StatusCode);
        var notInstant = await admin.PostAsJsonAsync("/api/simulation/clock", new { now = "tomorrow" });
        Assert.Equal(HttpStatusCode.BadRequest, notInstant.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/instances?overdue=maybe")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/instances?type=NOPE")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().GetAsync("/api/instances")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, "P1").GetAsync("/api/instances")).StatusCode);

        Assert.Equal(CareWorkflowsApp.DefaultStart, app.Now);
        var view = await app.InstanceAsync(reference);
        Assert.Single(view.GetProperty("timeline").EnumerateArray());
        Assert.Single(view.GetProperty("timers").EnumerateArray());
    }

    [Fact]
    public async Task Simulation_endpoints_do_not_exist_when_simulation_is_off()
    {
        await using var app = NewApp(settings: new Dictionary<string, string?> { ["Simulation:Enabled"] = "false" });
        var admin = app.As(Roles.Admin);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/simulation/clock")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("/api/simulation/clock", new { now = "2030-01-01T00:00:00Z" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("/api/simulation/advance", new { by = "PT1H" })).StatusCode);
    }

    [Fact]
    public async Task Health_is_live_and_ready_once_migrated()
    {
        await using var app = NewApp();
        var anon = app.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await anon.GetAsync("/health")).StatusCode);
        var ready = await anon.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await anon.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task Instances_timers_and_unsent_messages_survive_a_restart_on_SQLite()
    {
        var path = TestDatabases.NewSqlitePath();
        string reference;
        await using (var first = NewApp(path: path))
        {
            reference = await StartAsync(first, ("t", Duration.FromHours(1)));
            Assert.Empty(await first.OutboxAsync(reference)); // not yet dispatched
        }

        await using var second = NewApp(path: path);
        var view = await second.InstanceAsync(reference);
        Assert.Single(view.GetProperty("timers").EnumerateArray());
        Assert.Equal("Pending", Assert.Single(view.GetProperty("messages").EnumerateArray()).GetProperty("status").GetString());

        await second.AdvanceAsync(Duration.FromHours(1));
        view = await second.InstanceAsync(reference);
        Assert.Equal(["t"], view.GetProperty("state").GetProperty("fired").EnumerateArray().Select(e => e.GetString()));
        Assert.Single(await second.OutboxAsync(reference));
    }

    [Fact]
    public async Task The_same_API_runs_on_PostgreSQL()
    {
        await using var app = NewApp(TestDatabases.StorePostgres);
        var reference = await StartAsync(app, ("t", Duration.FromMinutes(5)));
        await app.AdvanceAsync(Duration.FromMinutes(5));
        var view = await app.InstanceAsync(reference);
        Assert.Equal(["t"], view.GetProperty("state").GetProperty("fired").EnumerateArray().Select(e => e.GetString()));
        Assert.Single(await app.OutboxAsync(reference));
    }
}
