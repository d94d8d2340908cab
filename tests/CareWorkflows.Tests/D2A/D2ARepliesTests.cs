using System.Net;
using System.Net.Http.Json;
using CareWorkflows.Definitions;
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

        // A provider that was not offered the package cannot take it by SMS either.
        var before = (await app.InstanceAsync(reference)).GetProperty("version").GetInt64();
        await SmsAsync(app, "+447700900004", $"ACCEPT {reference} 15:00"); // Beckside, West patch
        Assert.Equal(before, (await app.InstanceAsync(reference)).GetProperty("version").GetInt64());
    }
}
