using CareWorkflows.Runtime.Postgres;
using CareWorkflows.Runtime.Sqlite;
using CareWorkflows.Runtime.Store;
using Npgsql;

namespace CareWorkflows.Tests.Infrastructure;

/// <summary>
/// Real databases for tests. SQLite: a fresh file in a temp folder. PostgreSQL: a fresh database on the server named
/// by CW_TEST_POSTGRES (scripts/test.sh starts one). PostgreSQL tests fail, not skip, when it is missing.
/// </summary>
public static class TestDatabases
{
    public const string StoreSqlite = "Sqlite";
    public const string StorePostgres = "Postgres";

    public static TheoryData<string> Stores => new(StoreSqlite, StorePostgres);

    public static string PostgresServer =>
        Environment.GetEnvironmentVariable("CW_TEST_POSTGRES") is { Length: > 0 } cs ? cs
        : throw new InvalidOperationException("CW_TEST_POSTGRES is not set: run the tests with scripts/test.sh, which starts PostgreSQL.");

    public static string NewSqlitePath() =>
        Path.Combine(Path.GetTempPath(), "cw-tests", Guid.NewGuid().ToString("N"), "cw.db");

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public static string NewPostgresDatabase()
    {
        var name = "cw_" + Guid.NewGuid().ToString("N")[..16];
        var server = new NpgsqlConnectionStringBuilder(PostgresServer) { Database = "postgres", Pooling = false };
        using (var c = new NpgsqlConnection(server.ToString()))
        {
            c.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", c);
            cmd.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(PostgresServer) { Database = name, MaxPoolSize = 50 }.ToString();
    }

    public static async Task<IWorkflowStore> NewStoreAsync(string kind)
    {
        IWorkflowStore store = kind switch
        {
            StoreSqlite => new SqliteWorkflowStore(NewSqlitePath()),
            StorePostgres => new PostgresWorkflowStore(NewPostgresDatabase()),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        await store.MigrateAsync();
        return store;
    }
}
