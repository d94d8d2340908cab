using System.Net;
using System.Net.Http.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;
using static CareWorkflows.Tests.D2A.D2ATestKit;

namespace CareWorkflows.Tests.D2A;

/// <summary>
/// Who can still read the person's details, and for how long: the winner for the whole package (to its 6-week cap,
/// App M §5), and no browser or proxy cache after the fact.
/// </summary>
public sealed class D2APackageAccessTests
{
    private static Task<HttpResponseMessage> OpenAsync(CareWorkflowsApp app, string token) => app.Anonymous().GetAsync($"/d2a/details/{token}");

    [Fact]
    public async Task The_winners_details_links_work_until_the_six_week_cap_and_not_after()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAndAwardAsync(app); // expected discharge 14:00 Tue 24 Nov 2026
        var fromAward = await LinkTokenAsync(app, reference, Email("east-kestrel"), "award", "/d2a/details/");
        await app.AdvanceToAsync(Instant.FromUtc(2026, 11, 24, 16, 0));
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge", new { })).StatusCode);
        var fromDischarge = await LinkTokenAsync(app, reference, Email("east-kestrel"), "discharge-confirmed", "/d2a/details/");

        // A week and a half in (the old links died 7 days after the expected discharge): both still open.
        await app.AdvanceToAsync(Instant.FromUtc(2026, 12, 4, 9, 0));
        Assert.Equal(HttpStatusCode.OK, (await OpenAsync(app, fromAward)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await OpenAsync(app, fromDischarge)).StatusCode);

        // The package runs to 16:00 on Tue 5 Jan 2027 (discharge + 6 calendar weeks, London): the discharge link reaches it.
        await app.AdvanceToAsync(Instant.FromUtc(2027, 1, 5, 15, 59));
        Assert.Equal(HttpStatusCode.OK, (await OpenAsync(app, fromDischarge)).StatusCode);
        await app.AdvanceToAsync(Instant.FromUtc(2027, 1, 5, 16, 1));
        Assert.Equal(HttpStatusCode.Gone, (await OpenAsync(app, fromDischarge)).StatusCode);
    }

    [Fact]
    public async Task A_later_expected_discharge_sends_the_winner_a_link_reaching_the_new_end_of_the_package()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAndAwardAsync(app);
        var moved = await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge-time",
            new { newTime = "2026-12-20T14:00", reason = "Awaiting equipment" });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        var link = await LinkTokenAsync(app, reference, Email("east-kestrel"), "discharge-time", "/d2a/details/");

        // Six weeks after the first expected discharge the person is still in hospital; the new link still opens.
        await app.AdvanceToAsync(Instant.FromUtc(2027, 1, 6, 9, 0));
        Assert.Equal(HttpStatusCode.OK, (await OpenAsync(app, link)).StatusCode);
    }

    [Fact]
    public async Task Answers_with_personal_data_are_never_cached()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAndAwardAsync(app);
        var details = await LinkTokenAsync(app, reference, Email("east-kestrel"), "award", "/d2a/details/");
        var staff = app.As(Roles.Brokerage);

        foreach (var response in new[]
        {
            await staff.GetAsync($"/api/instances/{reference}"),   // the referral with the patient's details, as JSON
            await staff.GetAsync("/api/instances"),
            await staff.GetAsync($"/instances/{reference}"),       // the same on the staff page
            await staff.GetAsync("/"),
            await app.As(Roles.Provider, "east-kestrel").GetAsync($"/instances/{reference}"),
            await app.As(Roles.DischargeTeam).PostAsJsonAsync("/api/d2a/referrals", Referral()),
            await app.Anonymous().GetAsync($"/d2a/details/{details}"),
        })
        {
            Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage!.RequestUri}: {(int)response.StatusCode}");
            Assert.True(response.Headers.CacheControl?.NoStore == true, $"{response.RequestMessage!.RequestUri} has Cache-Control: {response.Headers.CacheControl}");
        }
        // The stylesheet is the same for everyone and may be cached.
        var css = await app.Anonymous().GetAsync("/css/site.css");
        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.NotEqual(true, css.Headers.CacheControl?.NoStore);
    }
}
