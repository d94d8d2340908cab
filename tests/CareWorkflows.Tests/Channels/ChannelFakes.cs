using System.Security.Cryptography;
using System.Text;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Channels;
using CareWorkflows.Runtime.Store;
using NodaTime;
using WireMock.Logging;
using WireMock.Server;

namespace CareWorkflows.Tests.Channels;

/// <summary>Shared bits for the channel tests: messages, fake-provider request access, webhook signing as the providers do it.</summary>
public static class ChannelFakes
{
    public static readonly Instant Now = Instant.FromUtc(2026, 11, 24, 9, 0);

    public static OutboxMessage Message(MessageChannel channel, string to, string subject = "TST-7K3QX: please answer", string body = "TST-7K3QX: please answer by 14:30.",
        string? html = null) =>
        new(Guid.CreateVersion7(), "TST-7K3QX", channel, to, "p-1", "offer", subject, body, html, [], OutboxStatus.InProgress, 0, Now, Now,
            null, null, null, null, null);

    public static string Header(ILogEntry e, string name) =>
        e.RequestMessage.Headers!.First(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value.ToString()!;

    public static Dictionary<string, string> Form(ILogEntry e) =>
        e.RequestMessage.Body!.Split('&').Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));

    public static IReadOnlyList<ILogEntry> Calls(WireMockServer server, string pathContains) =>
        server.LogEntries.Where(e => e.RequestMessage.Path.Contains(pathContains, StringComparison.Ordinal)).ToList();

    // ---------- Twilio webhooks ----------

    public const string TwilioSid = "AC00000000000000000000000000000001";
    public const string TwilioToken = "twilio-auth-token-test-0001";
    public const string TwilioWebhookBase = "https://hooks.careworkflows.example";

    public static HttpRequestMessage TwilioPost(string path, Dictionary<string, string> form, string? signature = null, bool sign = true)
    {
        var r = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        if (sign) r.Headers.Add("X-Twilio-Signature", signature ?? TwilioSignature(TwilioToken, TwilioWebhookBase + path, form));
        return r;
    }

    /// <summary>
    /// Signs as Twilio does (the app only validates, with the SDK): Base64(HMAC-SHA1(auth token, URL + each POST
    /// parameter name and value, sorted by name)). Checked against Twilio's published example in TwilioSdkTests.
    /// </summary>
    public static string TwilioSignature(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form)
    {
        var sb = new StringBuilder(url);
        foreach (var (k, v) in form.OrderBy(p => p.Key, StringComparer.Ordinal)) sb.Append(k).Append(v);
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(sb.ToString())));
    }

    // ---------- SendGrid event webhook (ECDSA P-256) ----------

    public static readonly ECDsa SendGridKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public static string SendGridPublicKey => Convert.ToBase64String(SendGridKey.ExportSubjectPublicKeyInfo());

    public static HttpRequestMessage SendGridEvents(string json, ECDsa? signer = null, bool sign = true, string timestamp = "1795510800")
    {
        var r = new HttpRequestMessage(HttpMethod.Post, "/webhooks/sendgrid/events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (sign)
        {
            var sig = (signer ?? SendGridKey).SignData(Encoding.UTF8.GetBytes(timestamp + json), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            r.Headers.Add("X-Twilio-Email-Event-Webhook-Signature", Convert.ToBase64String(sig));
            r.Headers.Add("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
        }
        return r;
    }

    public const string InboundSecret = "inbound-parse-secret-0001";
    public const string NotifyBearer = "notify-callback-token-0001";

    public static HttpRequestMessage NotifyPost(string path, string json, string? bearer = NotifyBearer)
    {
        var r = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (bearer is not null) r.Headers.Authorization = new("Bearer", bearer);
        return r;
    }

    public static HttpRequestMessage SendGridInbound(string from, string subject, string text, string messageId, string? secret = InboundSecret, bool basicAuth = false)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent($"Someone <{from}>"), "from" },
            { new StringContent("replies@council.example"), "to" },
            { new StringContent(subject), "subject" },
            { new StringContent(text), "text" },
            { new StringContent($"Message-ID: <{messageId}>\nFrom: {from}\nSubject: {subject}\n"), "headers" },
            { new StringContent($"{{\"to\":[\"replies@council.example\"],\"from\":\"{from}\"}}"), "envelope" },
        };
        var path = secret is null || basicAuth ? "/webhooks/sendgrid/inbound" : $"/webhooks/sendgrid/inbound/{secret}";
        var r = new HttpRequestMessage(HttpMethod.Post, path) { Content = form };
        if (basicAuth && secret is not null) r.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"inbound:{secret}")));
        return r;
    }

    /// <summary>Settings that turn every webhook on (the send channels stay Dev unless a test says otherwise).</summary>
    public static Dictionary<string, string?> WebhookSettings(Dictionary<string, string?>? more = null)
    {
        var s = new Dictionary<string, string?>
        {
            ["Twilio:AccountSid"] = TwilioSid,
            ["Twilio:AuthToken"] = TwilioToken,
            ["Twilio:WebhookBaseUrl"] = TwilioWebhookBase,
            ["SendGrid:WebhookPublicKey"] = SendGridPublicKey,
            ["SendGrid:InboundSecret"] = InboundSecret,
            ["Notify:CallbackBearerToken"] = NotifyBearer,
        };
        foreach (var (k, v) in more ?? []) s[k] = v;
        return s;
    }
}
