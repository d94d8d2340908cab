using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.ServiceData;

/// <summary>IIdempotencyStore on SQLite, PostgreSQL and Table storage (Azurite): first writer wins.</summary>
public sealed class IdempotencyStoreContractTests
{
    public static TheoryData<string> Stores => ServiceDataStores.All;

    private static readonly Instant At = Instant.FromUtc(2026, 11, 28, 9, 0);

    [Theory, MemberData(nameof(Stores))]
    public async Task The_first_result_saved_under_a_key_is_the_one_every_later_call_gets(string kind)
    {
        var store = await ServiceDataStores.NewAsync<IIdempotencyStore>(kind);
        Assert.Null(await store.FindCommandResultAsync("d2a:award:1"));

        Assert.Equal((true, """{"status":"Awarded"}"""), await store.SaveCommandResultIfAbsentAsync("d2a:award:1", "D2A-7K3QX", """{"status":"Awarded"}""", At));
        Assert.Equal((false, """{"status":"Awarded"}"""), await store.SaveCommandResultIfAbsentAsync("d2a:award:1", "D2A-7K3QX", """{"status":"Declined"}""", At));

        Assert.Equal("""{"status":"Awarded"}""", await store.FindCommandResultAsync("d2a:award:1"));
        Assert.Null(await store.FindCommandResultAsync("d2a:award:2"));
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task Racing_saves_under_one_key_agree_on_a_single_winner(string kind)
    {
        var store = await ServiceDataStores.NewAsync<IIdempotencyStore>(kind);

        var outcomes = await Task.WhenAll(Enumerable.Range(1, 16).Select(i =>
            Task.Run(() => store.SaveCommandResultIfAbsentAsync("race", "TST-7K3QX", $"result-{i}", At))));

        var winner = Assert.Single(outcomes, o => o.Saved);
        Assert.All(outcomes, o => Assert.Equal(winner.Result, o.Result));
        Assert.Equal(winner.Result, await store.FindCommandResultAsync("race"));
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task Keys_with_forbidden_characters_and_very_long_keys_stay_distinct(string kind)
    {
        var store = await ServiceDataStores.NewAsync<IIdempotencyStore>(kind);
        var longKey = "servicebus:" + new string('k', 3000);
        string[] keys = ["k/1", "k\\1", "k#1", "k?1", "k%2F1", "k\n1", longKey + "a", longKey + "b", longKey + "/"];

        foreach (var key in keys) Assert.True((await store.SaveCommandResultIfAbsentAsync(key, "TST-7K3QX", "r:" + key, At)).Saved, key);

        foreach (var key in keys) Assert.Equal("r:" + key, await store.FindCommandResultAsync(key));
    }
}
