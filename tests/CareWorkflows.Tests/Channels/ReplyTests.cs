using System.Net;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Store;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using static CareWorkflows.Tests.Channels.ChannelFakes;
using static CareWorkflows.Tests.Channels.ChannelsTestApp;

namespace CareWorkflows.Tests.Channels;

/// <summary>
/// Two-way replies: SMS (Twilio, Notify), email (SendGrid Inbound Parse) and signed links, into a workflow's asks — here a
/// D2A referral's offers to the East patch providers (ChannelsTestApp).
/// </summary>
public sealed class ReplyTests : IAsyncLifetime
{
    private readonly ChannelsTestApp _app = new(WebhookSettings());
    private HttpClient _http = null!;

    public ValueTask InitializeAsync() { _http = _app.Client(); return ValueTask.CompletedTask; }
    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static int _sid;
    private static string NewSid() => $"SM{Interlocked.Increment(ref _sid):D32}";

    private Task<HttpResponseMessage> TwilioSmsAsync(string from, string body, string? sid = null) =>
        _http.SendAsync(TwilioPost("/webhooks/twilio/inbound", new() { ["MessageSid"] = sid ?? NewSid(), ["From"] = from, ["To"] = "+447700900000", ["Body"] = body }));

    [Fact]
    public async Task An_SMS_ACCEPT_awards_the_referral_with_the_first_call_time()
    {
        var reference = await _app.OfferAsync();

        var r = await TwilioSmsAsync(Alpha.Mobile, $"ACCEPT {reference} 14:30");

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var s = await _app.StateAsync(reference);
        Assert.Equal(Alpha.Id, s.AwardedTo);
        Assert.Equal(new LocalTime(14, 30), s.FirstCall);
        var accepted = (await _app.TimelineAsync(reference)).Single(e => e.Type == "ProviderResponse");
        Assert.Equal(Roles.Provider, accepted.ActorRole);
        Assert.Contains(Alpha.Id, accepted.Data);
        Assert.Contains("by SMS", accepted.Data);
        Assert.Equal(InboundOutcomes.Applied, Assert.Single(await _app.Inbound.GetInboundAsync(reference)).Outcome);
    }

    [Fact]
    public async Task Lower_case_and_the_UK_national_number_form_are_understood()
    {
        var reference = await _app.OfferAsync();
        var r = await TwilioSmsAsync("07700 900001", $"accept {reference.ToLowerInvariant()} 9:05");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(new LocalTime(9, 5), (await _app.StateAsync(reference)).FirstCall);
    }

    [Fact]
    public async Task DECLINE_by_SMS_records_the_decline_and_closes_that_providers_asks()
    {
        var reference = await _app.OfferAsync();
        await TwilioSmsAsync(Alpha.Mobile, $"DECLINE {reference}");
        var s = await _app.StateAsync(reference);
        Assert.Equal([Alpha.Id], s.Declined);
        Assert.Null(s.AwardedTo);
        var asks = await _app.Services.GetRequiredService<WorkflowClient>().FindAsksAsync(reference: reference);
        Assert.DoesNotContain(asks, a => a.Ask.RecipientId == Alpha.Id);
        Assert.Contains(asks, a => a.Ask.RecipientId == Beta.Id);
    }

    [Fact]
    public async Task YES_accepts_when_the_sender_has_exactly_one_open_ask()
    {
        var reference = await _app.OfferAsync();
        await TwilioSmsAsync(Alpha.Mobile, "Yes 10:15");
        Assert.Equal(Alpha.Id, (await _app.StateAsync(reference)).AwardedTo);
    }

    [Fact]
    public async Task NO_declines_when_the_sender_has_exactly_one_open_ask()
    {
        var reference = await _app.OfferAsync();
        await TwilioSmsAsync(Alpha.Mobile, "no");
        Assert.Equal([Alpha.Id], (await _app.StateAsync(reference)).Declined);
    }

    [Fact]
    public async Task YES_with_two_open_requests_is_ambiguous_gets_help_and_reaches_no_workflow()
    {
        var first = await _app.OfferAsync();
        var second = await _app.OfferAsync();

        var r = await TwilioSmsAsync(Alpha.Mobile, "YES 14:30");

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var stored = Assert.Single(await _app.Inbound.GetInboundAsync());
        Assert.Equal(InboundOutcomes.NotUnderstood, stored.Outcome);
        Assert.Contains("include the reference", stored.Reply);
        Assert.Contains($"ACCEPT {first}", stored.Reply);
        Assert.Contains($"ACCEPT {second}", stored.Reply);
        Assert.Null((await _app.StateAsync(first)).AwardedTo);
        Assert.Null((await _app.StateAsync(second)).AwardedTo);
        Assert.DoesNotContain("ProviderResponse", await _app.TimelineTypesAsync(first));
    }

    [Theory]
    [InlineData("What is this about?")]
    [InlineData("ACCEPT")]
    [InlineData("MAYBE {ref}")]
    [InlineData("ACCEPT {ref} soon")]
    public async Task Unknown_or_unreadable_replies_get_a_helpful_SMS_and_reach_no_workflow(string body)
    {
        var reference = await _app.OfferAsync();

        var r = await TwilioSmsAsync(Alpha.Mobile, body.Replace("{ref}", reference));

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var stored = Assert.Single(await _app.Inbound.GetInboundAsync());
        Assert.NotEqual(InboundOutcomes.Applied, stored.Outcome);
        Assert.Contains($"ACCEPT {reference}", stored.Reply);
        Assert.DoesNotContain("ProviderResponse", await _app.TimelineTypesAsync(reference));
        Assert.Null(SmsGuardCheck(stored.Reply!));
    }

    [Fact]
    public async Task A_reply_from_a_number_that_is_not_the_asks_recipient_is_refused_with_403_and_noted_on_the_timeline()
    {
        var reference = await _app.OfferAsync();

        var r = await TwilioSmsAsync("+447700900999", $"ACCEPT {reference} 14:30");

        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Null((await _app.StateAsync(reference)).AwardedTo);
        var note = (await _app.TimelineAsync(reference)).Single(e => e.Type == "Notice");
        Assert.Contains("ACCEPT", note.Data);
        Assert.DoesNotContain("+447700900999", note.Data); // the sender is masked on the timeline
        Assert.Equal(InboundOutcomes.SenderMismatch, Assert.Single(await _app.Inbound.GetInboundAsync()).Outcome);
    }

    [Fact]
    public async Task A_duplicate_inbound_webhook_is_one_input()
    {
        var reference = await _app.OfferAsync();
        var sid = NewSid();

        var first = await TwilioSmsAsync(Alpha.Mobile, $"DECLINE {reference}", sid);
        var again = await TwilioSmsAsync(Alpha.Mobile, $"DECLINE {reference}", sid);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Single(await _app.Inbound.GetInboundAsync());
        Assert.Single((await _app.TimelineTypesAsync(reference)).Where(t => t == "ProviderResponse"));
    }

    [Fact]
    public async Task A_Notify_received_text_is_a_reply_too()
    {
        var reference = await _app.OfferAsync();
        var json = $$"""{"id":"b4b5e8f2-1111-4c1c-9b1a-000000000001","source_number":"447700900001","destination_number":"07700900000","message":"ACCEPT {{reference}} 16:00","date_received":"2026-11-24T09:01:00.000000Z"}""";

        var r = await _http.SendAsync(NotifyPost("/webhooks/notify/inbound", json));

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(new LocalTime(16, 0), (await _app.StateAsync(reference)).FirstCall);
    }

    [Fact]
    public async Task An_email_reply_takes_the_reference_from_the_subject_and_the_answer_from_the_first_line_ignoring_quoted_text()
    {
        var reference = await _app.OfferAsync();
        var text = $"Accept 11:45\r\n\r\nThanks, Jo\r\n\r\nOn Tue, 24 Nov 2026 at 09:00, Council <care@council.example> wrote:\r\n> {reference}: DECLINE {reference}\r\n> Reply by 11:00";

        var r = await _http.SendAsync(SendGridInbound(Alpha.Email.ToUpperInvariant(), $"RE: {reference}: new D2A package offer", text, "reply-1@mail.orchard-lane.example"));

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var s = await _app.StateAsync(reference);
        Assert.Equal(Alpha.Id, s.AwardedTo);
        Assert.Equal(new LocalTime(11, 45), s.FirstCall);
    }

    [Fact]
    public async Task An_email_reply_from_another_address_is_refused_with_403()
    {
        var reference = await _app.OfferAsync();
        var r = await _http.SendAsync(SendGridInbound("someone@elsewhere.example", $"RE: {reference}", "ACCEPT 11:45", "reply-2@elsewhere.example"));
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        Assert.Contains("Notice", await _app.TimelineTypesAsync(reference));
        Assert.Null((await _app.StateAsync(reference)).AwardedTo);
    }

    [Fact]
    public async Task Inbound_Parse_accepts_the_secret_as_basic_auth_password()
    {
        var reference = await _app.OfferAsync();
        var r = await _http.SendAsync(SendGridInbound(Alpha.Email, $"RE: {reference}", "decline", "reply-3@mail.orchard-lane.example", basicAuth: true));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal([Alpha.Id], (await _app.StateAsync(reference)).Declined);
    }

    // ---------- signed links (the same asks) ----------

    private async Task<string> LinkPathAsync(string reference, string to)
    {
        // The offer email's first link accepts (the second declines).
        var m = (await _app.MessagesAsync(reference)).First(x => x.To == to && x.Purpose == "offer");
        return new Uri(m.Links[0]).AbsolutePath;
    }

    [Fact]
    public async Task A_link_click_awards_the_referral()
    {
        var reference = await _app.OfferAsync();
        var path = await LinkPathAsync(reference, Beta.Email);

        var page = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Null((await _app.StateAsync(reference)).AwardedTo); // GET never acts
        var r = await _http.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string> { ["firstCall"] = "15:30" }));

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(Beta.Id, (await _app.StateAsync(reference)).AwardedTo);
    }

    [Fact]
    public async Task A_reused_link_does_not_award_again()
    {
        var reference = await _app.OfferAsync();
        var path = await LinkPathAsync(reference, Alpha.Email);
        var form = new Dictionary<string, string> { ["firstCall"] = "15:30" };
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(path, new FormUrlEncodedContent(form))).StatusCode);

        var again = await _http.PostAsync(path, new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Single((await _app.TimelineTypesAsync(reference)).Where(t => t == "ProviderResponse"));
    }

    [Fact]
    public async Task An_expired_link_does_not_award()
    {
        var reference = await _app.OfferAsync();
        var path = await LinkPathAsync(reference, Alpha.Email);
        await _app.AdvanceAsync(Duration.FromHours(3));

        var r = await _http.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string> { ["firstCall"] = "15:30" }));

        Assert.Equal(HttpStatusCode.Gone, r.StatusCode);
        Assert.Null((await _app.StateAsync(reference)).AwardedTo);
    }

    [Fact]
    public async Task An_SMS_ACCEPT_after_the_deadline_gets_help_and_does_not_award()
    {
        var reference = await _app.OfferAsync();
        await _app.AdvanceAsync(Duration.FromHours(3));
        var r = await TwilioSmsAsync(Alpha.Mobile, $"ACCEPT {reference} 14:30");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Null((await _app.StateAsync(reference)).AwardedTo);
        Assert.Contains("not waiting", Assert.Single(await _app.Inbound.GetInboundAsync()).Reply);
    }

    // ---------- privacy ----------

    [Fact]
    public async Task No_SMS_body_and_no_offer_carries_the_persons_name_NHS_number_date_of_birth_or_address()
    {
        var reference = await _app.OfferAsync();
        await TwilioSmsAsync(Alpha.Mobile, "Hello?");
        await TwilioSmsAsync(Beta.Mobile, $"ACCEPT {reference} whenever");

        var messages = await _app.MessagesAsync(reference);
        var sms = messages.Where(m => m.Channel == CareWorkflows.Definitions.MessageChannel.Sms).Select(m => m.Body)
            .Concat((await _app.Inbound.GetInboundAsync()).Select(i => i.Reply!)).ToList();
        Assert.Equal(EastProviders + 2, sms.Count); // an offer to each East provider, and the two help replies
        foreach (var body in sms)
        {
            Assert.Contains(reference, body);
            foreach (var part in D2A.D2ATestKit.PersonalData) Assert.DoesNotContain(part, body, StringComparison.OrdinalIgnoreCase);
            Assert.Null(SmsGuardCheck(body));
        }
        // The offer emails go to providers not (yet) awarded: anonymised too (App A).
        var offers = messages.Where(m => m.Purpose == "offer" && m.Channel == CareWorkflows.Definitions.MessageChannel.Email).ToList();
        Assert.Equal(EastProviders, offers.Count);
        foreach (var m in offers)
            foreach (var part in D2A.D2ATestKit.PersonalData) Assert.DoesNotContain(part, m.Subject + m.Body + m.HtmlBody, StringComparison.OrdinalIgnoreCase);
    }

    private static string? SmsGuardCheck(string body) => CareWorkflows.Functions.Channels.SmsGuard.Check(body);
}
