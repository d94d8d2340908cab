using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Store;
using SendGrid;
using SendGrid.Helpers.Mail;

namespace CareWorkflows.Functions.Channels;

/// <summary>Settings section "SendGrid". ApiKey from settings / Key Vault reference, never the repo.</summary>
public sealed record SendGridSettings(string ApiKey, string From, string? FromName, string Host, string? WebhookPublicKey, string? InboundSecret)
{
    public static SendGridSettings Read(IConfiguration config, bool required)
    {
        var s = config.GetSection("SendGrid");
        if (required) ChannelSettings.Require(s, "Channels:Email=SendGrid", "ApiKey", "From");
        return new(s["ApiKey"] ?? "", s["From"] ?? "", s["FromName"], s["Host"] is { Length: > 0 } h ? h : "https://api.sendgrid.com",
            s["WebhookPublicKey"], s["InboundSecret"]);
    }
}

/// <summary>
/// Email through SendGrid's v3 mail/send with the SendGrid client. The outbox message id goes in custom_args
/// ("outbox_id") so event-webhook callbacks name the message; the provider id is the X-Message-Id header.
/// SendGrid has no idempotency key: a retry after a timeout may send twice.
/// </summary>
public sealed class SendGridChannel(HttpClient http, SendGridSettings settings) : IMessageChannel
{
    private readonly SendGridClient _client = new(http, new SendGridClientOptions { ApiKey = settings.ApiKey, Host = settings.Host });

    public string Name => "SendGrid";
    public MessageChannel Kind => MessageChannel.Email;

    public async Task<string> SendAsync(OutboxMessage m, CancellationToken ct)
    {
        var mail = MailHelper.CreateSingleEmail(new EmailAddress(settings.From, settings.FromName), new EmailAddress(m.To), m.Subject, m.Body, m.HtmlBody);
        mail.AddCustomArg("outbox_id", m.Id.ToString());
        Response response;
        try { response = await _client.SendEmailAsync(mail, ct); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { throw ChannelErrors.Unreachable(Name, e); }
        if (!response.IsSuccessStatusCode)
            throw ChannelErrors.FromStatus(Name, response.StatusCode, await response.Body.ReadAsStringAsync(ct));
        return response.Headers.TryGetValues("X-Message-Id", out var ids) && ids.FirstOrDefault() is { Length: > 0 } id
            ? id
            : throw new ChannelException("SendGrid accepted the message but returned no X-Message-Id.", permanent: false);
    }
}
