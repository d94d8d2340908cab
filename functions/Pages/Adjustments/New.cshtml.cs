using System.Globalization;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace CareWorkflows.Functions.Pages.Adjustments;

/// <summary>
/// A provider proposes a trusted-assessor adjustment (B 4.2.7–4.2.9, App G) to one of its own packages, with one of its
/// own assessors: the body of POST /api/ta-adjustments, checked by the same code (ProposeAdjustmentAsync) and started the same way.
/// </summary>
[Authorize(Roles = Roles.Provider)]
public sealed class NewModel(Workflows.WorkflowClient workflows, ITrustedAssessorDirectory directory, IIdempotencyStore idempotency) : CareWorkflowsPage
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

    public override IReadOnlyList<FormField> FormFields { get; } =
    [
        new("packageId", "Package", "Choose the package"),
        new("assessorId", "Trusted assessor", "Choose the trusted assessor"),
        new("proposedWeeklyHours", "Proposed weekly hours", "Enter the proposed weekly hours"),
        new("effectiveDate", "Date the change takes effect", "Enter the date the change takes effect"),
        FormField.Radios("personAgreed", "Has the person (or their representative) agreed? (B 9.8)", "yes", "Select whether the person has agreed"),
        new("agreedBy", "Agreed by (optional)", Hint: "Leave empty if the person agreed themselves."),
        new("goals", "Goals", "Enter the goals"),
        new("rationale", "Why the change", "Enter why the change is needed"),
        new("evidence", "Evidence", "Enter the evidence"),
    ];

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!await LoadAsync(ct)) return Forbid();
        var f = Input;
        void Error(string key, string message) { if (!HasError(key)) ModelState.AddModelError(key, message); }
        bool Missing(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value)) return false;
            Error(key, FieldOf(key)!.Missing!);
            return true;
        }
        // Every field at once, in form order and the page's words.
        var package = Packages.FirstOrDefault(p => p.Id == f.PackageId);
        if (!Missing("packageId", f.PackageId) && package is null) Error("packageId", "Choose one of your packages");
        if (!Missing("assessorId", f.AssessorId) && !Assessors.Any(a => a.Id == f.AssessorId)) Error("assessorId", "Choose one of your trusted assessors");
        decimal? proposed = null;
        if (!Missing("proposedWeeklyHours", f.ProposedWeeklyHours))
        {
            if (decimal.TryParse(f.ProposedWeeklyHours!.Trim(), NumberStyles.Number, CultureInfo.InvariantCulture, out var h) && h > 0) proposed = h;
            else Error("proposedWeeklyHours", "Enter the proposed weekly hours as a number more than 0, like 12.5");
        }
        NodaTime.LocalDate? effective = null;
        if (!Missing("effectiveDate", f.EffectiveDate))
        {
            if (NodaTime.Text.LocalDatePattern.Iso.Parse(f.EffectiveDate!.Trim()) is { Success: true } d) effective = d.Value;
            else Error("effectiveDate", "Enter the date the change takes effect as a real date, like 2026-12-01");
        }
        if (f.PersonAgreed is not ("yes" or "no")) Error("personAgreed", FieldOf("personAgreed")!.Missing!);
        else if (f.PersonAgreed == "no") Error("personAgreed", "A change can only be proposed once the person (or their representative) has agreed to it (B 9.8)");
        Missing("goals", f.Goals);
        Missing("rationale", f.Rationale);
        Missing("evidence", f.Evidence);
        if (!ModelState.IsValid) { Response.StatusCode = 422; return Page(); }

        var body = new ProposeAdjustmentRequest(package!.Id, f.AssessorId, package.WeeklyHours, proposed, effective,
            f.PersonAgreed == "yes", f.AgreedBy, f.Goals, f.Rationale, f.Evidence, null, null);
        var r = await TrustedAssessorAdjustmentsApi.ProposeAdjustmentAsync(body, Actor, FormKey(f.FormId, "ta"), workflows, directory, idempotency, ct);
        if (r.Errors is not null) { AddErrors(r.Errors); Response.StatusCode = 422; return Page(); }
        if (r.Refusal is { } no)
        {
            // The refusal names its field; one the form does not show (the current hours come from the package) is the package's.
            var field = no.Field is { } named && FieldOf(named) is not null ? named : no.Field is null ? "" : "packageId";
            ModelState.AddModelError(field, no.Detail);
            Response.StatusCode = (int)no.Kind;
            return Page();
        }
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
