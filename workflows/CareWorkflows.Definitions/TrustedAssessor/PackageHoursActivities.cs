using Microsoft.DurableTask;
using NodaTime;

namespace CareWorkflows.Definitions.TrustedAssessor;

/// <summary>
/// An adjustment takes its package (first writer wins): only while the package is still linked to
/// <see cref="ExpectedReference"/> (null: none) at <see cref="ExpectedHours"/> — the facts the proposal was checked
/// against — it is linked to <see cref="Reference"/> with <see cref="HoursInEffect"/>.
/// </summary>
public sealed record PackageClaim(string PackageId, string Reference, string? ExpectedReference, decimal ExpectedHours, decimal HoursInEffect, Instant At);

/// <summary>The package's hours in effect as adjustment <see cref="Reference"/> now has them (written only while it owns the package).</summary>
public sealed record PackageHoursChange(string PackageId, string Reference, decimal HoursInEffect, Instant At);

/// <summary>
/// The package's row in the trusted-assessor registry, as adjustments move it. The edges implement it over the registry
/// (<c>ITrustedAssessorDirectory</c>). Transient failures throw (the orchestration's retry policy tries again); both
/// operations are safe to repeat.
/// </summary>
public interface IPackageHours
{
    /// <summary>True when this adjustment now owns the package (also when it already did: a repeated claim); false when another took it first or its hours moved.</summary>
    Task<bool> ClaimAsync(PackageClaim claim, CancellationToken ct);

    /// <summary>True when the row changed.</summary>
    Task<bool> SetAsync(PackageHoursChange change, CancellationToken ct);
}

/// <summary>Links a package to the adjustment proposed for it, first writer wins (one open adjustment per package).</summary>
[DurableTask(TrustedAssessorAdjustment.ClaimPackageActivity)]
public sealed class ClaimPackage(IPackageHours hours) : TaskActivity<PackageClaim, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, PackageClaim input) => hours.ClaimAsync(input, CancellationToken.None);
}

/// <summary>Sets the package's hours in effect from the adjustment that owns it.</summary>
[DurableTask(TrustedAssessorAdjustment.SetPackageHoursActivity)]
public sealed class SetPackageHours(IPackageHours hours) : TaskActivity<PackageHoursChange, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, PackageHoursChange input) => hours.SetAsync(input, CancellationToken.None);
}
