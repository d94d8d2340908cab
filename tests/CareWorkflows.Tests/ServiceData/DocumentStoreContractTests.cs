using System.Text;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.ServiceData;

/// <summary>IDocumentStore on SQLite, PostgreSQL and Table storage (Azurite): one contract.</summary>
public sealed class DocumentStoreContractTests
{
    public static TheoryData<string> Stores => ServiceDataStores.All;

    private static readonly Instant At = Instant.FromUtc(2026, 11, 28, 9, 0);

    [Theory, MemberData(nameof(Stores))]
    public async Task Documents_are_listed_by_exact_key_prefix_in_key_order(string kind)
    {
        var store = await ServiceDataStores.NewAsync<IDocumentStore>(kind);
        await store.PutDocumentAsync("keys:b", "2", At);
        await store.PutDocumentAsync("keys:a", "1", At);
        await store.PutDocumentAsync("keys_x", "wildcard lookalike", At);
        await store.PutDocumentAsync("other", "3", At);
        await store.PutDocumentAsync("keys:a", "1b", At); // replaced, not added

        Assert.Equal([("keys:a", "1b"), ("keys:b", "2")], await store.ListDocumentsAsync("keys:"));
        Assert.Empty(await store.ListDocumentsAsync("keys%"));
        Assert.Equal(["keys_x"], (await store.ListDocumentsAsync("keys_")).Select(d => d.Key));
        Assert.Equal(["keys:a", "keys:b", "keys_x", "other"], (await store.ListDocumentsAsync("")).Select(d => d.Key));
        Assert.Equal("3", await store.GetDocumentAsync("other"));
        Assert.Null(await store.GetDocumentAsync("missing"));
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task Keys_with_characters_Table_storage_forbids_round_trip_and_list_by_prefix(string kind)
    {
        var store = await ServiceDataStores.NewAsync<IDocumentStore>(kind);
        string[] keys = ["a/b", "a\\b", "a#b", "a?b", "a%2Fb", "a\tb", "a\u0001b", "a\u007Fb", "a\u0085b", "a b'\"é"];
        foreach (var key in keys) await store.PutDocumentAsync(key, "value of " + key, At);

        foreach (var key in keys) Assert.Equal("value of " + key, await store.GetDocumentAsync(key));
        Assert.Equal(["a/b"], (await store.ListDocumentsAsync("a/")).Select(d => d.Key));
        Assert.Equal(["a%2Fb"], (await store.ListDocumentsAsync("a%")).Select(d => d.Key)); // not "a/b", which Table storage keeps as a%2Fb
        Assert.Equal(["a?b"], (await store.ListDocumentsAsync("a?")).Select(d => d.Key));
        Assert.Equal(keys.Order(StringComparer.Ordinal), (await store.ListDocumentsAsync("a")).Select(d => d.Key));
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task A_large_document_round_trips_and_a_shorter_one_replaces_it_whole(string kind)
    {
        var store = await ServiceDataStores.NewAsync<IDocumentStore>(kind);
        // 200,000 characters with an emoji (a surrogate pair) across every 32,000-character boundary Table storage splits at.
        var sb = new StringBuilder();
        while (sb.Length < 200_000) { sb.Append('x', 31_999 - sb.Length % 32_000); sb.Append("😀é"); }
        var big = sb.ToString();

        await store.PutDocumentAsync("calendar", big, At);
        Assert.Equal(big, await store.GetDocumentAsync("calendar"));

        await store.PutDocumentAsync("calendar", "small", At);
        Assert.Equal("small", await store.GetDocumentAsync("calendar"));
        Assert.Equal([("calendar", "small")], await store.ListDocumentsAsync("cal"));
    }
}
