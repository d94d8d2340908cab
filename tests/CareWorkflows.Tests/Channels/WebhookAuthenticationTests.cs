using System.Net;
using System.Security.Cryptography;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using static CareWorkflows.Tests.Channels.ChannelFakes;
using static CareWorkflows.Tests.Channels.ChannelsTestApp;

namespace CareWorkflows.Tests.Channels;

/// <summary>Every webhook refuses a missing or forged proof, and then nothing is stored and no workflow moves.</summary>
public sealed class WebhookAuthenticationTests : IAsyncLifetime
{
    private readonly ChannelsTestApp _app = new(WebhookSettings());
    private HttpClient _http = null!;
    private string _reference = "";
    private OutboxMessage _sms = null!;

    public async ValueTask InitializeAsync()
    {
        _http = _app.Client();
        _reference = await _app.OfferAsync();
        _sms = (await _app.MessagesAsync(_reference)).First(m => m.Channel == MessageChannel.Sms && m.RecipientId == Alpha.Id);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private Dictionary<string, string> InboundForm => new() { ["MessageSid"] = "SM-forged-1", ["From"] = Alpha.Mobile, ["To"] = "+447700900000", ["Body"] = $"ACCEPT {_reference} 14:30" };
    private Dictionary<string, string> StatusForm => new() { ["MessageSid"] = _sms.ProviderMessageId!, ["MessageStatus"] = "failed", ["ErrorCode"] = "30005" };
    private string EventsJson => $$"""[{"email":"{{Alpha.Email}}","event":"bounce","sg_message_id":"x.filter","outbox_id":"{{_sms.Id}}","timestamp":1795510800}]""";
    private string NotifyStatusJson => $$"""{"id":"{{_sms.ProviderMessageId}}","reference":"{{_sms.Id}}","to":"{{Alpha.Mobile}}","status":"permanent-failure","notification_type":"sms"}""";
    private string NotifyInboundJson => $$"""{"id":"forged-inbound-1","source_number":"447700900001","destination_number":"07700900000","message":"ACCEPT {{_reference}} 14:30"}""";

    public static TheoryData<string, string> Cases => new()
    {
        { "twilio-inbound", "missing" }, { "twilio-inbound", "forged" }, { "twilio-inbound", "other-url" },
        { "twilio-status", "missing" }, { "twilio-status", "forged" },
        { "sendgrid-events", "missing" }, { "sendgrid-events", "forged" }, { "sendgrid-events", "tampered" },
        { "sendgrid-inbound", "missing" }, { "sendgrid-inbound", "forged" }, { "sendgrid-inbound", "forged-basic" },
        { "notify-status", "missing" }, { "notify-status", "forged" },
        { "notify-inbound", "missing" }, { "notify-inbound", "forged" },
    };

    private HttpRequestMessage Build(string hook, string how) => (hook, how) switch
    {
        ("twilio-inbound", "missing") => TwilioPost("/webhooks/twilio/inbound", InboundForm, sign: false),
        ("twilio-inbound", "forged") => TwilioPost("/webhooks/twilio/inbound", InboundForm, signature: Convert.ToBase64String(RandomNumberGenerator.GetBytes(20))),
        // Signed correctly, but for another URL: a signature cannot be replayed against a different endpoint.
        ("twilio-inbound", "other-url") => TwilioPost("/webhooks/twilio/inbound", InboundForm,
            signature: TwilioSignature(TwilioToken, TwilioWebhookBase + "/webhooks/twilio/status", InboundForm)),
        ("twilio-status", "missing") => TwilioPost("/webhooks/twilio/status", StatusForm, sign: false),
        ("twilio-status", "forged") => TwilioPost("/webhooks/twilio/status", StatusForm,
            signature: TwilioSignature("not-the-auth-token", TwilioWebhookBase + "/webhooks/twilio/status", StatusForm)),
        ("sendgrid-events", "missing") => SendGridEvents(EventsJson, sign: false),
        ("sendgrid-events", "forged") => SendGridEvents(EventsJson, signer: ECDsa.Create(ECCurve.NamedCurves.nistP256)),
        ("sendgrid-events", "tampered") => Tampered(),
        ("sendgrid-inbound", "missing") => SendGridInbound(Alpha.Email, $"RE: {_reference}", "ACCEPT 14:30", "m-1@x.example", secret: null),
        ("sendgrid-inbound", "forged") => SendGridInbound(Alpha.Email, $"RE: {_reference}", "ACCEPT 14:30", "m-1@x.example", secret: "guessed-secret"),
        ("sendgrid-inbound", "forged-basic") => SendGridInbound(Alpha.Email, $"RE: {_reference}", "ACCEPT 14:30", "m-1@x.example", secret: "guessed-secret", basicAuth: true),
        ("notify-status", "missing") => NotifyPost("/webhooks/notify/status", NotifyStatusJson, bearer: null),
        ("notify-status", "forged") => NotifyPost("/webhooks/notify/status", NotifyStatusJson, bearer: "guessed-token"),
        ("notify-inbound", "missing") => NotifyPost("/webhooks/notify/inbound", NotifyInboundJson, bearer: null),
        ("notify-inbound", "forged") => NotifyPost("/webhooks/notify/inbound", NotifyInboundJson, bearer: "guessed-token"),
        _ => throw new ArgumentOutOfRangeException(hook),
    };

    /// <summary>A correctly signed body with a different body sent: the signature covers the body.</summary>
    private HttpRequestMessage Tampered()
    {
        var signed = SendGridEvents("[]");
        var r = SendGridEvents(EventsJson, sign: false);
        foreach (var h in signed.Headers) r.Headers.TryAddWithoutValidation(h.Key, h.Value);
        return r;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Missing_or_forged_proof_is_rejected_and_nothing_is_stored(string hook, string how)
    {
        var before = await _app.TimelineAsync(_reference);

        var r = await _http.SendAsync(Build(hook, how));

        Assert.True(r.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"{hook}/{how} answered {(int)r.StatusCode}");
        Assert.Equal(how == "missing" ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Empty(await _app.Inbound.GetInboundAsync());
        Assert.Equal(before.Count, (await _app.TimelineAsync(_reference)).Count);
        var sms = (await _app.Store.GetMessageAsync(_sms.Id))!;
        Assert.Null(sms.DeliveryStatus);
        Assert.Equal(OutboxStatus.Sent, sms.Status);
        Assert.Null((await _app.StateAsync(_reference)).AwardedTo);
    }

    [Fact]
    public async Task Webhooks_of_a_provider_that_is_not_configured_do_not_exist()
    {
        await using var bare = new ChannelsTestApp();
        var http = bare.Client();
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(TwilioPost("/webhooks/twilio/inbound", InboundForm))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(SendGridEvents(EventsJson))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(SendGridInbound(Alpha.Email, "x", "y", "z@x.example"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(NotifyPost("/webhooks/notify/inbound", NotifyInboundJson))).StatusCode);
    }
}
