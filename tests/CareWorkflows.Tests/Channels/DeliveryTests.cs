using System.Net;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using NodaTime;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using static CareWorkflows.Tests.Channels.ChannelFakes;
using static CareWorkflows.Tests.Channels.ChannelsTestApp;

namespace CareWorkflows.Tests.Channels;

/// <summary>
/// A workflow's messages (a D2A referral's offers) through real channels (Twilio SMS, SendGrid email, GOV.UK Notify) against
/// WireMock fakes, and the delivery webhooks that follow: the SendMessage activity's retries with backoff on 429/5xx (durable
/// timers on the simulation clock), a permanent failure back to the orchestration at once (it notes it and tells brokerage),
/// a later failure report noted on the timeline once.
/// </summary>
public sealed class DeliveryTests : IAsyncLifetime
{
    private readonly WireMockServer _fake = WireMockServer.Start();
    private ChannelsTestApp _app = null!;
    private HttpClient _http = null!;

    private const string TwilioPath = $"/2010-04-01/Accounts/{TwilioSid}/Messages.json";

    public ValueTask InitializeAsync()
    {
        _app = new ChannelsTestApp(WebhookSettings(new()
        {
            ["Channels:Sms"] = "Twilio",
            ["Twilio:BaseUrl"] = _fake.Url,
            ["Twilio:From"] = "+447700900000",
            ["Channels:Email"] = "SendGrid",
            ["SendGrid:Host"] = _fake.Url,
            ["SendGrid:ApiKey"] = "SG.test-key",
            ["SendGrid:From"] = "care@council.example",
            ["Outbox:MaxAttempts"] = "3",
        }));
        _http = _app.Client();
        _fake.Given(Request.Create().WithPath("/v3/mail/send").UsingPost()).RespondWith(Response.Create().WithStatusCode(202).WithHeader("X-Message-Id", "sg-msg-1"));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _fake.Stop();
    }

    private void TwilioAnswers(params int[] statuses)
    {
        // Alpha's SMS follows the script; the other providers' offers are taken at once.
        _fake.Given(Request.Create().WithPath(TwilioPath).UsingPost()).AtPriority(100)
            .RespondWith(Response.Create().WithStatusCode(201).WithHeader("Content-Type", "application/json").WithBody("{\"sid\":\"SM-other\",\"status\":\"queued\"}"));
        for (var i = 0; i < statuses.Length; i++)
        {
            var response = statuses[i] == 201
                ? Response.Create().WithStatusCode(201).WithHeader("Content-Type", "application/json").WithBody($"{{\"sid\":\"SM-sent-{i}\",\"status\":\"queued\"}}")
                : Response.Create().WithStatusCode(statuses[i]).WithHeader("Content-Type", "application/json").WithBody("{\"code\":20001,\"message\":\"no\"}");
            var mapping = _fake.Given(Request.Create().WithPath(TwilioPath).UsingPost().WithBody(new RegexMatcher(ToAlpha))).AtPriority(1).InScenario("twilio");
            if (i > 0) mapping = mapping.WhenStateIs($"call-{i}");
            mapping.WillSetStateTo($"call-{i + 1}").RespondWith(response);
        }
    }

    private static readonly string ToAlpha = "To=" + Uri.EscapeDataString(Alpha.Mobile).Replace("+", "%2B");

    private IReadOnlyList<WireMock.Logging.ILogEntry> AlphaCalls() => Calls(_fake, TwilioPath).Where(c => Form(c)["To"] == Alpha.Mobile).ToList();

    private async Task<OutboxMessage> SmsAsync(string reference) =>
        (await _app.MessagesAsync(reference)).Single(m => m.Channel == MessageChannel.Sms && m.RecipientId == Alpha.Id && m.Purpose == "offer");

    private async Task<IReadOnlyList<TimelineEntry>> UndeliveredNotesAsync(string reference) =>
        (await _app.TimelineAsync(reference)).Where(e => e.Type is "MessageUndelivered" or "Notice").ToList();

    [Fact]
    public async Task Email_goes_through_SendGrid_and_SMS_through_Twilio_and_both_provider_ids_are_recorded()
    {
        TwilioAnswers(201);
        var reference = await _app.OfferAsync();

        var messages = await _app.MessagesAsync(reference);
        var sms = await SmsAsync(reference);
        var email = messages.Single(m => m.Channel == MessageChannel.Email && m.RecipientId == Alpha.Id && m.Purpose == "offer");
        Assert.Equal((OutboxStatus.Sent, "Twilio", "SM-sent-0"), (sms.Status, sms.Provider, sms.ProviderMessageId));
        Assert.Equal((OutboxStatus.Sent, "SendGrid", "sg-msg-1"), (email.Status, email.Provider, email.ProviderMessageId));
        Assert.Equal(sms.Body, Form(Assert.Single(AlphaCalls()))["Body"]);
        Assert.Equal(EastProviders, Calls(_fake, TwilioPath).Count);
    }

    [Fact]
    public async Task A_5xx_then_a_429_are_retried_with_backoff_until_Twilio_accepts()
    {
        TwilioAnswers(500, 429, 201);
        var reference = await _app.OfferAsync();
        var afterFirst = await SmsAsync(reference);
        Assert.Equal(OutboxStatus.InProgress, afterFirst.Status); // the retry waits for its backoff (a durable timer)
        Assert.Single(AlphaCalls());
        Assert.Contains("500", afterFirst.LastError);

        await _app.AdvanceAsync(Duration.FromMinutes(1));
        await _app.AdvanceAsync(Duration.FromMinutes(1));

        var sms = await SmsAsync(reference);
        Assert.Equal(OutboxStatus.Sent, sms.Status);
        Assert.Equal("SM-sent-2", sms.ProviderMessageId);
        Assert.Equal(3, sms.Attempts);
        Assert.Equal(3, AlphaCalls().Count);
        Assert.Empty(await UndeliveredNotesAsync(reference));
    }

    [Fact]
    public async Task A_4xx_is_permanent_and_reaches_the_orchestration_at_once()
    {
        TwilioAnswers(400);
        var reference = await _app.OfferAsync();

        var sms = await SmsAsync(reference);
        Assert.Equal(OutboxStatus.Failed, sms.Status);
        Assert.Single(AlphaCalls());
        var note = Assert.Single(await UndeliveredNotesAsync(reference));
        Assert.Equal("MessageUndelivered", note.Type);
        Assert.Contains("Twilio answered 400", note.Data);
        // D2A tells brokerage at once that a provider could not be reached.
        Assert.Contains(await _app.MessagesAsync(reference), m => m.Purpose.Contains("undelivered", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Transient_failures_on_every_attempt_reach_the_orchestration_after_the_last_attempt()
    {
        TwilioAnswers(503, 503, 503, 201);
        var reference = await _app.OfferAsync();
        for (var i = 0; i < 4; i++) await _app.AdvanceAsync(Duration.FromMinutes(2));

        Assert.Equal(OutboxStatus.Failed, (await SmsAsync(reference)).Status);
        Assert.Equal(3, AlphaCalls().Count);
        Assert.Equal("MessageUndelivered", Assert.Single(await UndeliveredNotesAsync(reference)).Type);
    }

    private Task<HttpResponseMessage> TwilioStatusAsync(string sid, string status) =>
        _http.SendAsync(TwilioPost("/webhooks/twilio/status", new() { ["MessageSid"] = sid, ["MessageStatus"] = status, ["ErrorCode"] = status == "delivered" ? "" : "30003" }));

    [Fact]
    public async Task A_Twilio_delivered_callback_updates_the_message()
    {
        TwilioAnswers(201);
        var reference = await _app.OfferAsync();
        Assert.Equal(HttpStatusCode.OK, (await TwilioStatusAsync("SM-sent-0", "delivered")).StatusCode);
        var sms = await SmsAsync(reference);
        Assert.Equal("delivered", sms.DeliveryStatus);
        Assert.Empty(await UndeliveredNotesAsync(reference));
    }

    [Fact]
    public async Task A_Twilio_undelivered_callback_is_noted_once_however_often_it_is_delivered()
    {
        TwilioAnswers(201);
        var reference = await _app.OfferAsync();

        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await TwilioStatusAsync("SM-sent-0", "undelivered")).StatusCode);

        var sms = await SmsAsync(reference);
        Assert.Equal(("undelivered", OutboxStatus.Failed), (sms.DeliveryStatus, sms.Status));
        var note = Assert.Single(await UndeliveredNotesAsync(reference));
        Assert.Contains("Twilio reported undelivered: error 30003", note.Data);
    }

    [Fact]
    public async Task A_SendGrid_bounce_event_is_noted_once_and_a_delivered_event_only_a_status()
    {
        TwilioAnswers(201);
        var reference = await _app.OfferAsync();
        var email = (await _app.MessagesAsync(reference)).Single(m => m.Channel == MessageChannel.Email && m.RecipientId == Alpha.Id && m.Purpose == "offer");
        var delivered = $$"""[{"email":"{{Alpha.Email}}","event":"processed","sg_message_id":"sg-msg-1.filter0001","outbox_id":"{{email.Id}}"}]""";
        var bounce = $$"""[{"email":"{{Alpha.Email}}","event":"bounce","type":"bounce","reason":"550 5.1.1 unknown user","sg_message_id":"sg-msg-1.filter0001","outbox_id":"{{email.Id}}"}]""";

        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(SendGridEvents(delivered))).StatusCode);
        Assert.Equal("processed", (await _app.Store.GetMessageAsync(email.Id))!.DeliveryStatus);
        Assert.Empty(await UndeliveredNotesAsync(reference));

        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(SendGridEvents(bounce))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(SendGridEvents(bounce))).StatusCode);

        Assert.Equal(OutboxStatus.Failed, (await _app.Store.GetMessageAsync(email.Id))!.Status);
        Assert.Contains("550 5.1.1 unknown user", Assert.Single(await UndeliveredNotesAsync(reference)).Data);
    }

    [Fact]
    public async Task An_unreadable_SMS_reply_gets_a_helpful_SMS_back_through_Twilio_and_no_workflow_sees_it()
    {
        TwilioAnswers(201, 201);
        var reference = await _app.OfferAsync();
        var before = (await _app.TimelineAsync(reference)).Count;

        var r = await _http.SendAsync(TwilioPost("/webhooks/twilio/inbound", new() { ["MessageSid"] = "SM-in-1", ["From"] = Alpha.Mobile, ["Body"] = "Is this the lady from Orpington?" }));

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var calls = AlphaCalls();
        Assert.Equal(2, calls.Count);
        var help = Form(calls[1]);
        Assert.Contains($"ACCEPT {reference}", help["Body"]);
        Assert.Equal(before, (await _app.TimelineAsync(reference)).Count);
        Assert.Equal(2 * EastProviders, (await _app.MessagesAsync(reference)).Count); // the help is not a workflow's message
    }

    [Fact]
    public async Task A_status_for_a_message_we_never_sent_changes_nothing()
    {
        TwilioAnswers(201);
        var reference = await _app.OfferAsync();
        Assert.Equal(HttpStatusCode.OK, (await TwilioStatusAsync("SM-not-ours", "failed")).StatusCode);
        Assert.Empty(await UndeliveredNotesAsync(reference));
        Assert.Null((await SmsAsync(reference)).DeliveryStatus);
    }
}

/// <summary>GOV.UK Notify for both email and SMS, and Notify's delivery callbacks.</summary>
public sealed class NotifyDeliveryTests : IAsyncLifetime
{
    private readonly WireMockServer _fake = WireMockServer.Start();
    private ChannelsTestApp _app = null!;

    public ValueTask InitializeAsync()
    {
        _app = new ChannelsTestApp(WebhookSettings(new()
        {
            ["Channels:Sms"] = "Notify",
            ["Channels:Email"] = "Notify",
            ["Notify:BaseUrl"] = _fake.Url,
            ["Notify:ApiKey"] = "carewf_test-8b3aa916-ec82-434e-b0c5-d5d9b371d6a3-6c9a6a56-3c55-4d1f-9d9a-5a1c7b2e1f00",
            ["Notify:EmailTemplateId"] = "email-template-1",
            ["Notify:SmsTemplateId"] = "sms-template-1",
        }));
        // Each recipient's notification gets an id of its own (the last digit names the provider's number).
        for (var n = 1; n <= 3; n++)
            foreach (var (kind, to) in new[] { ("sms", $"+44770090000{n}"), ("email", $"referrals@{new[] { "", "east-orchard-lane", "east-kestrel", "east-meadowbank" }[n]}.example.org") })
                _fake.Given(Request.Create().WithPath($"/v2/notifications/{kind}").UsingPost().WithBody(new WildcardMatcher($"*{to}*")))
                    .RespondWith(Response.Create().WithStatusCode(201).WithHeader("Content-Type", "application/json")
                        .WithBody($$$"""{"id":"0a0a0a0a-0000-4000-8000-00000000{{{(kind == "sms" ? 1 : 2)}}}00{{{n}}}","reference":null,"content":{"body":"x","subject":"y"},"uri":"http://x","template":{"id":"t","version":1,"uri":"http://x"}}"""));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _fake.Stop();
    }

    [Fact]
    public async Task Notify_sends_both_and_a_permanent_failure_callback_is_noted_once()
    {
        var reference = await _app.OfferAsync();
        var messages = (await _app.MessagesAsync(reference)).Where(m => m.Purpose == "offer").ToList();
        Assert.Equal(2 * EastProviders, messages.Count);
        Assert.All(messages, m => Assert.Equal((OutboxStatus.Sent, "Notify"), (m.Status, m.Provider)));
        var sms = messages.Single(m => m.Channel == MessageChannel.Sms && m.RecipientId == Alpha.Id);
        Assert.Equal("0a0a0a0a-0000-4000-8000-000000001001", sms.ProviderMessageId);

        var http = _app.Client();
        var json = $$"""{"id":"{{sms.ProviderMessageId}}","reference":"{{sms.Id}}","to":"{{Alpha.Mobile}}","status":"permanent-failure","notification_type":"sms"}""";
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(NotifyPost("/webhooks/notify/status", json))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(NotifyPost("/webhooks/notify/status", json))).StatusCode);

        var after = (await _app.Store.GetMessageAsync(sms.Id))!;
        Assert.Equal(("permanent-failure", OutboxStatus.Failed), (after.DeliveryStatus, after.Status));
        var note = Assert.Single((await _app.TimelineAsync(reference)).Where(e => e.Type == "Notice"));
        Assert.Contains("Notify reported permanent-failure", note.Data);
        Assert.All(messages.Where(m => m.Id != sms.Id), m => Assert.Null(_app.Store.GetMessageAsync(m.Id).Result!.DeliveryStatus));
    }
}
