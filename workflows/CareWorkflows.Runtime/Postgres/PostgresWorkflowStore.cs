using System.Data.Common;
using CareWorkflows.Runtime.Store;
using Dapper;
using Npgsql;

namespace CareWorkflows.Runtime.Postgres;

/// <summary>
/// PostgreSQL: production and multi-node. Any number of app processes share one database; claims use
/// <c>FOR UPDATE SKIP LOCKED</c> so workers never wait on, or take, each other's rows.
/// </summary>
public sealed class PostgresWorkflowStore(NpgsqlDataSource dataSource) : SqlWorkflowStore
{
    public PostgresWorkflowStore(string connectionString) : this(NpgsqlDataSource.Create(Tune(connectionString))) { }

    /// <summary>
    /// Connection settings for the store's short transactions, unless the connection string sets them: statements are
    /// prepared automatically (the same few statements run over and over; the server skips parse and plan), and a
    /// connection going back to the pool is not reset (the store keeps no session state: no SET, temp tables or session
    /// locks), which saves a DISCARD ALL on every open. Measured in bench/ (docs/performance.md).
    /// </summary>
    public static string Tune(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        if (!HasKey(connectionString, "Max Auto Prepare", "MaxAutoPrepare")) b.MaxAutoPrepare = 64;
        if (!HasKey(connectionString, "No Reset On Close", "NoResetOnClose")) b.NoResetOnClose = true;
        return b.ConnectionString;
    }

    private static bool HasKey(string connectionString, params string[] keys) =>
        keys.Any(k => connectionString.Contains(k, StringComparison.OrdinalIgnoreCase));

    public override string Name => "Postgres";
    protected override string ScriptPrefix => "Postgres";

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await dataSource.OpenConnectionAsync(ct);

    protected override bool IsUniqueViolation(DbException e) => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    // Migrations run under a transaction-scoped advisory lock: several nodes starting together apply each script once.
    protected override Task LockForMigrationAsync(DbConnection c, DbTransaction tx, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(7071001)", transaction: tx, cancellationToken: ct));

    protected override async Task<DbTransaction> BeginWriteAsync(DbConnection c, CancellationToken ct) => await c.BeginTransactionAsync(ct);
}
