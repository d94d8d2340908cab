using CareWorkflows.Definitions.D2A;
using NodaTime;

namespace CareWorkflows.Runtime.Providers;

/// <summary>Patch providers serve their patches first; framework providers are offered packages borough-wide when patches cannot (B 1.5.2–1.5.3).</summary>
public enum ProviderKind { Patch = 1, Framework = 2 }

/// <summary>The provider's latest CQC rating. Inadequate and Requires Improvement get no new packages (B 14.3–14.6, M).</summary>
public enum CqcRating { Outstanding = 1, Good = 2, RequiresImprovement = 3, Inadequate = 4, NotYetRated = 5 }

/// <summary>One care provider in the directory.</summary>
/// <param name="Id">Stable id, lower-case letters, digits and dashes (also the provider_id claim of its users).</param>
/// <param name="Patches">Patch names served (patch providers); empty for framework providers.</param>
/// <param name="Mobile">E.164 mobile for SMS offers, e.g. +447700900123.</param>
/// <param name="WeeklyHours">Hours of care a week the provider already delivers (private and council work), for the ADASS cap (App A).</param>
public sealed record ProviderRecord(
    string Id,
    string Name,
    ProviderKind Kind,
    IReadOnlyList<string> Patches,
    string Email,
    string Mobile,
    CqcRating CqcRating,
    bool Active,
    decimal WeeklyHours,
    Instant UpdatedAt);

/// <summary>A patch (locality) of the borough and its wards (B 1.5.4).</summary>
public sealed record PatchRecord(string Name, IReadOnlyList<string> Wards);

/// <summary>
/// The provider directory. Implemented by the SQL stores (SqlWorkflowStore.Providers.cs) and by Table storage
/// (<see cref="Tables.TableProviderDirectory"/>).
/// </summary>
public interface IProviderDirectory
{
    Task<IReadOnlyList<ProviderRecord>> ListProvidersAsync(CancellationToken ct = default);
    Task<ProviderRecord?> GetProviderAsync(string id, CancellationToken ct = default);
    /// <summary>Adds a provider; false when the id is taken.</summary>
    Task<bool> AddProviderAsync(ProviderRecord provider, CancellationToken ct = default);
    /// <summary>Replaces a provider; false when there is no such id.</summary>
    Task<bool> UpdateProviderAsync(ProviderRecord provider, CancellationToken ct = default);
    Task<IReadOnlyList<PatchRecord>> ListPatchesAsync(CancellationToken ct = default);
    /// <summary>Adds or replaces a patch.</summary>
    Task PutPatchAsync(PatchRecord patch, CancellationToken ct = default);
}

/// <summary>Who may be offered a new package, from directory records (the ADASS cap itself is the D2A workflow's rule).</summary>
public static class ProviderEligibility
{
    /// <summary>The ADASS recommended ceiling on hours a provider delivers (App A ii; policy D2A:AdassHoursCap).</summary>
    public const decimal DefaultHoursCap = D2AReferral.Policy.DefaultAdassHoursCap;

    /// <summary>
    /// True when the provider may be offered a package of <paramref name="packageHoursPerWeek"/>: active, not rated
    /// Inadequate or Requires Improvement (B 14.5, M), and not taken over the hours cap by this package (App A ii).
    /// </summary>
    public static bool CanBeOffered(ProviderRecord p, decimal packageHoursPerWeek, decimal hoursCap = DefaultHoursCap) =>
        p.Active
        && p.CqcRating is not (CqcRating.Inadequate or CqcRating.RequiresImprovement)
        && D2AReferralRules.WithinHoursCap(p.WeeklyHours, packageHoursPerWeek, hoursCap);

    /// <summary>Eligible patch providers of <paramref name="patch"/>, in directory order.</summary>
    public static IReadOnlyList<ProviderRecord> PatchProviders(IEnumerable<ProviderRecord> all, string patch, decimal packageHoursPerWeek, decimal hoursCap = DefaultHoursCap) =>
        all.Where(p => p.Kind == ProviderKind.Patch && p.Patches.Contains(patch, StringComparer.OrdinalIgnoreCase) && CanBeOffered(p, packageHoursPerWeek, hoursCap))
           .OrderBy(p => p.Id, StringComparer.Ordinal).ToList();

    /// <summary>Eligible framework providers (borough-wide).</summary>
    public static IReadOnlyList<ProviderRecord> FrameworkProviders(IEnumerable<ProviderRecord> all, decimal packageHoursPerWeek, decimal hoursCap = DefaultHoursCap) =>
        all.Where(p => p.Kind == ProviderKind.Framework && CanBeOffered(p, packageHoursPerWeek, hoursCap))
           .OrderBy(p => p.Id, StringComparer.Ordinal).ToList();
}
