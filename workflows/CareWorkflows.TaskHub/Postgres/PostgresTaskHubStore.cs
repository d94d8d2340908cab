using System.Data.Common;
using CareWorkflows.TaskHub.Store;
using Google.Protobuf;
using Npgsql;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.TaskHub.Postgres;

/// <summary>
/// PostgreSQL: multi-node. Any number of app processes share one database. Claims take rows with
/// <c>FOR UPDATE SKIP LOCKED</c>, so nodes never wait on, or take, each other's work; a transaction that makes work
/// visible sends <c>NOTIFY dt_work</c> (delivered on commit) so idle dispatchers on other nodes wake at once.
/// At most <see cref="MaxConcurrentWrites"/> write transactions of this process are open at once (the rest wait their
/// turn in the process, not in PostgreSQL): a few busy server processes do the same work with far less CPU than
/// dozens taking turns on the same cores (issue 13: 100 concurrent writers on 2 cores cost PostgreSQL about twice the CPU
/// per work item of 8).
/// </summary>
public sealed class PostgresTaskHubStore(NpgsqlDataSource dataSource, int? maxConcurrentWrites = null) : SqlTaskHubStore
{
    public const string WorkChannel = "dt_work";

    /// <summary>Write transactions open at once by default: 4 per core of this machine, at least 8.</summary>
    public static int DefaultMaxConcurrentWrites => Math.Max(8, 4 * Environment.ProcessorCount);

    public PostgresTaskHubStore(string connectionString, int? maxConcurrentWrites = null)
        : this(NpgsqlDataSource.Create(Tune(connectionString)), maxConcurrentWrites) { }

    /// <summary>How many write transactions this store keeps open at once.</summary>
    public int MaxConcurrentWrites { get; } = maxConcurrentWrites is > 0 ? maxConcurrentWrites.Value : DefaultMaxConcurrentWrites;

    /// <summary>
    /// Unless the connection string says otherwise: statements are prepared automatically (the same few run over and
    /// over) and pooled connections are not reset (the store keeps no session state).
    /// </summary>
    public static string Tune(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase) && !connectionString.Contains("AutoPrepare", StringComparison.OrdinalIgnoreCase))
            b.MaxAutoPrepare = 64;
        if (!connectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase) && !connectionString.Contains("ResetOnClose", StringComparison.OrdinalIgnoreCase))
            b.NoResetOnClose = true;
        return b.ConnectionString;
    }

    public NpgsqlDataSource DataSource => dataSource;
    public override string Name => "Postgres";
    protected override string ScriptPrefix => "Postgres";

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await dataSource.OpenConnectionAsync(ct);

    private readonly SemaphoreSlim _writers = new(maxConcurrentWrites is > 0 ? maxConcurrentWrites.Value : DefaultMaxConcurrentWrites);

    /// <summary>A write transaction once one of the <see cref="MaxConcurrentWrites"/> places is free; the scope gives the place back.</summary>
    protected override async Task<WriteScope> BeginWriteAsync(CancellationToken ct)
    {
        await _writers.WaitAsync(ct);
        DbConnection? c = null;
        try
        {
            c = await dataSource.OpenConnectionAsync(ct);
            return Scope(c, await c.BeginTransactionAsync(ct), new Release(_writers));
        }
        catch
        {
            if (c is not null) await c.DisposeAsync();
            _writers.Release();
            throw;
        }
    }

    private sealed class Release(SemaphoreSlim s) : IDisposable { public void Dispose() => s.Release(); }

    protected override bool IsUniqueViolation(DbException e) => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    // Migrations under a transaction-scoped advisory lock: nodes starting together apply each script once.
    protected override async Task LockForMigrationAsync(DbConnection c, DbTransaction tx, CancellationToken ct)
    {
        await using var cmd = Command(c, tx, "SELECT pg_advisory_xact_lock(7071013)", []);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    protected override string ForUpdate => " FOR UPDATE";

    protected override string InList(string column, string parameter) => $"{column} = ANY(@{parameter})";

    protected override object IdsValue<T>(IReadOnlyCollection<T> ids) => ids.ToArray();

    protected override string Greatest(string a, string b) => $"GREATEST({a}, {b})";

    protected override string StartsWith(string column, string parameter) => $"starts_with({column}, @{parameter})";

    private long _lastNotifyTicks;

    /// <summary>
    /// NOTIFY serialises committing transactions in PostgreSQL, so a busy node sends at most one every 100 ms: other
    /// nodes are woken promptly, and a node that is busy is already working through the backlog itself.
    /// </summary>
    protected override async Task NotifyWorkAsync(DbConnection c, DbTransaction tx, CancellationToken ct)
    {
        if (!ShouldNotify()) return;
        await using var cmd = Command(c, tx, $"NOTIFY {WorkChannel}", []);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private bool ShouldNotify()
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastNotifyTicks);
        return now - last >= 100 && Interlocked.CompareExchange(ref _lastNotifyTicks, now, last) == last;
    }

    // One statement for a new instance and its start message; nothing when the id is taken.
    protected override async Task<bool> TryInsertNewAsync(WriteScope w, NewInstance instance, CancellationToken ct) =>
        await Exec(w,
            "WITH created AS (" + InsertInstanceSql + "VALUES (@id, @exec, @name, @version, @status, @now, @now, @start, @input, @parent, @tags, 0) " +
            "ON CONFLICT (instance_id) DO NOTHING RETURNING instance_id) " +
            "INSERT INTO dt_inbox (instance_id, execution_id, visible_at, event) SELECT instance_id, NULL, @visible, @event FROM created", ct,
            InstanceParameters(instance)) == 1;

    // Due inbox rows in due order → their instances that are not locked, skipping rows another node is claiming → lock them.
    protected override string ClaimOrchestrationsSql =>
        "WITH due AS (SELECT DISTINCT instance_id FROM (" +
        "   SELECT instance_id FROM dt_inbox WHERE visible_at <= @now ORDER BY visible_at, id LIMIT @scan) s)," +
        " ready AS (SELECT i.instance_id FROM dt_instances i JOIN due d ON d.instance_id = i.instance_id" +
        "   WHERE i.lock_until IS NULL OR i.lock_until <= @now LIMIT @max FOR UPDATE OF i SKIP LOCKED)" +
        " UPDATE dt_instances i SET lock_owner = @token, lock_until = @until FROM ready r WHERE i.instance_id = r.instance_id" +
        " RETURNING i.instance_id, i.execution_id, i.name, i.status, i.history_count, i.last_step_at";

    protected override string ClaimActivitiesSql =>
        "UPDATE dt_tasks SET lock_owner = @token, lock_until = @until WHERE id IN (" +
        " SELECT id FROM dt_tasks WHERE visible_at <= @now AND (lock_until IS NULL OR lock_until <= @now) ORDER BY visible_at, id LIMIT @max FOR UPDATE SKIP LOCKED)" +
        " RETURNING id, instance_id, execution_id, task_id, request";

    /// <summary>All of a step's history rows in one statement (arrays unnested), so the statement's shape never varies.</summary>
    protected override IEnumerable<Statement> HistoryStatements(string instanceId, string executionId, int start, IReadOnlyList<P.HistoryEvent> events)
    {
        if (events.Count == 0) yield break;
        yield return new Statement("INSERT INTO dt_history (instance_id, seq, execution_id, event) SELECT @id, s, @exec, e FROM unnest(@seqs, @events) AS x(s, e)",
            [("id", instanceId), ("exec", executionId), ("seqs", Enumerable.Range(start, events.Count).ToArray()), ("events", events.Select(e => e.ToByteArray()).ToArray())]);
    }

    /// <summary>A write's statements in one round trip (a batch), checked by their row counts before the commit.</summary>
    protected override async Task<bool> RunAsync(WriteScope w, IReadOnlyList<Statement> statements, CancellationToken ct)
    {
        if (statements.Count == 0) return true;
        await using var batch = new NpgsqlBatch((NpgsqlConnection)w.Connection, (NpgsqlTransaction)w.Transaction);
        foreach (var st in statements)
        {
            var command = new NpgsqlBatchCommand(st.Sql);
            foreach (var (name, value) in st.Parameters) command.Parameters.Add(new NpgsqlParameter(name, value ?? DBNull.Value));
            batch.BatchCommands.Add(command);
        }
        await batch.ExecuteNonQueryAsync(ct);
        for (var n = 0; n < statements.Count; n++)
            if (statements[n].Expect is { } expected && batch.BatchCommands[n].RecordsAffected != expected) return false;
        return true;
    }

    protected override Statement? NotifyStatement() => ShouldNotify() ? new Statement($"NOTIFY {WorkChannel}", []) : null;

    /// <summary>Most activity results written by one statement.</summary>
    private const int MaxResultsPerWrite = 256;

    private sealed record PendingResult(long TaskRowId, byte[] Event, long Now)
    {
        public TaskCompletionSource<bool> Recorded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingResult> _results = new();
    private readonly object _resultsLock = new();
    private Task _resultsWrite = Task.CompletedTask; // the write of queued results in progress, if any

    /// <summary>
    /// An activity's result: the task leaves, and its result goes to the instance if that is still active on the task's
    /// execution; otherwise nothing changes (false), as does a second result for the task (its row is gone).
    /// Results that arrive while another write of results is in progress queue up and are written together by the next
    /// one: one statement in one round trip (an implicit transaction, with the throttled NOTIFY), so a busy node pays one
    /// transaction for many results. Each caller waits for its own result only, and writes the queue itself when no one
    /// else is writing, so nothing queued is left behind.
    /// </summary>
    public override async Task<bool> CompleteActivityAsync(long taskRowId, P.HistoryEvent result, NodaTime.Instant now, CancellationToken ct = default)
    {
        var pending = new PendingResult(taskRowId, result.ToByteArray(), now.ToUnixTimeTicks());
        _results.Enqueue(pending);
        while (!pending.Recorded.Task.IsCompleted)
        {
            Task running;
            TaskCompletionSource? mine = null;
            lock (_resultsLock)
            {
                running = _resultsWrite;
                if (running.IsCompleted)
                {
                    mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _resultsWrite = mine.Task;
                }
            }
            if (mine is null)
            {
                await Task.WhenAny(pending.Recorded.Task, running).WaitAsync(ct);
                continue;
            }
            try { await WriteQueuedResultsAsync(); }
            finally { mine.SetResult(); }
        }
        return await pending.Recorded.Task.WaitAsync(ct);
    }

    /// <summary>Writes the results queued now (up to <see cref="MaxResultsPerWrite"/>) and tells each caller its outcome.</summary>
    private async Task WriteQueuedResultsAsync()
    {
        var batch = new List<PendingResult>();
        try
        {
            var seen = new HashSet<long>();
            while (batch.Count < MaxResultsPerWrite && _results.TryDequeue(out var next))
            {
                // A second result for a task in the same write would find its row gone (or its instance inactive): not recorded.
                if (seen.Add(next.TaskRowId)) batch.Add(next);
                else next.Recorded.TrySetResult(false);
            }
            if (batch.Count == 0) return;
            var recorded = await WriteResultsAsync(batch);
            foreach (var r in batch) r.Recorded.TrySetResult(recorded.Contains(r.TaskRowId));
        }
        catch (Exception e)
        {
            foreach (var r in batch) r.Recorded.TrySetException(e);
        }
    }

    private async Task<HashSet<long>> WriteResultsAsync(IReadOnlyList<PendingResult> batch)
    {
        // Not cancelled by any one caller: the write serves them all (each caller stops waiting when its own token fires).
        var ct = CancellationToken.None;
        await _writers.WaitAsync(ct);
        try
        {
            await using var c = await dataSource.OpenConnectionAsync(ct);
            await using var b = new NpgsqlBatch(c);
            var write = new NpgsqlBatchCommand(
                "WITH input AS (SELECT * FROM unnest(@ids, @events, @nows) WITH ORDINALITY AS x(id, event, visible_at, n)), " +
                "target AS (SELECT t.id FROM dt_tasks t JOIN dt_instances i ON i.instance_id = t.instance_id AND i.execution_id = t.execution_id " +
                $"  WHERE t.id = ANY(@ids) AND i.status IN ({ActiveStatusList})), " +
                "done AS (DELETE FROM dt_tasks t USING target g WHERE t.id = g.id RETURNING t.id, t.instance_id, t.execution_id), " +
                "sent AS (INSERT INTO dt_inbox (instance_id, execution_id, visible_at, event) " +
                "  SELECT d.instance_id, d.execution_id, x.visible_at, x.event FROM done d JOIN input x ON x.id = d.id ORDER BY x.n) " +
                "SELECT id FROM done");
            write.Parameters.Add(new NpgsqlParameter("ids", batch.Select(r => r.TaskRowId).ToArray()));
            write.Parameters.Add(new NpgsqlParameter("events", batch.Select(r => r.Event).ToArray()));
            write.Parameters.Add(new NpgsqlParameter("nows", batch.Select(r => r.Now).ToArray()));
            b.BatchCommands.Add(write);
            if (NotifyStatement() is { } notify) b.BatchCommands.Add(new NpgsqlBatchCommand(notify.Sql));
            // No transaction object: the batch runs as one implicit transaction (all or nothing), committed with its one round trip.
            var recorded = new HashSet<long>();
            await using (var r = await b.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct)) recorded.Add(r.GetInt64(0));
            return recorded;
        }
        finally
        {
            _writers.Release();
        }
    }

    /// <summary>
    /// A claim in one transaction and two round trips: lock the instances (the UPDATE returns them), then read their
    /// history and visible messages by those ids in one batch. The reads are statements of their own, so they see every
    /// step committed before the claim took its locks (one statement's snapshot could predate a step committed while the
    /// claim waited for its rows); by id, so no index on lock_owner is needed and a step's updates of its row stay HOT.
    /// </summary>
    public override async Task<IReadOnlyList<OrchestrationWorkItem>> ClaimOrchestrationsAsync(NodaTime.Instant now, string lockToken, NodaTime.Instant lockUntil, int max, CancellationToken ct = default)
    {
        await using var w = await BeginWriteAsync(ct);
        var connection = (NpgsqlConnection)w.Connection;
        var transaction = (NpgsqlTransaction)w.Transaction;
        var claimed = new List<(string Id, string Exec, string Name, P.OrchestrationStatus Status, int Count, NodaTime.Instant? LastStep)>();
        await using (var claim = new NpgsqlCommand(ClaimOrchestrationsSql, connection, transaction))
        {
            claim.Parameters.Add(new NpgsqlParameter("now", now.ToUnixTimeTicks()));
            claim.Parameters.Add(new NpgsqlParameter("token", lockToken));
            claim.Parameters.Add(new NpgsqlParameter("until", lockUntil.ToUnixTimeTicks()));
            claim.Parameters.Add(new NpgsqlParameter("scan", ClaimScan));
            claim.Parameters.Add(new NpgsqlParameter("max", max));
            await using var r = await claim.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                claimed.Add((r.GetString(0), r.GetString(1), r.GetString(2), (P.OrchestrationStatus)r.GetInt32(3), r.GetInt32(4),
                    r.IsDBNull(5) ? null : NodaTime.Instant.FromUnixTimeTicks(r.GetInt64(5))));
        }
        if (claimed.Count == 0) return [];

        var ids = claimed.Select(x => x.Id).ToArray();
        var events = claimed.ToDictionary(x => x.Id, _ => new List<P.HistoryEvent>(), StringComparer.Ordinal);
        var messages = claimed.ToDictionary(x => x.Id, _ => new List<InboxMessage>(), StringComparer.Ordinal);
        await using var batch = new NpgsqlBatch(connection, transaction);
        var history = new NpgsqlBatchCommand("SELECT instance_id, event FROM dt_history WHERE instance_id = ANY(@ids) ORDER BY instance_id, seq");
        history.Parameters.Add(new NpgsqlParameter("ids", ids));
        batch.BatchCommands.Add(history);
        var inbox = new NpgsqlBatchCommand("SELECT id, instance_id, execution_id, event FROM dt_inbox WHERE instance_id = ANY(@ids) AND visible_at <= @now ORDER BY id");
        inbox.Parameters.Add(new NpgsqlParameter("ids", ids));
        inbox.Parameters.Add(new NpgsqlParameter("now", now.ToUnixTimeTicks()));
        batch.BatchCommands.Add(inbox);
        await using (var r = await batch.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct)) events[r.GetString(0)].Add(P.HistoryEvent.Parser.ParseFrom((byte[])r.GetValue(1)));
            await r.NextResultAsync(ct);
            while (await r.ReadAsync(ct))
            {
                var list = messages[r.GetString(1)];
                if (list.Count < MaxMessagesPerStep)
                    list.Add(new InboxMessage(r.GetInt64(0), r.IsDBNull(2) ? null : r.GetString(2), P.HistoryEvent.Parser.ParseFrom((byte[])r.GetValue(3))));
            }
        }
        await w.CommitAsync(ct);
        return claimed.Select(x => new OrchestrationWorkItem(x.Id, x.Exec, x.Name, x.Status, x.Count, x.LastStep, lockToken, events[x.Id], messages[x.Id])).ToList();
    }
}
