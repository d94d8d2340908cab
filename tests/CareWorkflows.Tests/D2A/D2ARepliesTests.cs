using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using Microsoft.Extensions.DependencyInjection;
using CareWorkflows.Tests.Infrastructure;
using static CareWorkflows.Tests.Channels.ChannelFakes;
using static CareWorkflows.Tests.D2A.D2ATestKit;

namespace CareWorkflows.Tests.D2A;

/// <summary>D2A offers answered by SMS (Twilio webhook), through the same OpenAsks / ParseReply as the signed links.</summary>
public sealed class D2ARepliesTests
{
    private static int _sid;

    private static Task<HttpResponseMessage> SmsAsync(CareWorkflowsApp app, string from, string body) =>
        app.Anonymous().SendAsync(TwilioPost("/webhooks/twilio/inbound",
            new() { ["MessageSid"] = $"SM{Interlocked.Increment(ref _sid):D32}", ["From"] = from, ["To"] = "+447700900000", ["Body"] = body }));

    [Fact]
    public async Task An_SMS_ACCEPT_with_a_time_awards_the_referral_and_a_decline_by_SMS_is_recorded()
    {
        await using var app = new CareWorkflowsApp(settings: WebhookSettings());
        var reference = await RaiseAsync(app);

        // Orchard Lane (+447700900001) declines by SMS; Kestrel (+447700900002) accepts with "2.30pm".
        Assert.Equal(HttpStatusCode.OK, (await SmsAsync(app, "+447700900001", $"DECLINE {reference} no carers free")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SmsAsync(app, "07700 900002", $"accept {reference.ToLowerInvariant()} 2.30pm")).StatusCode);

        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        Assert.Equal("Awarded", state.GetProperty("status").GetString());
        Assert.Equal("east-kestrel", state.GetProperty("award").GetProperty("provider").GetProperty("id").GetString());
        Assert.Equal("2026-11-24T14:30:00Z", state.GetProperty("award").GetProperty("firstCallAt").GetString());
        var declined = state.GetProperty("offers").EnumerateArray().Single(o => o.GetProperty("provider").GetProperty("id").GetString() == "east-orchard-lane");
        Assert.False(declined.GetProperty("accepted").GetBoolean());
        Assert.Equal("no carers free", declined.GetProperty("reason").GetString());
    }

    private static IInboundStore Inbound(CareWorkflowsApp app) => (IInboundStore)app.Services.GetRequiredService<IWorkflowStore>();

    [Fact]
    public async Task A_provider_not_offered_the_package_cannot_take_it_by_SMS_while_the_offers_are_open()
    {
        await using var app = new CareWorkflowsApp(settings: WebhookSettings());
        var reference = await RaiseAsync(app);

        // Beckside (+447700900004) serves the West patch: it was not offered this East referral, which is still open.
        var r = await SmsAsync(app, "+447700900004", $"ACCEPT {reference} 15:00");

        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        Assert.Equal("OfferedToPatch", state.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, state.GetProperty("award").ValueKind);
        Assert.All(state.GetProperty("offers").EnumerateArray(), o =>
        {
            Assert.NotEqual("west-beckside", o.GetProperty("provider").GetProperty("id").GetString());
            Assert.Equal(JsonValueKind.Null, o.GetProperty("accepted").ValueKind);
        });
        // The same words from a provider that was offered it do take it: the refusal above is about the sender.
        Assert.Equal(HttpStatusCode.OK, (await SmsAsync(app, "+447700900002", $"ACCEPT {reference} 15:00")).StatusCode);
        Assert.Equal("east-kestrel", (await app.InstanceAsync(reference)).GetProperty("state").GetProperty("award").GetProperty("provider").GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_providers_second_reply_gets_a_help_message_not_a_403_and_changes_nothing()
    {
        await using var app = new CareWorkflowsApp(settings: WebhookSettings());
        var reference = await RaiseAsync(app);
        Assert.Equal(HttpStatusCode.OK, (await SmsAsync(app, "+447700900001", $"DECLINE {reference} no carers free")).StatusCode);
        var before = await app.InstanceAsync(reference);

        // Orchard Lane has answered; the other offers are still open. It texts again.
        var again = await SmsAsync(app, "+447700900001", $"ACCEPT {reference} 14:30");

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var stored = (await Inbound(app).GetInboundAsync(reference)).OrderBy(m => m.ReceivedAt).Last();
        Assert.Equal(InboundOutcomes.NotUnderstood, stored.Outcome);
        Assert.Contains("already", stored.Reply);
        var after = await app.InstanceAsync(reference);
        Assert.Equal(before.GetProperty("version").GetInt64(), after.GetProperty("version").GetInt64());
        Assert.DoesNotContain("Notice", await TimelineAsync(app, reference)); // no note of a wrong sender
    }

    [Fact]
    public async Task Repeated_texts_from_a_number_the_reference_was_never_sent_to_leave_one_note()
    {
        await using var app = new CareWorkflowsApp(settings: WebhookSettings());
        var reference = await RaiseAsync(app);

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Forbidden, (await SmsAsync(app, "+447700900999", $"ACCEPT {reference} 14:30")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SmsAsync(app, "07700 900999", $"DECLINE {reference}")).StatusCode); // the same number, national form

        Assert.Single(await TimelineAsync(app, reference), t => t == "Notice"); // the note of a reply from someone not asked
        // Another stranger is another note: each sender is on record once.
        Assert.Equal(HttpStatusCode.Forbidden, (await SmsAsync(app, "+447700900998", $"ACCEPT {reference} 14:30")).StatusCode);
        Assert.Equal(2, (await TimelineAsync(app, reference)).Count(t => t == "Notice"));
        Assert.Equal("OfferedToPatch", await StatusAsync(app, reference));
    }
}
