using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using CareWorkflows.Runtime.Providers;
using NodaTime;

namespace CareWorkflows.Runtime.Tables;

/// <summary>
/// The provider directory in Table storage.
/// Table <c>{prefix}Providers</c>: PartitionKey <c>provider</c>, RowKey = the provider id; PartitionKey <c>patch</c>,
/// RowKey = the patch name (both <see cref="TableKeys.ForLookup"/>). Provider properties as <see cref="ProviderRecord"/>:
/// Patches as a JSON array, Kind and CqcRating by name, WeeklyHours as invariant decimal text (exact), UpdatedAt in Unix
/// ticks. The directory is small (tens to hundreds of providers) and the rules always read it whole, so each kind is one
/// partition and each list one partition scan. An id taken is AddEntity's 409; a missing id is UpdateEntity's 404.
/// </summary>
public sealed class TableProviderDirectory(ServiceTables tables) : IProviderDirectory
{
    private const string ProviderPartition = "provider";
    private const string PatchPartition = "patch";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyList<ProviderRecord>> ListProvidersAsync(CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Providers, ct);
        var list = new List<ProviderRecord>();
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {ProviderPartition}"), cancellationToken: ct))
            list.Add(ToRecord(e));
        return list.OrderBy(p => p.Id, StringComparer.Ordinal).ToList();
    }

    public async Task<ProviderRecord?> GetProviderAsync(string id, CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Providers, ct);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(ProviderPartition, TableKeys.ForLookup(id), cancellationToken: ct);
        return found.HasValue ? ToRecord(found.Value!) : null;
    }

    public async Task<bool> AddProviderAsync(ProviderRecord provider, CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Providers, ct);
        try
        {
            await table.AddEntityAsync(ToEntity(provider), ct);
            return true;
        }
        catch (RequestFailedException e) when (TableStatus.IsConflict(e)) { return false; }
    }

    public async Task<bool> UpdateProviderAsync(ProviderRecord provider, CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Providers, ct);
        try
        {
            // ETag * : replace whatever is there, but only if something is (no upsert).
            await table.UpdateEntityAsync(ToEntity(provider), ETag.All, TableUpdateMode.Replace, ct);
            return true;
        }
        catch (RequestFailedException e) when (TableStatus.IsNotFound(e)) { return false; }
    }

    public async Task<IReadOnlyList<PatchRecord>> ListPatchesAsync(CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Providers, ct);
        var list = new List<PatchRecord>();
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {PatchPartition}"), cancellationToken: ct))
            list.Add(new PatchRecord(e.GetString("Name"), JsonSerializer.Deserialize<string[]>(e.GetString("Wards") ?? "[]", Json) ?? []));
        return list.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
    }

    public async Task PutPatchAsync(PatchRecord patch, CancellationToken ct = default)
    {
        var table = await tables.TableAsync(ServiceTables.Providers, ct);
        await table.UpsertEntityAsync(new TableEntity(PatchPartition, TableKeys.ForLookup(patch.Name))
        {
            ["Name"] = patch.Name, ["Wards"] = JsonSerializer.Serialize(patch.Wards, Json),
        }, TableUpdateMode.Replace, ct);
    }

    private static TableEntity ToEntity(ProviderRecord p) => new(ProviderPartition, TableKeys.ForLookup(p.Id))
    {
        ["Id"] = p.Id, ["Name"] = p.Name, ["Kind"] = p.Kind.ToString(), ["Patches"] = JsonSerializer.Serialize(p.Patches, Json), ["Email"] = p.Email,
        ["Mobile"] = p.Mobile, ["CqcRating"] = p.CqcRating.ToString(), ["Active"] = p.Active,
        ["WeeklyHours"] = p.WeeklyHours.ToString(CultureInfo.InvariantCulture), ["UpdatedAt"] = p.UpdatedAt.ToUnixTimeTicks(),
    };

    private static ProviderRecord ToRecord(TableEntity e) => new(
        e.GetString("Id"), e.GetString("Name") ?? "", Enum.Parse<ProviderKind>(e.GetString("Kind")!),
        JsonSerializer.Deserialize<string[]>(e.GetString("Patches") ?? "[]", Json) ?? [], e.GetString("Email") ?? "", e.GetString("Mobile") ?? "",
        Enum.Parse<CqcRating>(e.GetString("CqcRating")!), e.GetBoolean("Active") ?? false,
        decimal.Parse(e.GetString("WeeklyHours") ?? "0", NumberStyles.Number, CultureInfo.InvariantCulture), Instant.FromUnixTimeTicks(e.GetInt64("UpdatedAt") ?? 0));
}
