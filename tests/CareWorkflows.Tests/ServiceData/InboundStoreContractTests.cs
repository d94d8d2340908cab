using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.ServiceData;

/// <summary>IInboundStore on SQLite, PostgreSQL and Table storage (Azurite): stored once per provider message id.</summary>
public sealed class InboundStoreContractTests
{
    public static TheoryData<string> Stores => ServiceDataStores.All;

    private static readonly Instant At = Instant.FromUtc(2026, 11, 24, 9, 0);

    [Theory, MemberData(nameof(Stores))]
    public async Task An_inbound_message_is_stored_once_per_provider_message_id(string kind)
    {
        var store = await ServiceDataStores.NewAsync<IInboundStore>(kind);
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

    [Theory, MemberData(nameof(Stores))]
    public async Task The_stored_row_comes_back_whole_and_a_new_outcome_can_clear_the_reference_and_reply(string kind)
    {
        var store = await ServiceDataStores.NewAsync<IInboundStore>(kind);
        // An email Message-ID may hold characters Table storage refuses in keys.
        var m = new InboundMessage("SendGrid", "<a/b#c?d@mail.example>", MessageChannel.Email, "duty@alpha-care.example", "Subject: RE: D2A-7K3QX\n\nAccept 14:30", At,
            "D2A-7K3QX", InboundOutcomes.Received, null);
        await store.RecordInboundAsync(m);
        await store.SetInboundOutcomeAsync(m.Provider, m.ProviderMessageId, "D2A-7K3QX", InboundOutcomes.Refused, "Reply ACCEPT D2A-7K3QX <time>.");
        await store.SetInboundOutcomeAsync(m.Provider, m.ProviderMessageId, null, InboundOutcomes.NotUnderstood, null);
        await store.SetInboundOutcomeAsync("SendGrid", "never-recorded", "D2A-7K3QX", InboundOutcomes.Applied, null); // changes nothing

        var stored = Assert.Single(await store.GetInboundAsync());
        Assert.Equal(m with { Reference = null, Outcome = InboundOutcomes.NotUnderstood, Reply = null }, stored);
        Assert.Empty(await store.GetInboundAsync("D2A-7K3QX"));
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task Inbound_is_listed_oldest_first_up_to_the_limit(string kind)
    {
        var store = await ServiceDataStores.NewAsync<IInboundStore>(kind);
        for (var i = 0; i < 5; i++)
            await store.RecordInboundAsync(new InboundMessage("Twilio", $"SM{i}", MessageChannel.Sms, "+447700900111", $"reply {i}", At - Duration.FromMinutes(i), "D2A-7K3QX"));

        Assert.Equal(["SM4", "SM3", "SM2"], (await store.GetInboundAsync("D2A-7K3QX", limit: 3)).Select(m => m.ProviderMessageId));
    }
}
