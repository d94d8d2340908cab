using Dapper;
using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>The trusted-assessor registry (tables from migration 0003). Hours are stored as whole hundredths (exact).</summary>
public abstract partial class SqlWorkflowStore : ITrustedAssessorDirectory
{
    private const string AssessorColumns =
        "id AS Id, provider_id AS ProviderId, name AS Name, email AS Email, lbb_training_completed AS LbbTrainingCompleted, diploma_level AS DiplomaLevel, " +
        "active AS Active, created_at AS CreatedAt, updated_at AS UpdatedAt";

    private const string PackageColumns =
        "id AS Id, provider_id AS ProviderId, weekly_hours_centi AS WeeklyHoursCenti, low_level AS LowLevel, moving_and_handling AS MovingAndHandling, " +
        "adjustment_reference AS AdjustmentReference, created_at AS CreatedAt, updated_at AS UpdatedAt";

#pragma warning disable CS0649 // assigned by Dapper
    private sealed class AssessorDb
    {
        public string Id = ""; public string ProviderId = ""; public string Name = ""; public string Email = ""; public bool LbbTrainingCompleted;
        public long DiplomaLevel; public bool Active; public long CreatedAt; public long UpdatedAt;
        public TrustedAssessorRecord ToRecord() => new(Id, ProviderId, Name, Email, LbbTrainingCompleted, (int)DiplomaLevel, Active, I(CreatedAt), I(UpdatedAt));
    }

    private sealed class PackageDb
    {
        public string Id = ""; public string ProviderId = ""; public long WeeklyHoursCenti; public bool LowLevel; public bool MovingAndHandling;
        public string? AdjustmentReference; public long CreatedAt; public long UpdatedAt;
        public CarePackageRecord ToRecord() => new(Id, ProviderId, WeeklyHoursCenti / 100m, LowLevel, MovingAndHandling, AdjustmentReference, I(CreatedAt), I(UpdatedAt));
    }
#pragma warning restore CS0649

    private static long Centi(decimal hours) => WeeklyHours.ToCenti(hours);

    public async Task<bool> UpsertAssessorAsync(TrustedAssessorRecord a, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        var exists = await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM trusted_assessors WHERE id = @Id", new { a.Id }, tx, cancellationToken: ct)) > 0;
        var args = new { a.Id, a.ProviderId, a.Name, a.Email, a.LbbTrainingCompleted, DiplomaLevel = (long)a.DiplomaLevel, a.Active, created = T(a.CreatedAt), updated = T(a.UpdatedAt) };
        await c.ExecuteAsync(new CommandDefinition(exists
            ? "UPDATE trusted_assessors SET provider_id = @ProviderId, name = @Name, email = @Email, lbb_training_completed = @LbbTrainingCompleted, " +
              "diploma_level = @DiplomaLevel, active = @Active, updated_at = @updated WHERE id = @Id"
            : "INSERT INTO trusted_assessors (id, provider_id, name, email, lbb_training_completed, diploma_level, active, created_at, updated_at) " +
              "VALUES (@Id, @ProviderId, @Name, @Email, @LbbTrainingCompleted, @DiplomaLevel, @Active, @created, @updated)", args, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return !exists;
    }

    public async Task<bool> InsertAssessorIfMissingAsync(TrustedAssessorRecord a, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        var n = await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO trusted_assessors (id, provider_id, name, email, lbb_training_completed, diploma_level, active, created_at, updated_at) " +
            "VALUES (@Id, @ProviderId, @Name, @Email, @LbbTrainingCompleted, @DiplomaLevel, @Active, @created, @updated) ON CONFLICT (id) DO NOTHING",
            new { a.Id, a.ProviderId, a.Name, a.Email, a.LbbTrainingCompleted, DiplomaLevel = (long)a.DiplomaLevel, a.Active, created = T(a.CreatedAt), updated = T(a.UpdatedAt) },
            cancellationToken: ct));
        return n == 1;
    }

    public async Task<TrustedAssessorRecord?> GetAssessorAsync(string id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<AssessorDb>(new CommandDefinition($"SELECT {AssessorColumns} FROM trusted_assessors WHERE id = @id", new { id }, cancellationToken: ct));
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<TrustedAssessorRecord>> ListAssessorsAsync(string? providerId = null, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var rows = await c.QueryAsync<AssessorDb>(new CommandDefinition(
            $"SELECT {AssessorColumns} FROM trusted_assessors" + (providerId is null ? "" : " WHERE provider_id = @providerId") + " ORDER BY provider_id, id",
            new { providerId }, cancellationToken: ct));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task<bool> UpsertPackageAsync(CarePackageRecord p, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        var exists = await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM care_packages WHERE id = @Id", new { p.Id }, tx, cancellationToken: ct)) > 0;
        var args = new { p.Id, p.ProviderId, hours = Centi(p.WeeklyHours), p.LowLevel, p.MovingAndHandling, created = T(p.CreatedAt), updated = T(p.UpdatedAt) };
        await c.ExecuteAsync(new CommandDefinition(exists
            ? "UPDATE care_packages SET provider_id = @ProviderId, weekly_hours_centi = @hours, low_level = @LowLevel, moving_and_handling = @MovingAndHandling, " +
              "updated_at = @updated WHERE id = @Id"
            : "INSERT INTO care_packages (id, provider_id, weekly_hours_centi, low_level, moving_and_handling, adjustment_reference, created_at, updated_at) " +
              "VALUES (@Id, @ProviderId, @hours, @LowLevel, @MovingAndHandling, NULL, @created, @updated)", args, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return !exists;
    }

    public async Task<bool> InsertPackageIfMissingAsync(CarePackageRecord p, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        var n = await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO care_packages (id, provider_id, weekly_hours_centi, low_level, moving_and_handling, adjustment_reference, created_at, updated_at) " +
            "VALUES (@Id, @ProviderId, @hours, @LowLevel, @MovingAndHandling, NULL, @created, @updated) ON CONFLICT (id) DO NOTHING",
            new { p.Id, p.ProviderId, hours = Centi(p.WeeklyHours), p.LowLevel, p.MovingAndHandling, created = T(p.CreatedAt), updated = T(p.UpdatedAt) },
            cancellationToken: ct));
        return n == 1;
    }

    public async Task<CarePackageRecord?> GetPackageAsync(string id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<PackageDb>(new CommandDefinition($"SELECT {PackageColumns} FROM care_packages WHERE id = @id", new { id }, cancellationToken: ct));
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<CarePackageRecord>> ListPackagesAsync(string? providerId = null, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var rows = await c.QueryAsync<PackageDb>(new CommandDefinition(
            $"SELECT {PackageColumns} FROM care_packages" + (providerId is null ? "" : " WHERE provider_id = @providerId") + " ORDER BY provider_id, id",
            new { providerId }, cancellationToken: ct));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task<bool> LinkPackageAdjustmentAsync(string packageId, string reference, decimal weeklyHours, Instant at, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        var n = await c.ExecuteAsync(new CommandDefinition(
            "UPDATE care_packages SET adjustment_reference = @reference, weekly_hours_centi = @hours, updated_at = @at WHERE id = @packageId",
            new { packageId, reference, hours = Centi(weeklyHours), at = T(at) }, cancellationToken: ct));
        return n == 1;
    }

    public async Task<bool> ClaimPackageAsync(string packageId, string reference, string? expectedReference, decimal expectedHours, decimal weeklyHours, Instant at,
        CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        // One statement: two claims on one package serialise on its row (PostgreSQL re-checks the WHERE on the row the first
        // one wrote), so exactly one of them matches. A claim already made by this reference matches again and changes nothing.
        var n = await c.ExecuteAsync(new CommandDefinition(
            "UPDATE care_packages SET adjustment_reference = @reference, weekly_hours_centi = CASE WHEN adjustment_reference = @reference THEN weekly_hours_centi ELSE @hours END, " +
            "updated_at = @at WHERE id = @packageId AND (adjustment_reference = @reference " +
            "OR (COALESCE(adjustment_reference, '') = @expected AND weekly_hours_centi = @expectedHours))",
            new { packageId, reference, expected = expectedReference ?? "", expectedHours = Centi(expectedHours), hours = Centi(weeklyHours), at = T(at) },
            cancellationToken: ct));
        return n == 1;
    }

    public async Task<bool> SetPackageHoursFromAdjustmentAsync(string packageId, string reference, decimal weeklyHours, Instant at, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        var n = await c.ExecuteAsync(new CommandDefinition(
            "UPDATE care_packages SET weekly_hours_centi = @hours, updated_at = @at " +
            "WHERE id = @packageId AND adjustment_reference = @reference AND weekly_hours_centi <> @hours",
            new { packageId, reference, hours = Centi(weeklyHours), at = T(at) }, cancellationToken: ct));
        return n == 1;
    }
}
