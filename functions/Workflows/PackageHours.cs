using CareWorkflows.Definitions.TrustedAssessor;
using CareWorkflows.Runtime.Store;

namespace CareWorkflows.Functions.Workflows;

/// <summary>
/// The ClaimPackage and SetPackageHours activities' work: the package's row in the trusted-assessor registry follows the
/// hours in effect of the adjustment that owns it. The orchestration is the source; the row is written only by it.
/// </summary>
public sealed class RegistryPackageHours(ITrustedAssessorDirectory directory) : IPackageHours
{
    public Task<bool> ClaimAsync(PackageClaim claim, CancellationToken ct) =>
        directory.ClaimPackageAsync(claim.PackageId, claim.Reference, claim.ExpectedReference, claim.ExpectedHours, claim.HoursInEffect, claim.At, ct);

    public Task<bool> SetAsync(PackageHoursChange change, CancellationToken ct) =>
        directory.SetPackageHoursFromAdjustmentAsync(change.PackageId, change.Reference, change.HoursInEffect, change.At, ct);
}
