using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.D2A;
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
/// An endpoint on one workflow instance is called on a real instance of that workflow, in a state that takes the
/// action, with a valid body (<see cref="Targets"/>): so the workflow's own role rules (who may award, sign off, close...)
/// are what answers, not a 404 for a made-up reference. A provider user is "east-kestrel", which each instance concerns.
/// "Allowed" means the request got past every role rule: what it then answers (200, 400, 404, 409, 422) is the
/// endpoint's business, but never a 500. A refusal changes nothing; an allowed call may, so the next role gets a fresh
/// instance. Cross-provider rules on real items are in CrossProviderTests.
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
    private static readonly string[] D2ADischargeStaff = [Roles.DischargeTeam, Roles.Brokerage, Roles.Admin];
    private static readonly string[] D2ATeam = [Roles.DischargeTeam, Roles.Brokerage, Roles.CareManager, Roles.SeniorCareManager, Roles.Admin];
    private static readonly string[] CareManagement = [Roles.CareManager, Roles.SeniorCareManager];
    private static readonly string[] IncidentDeciders = [Roles.SafeguardingLead, Roles.QualityAssurance, Roles.SeniorCareManager, Roles.Admin];
    private const string Mine = "east-kestrel";

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
        // D2A referrals: the discharge team raises; providers (for themselves) or brokerage answer; the workflow's rules for the rest
        ["POST /api/d2a/referrals/"] = [Roles.DischargeTeam, Roles.Admin],
        ["POST /api/d2a/referrals/{reference}/responses"] = [Roles.Provider, Roles.Brokerage, Roles.Admin],
        ["POST /api/d2a/referrals/{reference}/award"] = [Roles.Brokerage, Roles.Admin],
        ["POST /api/d2a/referrals/{reference}/discharge"] = D2ADischargeStaff,
        ["POST /api/d2a/referrals/{reference}/discharge-time"] = D2ADischargeStaff,
        // the provider that supported the person before admission (east-kestrel here), or care management / brokerage
        ["POST /api/d2a/referrals/{reference}/care-plan-revision"] = [Roles.Provider, Roles.CareManager, Roles.SeniorCareManager, Roles.Brokerage, Roles.Admin],
        ["POST /api/d2a/referrals/{reference}/end-date"] = D2ATeam,
        // the provider with the package (east-kestrel here), or the D2A team
        ["POST /api/d2a/referrals/{reference}/condition"] = [Roles.Provider, .. D2ATeam],
        ["POST /api/d2a/referrals/{reference}/close"] = D2ATeam,
        // trusted assessors and packages: administrators register; providers see only their own (handler scope)
        ["POST /api/trusted-assessors/"] = Admin,
        ["GET /api/trusted-assessors/"] = StaffAndProviders,
        ["GET /api/trusted-assessors/{id}"] = StaffAndProviders,
        ["POST /api/packages/"] = Admin,
        ["GET /api/packages/"] = StaffAndProviders,
        ["GET /api/packages/{id}"] = StaffAndProviders,
        // trusted-assessor adjustments (App G.7, G.10): providers propose; the senior care manager signs off, raises a
        // concern or pauses; care management approves, rejects or concludes the review; the provider answers and reinstates
        ["POST /api/ta-adjustments/"] = [Roles.Provider],
        ["GET /api/ta-adjustments/{reference}"] = SignedIn,
        ["POST /api/ta-adjustments/{reference}/sign-off"] = [Roles.SeniorCareManager],
        ["POST /api/ta-adjustments/{reference}/concern"] = [Roles.SeniorCareManager],
        ["POST /api/ta-adjustments/{reference}/concern-response"] = [Roles.Provider],
        ["POST /api/ta-adjustments/{reference}/pause"] = [Roles.SeniorCareManager],
        ["POST /api/ta-adjustments/{reference}/reinstated"] = [Roles.Provider],
        ["POST /api/ta-adjustments/{reference}/approve"] = CareManagement,
        ["POST /api/ta-adjustments/{reference}/reject"] = CareManagement,
        ["POST /api/ta-adjustments/{reference}/review-outcome"] = CareManagement,
        // serious incidents: the reporting provider follows up; council safeguarding, quality or senior care management close or escalate
        ["POST /api/incidents/"] = [Roles.Provider],
        ["POST /api/incidents/{reference}/full-report"] = [Roles.Provider],
        ["POST /api/incidents/{reference}/updates"] = [Roles.Provider],
        ["POST /api/incidents/{reference}/close"] = IncidentDeciders,
        ["POST /api/incidents/{reference}/escalate"] = IncidentDeciders,
        // quality concerns: QA raises and decides; the provider the concern is about responds
        ["POST /api/quality-concerns/"] = [Roles.QualityAssurance, Roles.Admin],
        ["POST /api/quality-concerns/{reference}/response"] = [Roles.Provider],
        ["POST /api/quality-concerns/{reference}/action-plan"] = [Roles.Provider],
        ["POST /api/quality-concerns/{reference}/due-date"] = [Roles.QualityAssurance, Roles.Admin],
        ["POST /api/quality-concerns/{reference}/decision"] = [Roles.QualityAssurance, Roles.Admin],
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
        // visit alerts (B 21-22): call monitoring's signature, not a role (401 without it); the provider the alert is for records
        ["POST /api/visit-alerts/"] = Nobody,
        ["POST /api/visit-alerts/{reference}/steps"] = [Roles.Provider, Roles.Admin],
        ["POST /api/visit-alerts/{reference}/cancellation"] = [Roles.Provider, Roles.Admin],
        ["POST /api/visit-alerts/{reference}/no-reply"] = [Roles.Provider, Roles.Admin],
        ["GET /api/kpis/visits"] = Staff,
        // no reply at the door (B App E): the provider's carers and office report and record
        ["POST /api/no-replies/"] = [Roles.Provider, Roles.Admin],
        ["POST /api/no-replies/{reference}/checks"] = [Roles.Provider, Roles.Admin],
        ["POST /api/no-replies/{reference}/outcome"] = [Roles.Provider, Roles.Admin],
        ["GET /no-replies/new"] = [Roles.Provider],
        ["POST /no-replies/new"] = [Roles.Provider],
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

    /// <summary>A real instance to call an endpoint on, and a body the endpoint takes.</summary>
    private sealed record Target(Func<CareWorkflowsApp, Task<string>> Create, object Body);

    /// <summary>For every endpoint on one instance: the instance (in a state that takes the action) and a valid body.</summary>
    private static readonly Dictionary<string, Target> Targets = new()
    {
        ["GET /api/instances/{reference}"] = new(OpenReferralAsync, new { }),
        ["POST /api/instances/{reference}/cancel"] = new(OpenReferralAsync, new { reason = "Raised twice by mistake" }),
        ["GET /instances/{reference}"] = new(OpenReferralAsync, new { }),
        ["POST /instances/{reference}"] = new(OpenReferralAsync, new { }),
        ["POST /api/d2a/referrals/{reference}/responses"] = new(OpenReferralAsync, new { action = "decline", providerId = Mine }),
        ["POST /api/d2a/referrals/{reference}/award"] = new(OpenReferralAsync, new { providerId = "east-meadowbank", reason = "Nearest carers", firstCall = "2026-11-24T15:00" }),
        ["POST /api/d2a/referrals/{reference}/discharge"] = new(AwardedReferralAsync, new { }),
        ["POST /api/d2a/referrals/{reference}/discharge-time"] = new(OpenReferralAsync, new { newTime = "2026-11-24T16:00", reason = "Transport" }),
        ["POST /api/d2a/referrals/{reference}/care-plan-revision"] = new(ActiveReferralAsync, new { summary = "Evening call added." }),
        ["POST /api/d2a/referrals/{reference}/end-date"] = new(ActiveReferralAsync, new { endDate = "2026-12-20", expectedOutcome = "Reablement" }),
        ["POST /api/d2a/referrals/{reference}/condition"] = new(ActiveReferralAsync, new { direction = "improved", summary = "Walking unaided." }),
        ["POST /api/d2a/referrals/{reference}/close"] = new(OpenReferralAsync, new { outcome = "Readmitted" }),
        ["GET /api/ta-adjustments/{reference}"] = new(AdjustmentAsync, new { }),
        ["POST /api/ta-adjustments/{reference}/sign-off"] = new(AdjustmentAsync, new { note = "Agreed." }),
        ["POST /api/ta-adjustments/{reference}/concern"] = new(AdjustmentAsync, new { concern = "Evidence is thin." }),
        ["POST /api/ta-adjustments/{reference}/concern-response"] = new(AdjustmentAsync, new { response = "Notes attached." }),
        ["POST /api/ta-adjustments/{reference}/pause"] = new(AdjustmentAsync, new { reason = "Review needed." }),
        ["POST /api/ta-adjustments/{reference}/reinstated"] = new(AdjustmentAsync, new { note = "Back to 10 hours." }),
        ["POST /api/ta-adjustments/{reference}/approve"] = new(AdjustmentAsync, new { reason = "Fine." }),
        ["POST /api/ta-adjustments/{reference}/reject"] = new(AdjustmentAsync, new { reason = "Not agreed." }),
        ["POST /api/ta-adjustments/{reference}/review-outcome"] = new(AdjustmentAsync, new { outcome = "approve", reason = "Reviewed." }),
        ["POST /api/incidents/{reference}/full-report"] = new(IncidentAsync, new { details = "Fall at home.", actionsTaken = "GP called." }),
        ["POST /api/incidents/{reference}/updates"] = new(IncidentAsync, new { text = "Recovering." }),
        ["POST /api/incidents/{reference}/close"] = new(IncidentAsync, new { reason = "No harm; carer retrained." }),
        ["POST /api/incidents/{reference}/escalate"] = new(IncidentAsync, new { to = new[] { "ContractReview" }, reason = "Third fall this month." }),
        ["POST /api/quality-concerns/{reference}/response"] = new(ConcernAsync, new { investigation = "Rota checked.", issueFound = false }),
        ["POST /api/quality-concerns/{reference}/action-plan"] = new(ConcernAsync, new { plan = "Weekly audit." }),
        ["POST /api/quality-concerns/{reference}/due-date"] = new(ConcernAsync, new { workingDays = 10, reason = "Provider asked for time." }),
        ["POST /api/quality-concerns/{reference}/decision"] = new(ConcernAsync, new { outcome = "Accepted", reason = "Satisfied." }),
        ["POST /api/visit-alerts/{reference}/steps"] = new(VisitAlertAsync, new { step = "Reassured" }),
        ["POST /api/visit-alerts/{reference}/cancellation"] = new(VisitAlertAsync, new { confirmedWith = "Person", confirmedBy = "Pat Lee, care coordinator" }),
        ["POST /api/visit-alerts/{reference}/no-reply"] = new(VisitAlertAsync, new { note = "No answer at the door." }),
        ["POST /api/no-replies/{reference}/checks"] = new(NoReplyAsync, new { checks = new[] { "Letterbox" } }),
        ["POST /api/no-replies/{reference}/outcome"] = new(NoReplyAsync, new { outcome = "FoundSafe" }),
    };

    private static async Task<string> StartedAsync(HttpResponseMessage r)
    {
        Assert.True(r.IsSuccessStatusCode, $"{r.RequestMessage!.RequestUri}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reference").GetString()!;
    }

    /// <summary>Offered to the East patch (east-kestrel among them).</summary>
    private static Task<string> OpenReferralAsync(CareWorkflowsApp app) => D2ATestKit.RaiseAsync(app);

    /// <summary>Awarded to east-kestrel.</summary>
    private static Task<string> AwardedReferralAsync(CareWorkflowsApp app) => D2ATestKit.RaiseAndAwardAsync(app, winner: Mine);

    /// <summary>Discharged; east-kestrel has the package and supported the person before admission.</summary>
    private static async Task<string> ActiveReferralAsync(CareWorkflowsApp app)
    {
        var reference = await D2ATestKit.RaiseAndAwardAsync(app, D2ATestKit.Referral(supportedBefore: true, previousProvider: Mine), winner: Mine);
        Assert.Equal(HttpStatusCode.OK, (await app.As(Roles.DischargeTeam).PostAsJsonAsync($"/api/d2a/referrals/{reference}/discharge", new { })).StatusCode);
        return reference;
    }

    private static int _packages;

    /// <summary>Within parameters, awaiting sign-off; east-kestrel's own package (one open adjustment per package, so a new one each time).</summary>
    private static async Task<string> AdjustmentAsync(CareWorkflowsApp app)
    {
        var package = $"PKG-MATRIX-{Interlocked.Increment(ref _packages)}";
        Assert.True((await app.As(Roles.Admin).PostAsJsonAsync("/api/packages", new { id = package, providerId = Mine, weeklyHours = 10m, lowLevel = true })).IsSuccessStatusCode);
        return await StartedAsync(await app.As(Roles.Provider, Mine).PostAsJsonAsync("/api/ta-adjustments", new
        {
            packageId = package, assessorId = "TAS-DEMO-1", currentWeeklyHours = 10m, proposedWeeklyHours = 9m, effectiveDate = "2026-11-24",
            personAgreed = true, agreedBy = "the person", goals = "Independence", rationale = "Managing breakfast", evidence = "Visit notes",
        }));
    }

    private static async Task<string> IncidentAsync(CareWorkflowsApp app) =>
        await StartedAsync(await app.As(Roles.Provider, Mine).PostAsJsonAsync("/api/incidents", new
        {
            category = "WelfareConcern", occurredAt = "2026-11-24T07:00:00Z", becameAwareAt = "2026-11-24T08:00:00Z", description = "Fall at home.",
            parties = "Carer", emergencyServicesInvolved = false, immediateAction = "GP called", furtherAction = "Review", serviceUserGroup = "Older people",
            serviceUserId = "SU-1", providerName = "Kestrel", contactEmail = "incidents@kestrel.example.org",
        }));

    private static async Task<string> ConcernAsync(CareWorkflowsApp app) =>
        await StartedAsync(await app.As(Roles.QualityAssurance).PostAsJsonAsync("/api/quality-concerns", new { providerId = Mine, concern = "Late calls." }));

    private static int _visits;

    /// <summary>An open late-visit alert for east-kestrel, through the intake the signed endpoint and the queue use.</summary>
    private static async Task<string> VisitAlertAsync(CareWorkflowsApp app)
    {
        var visit = $"V-MATRIX-{Interlocked.Increment(ref _visits)}";
        var planned = NodaTime.Text.InstantPattern.ExtendedIso.Format(app.Now - NodaTime.Duration.FromMinutes(30));
        var raised = await app.Services.GetRequiredService<CareWorkflows.Functions.Visits.VisitAlertIntake>().AcceptAsync(
            new CareWorkflows.Functions.Visits.VisitAlertMessage($"A-{visit}", visit, Mine, "LBB-104233", planned, "Late", null), "ecm-matrix", null, TestContext.Current.CancellationToken);
        Assert.True(raised.Status == 201, $"{raised.Status} {raised.Outcome} {raised.Detail}");
        return raised.Reference!;
    }

    private static async Task<string> NoReplyAsync(CareWorkflowsApp app) =>
        await StartedAsync(await app.As(Roles.Provider, Mine).PostAsJsonAsync("/api/no-replies", new { visitId = $"V-MATRIX-NR-{Interlocked.Increment(ref _visits)}", personId = "LBB-104233" }));

    [Fact]
    public async Task Every_endpoint_has_an_expected_row_and_every_role_gets_what_the_row_says()
    {
        await using var app = new CareWorkflowsApp();
        var endpoints = Endpoints(app);
        var unlisted = endpoints.Select(e => e.Key).Except(Expected.Keys).ToList();
        Assert.True(unlisted.Count == 0, "Endpoints without an authorisation row (add them to Expected): " + string.Join(", ", unlisted));
        var untargeted = endpoints.Where(e => e.Pattern.Contains("{reference}") && !Targets.ContainsKey(e.Key)).Select(e => e.Key).ToList();
        Assert.True(untargeted.Count == 0, "Endpoints on an instance without a real instance to call them on (add them to Targets): " + string.Join(", ", untargeted));
        var failures = new List<string>();
        var gone = Expected.Keys.Except(endpoints.Select(e => e.Key)).ToList();
        if (gone.Count > 0) failures.Add("Rows for endpoints that no longer exist: " + string.Join(", ", gone));
        // Either engine: a legacy instance's version, or an orchestration's history length (read once what it sends in the background is done).
        var workflows = app.Services.GetRequiredService<CareWorkflows.Functions.Workflows.WorkflowClient>();
        async Task<long?> VersionAsync(string r)
        {
            await app.SettleAsync();
            return (await workflows.LoadAsync(r, withTimeline: true, TestContext.Current.CancellationToken))?.Row.Version;
        }

        foreach (var (key, method, pattern, page) in endpoints)
        {
            var target = Targets.GetValueOrDefault(key);
            string? reference = null;
            foreach (var who in Everyone)
            {
                if (target is not null) reference ??= await target.Create(app);
                var before = reference is null ? null : await VersionAsync(reference);
                using var client = who == Anonymous ? app.Anonymous() : app.As(who, who == Roles.Provider ? Mine : null);
                using var request = new HttpRequestMessage(new HttpMethod(method), Fill(pattern, reference));
                if (method != "GET")
                    request.Content = page ? new FormUrlEncodedContent([]) : JsonContent.Create(target?.Body ?? new { });
                if (page) request.Headers.Accept.ParseAdd("text/html");
                using var response = await app.Anonymous().SendAsync(Copy(request, client), TestContext.Current.CancellationToken);
                var status = (int)response.StatusCode;
                var redirectedToSignIn = status == 302 && response.Headers.Location?.OriginalString.StartsWith("/signin", StringComparison.Ordinal) == true;
                var refused = status is 401 or 403 || redirectedToSignIn;
                if (status >= 500) failures.Add($"{key} as {who}: {status}");
                else if (refused == Expected[key].Contains(who)) failures.Add($"{key} as {who}: {status} but expected {(Expected[key].Contains(who) ? "allowed" : "refused")}");
                if (who == Anonymous && refused && !page && !redirectedToSignIn && status != 401 && Expected[key] != Nobody)
                    failures.Add($"{key} anonymous: {status}, expected 401");
                if (reference is null) continue;
                if (refused)
                {
                    if (await VersionAsync(reference) is not { } after || after != before) failures.Add($"{key} as {who}: refused ({status}) but the instance changed");
                }
                else reference = null; // an allowed call may have moved the instance on: the next role gets a fresh one
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>What a refusal must not change: the instance's status and state.</summary>
    private static async Task<string> FingerprintAsync(CareWorkflowsApp app, IWorkflowStore store, string reference)
    {
        var snapshot = await app.Services.GetRequiredService<CareWorkflows.Functions.Workflows.WorkflowClient>().LoadAsync(reference, withTimeline: false, TestContext.Current.CancellationToken);
        Assert.True(snapshot is not null, $"{reference} not found");
        return snapshot.Row.Status + " " + JsonSerializer.Serialize(snapshot.State, snapshot.State.GetType());
    }

    private static HttpRequestMessage Copy(HttpRequestMessage request, HttpClient client)
    {
        foreach (var h in client.DefaultRequestHeaders) request.Headers.TryAddWithoutValidation(h.Key, h.Value);
        return request;
    }

    private static string Fill(string pattern, string? reference) => pattern
        .Replace("{reference}", reference ?? "D2A-AAAAA").Replace("{token}", "x").Replace("{id}", "zz-unknown").Replace("{messageId}", "zz-unknown")
        .Replace("{secret}", "x").Replace("{documentName}", "v1");
}
