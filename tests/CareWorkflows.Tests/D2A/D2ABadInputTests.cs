using System.Net;
using System.Net.Http.Json;
using System.Text;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;
using static CareWorkflows.Tests.D2A.D2ATestKit;

namespace CareWorkflows.Tests.D2A;

/// <summary>Bad input gets a clear 4xx and changes nothing: no instance, no event, no message.</summary>
public sealed class D2ABadInputTests
{
    private static async Task AssertRaiseRefusedAsync(CareWorkflowsApp app, HttpStatusCode expected, Dictionary<string, object?> body, string? detailContains = null, string role = Roles.DischargeTeam)
    {
        var before = (await InstanceCountAsync(app), (await MessagesAsync(app)).Count);
        var r = await app.As(role).PostAsJsonAsync("/api/d2a/referrals", body);
        Assert.Equal(expected, r.StatusCode);
        if (detailContains is not null) Assert.Contains(detailContains, await r.Content.ReadAsStringAsync());
        Assert.Equal(before, (await InstanceCountAsync(app), (await MessagesAsync(app)).Count));
    }

    /// <summary>Sends a bad request and checks the instance (timeline, status, messages) did not change.</summary>
    private static async Task AssertUnchangedAsync(CareWorkflowsApp app, string reference, HttpStatusCode expected, Func<Task<HttpResponseMessage>> send)
    {
        var before = await app.InstanceAsync(reference);
        var r = await send();
        Assert.Equal(expected, r.StatusCode);
        var after = await app.InstanceAsync(reference);
        Assert.Equal(before.GetProperty("timeline").GetArrayLength(), after.GetProperty("timeline").GetArrayLength());
        Assert.Equal(before.GetProperty("version").GetInt64(), after.GetProperty("version").GetInt64());
        Assert.Equal(before.GetProperty("messages").GetArrayLength(), after.GetProperty("messages").GetArrayLength());
    }

    [Fact]
    public async Task Invalid_nhs_number_past_discharge_time_and_unknown_patch_are_refused_and_nothing_is_created()
    {
        await using var app = new CareWorkflowsApp();
        await AssertRaiseRefusedAsync(app, HttpStatusCode.UnprocessableEntity, Referral(nhs: "943 476 5918"), "modulus 11");
        await AssertRaiseRefusedAsync(app, HttpStatusCode.UnprocessableEntity, Referral(nhs: "12345"), "NHS number");
        await AssertRaiseRefusedAsync(app, HttpStatusCode.UnprocessableEntity, Referral(discharge: "2026-11-24T08:59"), "in the past");
        await AssertRaiseRefusedAsync(app, HttpStatusCode.UnprocessableEntity, Referral(patch: "North"), "Unknown patch");
        await AssertRaiseRefusedAsync(app, HttpStatusCode.UnprocessableEntity, Referral(discharge: "tomorrow"));
        var noPostcode = Referral();
        ((Dictionary<string, object?>)noPostcode["patient"]!)["postcode"] = "Orpington";
        await AssertRaiseRefusedAsync(app, HttpStatusCode.UnprocessableEntity, noPostcode, "postcode");
        await AssertRaiseRefusedAsync(app, HttpStatusCode.UnprocessableEntity, Referral(supportedBefore: true, previousProvider: "nobody"));
        await AssertRaiseRefusedAsync(app, HttpStatusCode.Forbidden, Referral(), role: Roles.Brokerage);
        await AssertRaiseRefusedAsync(app, HttpStatusCode.Forbidden, Referral(), role: Roles.Provider);
        Assert.Equal(0, await InstanceCountAsync(app));


        var badDate = Referral();
        ((Dictionary<string, object?>)badDate["patient"]!)["dateOfBirth"] = "yesterday";
        await AssertRaiseRefusedAsync(app, HttpStatusCode.BadRequest, badDate);
        var future = Referral();
        ((Dictionary<string, object?>)future["patient"]!)["dateOfBirth"] = "2030-01-01";
        await AssertRaiseRefusedAsync(app, HttpStatusCode.UnprocessableEntity, future, "date of birth");
        var missingNhs = Referral(nhs: "");
        await AssertRaiseRefusedAsync(app, HttpStatusCode.UnprocessableEntity, missingNhs, "why it is missing");
        ((Dictionary<string, object?>)missingNhs["patient"]!)["nhsNumberMissingReason"] = "Visitor from abroad; no NHS number yet";
        Assert.Equal(HttpStatusCode.Created, (await app.As(Roles.DischargeTeam).PostAsJsonAsync("/api/d2a/referrals", missingNhs)).StatusCode);
        var malformed = await app.As(Roles.DischargeTeam).PostAsync("/api/d2a/referrals", new StringContent("{\"patient\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var anonymous = await app.Anonymous().PostAsJsonAsync("/api/d2a/referrals", Referral());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(1, await InstanceCountAsync(app)); // only the one with a recorded reason for the missing NHS number
    }

    [Fact]
    public async Task Responses_after_the_window_or_from_providers_not_offered_or_for_another_provider_change_nothing()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);

        // Not offered (West patch provider), and a provider acting for another.
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Forbidden, () => RespondAsync(app, reference, "west-beckside", "accept", "14:30"));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Forbidden, () =>
            app.As(Roles.Provider, "east-kestrel").PostAsJsonAsync($"/api/d2a/referrals/{reference}/responses", new { action = "decline", providerId = "east-orchard-lane" }));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Forbidden, () =>
            app.As(Roles.Provider).PostAsJsonAsync($"/api/d2a/referrals/{reference}/responses", new { action = "decline" }));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Forbidden, () =>
            app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/responses", new { action = "decline", providerId = "east-kestrel" }));
        // Malformed answers.
        await AssertUnchangedAsync(app, reference, HttpStatusCode.UnprocessableEntity, () => RespondAsync(app, reference, "east-kestrel", "accept"));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.UnprocessableEntity, () => RespondAsync(app, reference, "east-kestrel", "maybe"));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.UnprocessableEntity, () => RespondAsync(app, reference, "east-kestrel", "accept", "2026-11-20T10:00"));
        // Unknown referral.
        Assert.Equal(HttpStatusCode.NotFound, (await RespondAsync(app, "D2A-ZZZZZ", "east-kestrel", "decline")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await RespondAsync(app, "not-a-reference", "east-kestrel", "decline")).StatusCode);

        // After the window (the framework round has started): a patch provider's answer is refused.
        await app.AdvanceAsync(Duration.FromHours(1));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Conflict, () => RespondAsync(app, reference, "east-kestrel", "accept", "14:30"));
        Assert.Equal("OfferedToFramework", await StatusAsync(app, reference));
        // Twice: the second answer is refused.
        Assert.Equal(HttpStatusCode.OK, (await RespondAsync(app, reference, "fw-northgate", "decline")).StatusCode);
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Conflict, () => RespondAsync(app, reference, "fw-northgate", "accept", "15:00"));
    }

    [Fact]
    public async Task Reused_expired_and_forged_links_are_refused_and_change_nothing()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        var anon = app.Anonymous();
        var decline = await OfferTokenAsync(app, reference, "east-meadowbank", 1);
        var accept = await OfferTokenAsync(app, reference, "east-meadowbank", 0);

        Assert.Equal(HttpStatusCode.OK, (await anon.PostAsJsonAsync($"/l/{decline}", new Dictionary<string, string> { ["reason"] = "No carers free" })).StatusCode);
        // Re-used link, and the other action of the answered offer.
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Conflict, () => anon.PostAsJsonAsync($"/l/{decline}", new Dictionary<string, string>()));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Conflict, () => anon.PostAsJsonAsync($"/l/{accept}", new Dictionary<string, string> { ["firstCall"] = "14:30" }));

        // Forged: signature changed, or payload changed (another provider) under the old signature.
        var kestrel = await OfferTokenAsync(app, reference, "east-kestrel", 0);
        var badSig = kestrel[..^2] + (kestrel[^2] == 'A' ? "BB" : "AA");
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Forbidden, () => anon.PostAsJsonAsync($"/l/{badSig}", new Dictionary<string, string> { ["firstCall"] = "14:30" }));
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(Pad(kestrel[..kestrel.IndexOf('.')])));
        var swapped = Convert.ToBase64String(Encoding.UTF8.GetBytes(payload.Replace("east-kestrel", "east-orchard-lane"))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Forbidden, () => anon.PostAsJsonAsync($"/l/{swapped}{kestrel[kestrel.IndexOf('.')..]}", new Dictionary<string, string> { ["firstCall"] = "14:30" }));
        // A forged details link does not open the referral.
        Assert.Equal(HttpStatusCode.Forbidden, (await anon.GetAsync($"/d2a/details/{badSig}")).StatusCode);
        // An offer link is not a details link.
        Assert.Equal(HttpStatusCode.Forbidden, (await anon.GetAsync($"/d2a/details/{kestrel}")).StatusCode);
        // An accept without a first call is not recorded.
        await AssertUnchangedAsync(app, reference, HttpStatusCode.UnprocessableEntity, () => anon.PostAsJsonAsync($"/l/{kestrel}", new Dictionary<string, string> { ["firstCall"] = "soon" }));

        // After the window the link has expired.
        await app.AdvanceAsync(Duration.FromHours(1) + Duration.FromSeconds(1));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Gone, () => anon.PostAsJsonAsync($"/l/{kestrel}", new Dictionary<string, string> { ["firstCall"] = "14:30" }));
    }

    [Fact]
    public async Task Steps_out_of_order_are_conflicts_and_change_nothing()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Conflict, () => app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge", new { }));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Conflict, () => app.As(Roles.CareManager).PostAsJsonAsync($"/api/d2a/referrals/{reference}/end-date", new { endDate = "2026-12-20", expectedOutcome = "Reablement" }));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.UnprocessableEntity, () => app.As(Roles.CareManager).PostAsJsonAsync($"/api/d2a/referrals/{reference}/close", new { outcome = "Other" }));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.BadRequest, () => app.As(Roles.CareManager).PostAsJsonAsync($"/api/d2a/referrals/{reference}/close", new { outcome = "Vanished" }));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Forbidden, () => app.As(Roles.Provider, "east-kestrel").PostAsJsonAsync($"/api/d2a/referrals/{reference}/close", new { outcome = "Died" }));
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/close", new { outcome = "Readmitted" })).StatusCode);
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Conflict, () => RespondAsync(app, reference, "east-kestrel", "accept", "14:30"));
        await AssertUnchangedAsync(app, reference, HttpStatusCode.Conflict, () => app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/close", new { outcome = "Readmitted" }));
        // Offered providers were told the offer closed.
        Assert.Equal(3, (await MessagesAsync(app, reference)).Count(m => m.Purpose == "offer-closed"));
    }

    [Theory]
    [InlineData("Edith Cavendish-Roe needs help with washing.")]
    [InlineData("Mrs Cavendish-Roe needs help with washing.")]
    [InlineData("Help with washing. NHS 943-476-5919.")]
    [InlineData("Help with washing. Born 12 April 1938.")]
    [InlineData("Help with washing. Key safe at 14 Acacia Avenue.")]
    [InlineData("Help with washing. Key safe at BR6 7JH.")]
    [InlineData("Help with washing. Son's NHS number 401 023 2137.")]
    public async Task A_needs_summary_carrying_the_persons_data_is_refused_on_needsSummary_and_no_offer_goes_out(string needs)
    {
        // App A: offers go to every patch provider before one is awarded; the needs summary is in each of them.
        await using var app = new CareWorkflowsApp();
        var body = Referral();
        body["needsSummary"] = needs;

        var r = await app.As(Roles.DischargeTeam).PostAsJsonAsync("/api/d2a/referrals", body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
        var problem = await r.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("needsSummary", out _), problem.ToString());
        Assert.All(PersonalData.Append("401 023 2137"), p => Assert.DoesNotContain(p, problem.ToString())); // never echoed
        Assert.Equal(0, await InstanceCountAsync(app));
        Assert.Empty(await MessagesAsync(app));
    }

    [Fact]
    public async Task A_clean_needs_summary_still_reaches_the_offers()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        Assert.Equal(3, (await MessagesAsync(app, reference)).Count(m => m.Purpose == "offer" && m.Channel == MessageChannel.Email && m.Body.Contains("walks with a frame")));
    }

    [Theory]
    [InlineData("0000000000")]
    [InlineData("111 111 1111")]
    [InlineData("9999999999")]
    public async Task A_placeholder_nhs_number_is_refused_on_patient_nhsNumber_though_its_check_digit_passes(string nhs)
    {
        await using var app = new CareWorkflowsApp();
        var r = await app.As(Roles.DischargeTeam).PostAsJsonAsync("/api/d2a/referrals", Referral(nhs: nhs));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
        var problem = await r.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Contains("placeholder", problem.GetProperty("errors").GetProperty("patient.nhsNumber")[0].GetString());
        Assert.Equal(0, await InstanceCountAsync(app));
        Assert.Empty(await MessagesAsync(app));
    }

    [Theory]
    [InlineData("9999-12-31T10:00")]
    [InlineData("2026-12-23T10:00")] // 29 days ahead: further than any provider may answer
    [InlineData("2026-11-24T08:00")] // an hour ago
    public async Task A_brokerage_award_takes_the_same_first_call_bounds_as_a_providers_answer(string firstCall)
    {
        await using var app = new CareWorkflowsApp();
        var reference = await RaiseAsync(app);
        await AssertUnchangedAsync(app, reference, HttpStatusCode.UnprocessableEntity, () => app.As(Roles.Brokerage).PostAsJsonAsync(
            $"/api/d2a/referrals/{reference}/award", new { providerId = "east-kestrel", reason = "Manual placement", firstCall }));
        var problem = await (await app.As(Roles.Brokerage).PostAsJsonAsync($"/api/d2a/referrals/{reference}/award",
            new { providerId = "east-kestrel", reason = "Manual placement", firstCall })).Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("firstCall", out _), problem.ToString());
        // A provider's own answer is held to the same bounds.
        await AssertUnchangedAsync(app, reference, HttpStatusCode.UnprocessableEntity, () => RespondAsync(app, reference, "east-kestrel", "accept", firstCall));
        // Within them, the award is made.
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.Brokerage).PostAsJsonAsync($"/api/d2a/referrals/{reference}/award",
            new { providerId = "east-kestrel", reason = "Manual placement", firstCall = "2026-11-24T15:00" })).StatusCode);
    }

    private static string Pad(string s)
    {
        var t = s.Replace('-', '+').Replace('_', '/');
        return t.PadRight(t.Length + (4 - t.Length % 4) % 4, '=');
    }
}
