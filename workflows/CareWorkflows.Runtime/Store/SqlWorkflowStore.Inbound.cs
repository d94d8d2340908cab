using CareWorkflows.Definitions;
using Dapper;
using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>The inbound table (migration 0004), same SQL on both stores.</summary>
public abstract partial class SqlWorkflowStore : IInboundStore, ISentMessageLookup
{
    private const string InboundColumns =
        "provider AS Provider, provider_message_id AS ProviderMessageId, channel AS Channel, sender AS Sender, body AS Body, received_at AS ReceivedAt, " +
        "reference AS Reference, outcome AS Outcome, reply AS Reply";

#pragma warning disable CS0649 // assigned by Dapper
    private sealed class InboundDb
    {
        public string Provider = ""; public string ProviderMessageId = ""; public int Channel; public string Sender = ""; public string Body = "";
        public long ReceivedAt; public string? Reference; public string Outcome = ""; public string? Reply;

        public InboundMessage ToMessage() => new(Provider, ProviderMessageId, (MessageChannel)Channel, Sender, Body, I(ReceivedAt), Reference, Outcome, Reply);
    }
#pragma warning restore CS0649

    public async Task<(bool Inserted, InboundMessage Stored)> RecordInboundAsync(InboundMessage m, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using (await WriteLockAsync(ct))
        {
            // The primary key (provider, provider_message_id) makes a redelivered webhook a no-op.
            var n = await c.ExecuteAsync(new CommandDefinition(
                "INSERT INTO inbound (provider, provider_message_id, channel, sender, body, received_at, reference, outcome, reply) " +
                "VALUES (@Provider, @ProviderMessageId, @channel, @Sender, @Body, @at, @Reference, @Outcome, @Reply) " +
                "ON CONFLICT (provider, provider_message_id) DO NOTHING",
                new { m.Provider, m.ProviderMessageId, channel = (int)m.Channel, m.Sender, m.Body, at = T(m.ReceivedAt), m.Reference, m.Outcome, m.Reply }, cancellationToken: ct));
            if (n == 1) return (true, m);
        }
        var stored = await c.QuerySingleAsync<InboundDb>(new CommandDefinition(
            $"SELECT {InboundColumns} FROM inbound WHERE provider = @Provider AND provider_message_id = @ProviderMessageId",
            new { m.Provider, m.ProviderMessageId }, cancellationToken: ct));
        return (false, stored.ToMessage());
    }

    public async Task SetInboundOutcomeAsync(string provider, string providerMessageId, string? reference, string outcome, string? reply, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE inbound SET reference = @reference, outcome = @outcome, reply = @reply WHERE provider = @provider AND provider_message_id = @providerMessageId",
            new { provider, providerMessageId, reference, outcome, reply }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<InboundMessage>> GetInboundAsync(string? reference = null, int limit = 500, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var sql = $"SELECT {InboundColumns} FROM inbound" + (reference is null ? "" : " WHERE reference = @reference") + " ORDER BY received_at, provider_message_id LIMIT @limit";
        var rows = await c.QueryAsync<InboundDb>(new CommandDefinition(sql, new { reference, limit }, cancellationToken: ct));
        return rows.Select(r => r.ToMessage()).ToList();
    }

    public async Task<OutboxMessage?> FindMessageByProviderIdAsync(string provider, string providerMessageId, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        // served by ix_outbox_provider_message
        var id = await c.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT id FROM outbox WHERE provider = @provider AND provider_message_id = @providerMessageId LIMIT 1",
            new { provider, providerMessageId }, cancellationToken: ct));
        return id is null ? null : await GetMessageAsync(Guid.Parse(id), ct);
    }
}
