using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.D2A;
using CareWorkflows.Tests.Infrastructure;

namespace CareWorkflows.Tests.Pages;

/// <summary>
/// Provider link pages (issue 18, 7) and what a browser sees when a page request is refused: an HTML page with what to
/// do next for pages, RFC 7807 problem details for APIs and webhooks.
/// </summary>
public sealed class LinkAndErrorPagesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Link_pages_say_optional_once_link_hints_to_fields_and_a_refused_answer_keeps_the_form_and_the_input()
    {
        await using var app = new CareWorkflowsApp();
        var reference = await D2ATestKit.RaiseAsync(app);
        var anonymous = app.Anonymous();

        var decline = await anonymous.GetStringAsync($"/l/{await D2ATestKit.OfferTokenAsync(app, reference, "east-kestrel", 1)}", Ct);
        Assert.Contains(">Reason (optional)</label>", decline);
        Assert.DoesNotContain("(optional) (optional)", decline);

        // A first call in the past: the form again, with the provider's answer and the message, linked to the field.
        var accept = $"/l/{await D2ATestKit.OfferTokenAsync(app, reference, "east-kestrel", 0)}";
        var past = await anonymous.PostAsync(accept, new FormUrlEncodedContent(new Dictionary<string, string> { ["firstCall"] = "2026-11-24T08:00" }), Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, past.StatusCode);
        var html = await past.Content.ReadAsStringAsync(Ct);
        Assert.Contains($"<form method=\"post\" action=\"{accept}\">", html);
        Assert.Equal([("firstCall", "The first call time is in the past.")], PageHtml.Summary(html));
        var input = PageHtml.Tag(html, "firstCall");
        Assert.Contains("value=\"2026-11-24T08:00\"", input);
        Assert.Contains("aria-invalid=\"true\"", input);
        Assert.Contains("aria-describedby=\"firstCall-hint firstCall-error\"", input);
        Assert.StartsWith("Error: ", PageHtml.Title(html));
        Assert.Equal("OfferedToPatch", await D2ATestKit.StatusAsync(app, reference));

        // The link still works: the corrected answer is taken.
        var ok = await anonymous.PostAsync(accept, new FormUrlEncodedContent(new Dictionary<string, string> { ["firstCall"] = "2026-11-24T14:30" }), Ct);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("Awarded", await D2ATestKit.StatusAsync(app, reference));

        // An API client still gets the problem, not a page.
        var api = await app.Anonymous().PostAsJsonAsync(accept, new Dictionary<string, string> { ["firstCall"] = "2026-11-24T08:00" }, Ct);
        Assert.NotEqual("text/html", api.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_concern_response_hint_is_linked_to_its_field()
    {
        await using var app = new CareWorkflowsApp();
        var raised = await app.As(Roles.QualityAssurance).PostAsJsonAsync("/api/quality-concerns",
            new { providerId = "east-kestrel", concern = "Late calls." }, Ct);
        var reference = (await raised.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("reference").GetString()!;
        var request = (await D2ATestKit.MessagesAsync(app, reference)).First(m => m.Links.Count > 0);
        var token = await D2ATestKit.LinkTokenAsync(app, reference, request.To, request.Purpose);
        var html = await app.Anonymous().GetStringAsync($"/l/{token}", Ct);
        Assert.Contains("id=\"actions-hint\"", html);
        Assert.Contains("aria-describedby=\"actions-hint\"", PageHtml.Tag(html, "actions"));
        Assert.Contains("aria-describedby=\"issueFound-hint\"", PageHtml.Tag(html, "issueFound"));
        Assert.DoesNotContain("aria-describedby", PageHtml.Tag(html, "investigation"));
    }

    [Fact]
    public async Task Refused_page_requests_get_an_HTML_page_saying_what_to_do_and_APIs_keep_problem_details()
    {
        await using var app = new CareWorkflowsApp();
        var nurse = app.As(Roles.DischargeTeam);

        async Task<string> HtmlAsync(HttpResponseMessage r, HttpStatusCode status)
        {
            Assert.Equal(status, r.StatusCode);
            Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
            var html = await r.Content.ReadAsStringAsync(Ct);
            Assert.Contains("<a href=\"/\">Go to your dashboard</a>", html);
            return html;
        }
        async Task ProblemAsync(HttpResponseMessage r, HttpStatusCode status)
        {
            Assert.Equal(status, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
            Assert.Equal((int)status, (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetInt32());
        }
        HttpRequestMessage Get(string url, string accept)
        {
            var m = new HttpRequestMessage(HttpMethod.Get, url);
            m.Headers.Add("Accept", accept);
            return m;
        }
        const string browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

        Assert.Contains("<h1>Page not found</h1>", await HtmlAsync(await nurse.SendAsync(Get("/instances/D2A-ZZZZZ", browser), Ct), HttpStatusCode.NotFound));
        Assert.Contains("<h1>Page not found</h1>", await HtmlAsync(await nurse.GetAsync("/no-such-page", Ct), HttpStatusCode.NotFound));
        Assert.Contains("<h1>You cannot see this page</h1>", await HtmlAsync(await nurse.SendAsync(Get("/operations", browser), Ct), HttpStatusCode.Forbidden));

        // A page form without its antiforgery token: nothing saved, and the page says so.
        var forged = await app.As(Roles.QualityAssurance).PostAsync("/concerns/new", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["ProviderId"] = "east-kestrel", ["Concern"] = "Late calls.", ["FormId"] = Guid.NewGuid().ToString("N"),
        }), Ct);
        var page = await HtmlAsync(forged, HttpStatusCode.BadRequest);
        Assert.Contains("<h1>Your form could not be sent</h1>", page);
        Assert.Contains("Nothing was saved", page);
        Assert.Equal(0, (await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/instances?type=QC", Ct)).GetArrayLength());

        // APIs and webhooks, and clients asking for JSON, keep problem details.
        await ProblemAsync(await nurse.SendAsync(Get("/api/no-such-api", browser), Ct), HttpStatusCode.NotFound);
        await ProblemAsync(await app.As(Roles.Provider, "east-kestrel").GetAsync("/api/instances", Ct), HttpStatusCode.Forbidden);
        await ProblemAsync(await app.Anonymous().PostAsync("/webhooks/no-such-hook", new StringContent(""), Ct), HttpStatusCode.NotFound);
        await ProblemAsync(await nurse.SendAsync(Get("/no-such-page", "application/json"), Ct), HttpStatusCode.NotFound);
    }
}
