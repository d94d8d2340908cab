using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.Channels;

/// <summary>
/// The lookup delivery webhooks make in the outbox, on both SQL stores (the inbound contract itself, on every store, is in
/// ServiceData/InboundStoreContractTests).
/// </summary>
public sealed class InboundStoreTests
{
    public static TheoryData<string> Stores => TestDatabases.Stores;

    private static readonly Instant At = Instant.FromUtc(2026, 11, 24, 9, 0);

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_sent_message_is_found_by_its_provider_id(string kind)
    {
        var store = await TestDatabases.NewStoreAsync(kind);
        var id = Guid.CreateVersion7();
        var msg = new OutboxMessage(id, "D2A-7K3QX", MessageChannel.Sms, "+447700900111", "p-1", "offer", "s", "b", null, [], OutboxStatus.InProgress, 0, At, At,
            null, null, null, null, null);
        await store.LogMessageAsync(msg); // as the SendMessage activity logs it before sending
        await store.MarkSentAsync(id, "orchestration", "Twilio", "SM-42", At);

        var found = await ((ISentMessageLookup)store).FindMessageByProviderIdAsync("Twilio", "SM-42");

        Assert.Equal(id, found?.Id);
        Assert.Null(await ((ISentMessageLookup)store).FindMessageByProviderIdAsync("Notify", "SM-42"));
    }
}

/// <summary>The reply path end to end on PostgreSQL (the rest of the reply tests run on SQLite).</summary>
public sealed class PostgresReplyTests
{
    [Fact]
    public async Task On_PostgreSQL_an_SMS_ACCEPT_awards_once_however_often_the_webhook_is_delivered()
    {
        await using var app = new ChannelsTestApp(ChannelFakes.WebhookSettings(), TestDatabases.StorePostgres);
        var reference = await app.OfferAsync();
        var http = app.Client();
        var form = new Dictionary<string, string> { ["MessageSid"] = "SM-pg-1", ["From"] = ChannelsTestApp.Alpha.Mobile, ["Body"] = $"ACCEPT {reference} 14:30" };

        for (var i = 0; i < 2; i++)
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.SendAsync(ChannelFakes.TwilioPost("/webhooks/twilio/inbound", form))).StatusCode);

        Assert.Equal(ChannelsTestApp.Alpha.Id, (await app.StateAsync(reference)).AwardedTo);
        Assert.Single((await app.TimelineTypesAsync(reference)).Where(t => t == "ProviderResponse"));
        Assert.Single(await app.Inbound.GetInboundAsync());
    }
}
