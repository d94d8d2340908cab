using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Core.Pipeline;
using Azure.Identity;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Channels;
using CareWorkflows.Runtime.Channels;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using static CareWorkflows.Tests.Channels.ChannelFakes;

namespace CareWorkflows.Tests.Channels;

/// <summary>Each channel, through its real client code, against a WireMock fake of the provider's HTTP API.</summary>
public sealed class ChannelSendTests : IDisposable
{
    private readonly WireMockServer _fake = WireMockServer.Start();

    public void Dispose() => _fake.Stop();

    // ---------- SendGrid ----------

    private SendGridChannel SendGrid() => new(new HttpClient(), new SendGridSettings("SG.test-key", "care@council.example", "Council care team", _fake.Url!, null, null));

    [Fact]
    public async Task SendGrid_posts_mail_send_with_bearer_key_and_both_bodies_and_records_X_Message_Id()
    {
        _fake.Given(Request.Create().WithPath("/v3/mail/send").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(202).WithHeader("X-Message-Id", "sg-abc123"));
        var m = Message(MessageChannel.Email, "provider@care.example", html: "<p>TST-7K3QX: please answer</p>");

        var id = await SendGrid().SendAsync(m, default);

        Assert.Equal("sg-abc123", id);
        var call = Assert.Single(Calls(_fake, "/v3/mail/send"));
        Assert.Equal("Bearer SG.test-key", Header(call, "Authorization"));
        using var body = JsonDocument.Parse(call.RequestMessage.Body!);
        var root = body.RootElement;
        Assert.Equal("care@council.example", root.GetProperty("from").GetProperty("email").GetString());
        Assert.Equal("provider@care.example", root.GetProperty("personalizations")[0].GetProperty("to")[0].GetProperty("email").GetString());
        var subject = root.TryGetProperty("subject", out var sub) ? sub : root.GetProperty("personalizations")[0].GetProperty("subject");
        Assert.Equal(m.Subject, subject.GetString());
        var content = root.GetProperty("content").EnumerateArray().ToDictionary(c => c.GetProperty("type").GetString()!, c => c.GetProperty("value").GetString());
        Assert.Equal(m.Body, content["text/plain"]);
        Assert.Equal(m.HtmlBody, content["text/html"]);
        var args = root.TryGetProperty("custom_args", out var a) ? a : root.GetProperty("personalizations")[0].GetProperty("custom_args");
        Assert.Equal(m.Id.ToString(), args.GetProperty("outbox_id").GetString());
    }

    [Theory]
    [InlineData(429, false)]
    [InlineData(500, false)]
    [InlineData(503, false)]
    [InlineData(400, true)]
    [InlineData(401, true)]
    [InlineData(403, true)]
    public async Task SendGrid_429_and_5xx_are_transient_other_4xx_permanent(int status, bool permanent)
    {
        _fake.Given(Request.Create().WithPath("/v3/mail/send").UsingPost()).RespondWith(Response.Create().WithStatusCode(status).WithBody("{\"errors\":[{\"message\":\"no\"}]}"));
        var e = await Assert.ThrowsAsync<ChannelException>(() => SendGrid().SendAsync(Message(MessageChannel.Email, "a@b.example"), default));
        Assert.Equal(permanent, e.Permanent);
    }

    // ---------- Twilio ----------

    // The SDK always names https://api.twilio.com; TwilioApiBaseUrl (registered with the channel's HttpClient) sends it to the fake.
    private TwilioSmsChannel Twilio(string? messagingServiceSid = null) =>
        new(new HttpClient(new TwilioApiBaseUrl(_fake.Url!) { InnerHandler = new HttpClientHandler() }),
            new TwilioSettings(TwilioSid, TwilioToken, messagingServiceSid is null ? "+447700900000" : null, messagingServiceSid, _fake.Url!, TwilioWebhookBase));

    [Fact]
    public async Task Twilio_posts_form_with_basic_auth_and_status_callback_and_records_the_sid()
    {
        _fake.Given(Request.Create().WithPath($"/2010-04-01/Accounts/{TwilioSid}/Messages.json").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithHeader("Content-Type", "application/json").WithBody("{\"sid\":\"SM0123456789abcdef\",\"status\":\"queued\"}"));
        var m = Message(MessageChannel.Sms, "+447700900123");

        var id = await Twilio().SendAsync(m, default);

        Assert.Equal("SM0123456789abcdef", id);
        var call = Assert.Single(Calls(_fake, "/Messages.json"));
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TwilioSid}:{TwilioToken}")), Header(call, "Authorization"));
        Assert.StartsWith("application/x-www-form-urlencoded", Header(call, "Content-Type"));
        var form = Form(call);
        Assert.Equal("+447700900123", form["To"]);
        Assert.Equal("+447700900000", form["From"]);
        Assert.Equal(m.Body, form["Body"]);
        Assert.Equal(TwilioWebhookBase + "/webhooks/twilio/status", form["StatusCallback"]);
    }

    [Theory]
    [InlineData(429, false)]
    [InlineData(500, false)]
    [InlineData(400, true)]
    [InlineData(404, true)]
    public async Task Twilio_429_and_5xx_are_transient_other_4xx_permanent(int status, bool permanent)
    {
        _fake.Given(Request.Create().WithPath($"/2010-04-01/Accounts/{TwilioSid}/Messages.json").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(status).WithBody("{\"code\":21211,\"message\":\"The 'To' number is not a valid phone number.\"}"));
        var e = await Assert.ThrowsAsync<ChannelException>(() => Twilio().SendAsync(Message(MessageChannel.Sms, "+447700900123"), default));
        Assert.Equal(permanent, e.Permanent);
    }

    [Theory]
    [InlineData("TST-7K3QX: patient 943 476 5919 needs care")]
    [InlineData("TST-7K3QX: 9434765919")]
    [InlineData("TST-7K3QX: visit at SW1A 1AA")]
    [InlineData("TST-7K3QX: visit at m1 1ae today")]
    public async Task SMS_channels_refuse_a_body_with_an_NHS_number_or_postcode_and_call_no_provider(string body)
    {
        var e = await Assert.ThrowsAsync<ChannelException>(() => Twilio().SendAsync(Message(MessageChannel.Sms, "+447700900123", body: body), default));
        Assert.True(e.Permanent);
        var n = await Assert.ThrowsAsync<ChannelException>(() => Notify(MessageChannel.Sms).SendAsync(Message(MessageChannel.Sms, "+447700900123", body: body), default));
        Assert.True(n.Permanent);
        Assert.Empty(_fake.LogEntries);
    }

    [Theory]
    [InlineData("D2A-A22CD: new referral. Reply ACCEPT D2A-A22CD HH:MM or DECLINE D2A-A22CD by 14:30 on Tue 24 Nov 2026. http://localhost/l/RDJBLUEyMkNEfHAtMXxhY2NlcHR8MTc5NTUyMjYwMA.Ab3_M1AE-xyz")]
    [InlineData("TST-7K3QX: call the duty desk on 020 7946 0018.")]
    public void SMS_guard_lets_references_times_links_and_phone_numbers_through(string body) => Assert.Null(SmsGuard.Check(body));

    // ---------- GOV.UK Notify ----------

    private const string NotifyServiceId = "8b3aa916-ec82-434e-b0c5-d5d9b371d6a3";
    private const string NotifySecret = "6c9a6a56-3c55-4d1f-9d9a-5a1c7b2e1f00";
    private const string NotifyKey = $"carewf_test-{NotifyServiceId}-{NotifySecret}";

    private NotifyChannel Notify(MessageChannel kind) =>
        new(kind, new NotifySettings(NotifyKey, "email-template-1", "sms-template-1", _fake.Url!, null, null, null));

    private static string NotifyResponse(string id) =>
        $$$"""{"id":"{{{id}}}","reference":null,"content":{"body":"x","subject":"y","from_email":"a@b.example","from_number":"C"},"uri":"http://x","template":{"id":"t","version":1,"uri":"http://x"}}""";

    [Theory]
    [InlineData(MessageChannel.Email, "/v2/notifications/email", "email_address", "provider@care.example")]
    [InlineData(MessageChannel.Sms, "/v2/notifications/sms", "phone_number", "+447700900123")]
    public async Task Notify_posts_the_template_with_personalisation_and_a_JWT_signed_with_the_key_secret(MessageChannel kind, string path, string toField, string to)
    {
        _fake.Given(Request.Create().WithPath(path).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithHeader("Content-Type", "application/json").WithBody(NotifyResponse("740e5834-3a29-46b4-9a6f-16142fde533a")));
        var m = Message(kind, to);

        var id = await Notify(kind).SendAsync(m, default);

        Assert.Equal("740e5834-3a29-46b4-9a6f-16142fde533a", id);
        var call = Assert.Single(Calls(_fake, path));
        var jwt = Header(call, "Authorization");
        Assert.StartsWith("Bearer ", jwt);
        var parts = jwt[7..].Split('.');
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(NotifySecret), Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
        Assert.Equal(Convert.ToBase64String(signature).TrimEnd('=').Replace('+', '-').Replace('/', '_'), parts[2]);
        using var claims = JsonDocument.Parse(Base64Url(parts[1]));
        Assert.Equal(NotifyServiceId, claims.RootElement.GetProperty("iss").GetString());
        using var body = JsonDocument.Parse(call.RequestMessage.Body!);
        Assert.Equal(to, body.RootElement.GetProperty(toField).GetString());
        Assert.Equal(kind == MessageChannel.Email ? "email-template-1" : "sms-template-1", body.RootElement.GetProperty("template_id").GetString());
        Assert.Equal(m.Id.ToString(), body.RootElement.GetProperty("reference").GetString());
        Assert.Equal(m.Body, body.RootElement.GetProperty("personalisation").GetProperty("body").GetString());
        if (kind == MessageChannel.Email) Assert.Equal(m.Subject, body.RootElement.GetProperty("personalisation").GetProperty("subject").GetString());
    }

    [Theory]
    [InlineData(429, false)]
    [InlineData(500, false)]
    [InlineData(400, true)]
    [InlineData(403, true)]
    public async Task Notify_429_and_5xx_are_transient_other_4xx_permanent(int status, bool permanent)
    {
        _fake.Given(Request.Create().WithPath("/v2/notifications/sms").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json")
                .WithBody("{\"status_code\":" + status + ",\"errors\":[{\"error\":\"X\",\"message\":\"no\"}]}"));
        var e = await Assert.ThrowsAsync<ChannelException>(() => Notify(MessageChannel.Sms).SendAsync(Message(MessageChannel.Sms, "+447700900123"), default));
        Assert.Equal(permanent, e.Permanent);
    }

    private static byte[] Base64Url(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    // ---------- Microsoft Graph ----------

    [Fact]
    public async Task Graph_gets_an_app_token_from_the_authority_and_posts_sendMail_as_the_shared_mailbox()
    {
        using var authority = StartHttpsFake();
        authority.Given(Request.Create().WithPath("/tenant-1/oauth2/v2.0/token").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("{\"token_type\":\"Bearer\",\"expires_in\":3600,\"ext_expires_in\":3600,\"access_token\":\"graph-token-1\"}"));
        _fake.Given(Request.Create().WithPath("/v1.0/users/care-team@council.example/sendMail").UsingPost()).RespondWith(Response.Create().WithStatusCode(202));
        var channel = Graph(authority.Url!);
        var m = Message(MessageChannel.Email, "provider@care.example", html: "<p>TST-7K3QX: please answer</p>");

        var id = await channel.SendAsync(m, default);

        Assert.Equal(m.Id.ToString(), id);
        var token = Assert.Single(Calls(authority, "/oauth2/v2.0/token"));
        var tokenForm = Form(token);
        Assert.Equal("client_credentials", tokenForm["grant_type"]);
        Assert.Equal("client-1", tokenForm["client_id"]);
        Assert.Equal("graph-secret-1", tokenForm["client_secret"]);
        Assert.Equal("https://graph.microsoft.com/.default", tokenForm["scope"]);
        var call = Assert.Single(Calls(_fake, "/sendMail"));
        Assert.Equal("Bearer graph-token-1", Header(call, "Authorization"));
        using var body = JsonDocument.Parse(call.RequestMessage.Body!);
        // sendMail's parameters are "Message" and "SaveToSentItems" in Graph's schema; Graph reads them case-insensitively.
        var message = P(body.RootElement, "message");
        Assert.Equal(m.Subject, P(message, "subject").GetString());
        Assert.Equal("html", P(P(message, "body"), "contentType").GetString(), ignoreCase: true);
        Assert.Equal(m.HtmlBody, P(P(message, "body"), "content").GetString());
        Assert.Equal("provider@care.example", P(P(P(message, "toRecipients")[0], "emailAddress"), "address").GetString());
        Assert.Equal(m.Id.ToString(), P(message, "internetMessageHeaders")[0].GetProperty("value").GetString());
        Assert.True(P(body.RootElement, "saveToSentItems").GetBoolean());
    }

    private static JsonElement P(JsonElement e, string name) =>
        e.EnumerateObject().First(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    [Theory]
    [InlineData(429, false)]
    [InlineData(503, false)]
    [InlineData(400, true)]
    [InlineData(404, true)]
    public async Task Graph_429_and_5xx_are_transient_other_4xx_permanent(int status, bool permanent)
    {
        using var authority = StartHttpsFake();
        authority.Given(Request.Create().WithPath("/tenant-1/oauth2/v2.0/token").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\"graph-token-1\"}"));
        _fake.Given(Request.Create().WithPath("/v1.0/users/care-team@council.example/sendMail").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json")
                .WithBody("{\"error\":{\"code\":\"ErrorX\",\"message\":\"no\"}}"));
        var e = await Assert.ThrowsAsync<ChannelException>(() => Graph(authority.Url!).SendAsync(Message(MessageChannel.Email, "a@b.example"), default));
        Assert.Equal(permanent, e.Permanent);
    }

    /// <summary>A fake token authority over HTTPS (Azure.Identity refuses http authorities) with a throwaway self-signed certificate.</summary>
    private static WireMockServer StartHttpsFake()
    {
        using var key = RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(cert.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), null);
        return WireMockServer.Start(new WireMockServerSettings { UseSSL = true, CertificateSettings = new WireMockCertificateSettings { X509Certificate = pfx } });
    }

    private GraphMailChannel Graph(string authorityUrl)
    {
        var settings = new GraphSettings("tenant-1", "client-1", "graph-secret-1", "care-team@council.example", _fake.Url! + "/v1.0", new Uri(authorityUrl));
        // The fake authority has a self-signed certificate; only this test trusts it. Instance discovery would go to the real cloud.
        var options = new ClientSecretCredentialOptions
        {
            DisableInstanceDiscovery = true,
            Transport = new HttpClientTransport(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true }),
        };
        return new GraphMailChannel(new HttpClient(), settings, settings.Credential(options));
    }
}
