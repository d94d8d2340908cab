using System.Net;
using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.D2A;
using CareWorkflows.Tests.Infrastructure;

namespace CareWorkflows.Tests.Pages;

/// <summary>Brokerage's award / manual placement and the discharge confirmation from the instance page (D2A steps 3–6).</summary>
public sealed partial class D2AActionsPageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string reference, string handler, Dictionary<string, string> fields)
    {
        var html = await client.GetStringAsync($"/instances/{reference}", Ct);
        fields["__RequestVerificationToken"] = TokenPattern().Match(html).Groups[1].Value;
        return await client.PostAsync($"/instances/{reference}?handler={handler}", new FormUrlEncodedContent(fields), Ct);
    }

    [Fact]
    public async Task Brokerage_places_the_package_manually_and_the_discharge_team_confirms_the_discharge_from_the_page()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await D2ATestKit.RaiseAndAwardAsync(app);
        var broker = app.As(Roles.Brokerage);

        Assert.Contains("Award the package or place it manually", await broker.GetStringAsync($"/instances/{reference}", Ct));
        Assert.DoesNotContain("Award the package", await app.As(Roles.Provider, "east-kestrel").GetStringAsync($"/instances/{reference}", Ct));

        // Missing reason: shown next to the field, nothing changes.
        var bad = await PostFormAsync(broker, reference, "Award", new() { ["providerId"] = "east-meadowbank", ["reason"] = " " });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        Assert.Contains("Give the reason for the award.", await bad.Content.ReadAsStringAsync(Ct));
        Assert.Contains("east-kestrel", (await app.InstanceAsync(reference)).GetProperty("state").GetRawText());

        // The discharge team may not award.
        var nurse = app.As(Roles.DischargeTeam);
        var refused = await PostFormAsync(nurse, reference, "Award", new() { ["providerId"] = "east-meadowbank", ["reason"] = "Closer to home" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        var placed = await PostFormAsync(broker, reference, "Award", new() { ["providerId"] = "east-meadowbank", ["reason"] = "Kestrel withdrew by phone", ["firstCall"] = "16:00" });
        Assert.Equal(HttpStatusCode.Redirect, placed.StatusCode);
        Assert.Equal("Awarded", await D2ATestKit.StatusAsync(app, reference));
        var state = (await app.InstanceAsync(reference)).GetProperty("state").GetRawText();
        Assert.Contains("east-meadowbank", state);

        var discharged = await PostFormAsync(nurse, reference, "Discharge", []);
        Assert.Equal(HttpStatusCode.Redirect, discharged.StatusCode);
        Assert.Equal("Active", await D2ATestKit.StatusAsync(app, reference));
        Assert.DoesNotContain("Confirm the discharge", await nurse.GetStringAsync($"/instances/{reference}", Ct));
    }
}
