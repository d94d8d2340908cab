using System.Net;
using System.Text;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Visits;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Tests.Visits;

/// <summary>Call-monitoring alerts signed as a system signs them, and the provider of the demo directory they are for.</summary>
public static class VisitsTestKit
{
    public const string System = "ecm-kestrel", Secret = "test-call-monitoring-secret-0123456789", Provider = "east-kestrel";
    public const string ProviderEmail = "referrals@east-kestrel.example.org", ProviderMobile = "+447700900002";
    public const string Duty = "duty-care-manager@council.example", Ssd = "social-services-direct@council.example", Edt = "emergency-duty-team@council.example";
    public const string Safeguarding = "safeguarding-lead@council.example", CareManager = "care-manager@council.example";

    public static Dictionary<string, string?> Settings(Dictionary<string, string?>? more = null)
    {
        var s = Channels.ChannelFakes.WebhookSettings();
        s[$"CallMonitoring:Systems:{System}:Secret"] = Secret;
        s[$"CallMonitoring:Systems:{System}:Providers"] = Provider;
        s["Providers:SeedDemo"] = "true";
        foreach (var (k, v) in more ?? []) s[k] = v;
        return s;
    }

    public static object Alert(string alertId, string visitId, Instant plannedStart, string kind = "Late", string provider = Provider, string person = "LBB-104233") => new
    {
        alertId, visitId, providerId = provider, personId = person, kind,
        plannedStart = InstantPattern.ExtendedIso.Format(plannedStart),
    };

    /// <summary>Posts an alert signed with <paramref name="secret"/> at <paramref name="signedAt"/> (default: the app's now).</summary>
    public static async Task<WorkflowHttp.Reply> PostAlertAsync(CareWorkflowsApp app, object alert, string? secret = Secret, Instant? signedAt = null, string system = System,
        Func<string, string>? tamper = null)
    {
        var json = alert as string ?? JsonSerializer.Serialize(alert, CareWorkflowsApp.Json); // a string is sent as it is
        var timestamp = (signedAt ?? app.Now).ToUnixTimeSeconds().ToString(global::System.Globalization.CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/visit-alerts") { Content = new StringContent(tamper?.Invoke(json) ?? json, Encoding.UTF8, "application/json") };
        if (secret is not null)
        {
            request.Headers.Add(CallMonitoringSignatures.SystemHeader, system);
            request.Headers.Add(CallMonitoringSignatures.TimestampHeader, timestamp);
            request.Headers.Add(CallMonitoringSignatures.SignatureHeader, CallMonitoringSignatures.Sign(secret, timestamp, Encoding.UTF8.GetBytes(json)));
        }
        using var r = await app.Anonymous().SendAsync(request, TestContext.Current.CancellationToken);
        var text = await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return new WorkflowHttp.Reply(r.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    public static async Task<string> RaiseAsync(CareWorkflowsApp app, string visitId, Instant plannedStart, string kind = "Late")
    {
        var r = await PostAlertAsync(app, Alert($"A-{visitId}", visitId, plannedStart, kind));
        Assert.True(r.Status == HttpStatusCode.Created, r.ToString());
        return r.Str("reference");
    }

    public static HttpClient Desk(CareWorkflowsApp app) => app.As(Roles.Provider, Provider, user: "kestrel-desk");

    public static async Task<int> InstanceCountAsync(CareWorkflowsApp app, string type) =>
        (await app.As(Roles.Admin).GetJsonAsync($"/api/instances?type={type}")).Body.EnumerateArray().Count();

    public static Instant London(int y, int mo, int d, int h, int mi) => new LocalDateTime(y, mo, d, h, mi).InZoneStrictly(WorkingCalendar.London).ToInstant();
}
