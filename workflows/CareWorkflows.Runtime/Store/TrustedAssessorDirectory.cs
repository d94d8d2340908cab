using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>
/// A provider's trusted assessor (B 4.2.7–4.2.9). Qualified means the LBB trusted-assessor training is done and the
/// person holds at least a Level 2 diploma in care (App G.1).
/// </summary>
public sealed record TrustedAssessorRecord(string Id, string ProviderId, string Name, string Email, bool LbbTrainingCompleted, int DiplomaLevel, bool Active,
    Instant CreatedAt, Instant UpdatedAt)
{
    public const int MinimumDiplomaLevel = 2;
    public bool Qualified => LbbTrainingCompleted && DiplomaLevel >= MinimumDiplomaLevel;
}

/// <summary>
/// A care package a trusted assessor may adjust: who delivers it and its weekly hours now in effect (2 dp).
/// <see cref="AdjustmentReference"/> is the latest trusted-assessor adjustment that sets the hours.
/// </summary>
public sealed record CarePackageRecord(string Id, string ProviderId, decimal WeeklyHours, bool LowLevel, bool MovingAndHandling, string? AdjustmentReference,
    Instant CreatedAt, Instant UpdatedAt);

/// <summary>
/// The registry of trusted assessors and packages. Implemented by the SQL stores (migration 0003) and by Table storage
/// (<see cref="Tables.TableTrustedAssessorDirectory"/>).
/// </summary>
public interface ITrustedAssessorDirectory
{
    /// <summary>Adds or replaces an assessor. Returns true when it was new.</summary>
    Task<bool> UpsertAssessorAsync(TrustedAssessorRecord assessor, CancellationToken ct = default);
    Task<TrustedAssessorRecord?> GetAssessorAsync(string id, CancellationToken ct = default);
    Task<IReadOnlyList<TrustedAssessorRecord>> ListAssessorsAsync(string? providerId = null, CancellationToken ct = default);

    /// <summary>Adds or replaces a package (its adjustment link is kept). Returns true when it was new.</summary>
    Task<bool> UpsertPackageAsync(CarePackageRecord package, CancellationToken ct = default);
    /// <summary>Adds a package only if its id is unused (demo seed; a restart never resets hours).</summary>
    Task<bool> InsertPackageIfMissingAsync(CarePackageRecord package, CancellationToken ct = default);
    /// <summary>Adds an assessor only if its id is unused.</summary>
    Task<bool> InsertAssessorIfMissingAsync(TrustedAssessorRecord assessor, CancellationToken ct = default);
    Task<CarePackageRecord?> GetPackageAsync(string id, CancellationToken ct = default);
    Task<IReadOnlyList<CarePackageRecord>> ListPackagesAsync(string? providerId = null, CancellationToken ct = default);

    /// <summary>
    /// Links the package to adjustment <paramref name="reference"/> (which from now on owns its hours) and sets the hours
    /// in effect. Returns false when the package does not exist.
    /// </summary>
    Task<bool> LinkPackageAdjustmentAsync(string packageId, string reference, decimal weeklyHours, Instant at, CancellationToken ct = default);

    /// <summary>
    /// Links the package to adjustment <paramref name="reference"/> with <paramref name="weeklyHours"/>, first writer wins:
    /// only while the package is still linked to <paramref name="expectedReference"/> (null: to none) and still has
    /// <paramref name="expectedHours"/> (the facts the proposal was checked against). True when the package is now
    /// linked to <paramref name="reference"/>, also when it already was (a repeated claim changes nothing); false when
    /// another adjustment took it first, its hours moved, or it does not exist.
    /// </summary>
    Task<bool> ClaimPackageAsync(string packageId, string reference, string? expectedReference, decimal expectedHours, decimal weeklyHours, Instant at,
        CancellationToken ct = default);

    /// <summary>
    /// Sets the hours in effect from adjustment <paramref name="reference"/>, only if that adjustment still owns the package.
    /// Returns true when a row changed.
    /// </summary>
    Task<bool> SetPackageHoursFromAdjustmentAsync(string packageId, string reference, decimal weeklyHours, Instant at, CancellationToken ct = default);
}

/// <summary>Weekly hours as stored: whole hundredths (exact on every store).</summary>
internal static class WeeklyHours
{
    /// <summary>Hours to whole hundredths. Callers round to 2 dp first; anything finer is refused here rather than lost.</summary>
    public static long ToCenti(decimal hours)
    {
        var c = hours * 100m;
        if (c != decimal.Truncate(c)) throw new ArgumentException($"{hours} has more than 2 decimal places.", nameof(hours));
        return (long)c;
    }
}
