using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Store;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace CareWorkflows.Functions.Channels;

/// <summary>
/// Settings section "Smtp" (e.g. the NHSmail relay or a local MailDev). Password from Key Vault.
/// Security: Auto (default), None, StartTls, SslOnConnect.
/// </summary>
public sealed record SmtpSettings(string Host, int Port, string From, string? FromName, string? Username, string? Password, SecureSocketOptions Security)
{
    public static SmtpSettings Read(IConfiguration config)
    {
        var s = config.GetSection("Smtp");
        ChannelSettings.Require(s, "Channels:Email=Smtp", "Host", "From");
        var security = s["Security"] is { Length: > 0 } sec
            ? Enum.Parse<SecureSocketOptions>(sec, ignoreCase: true)
            : SecureSocketOptions.Auto;
        return new(s["Host"]!, int.TryParse(s["Port"], out var p) ? p : 587, s["From"]!, s["FromName"], s["Username"], s["Password"], security);
    }
}

/// <summary>
/// Email over SMTP with MailKit. The Message-ID is derived from the outbox id, so a retried message keeps its id and
/// the recorded provider id is that Message-ID. SMTP replies 4xx are transient, 5xx permanent (SMTP, not HTTP, semantics).
/// </summary>
public sealed class SmtpChannel(SmtpSettings settings) : IMessageChannel
{
    public string Name => "Smtp";
    public MessageChannel Kind => MessageChannel.Email;

    public async Task<string> SendAsync(OutboxMessage m, CancellationToken ct)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(settings.FromName ?? "", settings.From));
        message.To.Add(MailboxAddress.Parse(m.To));
        message.Subject = m.Subject;
        message.MessageId = $"{m.Id:N}@careworkflows";
        var builder = new BodyBuilder { TextBody = m.Body, HtmlBody = m.HtmlBody };
        message.Body = builder.ToMessageBody();
        using var smtp = new SmtpClient { Timeout = 30_000 };
        try
        {
            await smtp.ConnectAsync(settings.Host, settings.Port, settings.Security, ct);
            if (!string.IsNullOrEmpty(settings.Username)) await smtp.AuthenticateAsync(settings.Username, settings.Password ?? "", ct);
            await smtp.SendAsync(message, ct);
            await smtp.DisconnectAsync(quit: true, ct);
            return message.MessageId;
        }
        catch (SmtpCommandException e)
        {
            throw new ChannelException($"SMTP refused ({(int)e.StatusCode}): {e.Message}", permanent: (int)e.StatusCode >= 500, e);
        }
        catch (AuthenticationException e) { throw new ChannelException($"SMTP sign-in failed: {e.Message}", permanent: false, e); }
        catch (Exception e) when (e is SmtpProtocolException or ServiceNotConnectedException or IOException or System.Net.Sockets.SocketException
                                     || e is TimeoutException || e is OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw ChannelErrors.Unreachable(Name, e);
        }
    }
}
