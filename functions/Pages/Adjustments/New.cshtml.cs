using System.Globalization;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace CareWorkflows.Functions.Pages.Adjustments;

/// <summary>
/// A provider proposes a trusted-assessor adjustment (B 4.2.7–4.2.9, App G) to one of its own packages, with one of its
/// own assessors: the body of POST /api/ta-adjustments, checked by the same code (ProposeAdjustmentAsync).
/// </summary>
[Authorize(Roles = Roles.Provider)]
public sealed class NewModel(WorkflowRuntime runtime, ITrustedAssessorDirectory directory) : CareWorkflowsPage
{
    public sealed class AdjustmentForm
    {
        public string? PackageId { get; set; }
        public string? AssessorId { get; set; }
        public string? ProposedWeeklyHours { get; set; }
        public string? EffectiveDate { get; set; }
        public string? PersonAgreed { get; set; }
        public string? AgreedBy { get; set; }
        public string? Goals { get; set; }
        public string? Rationale { get; set; }
        public string? Evidence { get; set; }
        public string? FormId { get; set; }
    }

    [BindProperty] public AdjustmentForm Input { get; set; } = new();
    public IReadOnlyList<CarePackageRecord> Packages { get; private set; } = [];
    public IReadOnlyList<TrustedAssessorRecord> Assessors { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!await LoadAsync(ct)) return Forbid();
        Input.FormId = Guid.NewGuid().ToString("N");
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!await LoadAsync(ct)) return Forbid();
        var f = Input;
        var package = Packages.FirstOrDefault(p => p.Id == f.PackageId);
        if (package is null) ModelState.AddModelError("packageId", "Choose one of your packages.");
        decimal? proposed = null;
        if (!string.IsNullOrWhiteSpace(f.ProposedWeeklyHours))
        {
            if (decimal.TryParse(f.ProposedWeeklyHours.Trim(), NumberStyles.Number, CultureInfo.InvariantCulture, out var h)) proposed = h;
            else ModelState.AddModelError("proposedWeeklyHours", "Enter the hours as a number, e.g. 12.5.");
        }
        NodaTime.LocalDate? effective = null;
        if (!string.IsNullOrWhiteSpace(f.EffectiveDate))
        {
            if (NodaTime.Text.LocalDatePattern.Iso.Parse(f.EffectiveDate.Trim()) is { Success: true } d) effective = d.Value;
            else ModelState.AddModelError("effectiveDate", "Enter the date, e.g. 2026-12-01.");
        }
        if (!ModelState.IsValid) { Response.StatusCode = 422; return Page(); }
        var body = new ProposeAdjustmentRequest(package!.Id, string.IsNullOrWhiteSpace(f.AssessorId) ? null : f.AssessorId, package.WeeklyHours, proposed, effective,
            f.PersonAgreed switch { "yes" => true, "no" => false, _ => null }, f.AgreedBy, f.Goals, f.Rationale, f.Evidence, null, null);
        var r = await TrustedAssessorAdjustmentsApi.ProposeAdjustmentAsync(body, Actor, FormKey(f.FormId, "ta"), runtime, directory, ct);
        if (r.Errors is not null) { AddErrors(r.Errors); Response.StatusCode = 422; return Page(); }
        if (r.Refusal is { } no) { ModelState.AddModelError("", no.Detail); Response.StatusCode = no.Status; return Page(); }
        await PackageHours.SyncAsync(r.Reference!, runtime, directory, ct);
        TempData["Notice"] = $"Adjustment {r.Reference} is proposed.";
        return Redirect($"/instances/{r.Reference}");
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        if (Actor.ProviderId is not { Length: > 0 } own) return false;
        Packages = await directory.ListPackagesAsync(own, ct);
        Assessors = await directory.ListAssessorsAsync(own, ct);
        return true;
    }
}
