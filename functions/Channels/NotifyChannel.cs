using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Store;
using Notify.Client;
using Notify.Exceptions;

namespace CareWorkflows.Functions.Channels;

/// <summary>
/// Settings section "Notify". ApiKey (format name-serviceId-secret) from Key Vault. Notify sends templates: we use one
/// email template with ((subject)) and ((body)) and one SMS template with ((body)) (see docs/channels.md), so our own
/// templates stay in the workflow files. CallbackBearerToken authenticates Notify's delivery and received-text callbacks.
/// </summary>
public sealed record NotifySettings(string ApiKey, string? EmailTemplateId, string? SmsTemplateId, string BaseUrl, string? CallbackBearerToken,
    string? SmsSenderId, string? EmailReplyToId)
{
    public static NotifySettings Read(IConfiguration config, MessageChannel? required)
    {
        var s = config.GetSection("Notify");
        if (required == MessageChannel.Email) ChannelSettings.Require(s, "Channels:Email=Notify", "ApiKey", "EmailTemplateId");
        if (required == MessageChannel.Sms) ChannelSettings.Require(s, "Channels:Sms=Notify", "ApiKey", "SmsTemplateId");
        return new(s["ApiKey"] ?? "", s["EmailTemplateId"], s["SmsTemplateId"],
            s["BaseUrl"] is { Length: > 0 } b ? b.TrimEnd('/') : "https://api.notifications.service.gov.uk",
            s["CallbackBearerToken"], s["SmsSenderId"], s["EmailReplyToId"]);
    }
}

/// <summary>
/// GOV.UK Notify email or SMS through the GovukNotify client (it signs a JWT per request with the key's secret).
/// The outbox message id is the Notify "reference", so delivery callbacks name the message; the provider id is Notify's id.
/// </summary>
public sealed partial class NotifyChannel : IMessageChannel
{
    private readonly NotificationClient _client;
    private readonly NotifySettings _settings;

    public NotifyChannel(MessageChannel kind, NotifySettings settings)
    {
        Kind = kind;
        _settings = settings;
        _client = new NotificationClient(settings.BaseUrl, settings.ApiKey);
    }

    public string Name => "Notify";
    public MessageChannel Kind { get; }

    public async Task<string> SendAsync(OutboxMessage m, CancellationToken ct)
    {
        try
        {
            if (Kind == MessageChannel.Sms)
            {
                SmsGuard.Ensure(m.Body);
                var r = await _client.SendSmsAsync(m.To, _settings.SmsTemplateId, new Dictionary<string, dynamic> { ["body"] = m.Body },
                    clientReference: m.Id.ToString(), smsSenderId: _settings.SmsSenderId);
                return r.id;
            }
            var e = await _client.SendEmailAsync(m.To, _settings.EmailTemplateId, new Dictionary<string, dynamic> { ["subject"] = m.Subject, ["body"] = m.Body },
                clientReference: m.Id.ToString(), emailReplyToId: _settings.EmailReplyToId);
            return e.id;
        }
        catch (NotifyClientException e)
        {
            // The client reports "Status code 429. ..." in the message; no status code means it never got an answer.
            var match = StatusCode().Match(e.Message);
            if (match.Success) throw ChannelErrors.FromStatus(Name, int.Parse(match.Groups[1].Value), e.Message, e);
            throw ChannelErrors.Unreachable(Name, e);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { throw ChannelErrors.Unreachable(Name, e); }
    }

    [GeneratedRegex(@"Status code (\d{3})")]
    private static partial Regex StatusCode();
}
