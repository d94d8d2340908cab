using System.Data;
using System.Data.Common;
using System.Text.Json;
using CareWorkflows.Definitions;
using Dapper;
using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>
/// The service's own data both databases share the logic of: the message log (outbox: what orchestrations sent, with
/// delivery status), idempotency keys, documents, inbound replies, the provider and trusted-assessor directories. Each
/// store (SqliteWorkflowStore, PostgresWorkflowStore) supplies its connections and numbered migration scripts. Instances,
/// histories and timers are the Durable Task server's (CareWorkflows.TaskHub), not kept here.
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

    // ---------- outbox ----------

    protected const string OutboxColumns =
        "id, reference, channel, recipient, recipient_id, purpose, subject, body, html_body, links, status, attempts, next_attempt_at, created_at, provider, provider_message_id, sent_at, last_error, delivery_status";

#pragma warning disable CS0649 // assigned by Dapper
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

    public async Task MarkSentAsync(Guid id, string owner, string provider, string providerMessageId, Instant sentAt, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE outbox SET status = 2, attempts = attempts + 1, provider = @provider, provider_message_id = @providerMessageId, sent_at = @at, " +
            "lease_owner = NULL, lease_until = NULL, last_error = NULL WHERE id = @id AND status = 1",
            new { id = id.ToString(), provider, providerMessageId, at = T(sentAt) }, cancellationToken: ct));
    }

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
