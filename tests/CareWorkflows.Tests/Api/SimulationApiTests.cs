using System.Net;
using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.D2A;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.Api;

/// <summary>
/// The simulation clock fires every deadline on the way for every instance: only administrators move it, and only to
/// where the deadline arithmetic and the bank-holiday data reach. A refused move changes nothing.
/// </summary>
public sealed partial class SimulationApiTests
{
    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    [Theory]
    [InlineData(Roles.Brokerage)]
    [InlineData(Roles.DischargeTeam)]
    [InlineData(Roles.QualityAssurance)]
    [InlineData(Roles.SafeguardingLead)]
    public async Task Staff_other_than_administrators_may_read_the_clock_but_not_move_it(string role)
    {
        await using var app = new CareWorkflowsApp();
        var before = app.Now;
        var staff = app.As(role);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetJsonAsync("/api/simulation/clock")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.PostJsonAsync("/api/simulation/advance", new { by = "P7D" })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.PostJsonAsync("/api/simulation/clock", new { now = "2026-12-24T09:00:00Z" })).Status);
        Assert.Equal(before, app.Now);
    }

    public static TheoryData<string, object, string> RefusedMoves() => new()
    {
        { "/api/simulation/clock", new { now = "9999-12-31T00:00:00Z" }, "now" },
        { "/api/simulation/clock", new { now = "2029-01-01T00:00:00Z" }, "now" },   // the shipped bank holidays end with 2028
        { "/api/simulation/advance", new { by = "P1500D" }, "by" },                 // within ten years, beyond the data
        { "/api/simulation/advance", new { by = "P3661D" }, "by" },
        { "/api/simulation/clock", new { now = "2026-11-24T08:00:00Z" }, "now" },   // back in time
    };

    [Theory]
    [MemberData(nameof(RefusedMoves))]
    public async Task A_move_beyond_the_horizon_or_the_calendar_data_is_a_422_naming_the_field_and_changes_nothing(string url, object body, string field)
    {
        await using var app = new CareWorkflowsApp();
        var reference = await D2ATestKit.RaiseAsync(app); // timers pending: a half-done move would fire them
        var before = await app.InstanceAsync(reference);
        var clock = app.Now;

        var r = await app.As(Roles.Admin).PostJsonAsync(url, body);

        Assert.True(r.Status == HttpStatusCode.UnprocessableEntity, r.ToString());
        Assert.True(r.Body.GetProperty("errors").TryGetProperty(field, out _), r.ToString());
        Assert.Equal(clock, app.Now);
        Assert.Equal(before.GetProperty("version").GetInt64(), (await app.InstanceAsync(reference)).GetProperty("version").GetInt64());
        // The app still works: the clock moves normally afterwards.
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.Admin).PostJsonAsync("/api/simulation/advance", new { by = "PT90M" })).Status);
        Assert.Equal("OfferedToFramework", (await app.InstanceAsync(reference)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_administrator_may_move_the_clock_to_the_last_day_of_the_calendar_data()
    {
        await using var app = new CareWorkflowsApp();
        var r = await app.As(Roles.Admin).PostJsonAsync("/api/simulation/clock", new { now = "2028-12-31T23:00:00Z" });
        Assert.True(r.Status == HttpStatusCode.OK, r.ToString());
        Assert.Equal(Instant.FromUtc(2028, 12, 31, 23, 0), app.Now);
    }

    [Fact]
    public async Task The_operations_page_offers_the_clock_to_administrators_only_and_refuses_a_brokers_post()
    {
        await using var app = new CareWorkflowsApp();
        var broker = app.As(Roles.Brokerage);
        var html = await broker.GetStringAsync("/operations");
        Assert.DoesNotContain("Move the clock", html);
        var form = new Dictionary<string, string> { ["By"] = "P7D", ["__RequestVerificationToken"] = TokenPattern().Match(html).Groups[1].Value };
        var r = await broker.PostAsync("/operations?handler=Advance", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Equal(CareWorkflowsApp.DefaultStart, app.Now);

        var admin = app.As(Roles.Admin);
        html = await admin.GetStringAsync("/operations");
        Assert.Contains("Move the clock", html);
        form = new Dictionary<string, string> { ["By"] = "P1500D", ["__RequestVerificationToken"] = TokenPattern().Match(html).Groups[1].Value };
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.PostAsync("/operations?handler=Advance", new FormUrlEncodedContent(form))).StatusCode);
        Assert.Equal(CareWorkflowsApp.DefaultStart, app.Now);
    }
}
