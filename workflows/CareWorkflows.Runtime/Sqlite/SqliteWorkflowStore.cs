using System.Data.Common;
using CareWorkflows.Runtime.Store;
using Dapper;
using Microsoft.Data.Sqlite;

namespace CareWorkflows.Runtime.Sqlite;

/// <summary>
/// The embedded default: one SQLite file (WAL mode), single node. Writers are serialised in-process, which is
/// what SQLite does anyway, so writers wait on a semaphore rather than spinning on SQLITE_BUSY.
/// </summary>
public sealed class SqliteWorkflowStore : SqlWorkflowStore
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);

    public SqliteWorkflowStore(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = full, Pooling = true, DefaultTimeout = 30 }.ToString();
        using var c = new SqliteConnection(_connectionString);
        c.Open();
        c.Execute("PRAGMA journal_mode = WAL;");
    }

    public override string Name => "Sqlite";
    protected override string ScriptPrefix => "Sqlite";

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(ct);
        await c.ExecuteAsync("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;");
        return c;
    }

    protected override bool IsUniqueViolation(DbException e) => e is SqliteException { SqliteErrorCode: 19 };

    protected override Task LockForMigrationAsync(DbConnection c, DbTransaction tx, CancellationToken ct) => Task.CompletedTask;

    protected override async Task<DbTransaction> BeginWriteAsync(DbConnection c, CancellationToken ct) =>
        // BEGIN IMMEDIATE: take the write lock up front so a read-then-write transaction cannot deadlock.
        await Task.FromResult((DbTransaction)((SqliteConnection)c).BeginTransaction(deferred: false));

    protected override async ValueTask<IDisposable> WriteLockAsync(CancellationToken ct)
    {
        await _writer.WaitAsync(ct);
        return new Releaser(_writer);
    }

    private sealed class Releaser(SemaphoreSlim s) : IDisposable { public void Dispose() => s.Release(); }
}
