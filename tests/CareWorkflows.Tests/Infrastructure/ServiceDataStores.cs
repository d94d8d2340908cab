using Azure.Data.Tables;
using CareWorkflows.Runtime.Tables;

namespace CareWorkflows.Tests.Infrastructure;

/// <summary>
/// The stores of the service data (documents, idempotency keys, inbound, directories) for contract tests: the SQL stores
/// (SQLite file, PostgreSQL database) and Table storage on Azurite (CW_TEST_AZURITE; scripts/test.sh starts it). Table
/// tests fail, not skip, without it. Every Table store gets tables under a fresh name prefix, so no test (and no test
/// class) sees another's rows.
/// </summary>
public static class ServiceDataStores
{
    public const string Tables = "Tables";

    public static TheoryData<string> All => new(TestDatabases.StoreSqlite, TestDatabases.StorePostgres, Tables);

    public static string Azurite =>
        Environment.GetEnvironmentVariable("CW_TEST_AZURITE") is { Length: > 0 } cs ? cs
        : throw new InvalidOperationException("CW_TEST_AZURITE is not set: run the tests with scripts/test.sh, which starts Azurite (scripts/azurite.sh).");

    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..16];

    public static ServiceTables NewTables() => new(new TableServiceClient(Azurite), NewPrefix());

    /// <summary>A fresh, empty store of <paramref name="kind"/> seen as <typeparamref name="T"/>.</summary>
    public static async Task<T> NewAsync<T>(string kind) where T : class
    {
        if (kind != Tables) return (T)await TestDatabases.NewStoreAsync(kind);
        var tables = NewTables();
        object store = typeof(T).Name switch
        {
            "IDocumentStore" => new TableDocumentStore(tables),
            "IIdempotencyStore" => new TableIdempotencyStore(tables),
            "IInboundStore" => new TableInboundStore(tables),
            "IProviderDirectory" => new TableProviderDirectory(tables),
            "ITrustedAssessorDirectory" => new TableTrustedAssessorDirectory(tables),
            _ => throw new ArgumentOutOfRangeException(nameof(T), typeof(T).Name, "No Table storage implementation."),
        };
        return (T)store;
    }
}
