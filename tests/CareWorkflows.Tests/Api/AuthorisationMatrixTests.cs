using System.Net;
using System.Text;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Internal;

namespace CareWorkflows.Tests.Api;

/// <summary>
/// Every endpoint × every role (and anonymous) through the real HTTP pipeline: allowed, or refused with 401/403
/// (pages send an anonymous browser to the sign-in page instead of a bare 401). The endpoints are read from the
/// app's EndpointDataSource, so a new endpoint without a row here fails the test until someone decides who may call it.
/// "Allowed" means the request got past authorisation: what it then answers (200, 400, 404, 422 for the empty body
/// and made-up ids used here) is the endpoint's business, but never a 500.
/// Workflow-level rules on real items (a provider acting on another provider's item) are in CrossProviderTests below.
/// </summary>
public sealed class AuthorisationMatrixTests
{
    private const string Anonymous = "Anonymous";
    private static readonly string[] Everyone = [.. Roles.All, Anonymous];
    private static readonly string[] SignedIn = Roles.All;
    private static readonly string[] Staff = [Roles.DischargeTeam, Roles.Brokerage, Roles.CareManager, Roles.SeniorCareManager, Roles.QualityAssurance, Roles.SafeguardingLead, Roles.Admin];
    private static readonly string[] Operators = [Roles.Admin, Roles.Brokerage];
    private static readonly string[] Admin = [Roles.Admin];
    private static readonly string[] Nobody = [];
    /// <summary>Staff and provider users; providers are scoped to their own rows by the handler.</summary>
    private static readonly string[] StaffAndProviders = SignedIn;

    /// <summary>Who may call what. Keys are "METHOD /route pattern" as the app maps them.</summary>
    private static readonly Dictionary<string, string[]> Expected = new()
    {
        // health and API description: public
        ["GET /health"] = Everyone,
        ["GET /health/ready"] = Everyone,
        ["GET /openapi/{documentName}.json"] = Everyone,
        // instances (operators' API): staff; cancel: operators only
        ["GET /api/instances/"] = Staff,
        ["GET /api/instances/{reference}"] = Staff,
        ["POST /api/instances/{reference}/cancel"] = Operators,
        // failed messages: operators
        ["GET /api/messages/failed"] = Operators,
        ["POST /api/messages/{id}/retry"] = Operators,
        // simulation clock: staff read it, administrators move it (it fires every deadline on the way);
        // the dev outbox: staff (it holds every provider's links)
        ["GET /api/simulation/clock"] = Staff,
        ["POST /api/simulation/clock"] = Admin,
        ["POST /api/simulation/advance"] = Admin,
        ["GET /api/dev/outbox"] = Staff,
        // signed links: anonymous by design (the token is the authority; "x" is refused as malformed, 400)
        ["GET /l/{token}"] = Everyone,
        ["POST /l/{token}"] = Everyone,
        ["GET /d2a/details/{token}"] = Everyone,
        // calendar: staff read, administrators load
        ["GET /api/calendar/bank-holidays"] = Staff,
        ["POST /api/calendar/bank-holidays"] = Admin,
        // webhooks: anonymous routes whose authority is the provider's signature or secret (tested with the channels);
        // here no channel is configured, so they answer 404 to everyone
        ["POST /webhooks/twilio/status"] = Everyone,
        ["POST /webhooks/twilio/inbound"] = Everyone,
        ["POST /webhooks/sendgrid/events"] = Everyone,
        ["POST /webhooks/sendgrid/inbound"] = Everyone,
        ["POST /webhooks/sendgrid/inbound/{secret}"] = Everyone,
        ["POST /webhooks/notify/status"] = Everyone,
        ["POST /webhooks/notify/inbound"] = Everyone,
        // provider directory
        ["GET /api/providers/"] = Operators,
        ["GET /api/providers/{id}"] = Operators,
        ["POST /api/providers/"] = Admin,
        ["PUT /api/providers/{id}"] = Admin,
        ["GET /api/patches"] = Staff,
        // D2A referrals: the discharge team raises; providers (for themselves) or brokerage answer; the rest is checked by the workflow
        ["POST /api/d2a/referrals/"] = [Roles.DischargeTeam, Roles.Admin],
        ["POST /api/d2a/referrals/{reference}/responses"] = [Roles.Provider, Roles.Brokerage, Roles.Admin],
        ["POST /api/d2a/referrals/{reference}/award"] = SignedIn,
        ["POST /api/d2a/referrals/{reference}/discharge"] = SignedIn,
        ["POST /api/d2a/referrals/{reference}/discharge-time"] = SignedIn,
        ["POST /api/d2a/referrals/{reference}/care-plan-revision"] = SignedIn,
        ["POST /api/d2a/referrals/{reference}/end-date"] = SignedIn,
        ["POST /api/d2a/referrals/{reference}/condition"] = SignedIn,
        ["POST /api/d2a/referrals/{reference}/close"] = SignedIn,
        // trusted assessors and packages: administrators register; providers see only their own (handler scope)
        ["POST /api/trusted-assessors/"] = Admin,
        ["GET /api/trusted-assessors/"] = StaffAndProviders,
        ["GET /api/trusted-assessors/{id}"] = StaffAndProviders,
        ["POST /api/packages/"] = Admin,
        ["GET /api/packages/"] = StaffAndProviders,
        ["GET /api/packages/{id}"] = StaffAndProviders,
        // trusted-assessor adjustments: providers propose; sign-offs by role are checked by the workflow
        ["POST /api/ta-adjustments/"] = [Roles.Provider],
        ["GET /api/ta-adjustments/{reference}"] = SignedIn,
        ["POST /api/ta-adjustments/{reference}/sign-off"] = SignedIn,
        ["POST /api/ta-adjustments/{reference}/concern"] = SignedIn,
        ["POST /api/ta-adjustments/{reference}/concern-response"] = SignedIn,
        ["POST /api/ta-adjustments/{reference}/pause"] = SignedIn,
        ["POST /api/ta-adjustments/{reference}/reinstated"] = SignedIn,
        ["POST /api/ta-adjustments/{reference}/approve"] = SignedIn,
        ["POST /api/ta-adjustments/{reference}/reject"] = SignedIn,
        ["POST /api/ta-adjustments/{reference}/review-outcome"] = SignedIn,
        // serious incidents: providers report and follow up; council staff close or escalate
        ["POST /api/incidents/"] = [Roles.Provider],
        ["POST /api/incidents/{reference}/full-report"] = SignedIn,
        ["POST /api/incidents/{reference}/updates"] = SignedIn,
        ["POST /api/incidents/{reference}/close"] = Staff,
        ["POST /api/incidents/{reference}/escalate"] = Staff,
        // quality concerns: QA raises; the provider responds; QA decides (workflow)
        ["POST /api/quality-concerns/"] = [Roles.QualityAssurance, Roles.Admin],
        ["POST /api/quality-concerns/{reference}/response"] = SignedIn,
        ["POST /api/quality-concerns/{reference}/action-plan"] = SignedIn,
        ["POST /api/quality-concerns/{reference}/due-date"] = Staff,
        ["POST /api/quality-concerns/{reference}/decision"] = Staff,
        // intake dead letters: administrators
        ["GET /api/intake/dead-letters/"] = Admin,
        ["GET /api/intake/dead-letters/{messageId}"] = Admin,
        // pages (GET shows; POST without an antiforgery token is 400 once past authorisation)
        ["GET /"] = SignedIn,
        ["POST /"] = SignedIn,
        ["GET /signin"] = Everyone,
        ["POST /signin"] = Everyone,
        ["GET /signout"] = SignedIn,
        ["POST /signout"] = SignedIn,
        // the access-denied page itself answers 403 to everyone (it is where Entra sign-in sends a refused user)
        ["GET /denied"] = Nobody,
        ["POST /denied"] = Everyone,
        ["GET /instances/{reference}"] = SignedIn,
        ["POST /instances/{reference}"] = SignedIn,
        ["GET /d2a/new"] = [Roles.DischargeTeam, Roles.Admin],
        ["POST /d2a/new"] = [Roles.DischargeTeam, Roles.Admin],
        ["GET /concerns/new"] = [Roles.QualityAssurance, Roles.Admin],
        ["POST /concerns/new"] = [Roles.QualityAssurance, Roles.Admin],
        ["GET /incidents/new"] = [Roles.Provider],
        ["POST /incidents/new"] = [Roles.Provider],
        ["GET /adjustments/new"] = [Roles.Provider],
        ["POST /adjustments/new"] = [Roles.Provider],
        ["GET /operations"] = Operators,
        ["POST /operations"] = Operators,
        ["GET /kpis"] = Staff,
        ["POST /kpis"] = Staff,
    };

    /// <summary>Every mapped endpoint as "METHOD /pattern" (pages answer GET and POST).</summary>
    private static List<(string Key, string Method, string Pattern, bool Page)> Endpoints(CareWorkflowsApp app)
    {
        var list = new List<(string, string, string, bool)>();
        foreach (var e in app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + (e.RoutePattern.RawText ?? "").TrimStart('/');
            var page = e.Metadata.GetMetadata<PageActionDescriptor>() is not null || e.Metadata.GetMetadata<Microsoft.AspNetCore.Mvc.RazorPages.CompiledPageActionDescriptor>() is not null;
            var methods = e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? (page ? ["GET", "POST"] : ["GET"]);
            foreach (var m in methods) list.Add(($"{m} {pattern}", m, pattern, page));
        }
        return list.DistinctBy(x => x.Item1).ToList();
    }

    [Fact]
    public async Task Every_endpoint_has_an_expected_row_and_every_role_gets_what_the_row_says()
    {
        await using var app = new CareWorkflowsApp();
        var endpoints = Endpoints(app);
        var unlisted = endpoints.Select(e => e.Key).Except(Expected.Keys).ToList();
        Assert.True(unlisted.Count == 0, "Endpoints without an authorisation row (add them to Expected): " + string.Join(", ", unlisted));
        var failures = new List<string>();
        var gone = Expected.Keys.Except(endpoints.Select(e => e.Key)).ToList();
        if (gone.Count > 0) failures.Add("Rows for endpoints that no longer exist: " + string.Join(", ", gone));

        foreach (var (key, method, pattern, page) in endpoints)
        {
            var url = Fill(pattern);
            foreach (var who in Everyone)
            {
                using var client = who == Anonymous ? app.Anonymous() : app.As(who, who == Roles.Provider ? "east-kestrel" : null);
                using var request = new HttpRequestMessage(new HttpMethod(method), url);
                if (method != "GET")
                    request.Content = page ? new FormUrlEncodedContent([]) : new StringContent("{}", Encoding.UTF8, "application/json");
                if (page) request.Headers.Accept.ParseAdd("text/html");
                using var response = await app.Anonymous().SendAsync(Copy(request, client), TestContext.Current.CancellationToken);
                var status = (int)response.StatusCode;
                var redirectedToSignIn = status == 302 && response.Headers.Location?.OriginalString.StartsWith("/signin", StringComparison.Ordinal) == true;
                var refused = status is 401 or 403 || redirectedToSignIn;
                if (status >= 500) failures.Add($"{key} as {who}: {status}");
                else if (refused == Expected[key].Contains(who)) failures.Add($"{key} as {who}: {status} but expected {(Expected[key].Contains(who) ? "allowed" : "refused")}");
                if (who == Anonymous && refused && !page && !redirectedToSignIn && status != 401 && Expected[key] != Nobody)
                    failures.Add($"{key} anonymous: {status}, expected 401");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static HttpRequestMessage Copy(HttpRequestMessage request, HttpClient client)
    {
        foreach (var h in client.DefaultRequestHeaders) request.Headers.TryAddWithoutValidation(h.Key, h.Value);
        return request;
    }

    private static string Fill(string pattern) => pattern
        .Replace("{reference}", "D2A-AAAAA").Replace("{token}", "x").Replace("{id}", "zz-unknown").Replace("{messageId}", "zz-unknown")
        .Replace("{secret}", "x").Replace("{documentName}", "v1");
}
