using Azure;
using Azure.Data.Tables;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Runtime.Tables;

/// <summary>
/// Inbound replies in Table storage.
/// Table <c>{prefix}Inbound</c>: PartitionKey = the provider (Twilio, Notify, SendGrid), RowKey = the provider's message
/// id (both <see cref="TableKeys.ForLookup"/>: email Message-IDs may hold / # ?); properties as
/// <see cref="InboundMessage"/>, Body in parts (<see cref="TableText"/>), ReceivedAt in Unix ticks. (provider, id) is the uniqueness the dedupe needs, so a
/// redelivered webhook's insert is refused with 409 and reads the stored row. A partition holds one provider's replies:
/// far below a partition's 2,000 operations a second. <see cref="GetInboundAsync"/> (operators, tests) scans the table
/// with a filter on Reference; nothing on the reply path does.
/// </summary>
public sealed class TableInboundStore(ServiceTables tables) : IInboundStore
{
    public async Task<(bool Inserted, InboundMessage Stored)> RecordInboundAsync(InboundMessage m, CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Inbound, ct);
        var entity = ToEntity(m);
        try
        {
            await table.AddEntityAsync(entity, ct);
            return (true, m);
        }
        catch (RequestFailedException e) when (TableStatus.IsConflict(e))
        {
            var stored = await table.GetEntityAsync<TableEntity>(entity.PartitionKey, entity.RowKey, cancellationToken: ct);
            return (false, ToMessage(stored.Value));
        }
    }

    public async Task SetInboundOutcomeAsync(string provider, string providerMessageId, string? reference, string outcome, string? reply, CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Inbound, ct);
        var (pk, rk) = (TableKeys.ForLookup(provider), TableKeys.ForLookup(providerMessageId));
        // Read, change, replace with the ETag read: a null reference or reply must clear the stored one (a merge would keep
        // it), and a concurrent change makes us read again rather than overwrite it.
        for (var attempt = 1; ; attempt++)
        {
            var found = await table.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: ct);
            if (!found.HasValue) return; // as on SQL: an outcome for a message never recorded changes nothing
            var entity = ToEntity(ToMessage(found.Value!) with { Reference = reference, Outcome = outcome, Reply = reply });
            try
            {
                await table.UpdateEntityAsync(entity, found.Value!.ETag, TableUpdateMode.Replace, ct);
                return;
            }
            catch (RequestFailedException e) when (TableStatus.IsPreconditionFailed(e) && attempt < 5) { }
        }
    }

    public async Task<IReadOnlyList<InboundMessage>> GetInboundAsync(string? reference = null, int limit = 500, CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Inbound, ct);
        var filter = reference is null ? null : TableClient.CreateQueryFilter($"Reference eq {reference}");
        var list = new List<InboundMessage>();
        await foreach (var e in table.QueryAsync<TableEntity>(filter, cancellationToken: ct)) list.Add(ToMessage(e));
        return list.OrderBy(m => m.ReceivedAt).ThenBy(m => m.ProviderMessageId, StringComparer.Ordinal).Take(limit).ToList();
    }

    private static TableEntity ToEntity(InboundMessage m)
    {
        var entity = new TableEntity(TableKeys.ForLookup(m.Provider), TableKeys.ForLookup(m.ProviderMessageId))
        {
            ["Provider"] = m.Provider, ["ProviderMessageId"] = m.ProviderMessageId, ["Channel"] = (int)m.Channel, ["Sender"] = m.Sender,
            ["ReceivedAt"] = m.ReceivedAt.ToUnixTimeTicks(), ["Reference"] = m.Reference, ["Outcome"] = m.Outcome, ["Reply"] = m.Reply,
        };
        TableText.Write(entity, "Body", m.Body);
        return entity;
    }

    private static InboundMessage ToMessage(TableEntity e) => new(
        e.GetString("Provider"), e.GetString("ProviderMessageId"), (MessageChannel)(e.GetInt32("Channel") ?? 0), e.GetString("Sender") ?? "", TableText.Read(e, "Body"),
        Instant.FromUnixTimeTicks(e.GetInt64("ReceivedAt") ?? 0), e.GetString("Reference"), e.GetString("Outcome") ?? InboundOutcomes.Received, e.GetString("Reply"));
}
