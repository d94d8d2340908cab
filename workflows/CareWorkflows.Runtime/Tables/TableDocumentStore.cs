using Azure.Data.Tables;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Runtime.Tables;

/// <summary>
/// Documents in Table storage.
/// Table <c>{prefix}Documents</c>: PartitionKey <c>doc</c>, RowKey = the escaped key (<see cref="TableKeys.ForRange"/>);
/// properties Key (as given), Value0..n + ValueParts (<see cref="TableText"/>: up to 480,000 characters), UpdatedAt
/// (Unix ticks). One partition: the documents are few (a calendar, a key ring, dead letters), every read is a point
/// read or a RowKey range scan inside it (list by prefix), never a table scan.
/// </summary>
public sealed class TableDocumentStore(ServiceTables tables) : IDocumentStore
{
    private const string Partition = "doc";

    public async Task<string?> GetDocumentAsync(string key, CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Documents, ct);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(Partition, TableKeys.ForRange(key), cancellationToken: ct);
        return found.HasValue ? TableText.Read(found.Value!, "Value") : null;
    }

    public async Task PutDocumentAsync(string key, string value, Instant now, CancellationToken ct = default)
    {
        var entity = new TableEntity(Partition, TableKeys.ForRange(key)) { ["Key"] = key, ["UpdatedAt"] = now.ToUnixTimeTicks() };
        TableText.Write(entity, "Value", value);
        var table = await tables.TableAsync(ServiceTables.Documents, ct);
        // Replace, not merge: a shorter value leaves none of a longer one's parts behind. Last writer wins, as on SQL.
        await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct);
    }

    public async Task<IReadOnlyList<(string Key, string Value)>> ListDocumentsAsync(string keyPrefix, CancellationToken ct = default)
    {
        var from = TableKeys.Escape(keyPrefix);
        if (from.Length > TableKeys.MaxLength) return [];
        var filter = from.Length == 0 || from[^1] == char.MaxValue
            ? TableClient.CreateQueryFilter($"PartitionKey eq {Partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {from} and RowKey lt {UpperBound(from)}");
        var table = await tables.TableAsync(ServiceTables.Documents, ct);
        var list = new List<(string Key, string Value)>();
        await foreach (var e in table.QueryAsync<TableEntity>(filter, cancellationToken: ct))
        {
            var key = e.GetString("Key") ?? "";
            // The range is exact for escaped keys; checking the key as given keeps that promise whatever the service's ordering.
            if (key.StartsWith(keyPrefix, StringComparison.Ordinal)) list.Add((key, TableText.Read(e, "Value")));
        }
        return list.OrderBy(d => d.Key, StringComparer.Ordinal).ToList();
    }

    /// <summary>The smallest string above every string that starts with <paramref name="prefix"/>.</summary>
    private static string UpperBound(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);
}
