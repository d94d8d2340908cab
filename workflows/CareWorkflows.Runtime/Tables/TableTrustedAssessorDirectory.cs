using Azure;
using Azure.Data.Tables;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Runtime.Tables;

/// <summary>
/// The trusted-assessor registry in Table storage.
/// Table <c>{prefix}TrustedAssessors</c>: PartitionKey <c>assessor</c>, RowKey = the assessor id; PartitionKey
/// <c>package</c>, RowKey = the package id (both <see cref="TableKeys.ForLookup"/>). Properties as the records; hours
/// as whole hundredths (Int64, exact), times in Unix ticks. A council has hundreds of assessors and a few thousand
/// packages: a partition each, lists by provider are one partition scan filtered on ProviderId.
/// Upserts never read first: AddEntity, and on 409 a merge of the fields an upsert may change (CreatedAt and a package's
/// adjustment link are left as they are). The two conditional writes, <see cref="ClaimPackageAsync"/> and
/// <see cref="SetPackageHoursFromAdjustmentAsync"/>, read the package and replace it with the ETag they read, so an
/// adjustment that took the package over in between makes them read again rather than overwrite that adjustment.
/// </summary>
public sealed class TableTrustedAssessorDirectory(ServiceTables tables) : ITrustedAssessorDirectory
{
    private const string AssessorPartition = "assessor";
    private const string PackagePartition = "package";

    /// <summary>Test seam: runs between the read and the conditional write of <see cref="ClaimPackageAsync"/> and <see cref="SetPackageHoursFromAdjustmentAsync"/>.</summary>
    internal Func<Task>? BetweenReadAndWrite { get; set; }

    private Task<TableClient> TableAsync(CancellationToken ct) => tables.TableAsync(ServiceTables.TrustedAssessors, ct);

    // ---------- assessors ----------

    public async Task<bool> UpsertAssessorAsync(TrustedAssessorRecord a, CancellationToken ct = default)
    {
        var table = await TableAsync(ct);
        if (await TryAddAsync(table, ToEntity(a), ct)) return true;
        var changes = ToEntity(a);
        changes.Remove("CreatedAt");
        await table.UpdateEntityAsync(changes, ETag.All, TableUpdateMode.Merge, ct);
        return false;
    }

    public async Task<bool> InsertAssessorIfMissingAsync(TrustedAssessorRecord a, CancellationToken ct = default) =>
        await TryAddAsync(await TableAsync(ct), ToEntity(a), ct);

    public async Task<TrustedAssessorRecord?> GetAssessorAsync(string id, CancellationToken ct = default)
    {
        var found = await (await TableAsync(ct)).GetEntityIfExistsAsync<TableEntity>(AssessorPartition, TableKeys.ForLookup(id), cancellationToken: ct);
        return found.HasValue ? ToAssessor(found.Value!) : null;
    }

    public async Task<IReadOnlyList<TrustedAssessorRecord>> ListAssessorsAsync(string? providerId = null, CancellationToken ct = default)
    {
        var list = new List<TrustedAssessorRecord>();
        await foreach (var e in (await TableAsync(ct)).QueryAsync<TableEntity>(Filter(AssessorPartition, providerId), cancellationToken: ct)) list.Add(ToAssessor(e));
        return list.OrderBy(a => a.ProviderId, StringComparer.Ordinal).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
    }

    // ---------- packages ----------

    public async Task<bool> UpsertPackageAsync(CarePackageRecord p, CancellationToken ct = default)
    {
        var table = await TableAsync(ct);
        var entity = ToEntity(p with { AdjustmentReference = null });
        if (await TryAddAsync(table, entity, ct)) return true;
        entity.Remove("CreatedAt");
        entity.Remove("AdjustmentReference"); // the link stays with whichever adjustment owns the package
        await table.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Merge, ct);
        return false;
    }

    public async Task<bool> InsertPackageIfMissingAsync(CarePackageRecord p, CancellationToken ct = default) =>
        await TryAddAsync(await TableAsync(ct), ToEntity(p with { AdjustmentReference = null }), ct);

    public async Task<CarePackageRecord?> GetPackageAsync(string id, CancellationToken ct = default)
    {
        var found = await (await TableAsync(ct)).GetEntityIfExistsAsync<TableEntity>(PackagePartition, TableKeys.ForLookup(id), cancellationToken: ct);
        return found.HasValue ? ToPackage(found.Value!) : null;
    }

    public async Task<IReadOnlyList<CarePackageRecord>> ListPackagesAsync(string? providerId = null, CancellationToken ct = default)
    {
        var list = new List<CarePackageRecord>();
        await foreach (var e in (await TableAsync(ct)).QueryAsync<TableEntity>(Filter(PackagePartition, providerId), cancellationToken: ct)) list.Add(ToPackage(e));
        return list.OrderBy(p => p.ProviderId, StringComparer.Ordinal).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
    }

    public async Task<bool> LinkPackageAdjustmentAsync(string packageId, string reference, decimal weeklyHours, Instant at, CancellationToken ct = default)
    {
        var change = new TableEntity(PackagePartition, TableKeys.ForLookup(packageId))
        {
            ["AdjustmentReference"] = reference, ["WeeklyHoursCenti"] = WeeklyHours.ToCenti(weeklyHours), ["UpdatedAt"] = at.ToUnixTimeTicks(),
        };
        try
        {
            await (await TableAsync(ct)).UpdateEntityAsync(change, ETag.All, TableUpdateMode.Merge, ct);
            return true;
        }
        catch (RequestFailedException e) when (TableStatus.IsNotFound(e)) { return false; }
    }

    public async Task<bool> ClaimPackageAsync(string packageId, string reference, string? expectedReference, decimal expectedHours, decimal weeklyHours, Instant at,
        CancellationToken ct = default)
    {
        var table = await TableAsync(ct);
        for (var attempt = 1; ; attempt++)
        {
            var found = await table.GetEntityIfExistsAsync<TableEntity>(PackagePartition, TableKeys.ForLookup(packageId), cancellationToken: ct);
            if (!found.HasValue) return false;
            var package = found.Value!;
            var owner = package.GetString("AdjustmentReference");
            if (owner == reference) return true; // claimed already (a retried claim)
            if ((owner ?? "") != (expectedReference ?? "") || package.GetInt64("WeeklyHoursCenti") != WeeklyHours.ToCenti(expectedHours)) return false;
            if (BetweenReadAndWrite is { } seam) await seam();
            package["AdjustmentReference"] = reference;
            package["WeeklyHoursCenti"] = WeeklyHours.ToCenti(weeklyHours);
            package["UpdatedAt"] = at.ToUnixTimeTicks();
            try
            {
                // First writer wins: the ETag read must still be the package's, or another claim got there first and this one reads again.
                await table.UpdateEntityAsync(package, package.ETag, TableUpdateMode.Replace, ct);
                return true;
            }
            catch (RequestFailedException e) when (TableStatus.IsPreconditionFailed(e) && attempt < 5) { }
        }
    }

    public async Task<bool> SetPackageHoursFromAdjustmentAsync(string packageId, string reference, decimal weeklyHours, Instant at, CancellationToken ct = default)
    {
        var centi = WeeklyHours.ToCenti(weeklyHours);
        var table = await TableAsync(ct);
        for (var attempt = 1; ; attempt++)
        {
            var found = await table.GetEntityIfExistsAsync<TableEntity>(PackagePartition, TableKeys.ForLookup(packageId), cancellationToken: ct);
            if (!found.HasValue) return false;
            var package = found.Value!;
            // As on SQL: only while this adjustment owns the package, and only when the hours change.
            if (package.GetString("AdjustmentReference") != reference || package.GetInt64("WeeklyHoursCenti") == centi) return false;
            if (BetweenReadAndWrite is { } seam) await seam();
            package["WeeklyHoursCenti"] = centi;
            package["UpdatedAt"] = at.ToUnixTimeTicks();
            try
            {
                await table.UpdateEntityAsync(package, package.ETag, TableUpdateMode.Replace, ct);
                return true;
            }
            catch (RequestFailedException e) when (TableStatus.IsPreconditionFailed(e) && attempt < 5) { }
        }
    }

    // ---------- mapping ----------

    private static async Task<bool> TryAddAsync(TableClient table, TableEntity entity, CancellationToken ct)
    {
        try
        {
            await table.AddEntityAsync(entity, ct);
            return true;
        }
        catch (RequestFailedException e) when (TableStatus.IsConflict(e)) { return false; }
    }

    private static string Filter(string partition, string? providerId) => providerId is null
        ? TableClient.CreateQueryFilter($"PartitionKey eq {partition}")
        : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and ProviderId eq {providerId}");

    private static TableEntity ToEntity(TrustedAssessorRecord a) => new(AssessorPartition, TableKeys.ForLookup(a.Id))
    {
        ["Id"] = a.Id, ["ProviderId"] = a.ProviderId, ["Name"] = a.Name, ["Email"] = a.Email, ["LbbTrainingCompleted"] = a.LbbTrainingCompleted,
        ["DiplomaLevel"] = a.DiplomaLevel, ["Active"] = a.Active, ["CreatedAt"] = a.CreatedAt.ToUnixTimeTicks(), ["UpdatedAt"] = a.UpdatedAt.ToUnixTimeTicks(),
    };

    private static TrustedAssessorRecord ToAssessor(TableEntity e) => new(
        e.GetString("Id"), e.GetString("ProviderId"), e.GetString("Name") ?? "", e.GetString("Email") ?? "", e.GetBoolean("LbbTrainingCompleted") ?? false,
        e.GetInt32("DiplomaLevel") ?? 0, e.GetBoolean("Active") ?? false, Instant.FromUnixTimeTicks(e.GetInt64("CreatedAt") ?? 0),
        Instant.FromUnixTimeTicks(e.GetInt64("UpdatedAt") ?? 0));

    private static TableEntity ToEntity(CarePackageRecord p) => new(PackagePartition, TableKeys.ForLookup(p.Id))
    {
        ["Id"] = p.Id, ["ProviderId"] = p.ProviderId, ["WeeklyHoursCenti"] = WeeklyHours.ToCenti(p.WeeklyHours), ["LowLevel"] = p.LowLevel,
        ["MovingAndHandling"] = p.MovingAndHandling, ["AdjustmentReference"] = p.AdjustmentReference,
        ["CreatedAt"] = p.CreatedAt.ToUnixTimeTicks(), ["UpdatedAt"] = p.UpdatedAt.ToUnixTimeTicks(),
    };

    private static CarePackageRecord ToPackage(TableEntity e) => new(
        e.GetString("Id"), e.GetString("ProviderId"), (e.GetInt64("WeeklyHoursCenti") ?? 0) / 100m, e.GetBoolean("LowLevel") ?? false,
        e.GetBoolean("MovingAndHandling") ?? false, e.GetString("AdjustmentReference"), Instant.FromUnixTimeTicks(e.GetInt64("CreatedAt") ?? 0),
        Instant.FromUnixTimeTicks(e.GetInt64("UpdatedAt") ?? 0));
}
