using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.Channels;

/// <summary>The inbound table on both stores: stored once per provider message id.</summary>
public sealed class InboundStoreTests
{
    public static TheoryData<string> Stores => TestDatabases.Stores;

    private static readonly Instant At = Instant.FromUtc(2026, 11, 24, 9, 0);

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task An_inbound_message_is_stored_once_per_provider_message_id(string kind)
    {
        var store = (IInboundStore)await TestDatabases.NewStoreAsync(kind);
        var m = new InboundMessage("Twilio", "SM1", MessageChannel.Sms, "+447700900111", "ACCEPT D2A-7K3QX 14:30", At);

        var first = await store.RecordInboundAsync(m);
        await store.SetInboundOutcomeAsync("Twilio", "SM1", "D2A-7K3QX", InboundOutcomes.Applied, null);
        var again = await store.RecordInboundAsync(m with { Body = "changed" });
        var otherProvider = await store.RecordInboundAsync(m with { Provider = "Notify" });

        Assert.True(first.Inserted);
        Assert.False(again.Inserted);
        Assert.Equal(("ACCEPT D2A-7K3QX 14:30", InboundOutcomes.Applied, "D2A-7K3QX"), (again.Stored.Body, again.Stored.Outcome, again.Stored.Reference));
        Assert.True(otherProvider.Inserted);
        Assert.Equal(2, (await store.GetInboundAsync()).Count);
        Assert.Single(await store.GetInboundAsync("D2A-7K3QX"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_sent_message_is_found_by_its_provider_id(string kind)
    {
        var store = await TestDatabases.NewStoreAsync(kind);
        var id = Guid.CreateVersion7();
        var msg = new OutboxMessage(id, "TST-7K3QX", MessageChannel.Sms, "+447700900111", "p-1", "offer", "s", "b", null, [], OutboxStatus.Pending, 0, At, At,
            null, null, null, null, null);
        await store.CommitAsync(new CommitBatch("TST-7K3QX", "TST", 0, "Open", false, "{}", "", [], [], [], false, [msg], At));
        await store.ClaimOutboxAsync(At, 10, "w", Duration.FromMinutes(1));
        await store.MarkSentAsync(id, "w", "Twilio", "SM-42", At);

        var found = await ((IInboundStore)store).FindMessageByProviderIdAsync("Twilio", "SM-42");

        Assert.Equal(id, found?.Id);
        Assert.Null(await ((IInboundStore)store).FindMessageByProviderIdAsync("Notify", "SM-42"));
    }
}

/// <summary>The reply path end to end on PostgreSQL (the rest of the reply tests run on SQLite).</summary>
public sealed class PostgresReplyTests
{
    [Fact]
    public async Task On_PostgreSQL_an_SMS_ACCEPT_awards_once_however_often_the_webhook_is_delivered()
    {
        await using var app = new ChannelsTestApp(ChannelFakes.WebhookSettings(), TestDatabases.StorePostgres);
        var reference = await app.OfferAsync(ChannelsTestApp.Alpha);
        var http = app.Client();
        var form = new Dictionary<string, string> { ["MessageSid"] = "SM-pg-1", ["From"] = ChannelsTestApp.Alpha.Mobile, ["Body"] = $"ACCEPT {reference} 14:30" };

        for (var i = 0; i < 2; i++)
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.SendAsync(ChannelFakes.TwilioPost("/webhooks/twilio/inbound", form))).StatusCode);

        Assert.Equal(ChannelsTestApp.Alpha.Id, (await app.StateAsync(reference)).AwardedTo);
        Assert.Single((await app.TimelineTypesAsync(reference)).Where(t => t == "Awarded"));
        Assert.Single(await app.Inbound.GetInboundAsync());
    }
}
