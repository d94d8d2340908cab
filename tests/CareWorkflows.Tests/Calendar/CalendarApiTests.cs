using System.Net;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.Calendar;

public sealed class CalendarApiTests
{
    private static readonly string[] Dates2029 = ["2029-01-01", "2029-03-30", "2029-04-02", "2029-05-07", "2029-05-28", "2029-08-27", "2029-12-25", "2029-12-26"];

    /// <summary>A GOV.UK-format file: the shipped 2028 plus <paramref name="extra"/> dates, and 2029.</summary>
    private static string GovUkFile(IEnumerable<string>? extra = null, IEnumerable<string>? dates = null)
    {
        var all = dates ?? WorkingCalendar.Shipped.Holidays.Where(d => d.Year == 2028).Select(d => d.ToString("yyyy-MM-dd", null))
            .Concat(extra ?? []).Concat(Dates2029);
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["england-and-wales"] = new { division = "england-and-wales", events = all.Order().Select(d => new { title = "Bank holiday", date = d, notes = "", bunting = true }) },
            ["scotland"] = new { division = "scotland", events = Array.Empty<object>() },
        });
    }

    private static object Concern(int days) => new { providerId = "east-kestrel", concern = "Late calls", responseWorkingDays = days };

    [Fact]
    public async Task Admin_loads_a_newer_GOV_UK_file_which_is_used_at_once_and_after_a_restart()
    {
        string db;
        await using (var app = new CareWorkflowsApp())
        {
            db = app.DatabasePath;
            var r = await app.As(Roles.Admin).PostRawAsync("/api/calendar/bank-holidays", GovUkFile(extra: ["2028-06-02"]));
            Assert.True(r.Status == HttpStatusCode.OK, r.ToString());
            Assert.Equal("2018-01-01", r.Str("coveredFrom"));
            Assert.Equal("2029-12-31", r.Str("coveredTo"));
            Assert.Equal(["2028-06-02", .. Dates2029], r.Body.GetProperty("added").EnumerateArray().Select(x => x.GetString()!));
            Assert.Empty(r.Body.GetProperty("removed").EnumerateArray());

            var status = await app.As(Roles.QualityAssurance).GetJsonAsync("/api/calendar/bank-holidays");
            Assert.Equal("operator", status.Str("source"));
            Assert.Equal("test-admin", status.Str("loadedBy"));
            Assert.Equal("2029-12-31", status.Str("coveredTo"));
        }
        await using (var restarted = new CareWorkflowsApp(databasePath: db))
        {
            var status = await restarted.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays");
            Assert.Equal("2029-12-31", status.Str("coveredTo"));
            Assert.Equal("operator", status.Str("source"));
        }
    }

    public static TheoryData<string, string, HttpStatusCode> BadFiles() => new()
    {
        { "malformed", "{ \"england-and-wales\": ", HttpStatusCode.BadRequest },
        { "no division", """{"scotland":{"division":"scotland","events":[{"date":"2029-01-01"}]}}""", HttpStatusCode.UnprocessableEntity },
        { "bad date", """{"england-and-wales":{"division":"england-and-wales","events":[{"title":"x","date":"1 Jan 2029"}]}}""", HttpStatusCode.UnprocessableEntity },
        { "incomplete year", GovUkFile(dates: ["2029-01-01", "2029-12-25"]), HttpStatusCode.UnprocessableEntity },
        { "a year missing between", GovUkFile(dates: Dates2029.Select(d => "2030" + d[4..])), HttpStatusCode.UnprocessableEntity },
        { "duplicate date", GovUkFile(extra: ["2029-01-01"]), HttpStatusCode.UnprocessableEntity },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task Bad_bank_holiday_file_is_refused_and_the_calendar_is_unchanged(string why, string body, HttpStatusCode expected)
    {
        await using var app = new CareWorkflowsApp();
        var r = await app.As(Roles.Admin).PostRawAsync("/api/calendar/bank-holidays", body);
        Assert.True(r.Status == expected, $"{why}: {r}");
        var status = await app.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays");
        Assert.Equal("2028-12-31", status.Str("coveredTo"));
        Assert.Equal("shipped", status.Str("source"));
    }

    [Theory]
    [InlineData("title")]  // inside a string value: the parser accepts it, reading the value fails later
    [InlineData("date")]
    public async Task A_file_that_is_not_valid_UTF_8_is_a_400_and_the_calendar_is_unchanged(string where)
    {
        await using var app = new CareWorkflowsApp();
        // A byte that can never appear in UTF-8, once, inside the first title or in the added date.
        var bytes = System.Text.Encoding.UTF8.GetBytes(GovUkFile(extra: ["2028-06-02"]));
        var target = System.Text.Encoding.UTF8.GetBytes(where == "title" ? "Bank holiday" : "2028-06-0");
        var at = bytes.AsSpan().IndexOf(target) + target.Length;
        var bad = bytes[..at].Concat(new byte[] { 0xFF }).Concat(bytes[at..]).ToArray();
        var content = new ByteArrayContent(bad);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        var r = await app.As(Roles.Admin).PostAsync("/api/calendar/bank-holidays", content);

        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("UTF-8", await r.Content.ReadAsStringAsync());
        var status = await app.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays");
        Assert.Equal("2028-12-31", status.Str("coveredTo"));
        Assert.Equal("shipped", status.Str("source"));
    }

    [Fact]
    public async Task Only_an_admin_can_load_bank_holidays()
    {
        await using var app = new CareWorkflowsApp();
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.QualityAssurance).PostRawAsync("/api/calendar/bank-holidays", GovUkFile())).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, "p").GetJsonAsync("/api/calendar/bank-holidays")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Anonymous().PostRawAsync("/api/calendar/bank-holidays", GovUkFile())).Status);
    }

    [Fact]
    public async Task Request_whose_deadline_is_beyond_the_data_gets_a_clear_problem_and_operators_see_it()
    {
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2028, 12, 22, 10, 0));
        var r = await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns", Concern(7));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.Status);
        Assert.Contains("calendar", r.Str("title"));
        Assert.Contains("2029", r.Str("detail"));
        Assert.Equal(0, (await app.As(Roles.Admin).GetJsonAsync("/api/instances?type=QC")).Body.GetArrayLength());

        var status = await app.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays");
        Assert.Equal("attention", status.Str("status"));
        var refused = Assert.Single(status.Body.GetProperty("refusedRequests").EnumerateArray());
        Assert.Equal("/api/quality-concerns", refused.GetProperty("path").GetString());

        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.Admin).PostRawAsync("/api/calendar/bank-holidays", GovUkFile())).Status);
        var again = await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns", Concern(7));
        Assert.Equal(HttpStatusCode.Created, again.Status);
        Assert.Equal("2029-01-05T23:59:59.999Z", again.Str("dueAt")); // Christmas, Boxing Day and 1 Jan 2029 skipped
    }

    [Fact]
    public async Task Timer_needing_a_date_beyond_the_data_is_held_and_shown_until_data_is_loaded()
    {
        // Wed 20 Dec 2028, 5 working days → due end of Fri 29 Dec. Overdue fires then; the QA-lead step needs 2029.
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2028, 12, 20, 10, 0));
        var created = await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns", Concern(5));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var reference = created.Str("reference");

        await app.AdvanceToAsync(Instant.FromUtc(2028, 12, 30, 0, 1));
        // The contract compliance escalation did not wait for the calendar.
        Assert.Contains(await app.SentAsync(reference, "contract-compliance@council.example"), m => m.Purpose == "overdue-escalation");
        var status = await app.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays");
        var held = Assert.Single(status.Body.GetProperty("heldTimers").EnumerateArray());
        Assert.Equal(reference, held.GetProperty("reference").GetString());
        Assert.Equal("2029-01-01", held.GetProperty("date").GetString());
        Assert.Equal("attention", status.Str("status"));

        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.Admin).PostRawAsync("/api/calendar/bank-holidays", GovUkFile())).Status);
        await app.AdvanceAsync(Duration.FromMinutes(10));
        Assert.Equal("2029-01-02T23:59:59.999Z", (await app.TimersAsync(reference))["overdue-qa-lead"]);
        Assert.Empty((await app.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays")).Body.GetProperty("heldTimers").EnumerateArray());
    }

    [Fact]
    public async Task Bank_holidays_loaded_on_another_node_release_timers_held_here()
    {
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2028, 12, 20, 10, 0));
        var reference = (await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns", Concern(5))).Str("reference");
        await app.AdvanceToAsync(Instant.FromUtc(2028, 12, 30, 0, 1));
        Assert.Single((await app.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays")).Body.GetProperty("heldTimers").EnumerateArray());

        await using (var otherNode = new CareWorkflowsApp(start: Instant.FromUtc(2028, 12, 30, 0, 2), databasePath: app.DatabasePath))
            Assert.Equal(HttpStatusCode.OK, (await otherNode.As(Roles.Admin).PostRawAsync("/api/calendar/bank-holidays", GovUkFile())).Status);

        await app.AdvanceAsync(Duration.FromMinutes(10));
        Assert.Equal("2029-01-02T23:59:59.999Z", (await app.TimersAsync(reference))["overdue-qa-lead"]);
        var status = await app.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays");
        Assert.Equal("2029-12-31", status.Str("coveredTo"));
        Assert.Empty(status.Body.GetProperty("heldTimers").EnumerateArray());
    }

    [Fact]
    public async Task Serious_incident_is_never_refused_for_want_of_calendar_data()
    {
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2028, 12, 22, 10, 0));
        var r = await app.As(Roles.Provider, "prov-1").PostJsonAsync("/api/incidents", new
        {
            category = "SafeguardingAlert", occurredAt = "2028-12-22T08:00:00Z", becameAwareAt = "2028-12-22T08:00:00Z", description = "d", parties = "p",
            emergencyServicesInvolved = false, immediateAction = "i", furtherAction = "f", serviceUserGroup = "g", serviceUserId = "id",
            providerName = "Homecare Ltd", contactEmail = "m@homecare.example",
        });
        Assert.Equal(HttpStatusCode.Created, r.Status);
        var reference = r.Str("reference");
        Assert.Contains(await app.SentAsync(reference, "safeguarding-lead@council.example"), m => m.Purpose == "safeguarding-alert");
        Assert.Contains("UpdateCadenceHeld", await app.TimelineAsync(reference));
        var held = Assert.Single((await app.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays")).Body.GetProperty("heldTimers").EnumerateArray());
        Assert.Equal("update-schedule", held.GetProperty("timer").GetString());
    }

    [Fact]
    public async Task Status_warns_when_the_data_runs_out_within_a_year()
    {
        await using var app = new CareWorkflowsApp(start: Instant.FromUtc(2028, 3, 1, 9, 0));
        var status = await app.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays");
        Assert.Equal("attention", status.Str("status"));
        Assert.Contains("2028-12-31", status.Body.GetProperty("warnings")[0].GetString());
        await using var earlier = new CareWorkflowsApp();
        Assert.Equal("ok", (await earlier.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays")).Str("status"));
    }
}
