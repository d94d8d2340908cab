using System.Data;
using System.Data.Common;
using System.Text.Json;
using CareWorkflows.Definitions;
using Dapper;
using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>
/// The store logic both databases share. Each store (SqliteWorkflowStore, PostgresWorkflowStore) supplies its
/// connections, its numbered migration scripts and the few statements whose syntax differs (claims with
/// <c>FOR UPDATE SKIP LOCKED</c> on PostgreSQL). Table order inside a commit is always
/// commands → instances → events → timers → outbox, so two transactions never wait on each other in a cycle.
/// </summary>
public abstract partial class SqlWorkflowStore : IWorkflowStore
{
    protected static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public abstract string Name { get; }
    protected abstract string ScriptPrefix { get; }
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);
    protected abstract bool IsUniqueViolation(DbException e);
    protected abstract Task LockForMigrationAsync(DbConnection c, DbTransaction tx, CancellationToken ct);
    protected abstract Task<DbTransaction> BeginWriteAsync(DbConnection c, CancellationToken ct);

    /// <summary>Claims due timers; the PostgreSQL version skips rows other workers hold locked.</summary>
    protected abstract string ClaimTimersSql { get; }
    protected abstract string ClaimOutboxSql { get; }

    /// <summary>Serialises writers where the database allows only one (SQLite); a no-op elsewhere.</summary>
    protected virtual ValueTask<IDisposable> WriteLockAsync(CancellationToken ct) => ValueTask.FromResult<IDisposable>(NoLock.Instance);

    private sealed class NoLock : IDisposable { public static readonly NoLock Instance = new(); public void Dispose() { } }

    protected static long T(Instant i) => i.ToUnixTimeTicks();
    protected static Instant I(long t) => Instant.FromUnixTimeTicks(t);
    protected static Instant? I(long? t) => t is { } v ? Instant.FromUnixTimeTicks(v) : null;

    // ---------- migrations ----------

    public IReadOnlyList<(int Version, string Sql)> Scripts()
    {
        var asm = typeof(SqlWorkflowStore).Assembly;
        var prefix = $"CareWorkflows.{ScriptPrefix}.";
        return asm.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n =>
            {
                var file = n[prefix.Length..];
                var version = int.Parse(file[..file.IndexOf('_')], System.Globalization.CultureInfo.InvariantCulture);
                using var s = asm.GetManifestResourceStream(n)!;
                using var r = new StreamReader(s);
                return (version, r.ReadToEnd());
            })
            .OrderBy(x => x.version)
            .ToList();
    }

    public async Task MigrateAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        await LockForMigrationAsync(c, tx, ct);
        await c.ExecuteAsync(new CommandDefinition(
            "CREATE TABLE IF NOT EXISTS schema_versions (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)", transaction: tx, cancellationToken: ct));
        var applied = (await c.QueryAsync<long>(new CommandDefinition("SELECT version FROM schema_versions", transaction: tx, cancellationToken: ct))).ToHashSet();
        foreach (var (version, sql) in Scripts())
        {
            if (applied.Contains(version)) continue;
            await c.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct));
            await c.ExecuteAsync(new CommandDefinition("INSERT INTO schema_versions (version, applied_at) VALUES (@version, @at)",
                new { version, at = DateTimeOffset.UtcNow.UtcTicks }, tx, cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
    }

    public async Task<bool> IsReadyAsync(CancellationToken ct = default)
    {
        try
        {
            await using var c = await OpenAsync(ct);
            var applied = (await c.QueryAsync<long>(new CommandDefinition("SELECT version FROM schema_versions", cancellationToken: ct))).ToHashSet();
            return Scripts().All(s => applied.Contains(s.Version));
        }
        catch (DbException) { return false; }
    }

    // ---------- instances ----------

    private const string InstanceColumns =
        "reference AS Reference, type AS Type, status AS Status, completed AS Completed, state AS State, version AS Version, last_seq AS LastSeq, created_at AS CreatedAt, updated_at AS UpdatedAt, next_due_at AS NextDueAt, summary AS Summary";

#pragma warning disable CS0649 // assigned by Dapper
    private sealed class InstanceDb
    {
        public string Reference = ""; public string Type = ""; public string Status = ""; public bool Completed; public string State = "";
        public long Version; public long LastSeq; public long CreatedAt; public long UpdatedAt; public long? NextDueAt; public string Summary = "";

        public InstanceRow ToRow() => new(Reference, Type, Status, Completed, State, Version, LastSeq, I(CreatedAt), I(UpdatedAt), I(NextDueAt), Summary);
    }

    public async Task<InstanceRow?> LoadAsync(string reference, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<InstanceDb>(new CommandDefinition(
            $"SELECT {InstanceColumns} FROM instances WHERE reference = @reference", new { reference }, cancellationToken: ct));
        return row?.ToRow();
    }

    public async Task<string?> FindCommandResultAsync(string idempotencyKey, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT result FROM commands WHERE idempotency_key = @idempotencyKey", new { idempotencyKey }, cancellationToken: ct));
    }

    public async Task<(bool Saved, string Result)> SaveCommandResultIfAbsentAsync(string idempotencyKey, string reference, string result, Instant at, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using (await WriteLockAsync(ct))
        {
            // The primary key decides: the first insert wins, later ones change nothing (the same row a commit writes).
            var n = await c.ExecuteAsync(new CommandDefinition(
                "INSERT INTO commands (idempotency_key, reference, result, created_at) VALUES (@idempotencyKey, @reference, @result, @at) " +
                "ON CONFLICT (idempotency_key) DO NOTHING",
                new { idempotencyKey, reference, result, at = T(at) }, cancellationToken: ct));
            if (n == 1) return (true, result);
        }
        return (false, await c.QuerySingleAsync<string>(new CommandDefinition(
            "SELECT result FROM commands WHERE idempotency_key = @idempotencyKey", new { idempotencyKey }, cancellationToken: ct)));
    }

    /// <summary>What a statement of a commit must have changed, checked before the transaction commits.</summary>
    private enum Expect { Any, OneRowOrConflict, OneRowOrStaleTimer }

    private readonly record struct Statement(string Sql, (string Name, object? Value)[] Parameters, Expect Expect = Expect.Any);

    public async Task CommitAsync(CommitBatch b, CancellationToken ct = default)
    {
        var statements = CommitStatements(b);
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        try
        {
            // PostgreSQL: the whole transition goes in one round trip (DbBatch), then COMMIT; the checks run on the
            // batch's row counts before committing. SQLite (in-process, no round trips) runs the statements in turn.
            if (c.CanCreateBatch) await ExecuteBatchAsync(c, tx, statements, b, ct);
            else
                foreach (var st in statements)
                {
                    await using var cmd = c.CreateCommand();
                    cmd.Transaction = tx;
                    cmd.CommandText = st.Sql;
                    foreach (var (name, value) in st.Parameters) AddParameter(cmd.Parameters, cmd.CreateParameter(), name, value);
                    Check(st, await cmd.ExecuteNonQueryAsync(ct), b);
                }
            await tx.CommitAsync(ct);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new ConcurrencyConflictException($"{b.Reference}: a unique key was taken by a concurrent writer ({e.Message}).");
        }
    }

    private static async Task ExecuteBatchAsync(DbConnection c, DbTransaction tx, List<Statement> statements, CommitBatch b, CancellationToken ct)
    {
        await using var batch = c.CreateBatch();
        batch.Transaction = tx;
        foreach (var st in statements)
        {
            var bc = batch.CreateBatchCommand();
            bc.CommandText = st.Sql;
            foreach (var (name, value) in st.Parameters) AddParameter(bc.Parameters, bc.CreateParameter(), name, value);
            batch.BatchCommands.Add(bc);
        }
        await batch.ExecuteNonQueryAsync(ct);
        for (var i = 0; i < statements.Count; i++) Check(statements[i], batch.BatchCommands[i].RecordsAffected, b);
    }

    private static void AddParameter(DbParameterCollection parameters, DbParameter p, string name, object? value)
    {
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        parameters.Add(p);
    }

    private static void Check(Statement st, int rows, CommitBatch b)
    {
        if (st.Expect == Expect.OneRowOrConflict && rows != 1)
            throw new ConcurrencyConflictException($"{b.Reference} is no longer at version {b.ExpectedVersion}.");
        if (st.Expect == Expect.OneRowOrStaleTimer && rows != 1)
            throw new StaleTimerException(b.ConsumeTimerId!.Value);
    }

    /// <summary>The statements of one transition, in the fixed table order (commands → instances → events → timers → asks → outbox).</summary>
    private static List<Statement> CommitStatements(CommitBatch b)
    {
        var list = new List<Statement>(4 + b.Events.Count + b.SetTimers.Count + b.Messages.Count);
        var now = T(b.Now);
        if (b.IdempotencyKey is not null)
            list.Add(new("INSERT INTO commands (idempotency_key, reference, result, created_at) VALUES (@key, @reference, @result, @at)",
                [("key", b.IdempotencyKey), ("reference", b.Reference), ("result", b.Result ?? "{}"), ("at", now)]));

        var lastSeq = b.Events.Count > 0 ? b.Events[^1].Seq : (long?)null;
        if (b.ExpectedVersion == 0)
            list.Add(new(
                "INSERT INTO instances (reference, type, status, completed, summary, state, version, last_seq, next_due_at, created_at, updated_at) " +
                "VALUES (@Reference, @Type, @Status, @Completed, @Summary, @State, 1, @lastSeq, NULL, @now, @now)",
                [("Reference", b.Reference), ("Type", b.Type), ("Status", b.Status), ("Completed", b.Completed), ("Summary", b.Summary), ("State", b.State),
                 ("lastSeq", lastSeq ?? 0), ("now", now)]));
        else
            list.Add(new(
                "UPDATE instances SET status = @Status, completed = @Completed, summary = @Summary, state = @State, version = version + 1, " +
                "last_seq = " + (lastSeq is null ? "last_seq" : "@lastSeq") + ", updated_at = @now WHERE reference = @Reference AND version = @ExpectedVersion",
                [("Status", b.Status), ("Completed", b.Completed), ("Summary", b.Summary), ("State", b.State), ("lastSeq", lastSeq ?? 0), ("now", now),
                 ("Reference", b.Reference), ("ExpectedVersion", b.ExpectedVersion)], Expect.OneRowOrConflict));

        foreach (var e in b.Events)
            list.Add(new("INSERT INTO events (reference, seq, type, data, actor_id, actor_role, at) VALUES (@Reference, @Seq, @Type, @Data, @ActorId, @ActorRole, @At)",
                [("Reference", b.Reference), ("Seq", e.Seq), ("Type", e.Type), ("Data", e.Data), ("ActorId", e.Actor.Id), ("ActorRole", e.Actor.Role), ("At", T(e.At))]));

        if (b.ConsumeTimerId is { } consumed)
            // Only a timer due at this transition's now is consumed: a clock that stepped back never fires one early.
            list.Add(new("DELETE FROM timers WHERE id = @id AND due_at <= @now", [("id", consumed.ToString()), ("now", T(b.Now))], Expect.OneRowOrStaleTimer));
        if (b.CancelAllTimers)
            list.Add(new("DELETE FROM timers WHERE reference = @Reference", [("Reference", b.Reference)]));
        foreach (var name in b.CancelTimers)
            list.Add(new("DELETE FROM timers WHERE reference = @Reference AND name = @name", [("Reference", b.Reference), ("name", name)]));
        foreach (var t in b.SetTimers)
            list.Add(new(
                "INSERT INTO timers (id, reference, name, due_at, lease_owner, lease_until) VALUES (@id, @Reference, @Name, @due, NULL, NULL) " +
                "ON CONFLICT (reference, name) DO UPDATE SET id = excluded.id, due_at = excluded.due_at, lease_owner = NULL, lease_until = NULL",
                [("id", t.Id.ToString()), ("Reference", b.Reference), ("Name", t.Name), ("due", T(t.DueAt))]));
        if (b.SetTimers.Count > 0 || b.CancelTimers.Count > 0 || b.ConsumeTimerId is not null || b.CancelAllTimers || b.ExpectedVersion == 0)
            list.Add(new("UPDATE instances SET next_due_at = (SELECT MIN(due_at) FROM timers WHERE reference = @Reference) WHERE reference = @Reference",
                [("Reference", b.Reference)]));

        if (b.Asks is not null)
        {
            list.Add(new("DELETE FROM asks WHERE reference = @Reference", [("Reference", b.Reference)]));
            foreach (var a in b.Asks)
                list.Add(new(
                    "INSERT INTO asks (reference, recipient_id, action, recipient_role, prompt, deadline_at, email, mobile, fields) " +
                    "VALUES (@Reference, @RecipientId, @Action, @RecipientRole, @Prompt, @deadline, @Email, @Mobile, @fields)",
                    [("Reference", b.Reference), ("RecipientId", a.RecipientId), ("Action", a.Action), ("RecipientRole", a.RecipientRole), ("Prompt", a.Prompt),
                     ("deadline", a.Deadline is { } d ? T(d) : null), ("Email", a.Email), ("Mobile", a.Mobile),
                     ("fields", JsonSerializer.Serialize(a.Fields ?? [], Json))]));
        }

        foreach (var m in b.Messages)
            list.Add(new(
                "INSERT INTO outbox (id, reference, channel, recipient, recipient_id, purpose, subject, body, html_body, links, status, attempts, next_attempt_at, created_at) " +
                "VALUES (@id, @Reference, @channel, @To, @RecipientId, @Purpose, @Subject, @Body, @HtmlBody, @links, 0, 0, @at, @at)",
                [("id", m.Id.ToString()), ("Reference", m.Reference), ("channel", (int)m.Channel), ("To", m.To), ("RecipientId", m.RecipientId), ("Purpose", m.Purpose),
                 ("Subject", m.Subject), ("Body", m.Body), ("HtmlBody", m.HtmlBody), ("links", JsonSerializer.Serialize(m.Links, Json)), ("at", T(m.NextAttemptAt))]));

        if (b.FailMessageId is { } failed)
            list.Add(new("UPDATE outbox SET status = 3, attempts = attempts + 1, last_error = @error, lease_owner = NULL, lease_until = NULL WHERE id = @id",
                [("id", failed.ToString()), ("error", b.FailError)]));
        return list;
    }

    public async Task<IReadOnlyList<InstanceRow>> ListInstancesAsync(InstanceFilter f, Instant now, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var where = new List<string>();
        if (f.Type is not null) where.Add("type = @Type");
        if (f.Status is not null) where.Add("status = @Status");
        if (f.Completed is { } done) where.Add(done ? "completed = @True" : "completed = @False");
        if (f.Overdue == true) where.Add("next_due_at IS NOT NULL AND next_due_at <= @now");
        var sql = $"SELECT {InstanceColumns} FROM instances" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") +
                  " ORDER BY CASE WHEN next_due_at IS NULL THEN 1 ELSE 0 END, next_due_at, created_at DESC LIMIT @Limit";
        var rows = await c.QueryAsync<InstanceDb>(new CommandDefinition(sql, new { f.Type, f.Status, f.Limit, now = T(now), True = true, False = false }, cancellationToken: ct));
        return rows.Select(r => r.ToRow()).ToList();
    }

    public async Task<IReadOnlyList<TimelineEntry>> GetTimelineAsync(string reference, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var rows = await c.QueryAsync<(long Seq, string Type, string Data, string ActorId, string ActorRole, long At)>(new CommandDefinition(
            "SELECT seq, type, data, actor_id, actor_role, at FROM events WHERE reference = @reference ORDER BY seq", new { reference }, cancellationToken: ct));
        return rows.Select(r => new TimelineEntry(r.Seq, r.Type, r.Data, r.ActorId, r.ActorRole, I(r.At))).ToList();
    }

    // ---------- timers ----------

    public async Task<IReadOnlyList<ClaimedTimer>> ClaimDueTimersAsync(Instant now, int max, string owner, Duration lease, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        var rows = await c.QueryAsync<(string Id, string Reference, string Name, long DueAt)>(new CommandDefinition(
            ClaimTimersSql, new { now = T(now), max, owner, until = T(now + lease) }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return rows.Select(r => new ClaimedTimer(Guid.Parse(r.Id), r.Reference, r.Name, I(r.DueAt))).OrderBy(t => t.DueAt).ToList();
    }

    public async Task DeferTimerAsync(Guid id, Instant until, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await c.ExecuteAsync(new CommandDefinition("UPDATE timers SET lease_until = @until WHERE id = @id", new { id = id.ToString(), until = T(until) }, cancellationToken: ct));
    }

    public async Task<Instant?> NextTimerDueAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return I(await c.ExecuteScalarAsync<long?>(new CommandDefinition("SELECT MIN(due_at) FROM timers", cancellationToken: ct)));
    }

    public async Task<IReadOnlyList<TimerRow>> GetTimersAsync(string reference, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var rows = await c.QueryAsync<(string Id, string Reference, string Name, long DueAt)>(new CommandDefinition(
            "SELECT id, reference, name, due_at FROM timers WHERE reference = @reference ORDER BY due_at", new { reference }, cancellationToken: ct));
        return rows.Select(r => new TimerRow(Guid.Parse(r.Id), r.Reference, r.Name, I(r.DueAt))).ToList();
    }

    // ---------- outbox ----------

    protected const string OutboxColumns =
        "id, reference, channel, recipient, recipient_id, purpose, subject, body, html_body, links, status, attempts, next_attempt_at, created_at, provider, provider_message_id, sent_at, last_error, delivery_status";

    private sealed class OutboxDb
    {
        public string id = ""; public string reference = ""; public int channel; public string recipient = ""; public string? recipient_id;
        public string purpose = ""; public string subject = ""; public string body = ""; public string? html_body; public string links = "[]";
        public int status; public int attempts; public long next_attempt_at; public long created_at; public string? provider;
        public string? provider_message_id; public long? sent_at; public string? last_error; public string? delivery_status;

        public OutboxMessage ToMessage() => new(Guid.Parse(id), reference, (MessageChannel)channel, recipient, recipient_id, purpose, subject, body, html_body,
            JsonSerializer.Deserialize<string[]>(links, Json) ?? [], (OutboxStatus)status, attempts, I(next_attempt_at), I(created_at),
            provider, provider_message_id, I(sent_at), last_error, delivery_status);
    }
#pragma warning restore CS0649

    public async Task<IReadOnlyList<OutboxMessage>> ClaimOutboxAsync(Instant now, int max, string owner, Duration lease, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        var rows = await c.QueryAsync<OutboxDb>(new CommandDefinition(
            ClaimOutboxSql, new { now = T(now), max, owner, until = T(now + lease) }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return rows.Select(r => r.ToMessage()).OrderBy(m => m.NextAttemptAt).ToList();
    }

    public async Task<Instant?> NextOutboxDueAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return I(await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MIN(CASE WHEN status = 0 THEN next_attempt_at ELSE lease_until END) FROM outbox WHERE status IN (0, 1)", cancellationToken: ct)));
    }

    public async Task MarkSentAsync(Guid id, string owner, string provider, string providerMessageId, Instant sentAt, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE outbox SET status = 2, attempts = attempts + 1, provider = @provider, provider_message_id = @providerMessageId, sent_at = @at, " +
            "lease_owner = NULL, lease_until = NULL, last_error = NULL WHERE id = @id AND status = 1",
            new { id = id.ToString(), provider, providerMessageId, at = T(sentAt) }, cancellationToken: ct));
    }

    public async Task MarkRetryAsync(Guid id, string owner, int attempts, Instant nextAttemptAt, string error, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE outbox SET status = 0, attempts = @attempts, next_attempt_at = @next, last_error = @error, lease_owner = NULL, lease_until = NULL " +
            "WHERE id = @id AND status = 1 AND lease_owner = @owner",
            new { id = id.ToString(), attempts, next = T(nextAttemptAt), error, owner }, cancellationToken: ct));
    }

    /// <summary>
    /// An orchestration's message (the SendMessage activity): logged as in flight with a lease that never runs out, so
    /// the outbox dispatcher never takes it; a retry of the same message finds it there and writes nothing.
    /// </summary>
    public async Task LogMessageAsync(OutboxMessage m, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO outbox (id, reference, channel, recipient, recipient_id, purpose, subject, body, html_body, links, status, attempts, next_attempt_at, lease_owner, lease_until, created_at) " +
            "VALUES (@id, @Reference, @channel, @To, @RecipientId, @Purpose, @Subject, @Body, @HtmlBody, @links, 1, 0, @at, 'orchestration', @forever, @at) ON CONFLICT (id) DO NOTHING",
            new
            {
                id = m.Id.ToString(), m.Reference, channel = (int)m.Channel, m.To, m.RecipientId, m.Purpose, m.Subject, m.Body, m.HtmlBody,
                links = JsonSerializer.Serialize(m.Links, Json), at = T(m.CreatedAt), forever = long.MaxValue,
            }, cancellationToken: ct));
    }

    /// <summary>An orchestration's send attempt failed: counted, with its error; failed for good after <paramref name="maxAttempts"/> or when permanent.</summary>
    public async Task<int> MarkAttemptFailedAsync(Guid id, string error, bool permanent, int maxAttempts, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        return await c.ExecuteScalarAsync<int>(new CommandDefinition(
            "UPDATE outbox SET attempts = attempts + 1, last_error = @error, " +
            "status = CASE WHEN @permanent OR attempts + 1 >= @max THEN 3 ELSE status END, " +
            "lease_until = CASE WHEN @permanent OR attempts + 1 >= @max THEN NULL ELSE lease_until END " +
            "WHERE id = @id AND status = 1 RETURNING attempts",
            new { id = id.ToString(), error, permanent, max = maxAttempts }, cancellationToken: ct));
    }

    public async Task<bool> MarkDeliveryFailedAsync(Guid id, string error, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition("UPDATE outbox SET status = 3, last_error = @error WHERE id = @id AND status <> 3",
            new { id = id.ToString(), error }, cancellationToken: ct)) == 1;
    }

    public async Task<OutboxMessage?> GetMessageAsync(Guid id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<OutboxDb>(new CommandDefinition(
            $"SELECT {OutboxColumns} FROM outbox WHERE id = @id", new { id = id.ToString() }, cancellationToken: ct));
        return row?.ToMessage();
    }

    public async Task<bool> ReopenFailedMessageAsync(Guid id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(
            "UPDATE outbox SET status = 1, lease_owner = NULL, lease_until = NULL WHERE id = @id AND status = 3",
            new { id = id.ToString() }, cancellationToken: ct)) == 1;
    }

    public async Task UpdateDeliveryStatusAsync(string provider, string providerMessageId, string deliveryStatus, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE outbox SET delivery_status = @deliveryStatus WHERE provider = @provider AND provider_message_id = @providerMessageId",
            new { provider, providerMessageId, deliveryStatus }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<OutboxMessage>> GetMessagesAsync(string? reference = null, string? to = null, string? provider = null, OutboxStatus? status = null, int limit = 500, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var where = new List<string>();
        if (reference is not null) where.Add("reference = @reference");
        if (to is not null) where.Add("recipient = @to");
        if (provider is not null) where.Add("provider = @provider");
        if (status is not null) where.Add("status = @status");
        var sql = $"SELECT {OutboxColumns} FROM outbox" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY created_at, id LIMIT @limit";
        var rows = await c.QueryAsync<OutboxDb>(new CommandDefinition(sql, new { reference, to, provider, status = (int?)status, limit }, cancellationToken: ct));
        return rows.Select(r => r.ToMessage()).ToList();
    }

    // ---------- asks ----------

    public async Task<IReadOnlyList<AskRow>> FindAsksAsync(string? reference = null, string? recipientId = null, string? email = null, string? mobile = null, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var where = new List<string>();
        if (reference is not null) where.Add("reference = @reference");
        if (recipientId is not null) where.Add("recipient_id = @recipientId");
        if (email is not null) where.Add("LOWER(email) = LOWER(@email)");
        if (mobile is not null) where.Add("mobile = @mobile");
        var sql = "SELECT reference, recipient_id, action, recipient_role, prompt, deadline_at, email, mobile, fields FROM asks" +
                  (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY reference, recipient_id, action LIMIT 1000";
        var rows = await c.QueryAsync<AskDb>(new CommandDefinition(sql, new { reference, recipientId, email, mobile }, cancellationToken: ct));
        return rows.Select(r => new AskRow(r.reference, new OpenAsk(r.recipient_id, r.action, r.prompt, I(r.deadline_at), r.email, r.mobile, r.recipient_role,
            JsonSerializer.Deserialize<AskField[]>(r.fields, Json)))).ToList();
    }

#pragma warning disable CS0649 // assigned by Dapper
    private sealed class AskDb
    {
        public string reference = ""; public string recipient_id = ""; public string action = ""; public string recipient_role = ""; public string prompt = "";
        public long? deadline_at; public string? email; public string? mobile; public string fields = "[]";
    }
#pragma warning restore CS0649

    // ---------- documents ----------

    public async Task<string?> GetDocumentAsync(string key, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<string>(new CommandDefinition("SELECT value FROM documents WHERE key = @key", new { key }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<(string Key, string Value)>> ListDocumentsAsync(string keyPrefix, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        // substr, not LIKE: a prefix holding % or _ matches itself only.
        var rows = await c.QueryAsync<(string Key, string Value)>(new CommandDefinition(
            "SELECT key, value FROM documents WHERE substr(key, 1, @n) = @keyPrefix", new { keyPrefix, n = keyPrefix.Length }, cancellationToken: ct));
        // Ordinal order whatever the database's collation (the same order on every store).
        return rows.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
    }

    public async Task PutDocumentAsync(string key, string value, Instant now, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO documents (key, value, updated_at) VALUES (@key, @value, @at) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            new { key, value, at = T(now) }, cancellationToken: ct));
    }
}
