using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CareWorkflows.Tests.Pages;

/// <summary>Operators list failed messages and retry them, by API and from the operations page.</summary>
public sealed partial class FailedMessagesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    /// <summary>Email through SMTP to a closed port, one attempt: every email fails at once.</summary>
    private static CareWorkflowsApp App() => new(settings: new Dictionary<string, string?>
    {
        ["Channels:Email"] = "Smtp", ["Smtp:Host"] = "127.0.0.1", ["Smtp:Port"] = "1", ["Smtp:From"] = "care@council.example",
        ["Smtp:Security"] = "None", ["Outbox:MaxAttempts"] = "1",
    });

    private static async Task<string> FailedConcernAsync(CareWorkflowsApp app)
    {
        var r = await app.As(Roles.QualityAssurance).PostAsJsonAsync("/api/quality-concerns",
            new { providerId = "east-kestrel", concern = "Late calls." }, Ct);
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var reference = (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("reference").GetString()!;
        await app.AdvanceAsync(NodaTime.Duration.FromSeconds(1));
        return reference;
    }

    [Fact]
    public async Task A_failed_message_is_listed_and_a_retry_puts_it_back_to_pending_once()
    {
        await using var app = App();
        var reference = await FailedConcernAsync(app);
        var failed = await app.As(Roles.Brokerage).GetFromJsonAsync<JsonElement>("/api/messages/failed", Ct);
        var message = failed.EnumerateArray().First(m => m.GetProperty("reference").GetString() == reference);
        Assert.Contains("refused", message.GetProperty("lastError").GetString());
        var id = message.GetProperty("id").GetString()!;

        var retry = await app.As(Roles.Brokerage).PostAsync($"/api/messages/{id}/retry", null, Ct);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        var stored = await app.Services.GetRequiredService<IWorkflowStore>().GetMessageAsync(Guid.Parse(id), Ct);
        Assert.Equal(OutboxStatus.Pending, stored!.Status);
        Assert.Equal(0, stored.Attempts);
        Assert.Equal(HttpStatusCode.Conflict, (await app.As(Roles.Brokerage).PostAsync($"/api/messages/{id}/retry", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Admin).PostAsync($"/api/messages/{Guid.NewGuid()}/retry", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(Roles.Admin).PostAsync("/api/messages/not-a-guid/retry", null, Ct)).StatusCode);
    }

    [Fact]
    public async Task The_operations_page_lists_a_failed_message_and_its_Retry_button_requeues_it()
    {
        await using var app = App();
        var reference = await FailedConcernAsync(app);
        var admin = app.As(Roles.Admin);
        var html = await admin.GetStringAsync("/operations", Ct);
        Assert.Contains($"/instances/{reference}", html);
        var id = Regex.Match(html, "name=\"id\" value=\"([0-9a-f-]{36})\"").Groups[1].Value;
        var form = new Dictionary<string, string> { ["id"] = id, ["__RequestVerificationToken"] = TokenPattern().Match(html).Groups[1].Value };
        var r = await admin.PostAsync("/operations?handler=Retry", new FormUrlEncodedContent(form), Ct);
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.Equal(OutboxStatus.Pending, (await app.Services.GetRequiredService<IWorkflowStore>().GetMessageAsync(Guid.Parse(id), Ct))!.Status);
        Assert.Contains("queued to send again", await admin.GetStringAsync("/operations", Ct));
    }
}
