using System.Net;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.D2A;
using CareWorkflows.Tests.Infrastructure;

namespace CareWorkflows.Tests.Pages;

/// <summary>
/// Issue 18 (1, 9, 10): every form on the instance page has its own field ids and its own errors; "Cancel instance" asks
/// for confirmation before anything changes (here and on the operations page); the title says what it is and its state.
/// </summary>
public sealed class InstancePageFormsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string page, string handler, Dictionary<string, string> fields)
    {
        var html = await client.GetStringAsync(page, Ct);
        fields["__RequestVerificationToken"] = PageHtml.Token(html);
        return await client.PostAsync($"{page}?handler={handler}", new FormUrlEncodedContent(fields), Ct);
    }

    [Fact]
    public async Task Cancel_and_award_errors_stay_on_their_own_form_with_their_own_ids()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await D2ATestKit.RaiseAndAwardAsync(app);
        var broker = app.As(Roles.Brokerage);
        var page = $"/instances/{reference}";

        var get = await broker.GetStringAsync(page, Ct);
        Assert.Equal($"{reference} — D2A referral, awarded – CareWorkflows", PageHtml.Title(get));
        Assert.Empty(PageHtml.DuplicateIds(get));

        var cancel = await PostAsync(broker, page, "Cancel", new() { ["reason"] = " " });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, cancel.StatusCode);
        var html = await cancel.Content.ReadAsStringAsync(Ct);
        Assert.Equal([("cancel-reason", "Enter the reason for cancelling")], PageHtml.Summary(html));
        Assert.Equal(1, PageHtml.Count(html, "id=\"cancel-reason-error\""));
        Assert.DoesNotContain("award-reason-error", html);
        var textarea = PageHtml.Tag(html, "cancel-reason");
        Assert.Contains("aria-describedby=\"cancel-reason-error\"", textarea);
        Assert.Contains("aria-invalid=\"true\"", textarea);
        Assert.DoesNotContain("aria-invalid", PageHtml.Tag(html, "award-reason"));
        Assert.Empty(PageHtml.DuplicateIds(html));
        Assert.Equal($"Error: {reference} — D2A referral, awarded – CareWorkflows", PageHtml.Title(html));

        var award = await PostAsync(broker, page, "Award", new() { ["providerId"] = "east-meadowbank", ["reason"] = "", ["firstCall"] = "soon" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, award.StatusCode);
        html = await award.Content.ReadAsStringAsync(Ct);
        Assert.Equal(["award-firstcall", "award-reason"], PageHtml.Summary(html).Select(s => s.Target));
        Assert.Equal(1, PageHtml.Count(html, "id=\"award-reason-error\""));
        Assert.DoesNotContain("cancel-reason-error", html);
        Assert.Contains("aria-describedby=\"award-reason-error\"", PageHtml.Tag(html, "award-reason"));
        Assert.Contains("selected", PageHtml.Tag(html, "award-providerid") is { } _ ? html[html.IndexOf("value=\"east-meadowbank\"", StringComparison.Ordinal)..][..40] : "");
        Assert.Empty(PageHtml.DuplicateIds(html));
        Assert.Equal("Awarded", await D2ATestKit.StatusAsync(app, reference));
    }

    [Fact]
    public async Task Cancel_instance_asks_for_confirmation_and_only_yes_cancels_on_the_instance_and_operations_pages()
    {
        await using var app = new CareWorkflowsApp();
        var first = await D2ATestKit.RaiseAsync(app);
        var second = await D2ATestKit.RaiseAsync(app);
        var admin = app.As(Roles.Admin);

        var ask = await PostAsync(admin, $"/instances/{first}", "Cancel", new() { ["reason"] = "Raised twice by mistake" });
        Assert.Equal(HttpStatusCode.OK, ask.StatusCode);
        var html = await ask.Content.ReadAsStringAsync(Ct);
        Assert.Contains($"<h1 id=\"confirm-title\">Cancel {first}?</h1>", html);
        Assert.Contains($"Yes, cancel {first}", html);
        Assert.Contains("Raised twice by mistake", html);
        Assert.Contains("autofocus", PageHtml.Tag(html, "confirm-title") is { } _ ? html[html.IndexOf("class=\"confirm-panel\"", StringComparison.Ordinal)..][..120] : "");
        Assert.Equal("OfferedToPatch", await D2ATestKit.StatusAsync(app, first)); // nothing changed yet

        var yes = await PostAsync(admin, $"/instances/{first}", "ConfirmCancel", new() { ["reason"] = "Raised twice by mistake" });
        Assert.Equal(HttpStatusCode.Redirect, yes.StatusCode);
        Assert.Equal("Cancelled", await D2ATestKit.StatusAsync(app, first));
        Assert.Equal($"{first} — D2A referral, cancelled – CareWorkflows", PageHtml.Title(await admin.GetStringAsync($"/instances/{first}", Ct)));

        // Operations: both fields checked at once; then the same confirmation step.
        var bad = await PostAsync(admin, "/operations", "Cancel", new() { ["Reference"] = "", ["Reason"] = "" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        Assert.Equal(["reference", "reason"], PageHtml.Summary(await bad.Content.ReadAsStringAsync(Ct)).Select(s => s.Target));
        var confirm = await PostAsync(admin, "/operations", "Cancel", new() { ["Reference"] = second.ToLowerInvariant(), ["Reason"] = "Duplicate" });
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Contains($"Yes, cancel {second}", await confirm.Content.ReadAsStringAsync(Ct));
        Assert.Equal("OfferedToPatch", await D2ATestKit.StatusAsync(app, second));
        var done = await PostAsync(admin, "/operations", "ConfirmCancel", new() { ["Reference"] = second, ["Reason"] = "Duplicate" });
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.Equal("Cancelled", await D2ATestKit.StatusAsync(app, second));
    }
}
