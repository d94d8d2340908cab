using Azure;
using Azure.Data.Tables;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Runtime.Tables;

/// <summary>
/// Idempotency keys in Table storage.
/// Table <c>{prefix}Commands</c>: PartitionKey = the key (<see cref="TableKeys.ForLookup"/>), RowKey <c>result</c>;
/// properties Key, Reference, Result0..n + ResultParts, CreatedAt (Unix ticks). A partition per key: every access is a
/// point read or an insert, so the load spreads over the whole account. First writer wins through AddEntity: a second
/// insert of the same key is refused with 409 (EntityAlreadyExists) and reads the first result instead.
/// </summary>
public sealed class TableIdempotencyStore(ServiceTables tables) : IIdempotencyStore
{
    private const string Row = "result";

    public async Task<string?> FindCommandResultAsync(string idempotencyKey, CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Commands, ct);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(TableKeys.ForLookup(idempotencyKey), Row, cancellationToken: ct);
        return found.HasValue ? TableText.Read(found.Value!, "Result") : null;
    }

    public async Task<(bool Saved, string Result)> SaveCommandResultIfAbsentAsync(string idempotencyKey, string reference, string result, Instant at, CancellationToken ct = default)
    {
        var entity = new TableEntity(TableKeys.ForLookup(idempotencyKey), Row)
        {
            ["Key"] = idempotencyKey, ["Reference"] = reference, ["CreatedAt"] = at.ToUnixTimeTicks(),
        };
        TableText.Write(entity, "Result", result);
        var table = await tables.TableAsync(ServiceTables.Commands, ct);
        try
        {
            await table.AddEntityAsync(entity, ct);
            return (true, result);
        }
        catch (RequestFailedException e) when (TableStatus.IsConflict(e))
        {
            // Keys are never deleted, so the first writer's row is there to read.
            var first = await table.GetEntityAsync<TableEntity>(entity.PartitionKey, Row, cancellationToken: ct);
            return (false, TableText.Read(first.Value, "Result"));
        }
    }
}
