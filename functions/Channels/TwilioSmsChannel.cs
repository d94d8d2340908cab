using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Store;

namespace CareWorkflows.Functions.Channels;

/// <summary>
/// Settings section "Twilio". AuthToken from settings / Key Vault. From is a number (or set MessagingServiceSid).
/// WebhookBaseUrl is the public base URL Twilio calls back on; it is also the URL the webhook signatures are computed over.
/// </summary>
public sealed record TwilioSettings(string AccountSid, string AuthToken, string? From, string? MessagingServiceSid, string BaseUrl, string? WebhookBaseUrl)
{
    public static TwilioSettings Read(IConfiguration config, bool required)
    {
        var s = config.GetSection("Twilio");
        if (required)
        {
            ChannelSettings.Require(s, "Channels:Sms=Twilio", "AccountSid", "AuthToken");
            if (string.IsNullOrWhiteSpace(s["From"]) && string.IsNullOrWhiteSpace(s["MessagingServiceSid"]))
                throw new InvalidOperationException("Channels:Sms=Twilio needs Twilio:From or Twilio:MessagingServiceSid (see docs/channels.md).");
        }
        return new(s["AccountSid"] ?? "", s["AuthToken"] ?? "", s["From"], s["MessagingServiceSid"],
            s["BaseUrl"] is { Length: > 0 } b ? b.TrimEnd('/') : "https://api.twilio.com", s["WebhookBaseUrl"]?.TrimEnd('/'));
    }
}

/// <summary>
/// SMS through Twilio's REST API with a typed HttpClient (the Twilio package is not available to us):
/// POST /2010-04-01/Accounts/{sid}/Messages.json, basic auth (account SID, auth token), form body. The provider id is
/// the message "sid". A status callback URL is sent when WebhookBaseUrl is set.
/// </summary>
public sealed class TwilioSmsChannel(HttpClient http, TwilioSettings settings) : IMessageChannel
{
    public string Name => "Twilio";
    public MessageChannel Kind => MessageChannel.Sms;

    public async Task<string> SendAsync(OutboxMessage m, CancellationToken ct)
    {
        SmsGuard.Ensure(m.Body);
        var form = new List<KeyValuePair<string, string>> { new("To", m.To), new("Body", m.Body) };
        if (!string.IsNullOrWhiteSpace(settings.MessagingServiceSid)) form.Add(new("MessagingServiceSid", settings.MessagingServiceSid));
        else form.Add(new("From", settings.From!));
        if (settings.WebhookBaseUrl is { Length: > 0 } hooks) form.Add(new("StatusCallback", hooks + "/webhooks/twilio/status"));
        using var request = new HttpRequestMessage(HttpMethod.Post,
            $"{settings.BaseUrl}/2010-04-01/Accounts/{Uri.EscapeDataString(settings.AccountSid)}/Messages.json")
        {
            Content = new FormUrlEncodedContent(form),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.AccountSid}:{settings.AuthToken}")));
        HttpResponseMessage response;
        try { response = await http.SendAsync(request, ct); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { throw ChannelErrors.Unreachable(Name, e); }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode) throw ChannelErrors.FromStatus(Name, response.StatusCode, body);
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("sid", out var sid) && sid.GetString() is { Length: > 0 } id) return id;
            }
            catch (JsonException) { }
            throw new ChannelException("Twilio accepted the message but returned no sid.", permanent: false);
        }
    }
}
