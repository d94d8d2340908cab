using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Store;
using Twilio.Clients;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;
using TwilioHttp = Twilio.Http;

namespace CareWorkflows.Functions.Channels;

/// <summary>
/// Settings section "Twilio". AuthToken from settings / Key Vault. From is a number (or set MessagingServiceSid).
/// WebhookBaseUrl is the public base URL Twilio calls back on; it is also the URL the webhook signatures are computed over.
/// </summary>
public sealed record TwilioSettings(string AccountSid, string AuthToken, string? From, string? MessagingServiceSid, string BaseUrl, string? WebhookBaseUrl)
{
    public const string DefaultBaseUrl = "https://api.twilio.com";

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
            s["BaseUrl"] is { Length: > 0 } b ? b.TrimEnd('/') : DefaultBaseUrl, s["WebhookBaseUrl"]?.TrimEnd('/'));
    }
}

/// <summary>
/// SMS through the Twilio SDK (<c>MessageResource.CreateAsync</c>: POST /2010-04-01/Accounts/{sid}/Messages.json, basic
/// auth with the account SID and auth token, form body). The SDK's <see cref="TwilioHttp.SystemNetHttpClient"/> wraps the
/// HttpClient we are given, so the request goes through our handlers (<see cref="TwilioApiBaseUrl"/> sends it to
/// Twilio:BaseUrl) and our telemetry. The provider id is the message "sid". A status callback URL is sent when
/// WebhookBaseUrl is set. The SDK does not retry; the outbox does.
/// </summary>
public sealed class TwilioSmsChannel(HttpClient http, TwilioSettings settings) : IMessageChannel
{
    public string Name => "Twilio";
    public MessageChannel Kind => MessageChannel.Sms;

    public async Task<string> SendAsync(OutboxMessage m, CancellationToken ct)
    {
        SmsGuard.Ensure(m.Body);
        var options = new CreateMessageOptions(new PhoneNumber(m.To)) { Body = m.Body };
        if (!string.IsNullOrWhiteSpace(settings.MessagingServiceSid)) options.MessagingServiceSid = settings.MessagingServiceSid;
        else options.From = new PhoneNumber(settings.From);
        if (settings.WebhookBaseUrl is { Length: > 0 } hooks) options.StatusCallback = new Uri(hooks + "/webhooks/twilio/status");

        // One SDK client per send (cheap: the HttpClient underneath is shared), so LastResponse is this send's answer:
        // the SDK puts no status on the exception when an error body is not Twilio's JSON.
        var transport = new TwilioHttp.SystemNetHttpClient(http);
        var client = new TwilioRestClient(settings.AccountSid, settings.AuthToken, httpClient: transport);
        MessageResource sent;
        try
        {
            // The SDK takes no CancellationToken; stop waiting when ours fires (the HttpClient's timeout ends the call).
            sent = await MessageResource.CreateAsync(options, client).WaitAsync(ct);
        }
        catch (ApiConnectionException e) { throw ChannelErrors.Unreachable(Name, e); }
        catch (ApiException e)
        {
            var status = e.Status != 0 ? e.Status : (int?)transport.LastResponse?.StatusCode ?? 0;
            if (status == 0) throw new ChannelException($"Twilio failed without an HTTP status: {e.Message}", permanent: false, e);
            throw ChannelErrors.FromStatus(Name, status, e.Message, e);
        }
        // Some error answers (an HTML 403 from a proxy) surface as other SDK exceptions: the status still decides.
        catch (TwilioException e) when (transport.LastResponse is { } answer && (int)answer.StatusCode >= 400)
        {
            throw ChannelErrors.FromStatus(Name, (int)answer.StatusCode, e.Message, e);
        }
        catch (TwilioException e) { throw new ChannelException($"Twilio answered something the SDK could not read: {e.Message}", permanent: false, e); }
        return sent?.Sid is { Length: > 0 } sid ? sid : throw new ChannelException("Twilio accepted the message but returned no sid.", permanent: false);
    }
}

/// <summary>
/// Sends the SDK's requests (which always name https://api.twilio.com) to Twilio:BaseUrl instead: a regional edge, a
/// proxy, or a fake in tests. Path and query are kept; a base URL with a path is put in front of them.
/// </summary>
public sealed class TwilioApiBaseUrl(string baseUrl) : DelegatingHandler
{
    private readonly Uri _base = new(baseUrl.TrimEnd('/') + "/");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (request.RequestUri is { } uri && uri.Host.EndsWith(".twilio.com", StringComparison.OrdinalIgnoreCase)
            && !(uri.Host.Equals(_base.Host, StringComparison.OrdinalIgnoreCase) && uri.Scheme == _base.Scheme && uri.Port == _base.Port && _base.AbsolutePath == "/"))
            request.RequestUri = new Uri(_base, uri.PathAndQuery.TrimStart('/'));
        return base.SendAsync(request, ct);
    }
}
