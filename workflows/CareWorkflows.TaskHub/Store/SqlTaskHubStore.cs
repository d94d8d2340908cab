using System.Data;
using System.Data.Common;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using NodaTime;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.TaskHub.Store;

/// <summary>
/// The SQL behind both stores. Each dialect supplies connections, its write transaction, how a list of ids is passed,
/// and its claim statements (PostgreSQL adds <c>FOR UPDATE SKIP LOCKED</c>); everything else is the same SQL.
/// Table order in every write transaction: dt_instances, dt_inbox, dt_history, dt_tasks (so two writers never wait on
/// each other in opposite orders).
/// </summary>
public abstract class SqlTaskHubStore : ITaskHubStore
{
    /// <summary>How many due inbox rows a claim looks at to find unlocked instances (more than any worker holds at once).</summary>
    protected const int ClaimScan = 2000;

    /// <summary>At most this many messages go into one step; the rest wait for the next.</summary>
    public const int MaxMessagesPerStep = 500;

    public abstract string Name { get; }
    protected abstract string ScriptPrefix { get; }
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);
    /// <summary>Starts a write transaction (SQLite: the process-wide writer, then BEGIN IMMEDIATE).</summary>
    protected abstract Task<WriteScope> BeginWriteAsync(CancellationToken ct);
    protected abstract bool IsUniqueViolation(DbException e);
    protected abstract Task LockForMigrationAsync(DbConnection c, DbTransaction tx, CancellationToken ct);
    /// <summary>SQL for "column is one of the ids in parameter p" and the parameter's value for the ids.</summary>
    protected abstract string InList(string column, string parameter);
    protected abstract object IdsValue<T>(IReadOnlyCollection<T> ids);
    /// <summary>The larger of two integers (SQLite MAX, PostgreSQL GREATEST).</summary>
    protected abstract string Greatest(string a, string b);
    /// <summary>True when <paramref name="column"/> starts with the text in parameter p.</summary>
    protected abstract string StartsWith(string column, string parameter);
    protected abstract string ClaimOrchestrationsSql { get; }
    protected abstract string ClaimActivitiesSql { get; }
    /// <summary>Called inside a transaction that made new work visible (PostgreSQL: NOTIFY for other nodes).</summary>
    protected virtual Task NotifyWorkAsync(DbConnection c, DbTransaction tx, CancellationToken ct) => Task.CompletedTask;

    protected const string InstanceColumns =
        "instance_id, execution_id, name, version, status, created_at, updated_at, completed_at, scheduled_start_at, " +
        "input, output, custom_status, failure, parent_instance_id, tags";
    private const string InstanceColumnsNoPayload =
        "instance_id, execution_id, name, version, status, created_at, updated_at, completed_at, scheduled_start_at, " +
        "NULL AS input, NULL AS output, custom_status, failure, parent_instance_id, tags";

    private static readonly int[] ActiveStatuses = TaskHubStatus.Active.Select(s => (int)s).ToArray();
    private static readonly string ActiveList = string.Join(", ", ActiveStatuses);
    private static readonly string TerminalList = string.Join(", ", TaskHubStatus.Terminal.Select(s => (int)s));

    // ------------------------------------------------------------------------------------------------ migrations

    public async Task MigrateAsync(CancellationToken ct = default)
    {
        await using var w = await BeginWriteAsync(ct);
        await LockForMigrationAsync(w.Connection, w.Transaction, ct);
        await Exec(w, "CREATE TABLE IF NOT EXISTS dt_schema_versions (version INTEGER NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)", ct);
        var applied = new HashSet<long>();
        await using (var r = await Reader(w.Connection, w.Transaction, "SELECT version FROM dt_schema_versions", ct))
            while (await r.ReadAsync(ct)) applied.Add(Convert.ToInt64(r.GetValue(0)));
        foreach (var (version, sql) in Scripts())
        {
            if (applied.Contains(version)) continue;
            await Exec(w, sql, ct);
            await Exec(w, "INSERT INTO dt_schema_versions (version, applied_at) VALUES (@v, @at)", ct,
                ("v", version), ("at", SystemClock.Instance.GetCurrentInstant().ToUnixTimeTicks()));
        }
        await w.CommitAsync(ct);
    }

    public async Task<bool> IsReadyAsync(CancellationToken ct = default)
    {
        try
        {
            await using var c = await OpenAsync(ct);
            var count = Convert.ToInt64(await Scalar(c, null, "SELECT COUNT(*) FROM dt_schema_versions", ct));
            return count >= Scripts().Count;
        }
        catch (DbException) { return false; }
    }

    private List<(long Version, string Sql)> Scripts()
    {
        var asm = typeof(SqlTaskHubStore).Assembly;
        var prefix = $"TaskHub.{ScriptPrefix}.";
        return asm.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(n => (long.Parse(n[prefix.Length..].Split('_')[0]), Read(asm, n))).ToList();

        static string Read(Assembly asm, string name)
        {
            using var s = asm.GetManifestResourceStream(name)!;
            return new StreamReader(s).ReadToEnd();
        }
    }

    // ------------------------------------------------------------------------------------------------ client side

    public async Task<bool> CreateInstanceAsync(NewInstance instance, IReadOnlyCollection<P.OrchestrationStatus> replaceable, CancellationToken ct = default)
    {
        try
        {
            await using var w = await BeginWriteAsync(ct);
            if (await TryInsertNewAsync(w, instance, ct))
            {
                await NotifyWorkAsync(w.Connection, w.Transaction, ct);
                await w.CommitAsync(ct);
                return true;
            }
            // The id is taken: replace the instance only if its status is one the caller allows to be replaced.
            var existing = await Scalar(w.Connection, w.Transaction, $"SELECT status FROM dt_instances WHERE instance_id = @id{ForUpdate}", ct, ("id", instance.InstanceId));
            if (existing is null || !replaceable.Contains((P.OrchestrationStatus)Convert.ToInt32(existing))) return false;
            await Exec(w, "DELETE FROM dt_instances WHERE instance_id = @id", ct, ("id", instance.InstanceId));
            await DeleteInstanceData(w, instance.InstanceId, ct);
            await InsertInstance(w, instance, ct);
            await w.CommitAsync(ct);
            return true;
        }
        catch (DbException e) when (IsUniqueViolation(e)) { return false; }
    }

    /// <summary>Inserts the instance and its first message unless the id is taken (then writes nothing and returns false).</summary>
    protected virtual async Task<bool> TryInsertNewAsync(WriteScope w, NewInstance instance, CancellationToken ct)
    {
        if (await Scalar(w.Connection, w.Transaction, "SELECT 1 FROM dt_instances WHERE instance_id = @id", ct, ("id", instance.InstanceId)) is not null) return false;
        await InsertInstance(w, instance, ct);
        return true;
    }

    /// <summary>PostgreSQL: " FOR UPDATE" (row lock for a read-then-write); SQLite: nothing (the writer is already exclusive).</summary>
    protected virtual string ForUpdate => "";

    private async Task InsertInstance(WriteScope w, NewInstance i, CancellationToken ct)
    {
        await Exec(w, InsertInstanceSql + "VALUES (@id, @exec, @name, @version, @status, @now, @now, @start, @input, @parent, @tags, 0)", ct, InstanceParameters(i));
        await InsertMessage(w, i.InstanceId, null, FirstVisible(i), i.ExecutionStarted, ct);
        await NotifyWorkAsync(w.Connection, w.Transaction, ct);
    }

    protected const string InsertInstanceSql =
        "INSERT INTO dt_instances (instance_id, execution_id, name, version, status, created_at, updated_at, scheduled_start_at, input, parent_instance_id, tags, history_count) ";

    protected static (string, object?)[] InstanceParameters(NewInstance i) =>
    [
        ("id", i.InstanceId), ("exec", i.ExecutionId), ("name", i.Name), ("version", i.Version), ("status", (int)P.OrchestrationStatus.Pending),
        ("now", i.CreatedAt.ToUnixTimeTicks()), ("start", i.ScheduledStartAt?.ToUnixTimeTicks()), ("input", i.Input),
        ("parent", i.ParentInstanceId), ("tags", i.Tags is { Count: > 0 } t ? JsonSerializer.Serialize(t) : null),
        ("visible", FirstVisible(i).ToUnixTimeTicks()), ("event", i.ExecutionStarted.ToByteArray()),
    ];

    /// <summary>An instance's start is visible at its scheduled start, or at once.</summary>
    protected static Instant FirstVisible(NewInstance i) => i.ScheduledStartAt is { } s && s > i.CreatedAt ? s : i.CreatedAt;

    private async Task DeleteInstanceData(WriteScope w, string instanceId, CancellationToken ct)
    {
        await Exec(w, "DELETE FROM dt_inbox WHERE instance_id = @id", ct, ("id", instanceId));
        await Exec(w, "DELETE FROM dt_history WHERE instance_id = @id", ct, ("id", instanceId));
        await Exec(w, "DELETE FROM dt_tasks WHERE instance_id = @id", ct, ("id", instanceId));
    }

    public async Task<InstanceRecord?> GetInstanceAsync(string instanceId, bool withPayloads, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var r = await Reader(c, null, $"SELECT {(withPayloads ? InstanceColumns : InstanceColumnsNoPayload)} FROM dt_instances WHERE instance_id = @id", ct, ("id", instanceId));
        return await r.ReadAsync(ct) ? ReadInstance(r) : null;
    }

    public async Task<InstancePage> QueryInstancesAsync(InstanceFilter f, CancellationToken ct = default)
    {
        var where = new List<string>();
        var ps = new List<(string, object?)>();
        if (f.Statuses is { Count: > 0 }) { where.Add(InList("status", "statuses")); ps.Add(("statuses", IdsValue(f.Statuses.Select(s => (int)s).ToArray()))); }
        if (f.CreatedFrom is { } from) { where.Add("created_at >= @from"); ps.Add(("from", from.ToUnixTimeTicks())); }
        if (f.CreatedTo is { } to) { where.Add("created_at <= @to"); ps.Add(("to", to.ToUnixTimeTicks())); }
        if (!string.IsNullOrEmpty(f.IdPrefix)) { where.Add(StartsWith("instance_id", "prefix")); ps.Add(("prefix", f.IdPrefix)); ps.Add(("prefixLength", f.IdPrefix.Length)); }
        if (f.After is { } after) { where.Add("(created_at > @afterAt OR (created_at = @afterAt AND instance_id > @afterId))"); ps.Add(("afterAt", after.CreatedAt.ToUnixTimeTicks())); ps.Add(("afterId", after.InstanceId)); }
        var sql = $"SELECT {(f.WithPayloads ? InstanceColumns : InstanceColumnsNoPayload)} FROM dt_instances" +
                  (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") +
                  " ORDER BY created_at, instance_id LIMIT @limit";
        ps.Add(("limit", f.PageSize + 1));
        var list = new List<InstanceRecord>();
        await using var c = await OpenAsync(ct);
        await using (var r = await Reader(c, null, sql, ct, ps.ToArray()))
            while (await r.ReadAsync(ct)) list.Add(ReadInstance(r));
        if (list.Count <= f.PageSize) return new InstancePage(list, null);
        list.RemoveAt(list.Count - 1);
        return new InstancePage(list, (list[^1].CreatedAt, list[^1].InstanceId));
    }

    public async Task<IReadOnlyList<string>> ListInstanceIdsAsync(InstanceIdPage p, CancellationToken ct = default)
    {
        var statuses = p.Statuses is { Count: > 0 } s ? s.Where(TaskHubStatus.IsTerminal).ToArray() : TaskHubStatus.Terminal;
        var sql = $"SELECT instance_id FROM dt_instances WHERE {InList("status", "statuses")}" +
                  (p.CompletedFrom is not null ? " AND completed_at >= @from" : "") +
                  (p.CompletedTo is not null ? " AND completed_at <= @to" : "") +
                  (p.After is not null ? " AND instance_id > @after" : "") +
                  " ORDER BY instance_id LIMIT @limit";
        var ids = new List<string>();
        await using var c = await OpenAsync(ct);
        await using var r = await Reader(c, null, sql, ct, ("statuses", IdsValue(statuses.Select(x => (int)x).ToArray())),
            ("from", p.CompletedFrom?.ToUnixTimeTicks()), ("to", p.CompletedTo?.ToUnixTimeTicks()), ("after", p.After), ("limit", p.PageSize));
        while (await r.ReadAsync(ct)) ids.Add(r.GetString(0));
        return ids;
    }

    public async Task<IReadOnlyList<P.HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken ct = default)
    {
        var list = new List<P.HistoryEvent>();
        await using var c = await OpenAsync(ct);
        await using var r = await Reader(c, null, "SELECT event FROM dt_history WHERE instance_id = @id ORDER BY seq", ct, ("id", instanceId));
        while (await r.ReadAsync(ct)) list.Add(P.HistoryEvent.Parser.ParseFrom((byte[])r.GetValue(0)));
        return list;
    }

    public async Task<EnqueueOutcome> EnqueueAsync(string instanceId, P.HistoryEvent message, Instant now, CancellationToken ct = default)
    {
        await using var w = await BeginWriteAsync(ct);
        var n = await Exec(w,
            $"INSERT INTO dt_inbox (instance_id, execution_id, visible_at, event) " +
            $"SELECT instance_id, NULL, {Greatest("@now", "COALESCE(scheduled_start_at, 0)")}, @event FROM dt_instances " +
            $"WHERE instance_id = @id AND status IN ({ActiveList})", ct,
            ("id", instanceId), ("now", now.ToUnixTimeTicks()), ("event", message.ToByteArray()));
        if (n == 1)
        {
            await NotifyWorkAsync(w.Connection, w.Transaction, ct);
            await w.CommitAsync(ct);
            return EnqueueOutcome.Enqueued;
        }
        var exists = await Scalar(w.Connection, w.Transaction, "SELECT 1 FROM dt_instances WHERE instance_id = @id", ct, ("id", instanceId));
        return exists is null ? EnqueueOutcome.NotFound : EnqueueOutcome.Terminal;
    }

    public async Task<bool> TerminatePendingAsync(string instanceId, string? output, Instant now, CancellationToken ct = default)
    {
        await using var w = await BeginWriteAsync(ct);
        var n = await Exec(w,
            "UPDATE dt_instances SET status = @terminated, output = @output, updated_at = @now, completed_at = @now " +
            "WHERE instance_id = @id AND status = @pending AND history_count = 0 AND lock_owner IS NULL", ct,
            ("terminated", (int)P.OrchestrationStatus.Terminated), ("output", output), ("now", now.ToUnixTimeTicks()),
            ("id", instanceId), ("pending", (int)P.OrchestrationStatus.Pending));
        if (n == 0) return false;
        await Exec(w, "DELETE FROM dt_inbox WHERE instance_id = @id", ct, ("id", instanceId));
        await w.CommitAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<string>> ActiveChildrenAsync(string parentInstanceId, CancellationToken ct = default)
    {
        var ids = new List<string>();
        await using var c = await OpenAsync(ct);
        await using var r = await Reader(c, null, $"SELECT instance_id FROM dt_instances WHERE parent_instance_id = @id AND status IN ({ActiveList})", ct, ("id", parentInstanceId));
        while (await r.ReadAsync(ct)) ids.Add(r.GetString(0));
        return ids;
    }

    public async Task<int> PurgeInstanceAsync(string instanceId, bool recursive, CancellationToken ct = default)
    {
        await using var w = await BeginWriteAsync(ct);
        var purged = await PurgeOne(w, instanceId, recursive, depth: 0, ct);
        await w.CommitAsync(ct);
        return purged;
    }

    private async Task<int> PurgeOne(WriteScope w, string instanceId, bool recursive, int depth, CancellationToken ct)
    {
        var n = await Exec(w, $"DELETE FROM dt_instances WHERE instance_id = @id AND status IN ({TerminalList})", ct, ("id", instanceId));
        if (n == 0) return 0;
        await DeleteInstanceData(w, instanceId, ct);
        if (!recursive || depth > 32) return n;
        var children = new List<string>();
        await using (var r = await Reader(w.Connection, w.Transaction, "SELECT instance_id FROM dt_instances WHERE parent_instance_id = @id", ct, ("id", instanceId)))
            while (await r.ReadAsync(ct)) children.Add(r.GetString(0));
        foreach (var child in children) n += await PurgeOne(w, child, recursive, depth + 1, ct);
        return n;
    }

    public async Task<int> PurgeInstancesAsync(PurgeFilter f, CancellationToken ct = default)
    {
        var statuses = f.Statuses.Count > 0 ? f.Statuses.Where(TaskHubStatus.IsTerminal).ToArray() : TaskHubStatus.Terminal;
        if (statuses.Length == 0) return 0;
        var where = $"{InList("status", "statuses")}" +
                    (f.CreatedFrom is not null ? " AND created_at >= @from" : "") +
                    (f.CreatedTo is not null ? " AND created_at <= @to" : "") +
                    (f.CompletedBefore is not null ? " AND completed_at < @completedBefore" : "");
        var total = 0;
        while (true)
        {
            // In batches, so a purge of many instances never holds the writer for long.
            await using var w = await BeginWriteAsync(ct);
            var ids = new List<string>();
            await using (var r = await Reader(w.Connection, w.Transaction, $"SELECT instance_id FROM dt_instances WHERE {where} LIMIT 500", ct,
                             ("statuses", IdsValue(statuses.Select(x => (int)x).ToArray())), ("from", f.CreatedFrom?.ToUnixTimeTicks()),
                             ("to", f.CreatedTo?.ToUnixTimeTicks()), ("completedBefore", f.CompletedBefore?.ToUnixTimeTicks())))
                while (await r.ReadAsync(ct)) ids.Add(r.GetString(0));
            if (ids.Count == 0) return total;
            var idsValue = IdsValue(ids);
            total += await Exec(w, $"DELETE FROM dt_instances WHERE {InList("instance_id", "ids")}", ct, ("ids", idsValue));
            await Exec(w, $"DELETE FROM dt_inbox WHERE {InList("instance_id", "ids")}", ct, ("ids", idsValue));
            await Exec(w, $"DELETE FROM dt_history WHERE {InList("instance_id", "ids")}", ct, ("ids", idsValue));
            await Exec(w, $"DELETE FROM dt_tasks WHERE {InList("instance_id", "ids")}", ct, ("ids", idsValue));
            await w.CommitAsync(ct);
            if (ids.Count < 500) return total;
        }
    }

    // ------------------------------------------------------------------------------------------------ dispatcher side

    public virtual async Task<IReadOnlyList<OrchestrationWorkItem>> ClaimOrchestrationsAsync(Instant now, string lockToken, Instant lockUntil, int max, CancellationToken ct = default)
    {
        var claimed = new List<(string Id, string Exec, string Name, P.OrchestrationStatus Status, int Count, Instant? LastStep)>();
        await using (var w = await BeginWriteAsync(ct))
        {
            await using (var r = await Reader(w.Connection, w.Transaction, ClaimOrchestrationsSql, ct,
                             ("now", now.ToUnixTimeTicks()), ("token", lockToken), ("until", lockUntil.ToUnixTimeTicks()), ("scan", ClaimScan), ("max", max)))
                while (await r.ReadAsync(ct))
                    claimed.Add((r.GetString(0), r.GetString(1), r.GetString(2), (P.OrchestrationStatus)Convert.ToInt32(r.GetValue(3)),
                        Convert.ToInt32(r.GetValue(4)), r.IsDBNull(5) ? null : Instant.FromUnixTimeTicks(Convert.ToInt64(r.GetValue(5)))));
            if (claimed.Count == 0) return [];
            await w.CommitAsync(ct);
        }

        var ids = IdsValue(claimed.Select(x => x.Id).ToArray());
        var history = claimed.ToDictionary(x => x.Id, _ => new List<P.HistoryEvent>());
        var messages = claimed.ToDictionary(x => x.Id, _ => new List<InboxMessage>());
        await using var c = await OpenAsync(ct);
        await using (var r = await Reader(c, null, $"SELECT instance_id, event FROM dt_history WHERE {InList("instance_id", "ids")} ORDER BY instance_id, seq", ct, ("ids", ids)))
            while (await r.ReadAsync(ct)) history[r.GetString(0)].Add(P.HistoryEvent.Parser.ParseFrom((byte[])r.GetValue(1)));
        await using (var r = await Reader(c, null, $"SELECT id, instance_id, execution_id, event FROM dt_inbox WHERE {InList("instance_id", "ids")} AND visible_at <= @now ORDER BY id", ct,
                         ("ids", ids), ("now", now.ToUnixTimeTicks())))
            while (await r.ReadAsync(ct))
            {
                var list = messages[r.GetString(1)];
                if (list.Count < MaxMessagesPerStep)
                    list.Add(new InboxMessage(r.GetInt64(0), r.IsDBNull(2) ? null : r.GetString(2), P.HistoryEvent.Parser.ParseFrom((byte[])r.GetValue(3))));
            }
        return claimed.Select(x => new OrchestrationWorkItem(x.Id, x.Exec, x.Name, x.Status, x.Count, x.LastStep, lockToken, history[x.Id], messages[x.Id])).ToList();
    }

    public async Task<bool> CommitStepAsync(StepCommit s, CancellationToken ct = default)
    {
        try
        {
            await using var w = await BeginWriteAsync(ct);
            var i = s.Instance;
            var statements = new List<Statement>
            {
                // The lock must still be ours: another worker may have taken the instance over (then nothing is written).
                new("UPDATE dt_instances SET execution_id = @exec, status = @status, updated_at = @updated, completed_at = @completed, " +
                    "output = @output, custom_status = @custom, failure = @failure, history_count = @count, last_step_at = @stepAt, " +
                    (i.NewExecution ? "input = @input, version = @version, " : "") +
                    "lock_owner = NULL, lock_until = NULL WHERE instance_id = @id AND lock_owner = @token",
                    [("exec", i.ExecutionId), ("status", (int)i.Status), ("updated", i.UpdatedAt.ToUnixTimeTicks()), ("completed", i.CompletedAt?.ToUnixTimeTicks()),
                     ("output", i.Output), ("custom", i.CustomStatus), ("failure", i.Failure?.ToByteArray()), ("count", i.HistoryCount),
                     ("stepAt", i.StepAt.ToUnixTimeTicks()), ("input", i.Input), ("version", i.Version), ("id", s.InstanceId), ("token", s.LockToken)],
                    Expect: 1),
            };
            // Every consumed message must still be there (or someone else consumed it: roll back).
            if (s.ConsumedMessageIds.Count > 0)
                statements.Add(new($"DELETE FROM dt_inbox WHERE {InList("id", "ids")}", [("ids", IdsValue(s.ConsumedMessageIds))], Expect: s.ConsumedMessageIds.Count));
            if (s.DropAllMessages) statements.Add(new("DELETE FROM dt_inbox WHERE instance_id = @id", [("id", s.InstanceId)]));
            else if (s.DropExecutionId is { } drop)
                statements.Add(new("DELETE FROM dt_inbox WHERE instance_id = @id AND execution_id = @exec", [("id", s.InstanceId), ("exec", drop)]));
            if (s.ResetHistory) statements.Add(new("DELETE FROM dt_history WHERE instance_id = @id", [("id", s.InstanceId)]));
            statements.AddRange(HistoryStatements(s.InstanceId, i.ExecutionId, s.HistoryStart, s.AppendHistory));
            if (s.DropExecutionId is { } dropTasks)
                statements.Add(new("DELETE FROM dt_tasks WHERE instance_id = @id AND execution_id = @exec", [("id", s.InstanceId), ("exec", dropTasks)]));
            foreach (var t in s.Tasks)
                statements.Add(new("INSERT INTO dt_tasks (instance_id, execution_id, task_id, request, visible_at) VALUES (@id, @exec, @task, @request, @visible)",
                    [("id", t.InstanceId), ("exec", t.ExecutionId), ("task", t.TaskId), ("request", t.Request.ToByteArray()), ("visible", t.VisibleAt.ToUnixTimeTicks())]));

            if (s.Children.Count > 0)
            {
                // Sub-orchestrations (rare): created one by one before the messages, which may be addressed to them.
                if (!await RunAsync(w, statements, ct)) return false;
                statements.Clear();
                foreach (var child in s.Children)
                {
                    var existing = await Scalar(w.Connection, w.Transaction, $"SELECT status FROM dt_instances WHERE instance_id = @id{ForUpdate}", ct, ("id", child.Instance.InstanceId));
                    if (existing is null || TaskHubStatus.IsTerminal((P.OrchestrationStatus)Convert.ToInt32(existing)))
                    {
                        if (existing is not null)
                        {
                            await Exec(w, "DELETE FROM dt_instances WHERE instance_id = @id", ct, ("id", child.Instance.InstanceId));
                            await DeleteInstanceData(w, child.Instance.InstanceId, ct);
                        }
                        await InsertInstance(w, child.Instance, ct);
                    }
                    else statements.Add(Outgoing(child.FailureToParent));
                }
            }
            statements.AddRange(s.Messages.Select(Outgoing));
            if ((s.Tasks.Count > 0 || s.Messages.Count > 0) && NotifyStatement() is { } notify) statements.Add(notify);
            if (!await RunAsync(w, statements, ct)) return false;
            await w.CommitAsync(ct);
            return true;
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            return false; // a history key or task key was taken: another writer applied this step
        }
    }

    /// <summary>One statement of a write, and how many rows it must touch (null: any number).</summary>
    protected sealed record Statement(string Sql, (string Name, object? Value)[] Parameters, int? Expect = null);

    /// <summary>
    /// Runs a write's statements in order in its transaction. False when one touches a different number of rows than it
    /// expects (the caller then writes nothing). PostgreSQL sends them all in one round trip.
    /// </summary>
    protected virtual async Task<bool> RunAsync(WriteScope w, IReadOnlyList<Statement> statements, CancellationToken ct)
    {
        foreach (var st in statements)
        {
            var n = await Exec(w, st.Sql, ct, st.Parameters);
            if (st.Expect is { } expected && n != expected) return false;
        }
        return true;
    }

    /// <summary>PostgreSQL: NOTIFY for other nodes (throttled); SQLite: none.</summary>
    protected virtual Statement? NotifyStatement() => null;

    /// <summary>A step's history rows (one statement per row; PostgreSQL: one statement for all).</summary>
    protected virtual IEnumerable<Statement> HistoryStatements(string instanceId, string executionId, int start, IReadOnlyList<P.HistoryEvent> events) =>
        events.Select((e, n) => new Statement("INSERT INTO dt_history (instance_id, seq, execution_id, event) VALUES (@id, @seq, @exec, @event)",
            [("id", instanceId), ("seq", start + n), ("exec", executionId), ("event", e.ToByteArray())]));

    /// <summary>A message to an instance's inbox: always (its own), or only if the target is active (and on that execution).</summary>
    private Statement Outgoing(OutgoingMessage m) => m.Delivery == Delivery.Self
        ? new("INSERT INTO dt_inbox (instance_id, execution_id, visible_at, event) VALUES (@id, @exec, @visible, @event)",
            [("id", m.InstanceId), ("exec", m.ExecutionId), ("visible", m.VisibleAt.ToUnixTimeTicks()), ("event", m.Event.ToByteArray())])
        : new($"INSERT INTO dt_inbox (instance_id, execution_id, visible_at, event) " +
              $"SELECT instance_id, @exec, {Greatest("@visible", "COALESCE(scheduled_start_at, 0)")}, @event FROM dt_instances " +
              $"WHERE instance_id = @id AND status IN ({ActiveList})" + (m.ExecutionId is not null ? " AND execution_id = @exec" : ""),
            [("id", m.InstanceId), ("exec", m.ExecutionId), ("visible", m.VisibleAt.ToUnixTimeTicks()), ("event", m.Event.ToByteArray())]);

    private async Task InsertOutgoing(WriteScope w, OutgoingMessage m, CancellationToken ct)
    {
        var st = Outgoing(m);
        await Exec(w, st.Sql, ct, st.Parameters);
    }

    private Task<int> InsertMessage(WriteScope w, string instanceId, string? executionId, Instant visibleAt, P.HistoryEvent e, CancellationToken ct) =>
        Exec(w, "INSERT INTO dt_inbox (instance_id, execution_id, visible_at, event) VALUES (@id, @exec, @visible, @event)", ct,
            ("id", instanceId), ("exec", executionId), ("visible", visibleAt.ToUnixTimeTicks()), ("event", e.ToByteArray()));

    public async Task DiscardAsync(string instanceId, string lockToken, IReadOnlyList<long> messageIds, Instant retryAt, CancellationToken ct = default)
    {
        await using var w = await BeginWriteAsync(ct);
        var n = await Exec(w, "UPDATE dt_instances SET lock_owner = NULL, lock_until = @retry WHERE instance_id = @id AND lock_owner = @token", ct,
            ("retry", retryAt.ToUnixTimeTicks()), ("id", instanceId), ("token", lockToken));
        if (n == 0) return;
        if (messageIds.Count > 0)
            await Exec(w, $"DELETE FROM dt_inbox WHERE instance_id = @id AND {InList("id", "ids")}", ct, ("id", instanceId), ("ids", IdsValue(messageIds)));
        await w.CommitAsync(ct);
    }

    public async Task ReleaseOrchestrationAsync(string instanceId, string lockToken, Instant retryAt, CancellationToken ct = default)
    {
        await using var w = await BeginWriteAsync(ct);
        await Exec(w, "UPDATE dt_instances SET lock_owner = NULL, lock_until = @retry WHERE instance_id = @id AND lock_owner = @token", ct,
            ("retry", retryAt.ToUnixTimeTicks()), ("id", instanceId), ("token", lockToken));
        await w.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<ActivityWorkItem>> ClaimActivitiesAsync(Instant now, string lockToken, Instant lockUntil, int max, CancellationToken ct = default)
    {
        var list = new List<ActivityWorkItem>();
        await using var w = await BeginWriteAsync(ct);
        await using (var r = await Reader(w.Connection, w.Transaction, ClaimActivitiesSql, ct,
                         ("now", now.ToUnixTimeTicks()), ("token", lockToken), ("until", lockUntil.ToUnixTimeTicks()), ("max", max)))
            while (await r.ReadAsync(ct))
                list.Add(new ActivityWorkItem(r.GetInt64(0), r.GetString(1), r.GetString(2), Convert.ToInt32(r.GetValue(3)), lockToken,
                    P.ActivityRequest.Parser.ParseFrom((byte[])r.GetValue(4))));
        if (list.Count > 0) await w.CommitAsync(ct);
        return list;
    }

    public virtual async Task<bool> CompleteActivityAsync(long taskRowId, P.HistoryEvent result, Instant now, CancellationToken ct = default)
    {
        await using var w = await BeginWriteAsync(ct);
        string? instanceId = null, executionId = null;
        await using (var r = await Reader(w.Connection, w.Transaction, "DELETE FROM dt_tasks WHERE id = @id RETURNING instance_id, execution_id", ct, ("id", taskRowId)))
            if (await r.ReadAsync(ct)) { instanceId = r.GetString(0); executionId = r.GetString(1); }
        if (instanceId is null) return false; // recorded already (a duplicate run), or its execution is gone
        await InsertOutgoing(w, new OutgoingMessage(instanceId, executionId, now, result, Delivery.IfActive), ct);
        await w.CommitAsync(ct);
        return true;
    }

    public async Task ReleaseActivityAsync(long taskRowId, string lockToken, Instant retryAt, CancellationToken ct = default)
    {
        await using var w = await BeginWriteAsync(ct);
        await Exec(w, "UPDATE dt_tasks SET lock_owner = NULL, lock_until = @retry WHERE id = @id AND lock_owner = @token", ct,
            ("retry", retryAt.ToUnixTimeTicks()), ("id", taskRowId), ("token", lockToken));
        await w.CommitAsync(ct);
    }

    public async Task RenewLocksAsync(IReadOnlyCollection<string> instanceIds, IReadOnlyCollection<long> taskRowIds, string lockToken, Instant lockUntil, CancellationToken ct = default)
    {
        if (instanceIds.Count == 0 && taskRowIds.Count == 0) return;
        await using var w = await BeginWriteAsync(ct);
        if (instanceIds.Count > 0)
            await Exec(w, $"UPDATE dt_instances SET lock_until = @until WHERE {InList("instance_id", "ids")} AND lock_owner = @token", ct,
                ("until", lockUntil.ToUnixTimeTicks()), ("ids", IdsValue(instanceIds)), ("token", lockToken));
        if (taskRowIds.Count > 0)
            await Exec(w, $"UPDATE dt_tasks SET lock_until = @until WHERE {InList("id", "ids")} AND lock_owner = @token", ct,
                ("until", lockUntil.ToUnixTimeTicks()), ("ids", IdsValue(taskRowIds)), ("token", lockToken));
        await w.CommitAsync(ct);
    }

    public async Task<Instant?> NextVisibleAfterAsync(Instant now, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var v = await Scalar(c, null, "SELECT MIN(visible_at) FROM dt_inbox WHERE visible_at > @now", ct, ("now", now.ToUnixTimeTicks()));
        return v is null ? null : Instant.FromUnixTimeTicks(Convert.ToInt64(v));
    }

    public async Task<bool> HasVisibleWorkAsync(Instant now, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var v = await Scalar(c, null,
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM dt_inbox WHERE visible_at <= @now) OR EXISTS (SELECT 1 FROM dt_tasks) THEN 1 ELSE 0 END", ct,
            ("now", now.ToUnixTimeTicks()));
        return Convert.ToInt32(v) == 1;
    }

    // ------------------------------------------------------------------------------------------------ plumbing

    protected static InstanceRecord ReadInstance(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
        (P.OrchestrationStatus)Convert.ToInt32(r.GetValue(4)),
        Instant.FromUnixTimeTicks(Convert.ToInt64(r.GetValue(5))), Instant.FromUnixTimeTicks(Convert.ToInt64(r.GetValue(6))),
        r.IsDBNull(7) ? null : Instant.FromUnixTimeTicks(Convert.ToInt64(r.GetValue(7))),
        r.IsDBNull(8) ? null : Instant.FromUnixTimeTicks(Convert.ToInt64(r.GetValue(8))),
        r.IsDBNull(9) ? null : r.GetString(9), r.IsDBNull(10) ? null : r.GetString(10), r.IsDBNull(11) ? null : r.GetString(11),
        r.IsDBNull(12) ? null : P.TaskFailureDetails.Parser.ParseFrom((byte[])r.GetValue(12)),
        r.IsDBNull(13) ? null : r.GetString(13),
        r.IsDBNull(14) ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(14)));

    /// <summary>A write transaction with whatever the dialect holds around it (SQLite: the writer semaphore).</summary>
    protected sealed class WriteScope(DbConnection connection, DbTransaction transaction, IDisposable? hold) : IAsyncDisposable
    {
        public DbConnection Connection => connection;
        public DbTransaction Transaction => transaction;
        private bool _done;

        public async Task CommitAsync(CancellationToken ct)
        {
            await transaction.CommitAsync(ct);
            _done = true;
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (!_done) await transaction.RollbackAsync();
            }
            catch (Exception) when (!_done) { /* the connection broke: nothing was committed */ }
            finally
            {
                await transaction.DisposeAsync();
                await connection.DisposeAsync();
                hold?.Dispose();
            }
        }
    }

    protected static DbCommand Command(DbConnection c, DbTransaction? tx, string sql, (string Name, object? Value)[] ps)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in ps)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    protected static string ActiveStatusList => ActiveList;

    protected static async Task<int> Exec(WriteScope w, string sql, CancellationToken ct, params (string, object?)[] ps)
    {
        await using var cmd = Command(w.Connection, w.Transaction, sql, ps);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    protected static async Task<object?> Scalar(DbConnection c, DbTransaction? tx, string sql, CancellationToken ct, params (string, object?)[] ps)
    {
        await using var cmd = Command(c, tx, sql, ps);
        var v = await cmd.ExecuteScalarAsync(ct);
        return v is DBNull ? null : v;
    }

    protected static async Task<DbDataReader> Reader(DbConnection c, DbTransaction? tx, string sql, CancellationToken ct, params (string, object?)[] ps)
    {
        // The command is not disposed here (that would close the reader); closing the connection releases it.
        var cmd = Command(c, tx, sql, ps);
        return await cmd.ExecuteReaderAsync(CommandBehavior.Default, ct);
    }

    protected static WriteScope Scope(DbConnection c, DbTransaction tx, IDisposable? hold) => new(c, tx, hold);
}
