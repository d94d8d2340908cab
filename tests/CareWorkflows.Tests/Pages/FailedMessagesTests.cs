using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace CareWorkflows.Tests.Pages;

/// <summary>Operators list failed messages and retry them, by API and from the operations page.</summary>
public sealed partial class FailedMessagesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    /// <summary>Email through SendGrid (WireMock), which refuses every email for good (400) until <see cref="Accepting"/>.</summary>
    private static (CareWorkflowsApp App, WireMockServer Fake) App()
    {
        var fake = WireMockServer.Start();
        fake.Given(Request.Create().WithPath("/v3/mail/send").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json").WithBody("{\"errors\":[{\"message\":\"refused\"}]}"));
        return (new CareWorkflowsApp(settings: new Dictionary<string, string?>
        {
            ["Channels:Email"] = "SendGrid", ["SendGrid:Host"] = fake.Url, ["SendGrid:ApiKey"] = "SG.test-key", ["SendGrid:From"] = "care@council.example",
        }), fake);
    }

    /// <summary>SendGrid takes email from now on (the fault the operator was waiting for is fixed).</summary>
    private static void Accepting(WireMockServer fake)
    {
        fake.ResetMappings();
        fake.Given(Request.Create().WithPath("/v3/mail/send").UsingPost()).RespondWith(Response.Create().WithStatusCode(202).WithHeader("X-Message-Id", "sg-retried-1"));
    }

    private static async Task<string> FailedConcernAsync(CareWorkflowsApp app)
    {
        var r = await app.As(Roles.QualityAssurance).PostAsJsonAsync("/api/quality-concerns",
            new { providerId = "east-kestrel", concern = "Late calls." }, Ct);
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var reference = (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("reference").GetString()!;
        await app.SettleAsync();
        return reference;
    }

    [Fact]
    public async Task A_failed_message_is_listed_and_a_retry_sends_it_again_once_and_is_on_the_timeline()
    {
        var (app, fake) = App();
        await using var _ = app;
        using var __ = fake;
        var reference = await FailedConcernAsync(app);
        var failed = await app.As(Roles.Brokerage).GetFromJsonAsync<JsonElement>("/api/messages/failed", Ct);
        var message = failed.EnumerateArray().First(m => m.GetProperty("reference").GetString() == reference);
        Assert.Contains("400", message.GetProperty("lastError").GetString());
        var id = message.GetProperty("id").GetString()!;
        int CallsTo(string to) => fake.LogEntries.Count(e => e.RequestMessage.Path == "/v3/mail/send" && e.RequestMessage.Body!.Contains(to, StringComparison.Ordinal));
        var to = message.GetProperty("to").GetString()!;
        var before = CallsTo(to);
        Accepting(fake);

        var retry = await app.As(Roles.Brokerage).PostAsync($"/api/messages/{id}/retry", null, Ct);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("Sent", (await retry.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        var stored = await app.Services.GetRequiredService<IWorkflowStore>().GetMessageAsync(Guid.Parse(id), Ct);
        Assert.Equal((OutboxStatus.Sent, "sg-retried-1"), (stored!.Status, stored.ProviderMessageId));
        Assert.Equal(HttpStatusCode.Conflict, (await app.As(Roles.Brokerage).PostAsync($"/api/messages/{id}/retry", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Admin).PostAsync($"/api/messages/{Guid.NewGuid()}/retry", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Admin).PostAsync("/api/messages/not-a-guid/retry", null, Ct)).StatusCode);
        Assert.Equal(before + 1, CallsTo(to)); // sent once more, by the retry only
        var note = (await app.InstanceAsync(reference)).GetProperty("timeline").EnumerateArray().Single(e => e.GetProperty("type").GetString() == "Notice");
        Assert.Contains("sent again by", note.GetProperty("data").GetProperty("text").GetString());
        Assert.Equal(Roles.Brokerage, note.GetProperty("actorRole").GetString());
    }

    [Fact]
    public async Task The_operations_page_lists_a_failed_message_and_its_Retry_button_sends_it_again()
    {
        var (app, fake) = App();
        await using var _ = app;
        using var __ = fake;
        var reference = await FailedConcernAsync(app);
        var admin = app.As(Roles.Admin);
        var html = await admin.GetStringAsync("/operations", Ct);
        Assert.Contains($"/instances/{reference}", html);
        var id = Regex.Match(html, "name=\"id\" value=\"([0-9a-f-]{36})\"").Groups[1].Value;
        var form = new Dictionary<string, string> { ["id"] = id, ["__RequestVerificationToken"] = TokenPattern().Match(html).Groups[1].Value };
        Accepting(fake);
        var r = await admin.PostAsync("/operations?handler=Retry", new FormUrlEncodedContent(form), Ct);
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.Equal(OutboxStatus.Sent, (await app.Services.GetRequiredService<IWorkflowStore>().GetMessageAsync(Guid.Parse(id), Ct))!.Status);
        Assert.Contains("was sent again", await admin.GetStringAsync("/operations", Ct));
    }
}
