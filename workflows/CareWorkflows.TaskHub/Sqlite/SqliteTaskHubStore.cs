using System.Data.Common;
using System.Text.Json;
using CareWorkflows.TaskHub.Store;
using Microsoft.Data.Sqlite;

namespace CareWorkflows.TaskHub.Sqlite;

/// <summary>
/// The embedded default: one SQLite file (WAL), one process. Writers are serialised in-process (SQLite allows one
/// writer at a time anyway), so they queue on a semaphore instead of spinning on SQLITE_BUSY; readers run beside them.
/// </summary>
public sealed class SqliteTaskHubStore : SqlTaskHubStore
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);

    public SqliteTaskHubStore(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        Path = full;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = full, Pooling = true, DefaultTimeout = 30 }.ToString();
        using var c = new SqliteConnection(_connectionString);
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode = WAL;";
        cmd.ExecuteNonQuery();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public override string Name => "Sqlite";
    protected override string ScriptPrefix => "Sqlite";

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;";
        await cmd.ExecuteNonQueryAsync(ct);
        return c;
    }

    protected override async Task<WriteScope> BeginWriteAsync(CancellationToken ct)
    {
        await _writer.WaitAsync(ct);
        try
        {
            var c = (SqliteConnection)await OpenAsync(ct);
            // BEGIN IMMEDIATE: the write lock up front, so a read-then-write transaction cannot deadlock.
            var tx = c.BeginTransaction(deferred: false);
            return Scope(c, tx, new Release(_writer));
        }
        catch
        {
            _writer.Release();
            throw;
        }
    }

    private sealed class Release(SemaphoreSlim s) : IDisposable { public void Dispose() => s.Release(); }

    protected override bool IsUniqueViolation(DbException e) => e is SqliteException { SqliteErrorCode: 19 };

    protected override Task LockForMigrationAsync(DbConnection c, DbTransaction tx, CancellationToken ct) => Task.CompletedTask;

    protected override string InList(string column, string parameter) => $"{column} IN (SELECT value FROM json_each(@{parameter}))";

    protected override object IdsValue<T>(IReadOnlyCollection<T> ids) => JsonSerializer.Serialize(ids);

    protected override string Greatest(string a, string b) => $"MAX({a}, {b})";

    protected override string StartsWith(string column, string parameter) => $"substr({column}, 1, @{parameter}Length) = @{parameter}";

    // Due inbox rows in due order → their instances that are not locked → lock them.
    protected override string ClaimOrchestrationsSql =>
        "UPDATE dt_instances SET lock_owner = @token, lock_until = @until WHERE instance_id IN (" +
        " SELECT i.instance_id FROM (SELECT DISTINCT instance_id FROM (" +
        "   SELECT instance_id FROM dt_inbox WHERE visible_at <= @now ORDER BY visible_at, id LIMIT @scan)) d" +
        " JOIN dt_instances i ON i.instance_id = d.instance_id" +
        " WHERE i.lock_until IS NULL OR i.lock_until <= @now LIMIT @max)" +
        " RETURNING instance_id, execution_id, name, status, history_count, last_step_at";

    protected override string ClaimActivitiesSql =>
        "UPDATE dt_tasks SET lock_owner = @token, lock_until = @until WHERE id IN (" +
        " SELECT id FROM dt_tasks WHERE visible_at <= @now AND (lock_until IS NULL OR lock_until <= @now) ORDER BY visible_at, id LIMIT @max)" +
        " RETURNING id, instance_id, execution_id, task_id, request";
}
