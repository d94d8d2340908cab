using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.QualityConcerns;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Tests.Api;

/// <summary>
/// The instances API over the real pipeline (list, view, cancel, the simulation clock), read from the Durable Task server's
/// own instances and histories, driven through a real workflow: quality concerns (B 15), whose deadlines are durable timers.
/// </summary>
public sealed class InstancesApiTests
{
    private const string ProviderEmail = "referrals@east-kestrel.example.org";

    private static CareWorkflowsApp NewApp(string store = TestDatabases.StoreSqlite, string? path = null, IDictionary<string, string?>? settings = null) =>
        new(store, databasePath: path, settings: new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Providers:SeedDemo"] = "true" });

    private static async Task<string> RaiseAsync(CareWorkflowsApp app, int days = 3)
    {
        var r = await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns",
            new { providerId = "east-kestrel", concern = "Late evening calls in the week of 16 Nov.", responseWorkingDays = days });
        Assert.True(r.Status == HttpStatusCode.Created, r.ToString());
        return r.Str("reference");
    }

    private static Instant At(JsonElement e, string name) => InstantPattern.ExtendedIso.Parse(e.GetProperty(name).GetString()!).Value;
    private static IEnumerable<JsonElement> Timeline(JsonElement view) => view.GetProperty("timeline").EnumerateArray();
    private static IEnumerable<JsonElement> Timers(JsonElement view) => view.GetProperty("timers").EnumerateArray();

    [Fact]
    public async Task Instance_view_shows_state_pending_timers_timeline_and_messages()
    {
        await using var app = NewApp();
        var reference = await RaiseAsync(app);

        var view = await app.InstanceAsync(reference);

        Assert.Equal(reference, view.GetProperty("reference").GetString());
        Assert.Equal(QualityConcern.Type, view.GetProperty("type").GetString());
        Assert.Equal("AwaitingResponse", view.GetProperty("status").GetString());
        Assert.False(view.GetProperty("completed").GetBoolean());
        // Three working days from Tue 24 Nov 09:00: the end of Fri 27 Nov (GMT).
        var dueAt = At(view.GetProperty("state"), "dueAt");
        Assert.Equal(new LocalDate(2026, 11, 27), dueAt.InZone(WorkflowContext.London).Date);
        Assert.True(Instant.FromUtc(2026, 11, 28, 0, 0) - dueAt <= Duration.FromSeconds(1), $"due at {dueAt}: the end of the day");
        var overdue = Timers(view).Single(t => t.GetProperty("name").GetString() == QualityConcern.OverdueDeadline);
        Assert.Equal(dueAt, At(overdue, "dueAt"));
        Assert.Equal(WorkflowContext.Local(dueAt), overdue.GetProperty("dueLocal").GetString());
        var started = Timeline(view).First();
        Assert.Equal("Started", started.GetProperty("type").GetString());
        Assert.Equal(Roles.QualityAssurance, started.GetProperty("actorRole").GetString());
        Assert.Contains(Timeline(view), e => e.GetProperty("type").GetString() == "ConcernRaised");
        var sent = Assert.Single(view.GetProperty("messages").EnumerateArray(), m => m.GetProperty("to").GetString() == ProviderEmail);
        Assert.Equal("Sent", sent.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Advancing_the_simulation_clock_fires_due_timers_in_order_each_at_its_own_time()
    {
        await using var app = NewApp();
        var reference = await RaiseAsync(app);
        var before = await app.InstanceAsync(reference);
        var due = Timers(before).ToDictionary(t => t.GetProperty("name").GetString()!, t => At(t, "dueAt"));

        await app.AdvanceToAsync(due[QualityConcern.OverdueDeadline] + Duration.FromDays(7));

        var view = await app.InstanceAsync(reference);
        var kinds = Timeline(view).Select(e => e.GetProperty("type").GetString()).ToList();
        var reminder = kinds.IndexOf("ReminderSent");
        var overdue = kinds.IndexOf("ResponseOverdue");
        var qaLead = kinds.IndexOf("OverdueEscalatedToQaLead");
        Assert.True(reminder >= 0 && reminder < overdue && overdue < qaLead, string.Join(", ", kinds));
        // Each timer fired at its own due time, not at the end of the jump.
        Assert.Equal(due[QualityConcern.ReminderDeadline], At(Timeline(view).ElementAt(reminder), "at"));
        Assert.Equal(due[QualityConcern.OverdueDeadline], At(Timeline(view).ElementAt(overdue), "at"));
        Assert.DoesNotContain(Timers(view), t => t.GetProperty("name").GetString() is QualityConcern.ReminderDeadline or QualityConcern.OverdueDeadline);
        Assert.Equal(due[QualityConcern.OverdueDeadline] + Duration.FromDays(7),
            At(await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/simulation/clock", CareWorkflowsApp.Json), "now"));
    }

    [Fact]
    public async Task Listing_filters_by_type_status_and_overdue()
    {
        await using var app = NewApp();
        var soon = await RaiseAsync(app, days: 1);
        var later = await RaiseAsync(app, days: 10);
        var cancelled = await RaiseAsync(app, days: 5);
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.Admin).PostAsJsonAsync($"/api/instances/{cancelled}/cancel", new { reason = "Raised in error" })).StatusCode);
        var staff = app.As(Roles.Brokerage);

        var all = await staff.GetFromJsonAsync<JsonElement[]>("/api/instances?type=QC", CareWorkflowsApp.Json);
        var open = await staff.GetFromJsonAsync<JsonElement[]>("/api/instances?status=AwaitingResponse", CareWorkflowsApp.Json);
        // Move the clock without firing anything, past the soonest deadline: that instance is overdue.
        var soonest = (await staff.GetFromJsonAsync<JsonElement[]>("/api/instances?type=QC", CareWorkflowsApp.Json))!
            .Single(e => e.GetProperty("reference").GetString() == soon);
        app.Services.GetRequiredService<SimulationClock>().MoveTo(At(soonest, "nextDueAt") + Duration.FromMinutes(1));
        var overdue = await staff.GetFromJsonAsync<JsonElement[]>("/api/instances?overdue=true", CareWorkflowsApp.Json);

        Assert.Equal(new[] { soon, later, cancelled }.Order(), all!.Select(e => e.GetProperty("reference").GetString()).Order());
        Assert.True(all!.Single(e => e.GetProperty("reference").GetString() == cancelled).GetProperty("completed").GetBoolean());
        Assert.Equal(new[] { soon, later }.Order(), open!.Select(e => e.GetProperty("reference").GetString()).Order());
        Assert.Equal(soon, Assert.Single(overdue!).GetProperty("reference").GetString());
    }

    [Fact]
    public async Task Cancel_records_the_reason_stops_timers_and_refuses_later_inputs()
    {
        await using var app = NewApp();
        var reference = await RaiseAsync(app);
        var admin = app.As(Roles.Admin);

        var noReason = await admin.PostAsJsonAsync($"/api/instances/{reference}/cancel", new { reason = " " });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noReason.StatusCode);
        var ok = await admin.PostAsJsonAsync($"/api/instances/{reference}/cancel", new { reason = "Raised in error" });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var again = await admin.PostAsJsonAsync($"/api/instances/{reference}/cancel", new { reason = "Twice" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        var view = await app.InstanceAsync(reference);
        Assert.Equal("Cancelled", view.GetProperty("status").GetString());
        Assert.Empty(Timers(view));
        var entry = Timeline(view).Last();
        Assert.Equal("Cancelled", entry.GetProperty("type").GetString());
        Assert.Contains("Raised in error", entry.GetProperty("data").GetProperty("text").GetString());
        Assert.Equal(Roles.Admin, entry.GetProperty("actorRole").GetString());
        var response = await app.As(Roles.Provider, "east-kestrel").PostJsonAsync($"/api/quality-concerns/{reference}/response",
            new { investigation = "Rota reviewed.", issueFound = false, actions = "None." });
        Assert.Equal(HttpStatusCode.Conflict, response.Status);
        await app.AdvanceAsync(Duration.FromDays(14)); // no timer of a cancelled instance fires
        Assert.Equal(Timeline(view).Count(), Timeline(await app.InstanceAsync(reference)).Count());
    }

    [Fact]
    public async Task Bad_input_gets_problem_details_and_changes_nothing()
    {
        await using var app = NewApp();
        var reference = await RaiseAsync(app);
        var admin = app.As(Roles.Admin);
        var before = await app.InstanceAsync(reference);

        var unknown = await admin.GetAsync("/api/instances/QC-ZZZZZ");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("/api/instances/QC-ZZZZZ/cancel", new { reason = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/instances/not-a-reference")).StatusCode);

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
        var after = await app.InstanceAsync(reference);
        Assert.Equal(Timeline(before).Count(), Timeline(after).Count());
        Assert.Equal(Timers(before).Count(), Timers(after).Count());
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
    public async Task Instances_and_timers_survive_a_restart_on_SQLite_and_fire_after_it()
    {
        var path = TestDatabases.NewSqlitePath();
        string reference;
        Instant dueAt;
        await using (var first = NewApp(path: path))
        {
            reference = await RaiseAsync(first);
            dueAt = At((await first.InstanceAsync(reference)).GetProperty("state"), "dueAt");
        }

        await using var second = NewApp(path: path);
        var view = await second.InstanceAsync(reference);
        Assert.Contains(Timers(view), t => t.GetProperty("name").GetString() == QualityConcern.OverdueDeadline && At(t, "dueAt") == dueAt);

        await second.AdvanceToAsync(dueAt + Duration.FromMinutes(1));
        view = await second.InstanceAsync(reference);
        Assert.Contains(Timeline(view), e => e.GetProperty("type").GetString() == "ResponseOverdue");
    }

    [Fact]
    public async Task The_same_API_runs_on_PostgreSQL()
    {
        await using var app = NewApp(TestDatabases.StorePostgres);
        var reference = await RaiseAsync(app, days: 1);
        var dueAt = At((await app.InstanceAsync(reference)).GetProperty("state"), "dueAt");
        await app.AdvanceToAsync(dueAt + Duration.FromMinutes(1));
        var view = await app.InstanceAsync(reference);
        Assert.Contains(Timeline(view), e => e.GetProperty("type").GetString() == "ResponseOverdue");
        Assert.Contains(await app.OutboxAsync(reference), m => m.To == ProviderEmail);
    }
}
