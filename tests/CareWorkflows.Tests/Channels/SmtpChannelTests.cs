using System.Net;
using System.Net.Sockets;
using System.Text;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Channels;
using CareWorkflows.Runtime.Channels;
using MailKit.Security;
using static CareWorkflows.Tests.Channels.ChannelFakes;

namespace CareWorkflows.Tests.Channels;

/// <summary>The SMTP channel against a tiny SMTP server on loopback (plain, no TLS) that records the conversation.</summary>
public sealed class SmtpChannelTests : IAsyncDisposable
{
    private readonly TinySmtpServer _server = new();

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private SmtpChannel Channel(string? user = null) =>
        new(new SmtpSettings("127.0.0.1", _server.Port, "care@council.example", "Council care team", user, user is null ? null : "smtp-password", SecureSocketOptions.None));

    [Fact]
    public async Task Smtp_sends_from_the_council_address_with_a_Message_ID_from_the_outbox_id_and_records_it()
    {
        var m = Message(MessageChannel.Email, "provider@care.example", html: "<p>TST-7K3QX: please answer</p>");

        var id = await Channel().SendAsync(m, TestContext.Current.CancellationToken);

        Assert.Equal($"{m.Id:N}@careworkflows", id);
        var mail = Assert.Single(_server.Mails);
        Assert.Equal("care@council.example", mail.From);
        Assert.Equal(["provider@care.example"], mail.To);
        Assert.Contains($"Message-Id: <{m.Id:N}@careworkflows>", mail.Data, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Subject: TST-7K3QX: please answer", mail.Data);
        Assert.Contains("text/plain", mail.Data);
        Assert.Contains("text/html", mail.Data);
    }

    [Theory]
    [InlineData(451, false)]
    [InlineData(550, true)]
    public async Task Smtp_4xx_replies_are_transient_and_5xx_permanent(int code, bool permanent)
    {
        _server.RcptReply = $"{code} mailbox says no";
        var e = await Assert.ThrowsAsync<ChannelException>(() => Channel().SendAsync(Message(MessageChannel.Email, "provider@care.example"), TestContext.Current.CancellationToken));
        Assert.Equal(permanent, e.Permanent);
    }

    [Fact]
    public async Task Smtp_unreachable_server_is_transient()
    {
        var port = _server.Port;
        await _server.DisposeAsync();
        var channel = new SmtpChannel(new SmtpSettings("127.0.0.1", port, "care@council.example", null, null, null, SecureSocketOptions.None));
        var e = await Assert.ThrowsAsync<ChannelException>(() => channel.SendAsync(Message(MessageChannel.Email, "provider@care.example"), TestContext.Current.CancellationToken));
        Assert.False(e.Permanent);
    }

    public sealed record Mail(string From, List<string> To, string Data);

    /// <summary>Just enough SMTP (RFC 5321) for one client at a time: EHLO, MAIL, RCPT, DATA, QUIT.</summary>
    private sealed class TinySmtpServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        public List<Mail> Mails { get; } = [];
        public string RcptReply { get; set; } = "250 OK";
        public int Port { get; }

        public TinySmtpServer()
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _loop = Task.Run(AcceptAsync);
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                catch (Exception) { return; }
                using (client) await ServeAsync(client);
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 tiny.smtp ready");
            string from = "";
            var to = new List<string>();
            while (await reader.ReadLineAsync() is { } line)
            {
                var verb = line.Split(' ')[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO": await writer.WriteLineAsync("250-tiny.smtp\r\n250 8BITMIME"); break;
                    case "HELO": await writer.WriteLineAsync("250 tiny.smtp"); break;
                    case "MAIL": from = Between(line); await writer.WriteLineAsync("250 OK"); break;
                    case "RCPT":
                        await writer.WriteLineAsync(RcptReply);
                        if (RcptReply.StartsWith("250", StringComparison.Ordinal)) to.Add(Between(line));
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 go ahead");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync() is { } l && l != ".") data.AppendLine(l.StartsWith("..", StringComparison.Ordinal) ? l[1..] : l);
                        lock (Mails) Mails.Add(new Mail(from, [.. to], data.ToString()));
                        await writer.WriteLineAsync("250 queued");
                        break;
                    case "RSET": to.Clear(); await writer.WriteLineAsync("250 OK"); break;
                    case "QUIT": await writer.WriteLineAsync("221 bye"); return;
                    default: await writer.WriteLineAsync("502 not implemented"); break;
                }
            }
        }

        private static string Between(string line) => line[(line.IndexOf('<') + 1)..line.IndexOf('>')];

        public async ValueTask DisposeAsync()
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            _listener.Stop();
            try { await _loop; } catch { }
        }
    }
}
