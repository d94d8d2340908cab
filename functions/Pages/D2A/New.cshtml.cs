using CareWorkflows.Definitions;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Providers;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using NodaTime;

namespace CareWorkflows.Functions.Pages.D2A;

/// <summary>
/// The Discharge Passport form (App M §5–6): the same body as POST /api/d2a/referrals, checked by the same code
/// (D2AReferralsApi.RaiseReferralAsync, then the workflow's own Validate). Errors are shown next to their fields.
/// </summary>
[Authorize(Roles = $"{Roles.DischargeTeam},{Roles.Admin}")]
public sealed class NewModel(WorkflowRuntime runtime, IProviderDirectory directory) : CareWorkflowsPage
{
    public sealed class ReferralForm
    {
        public string? PatientName { get; set; }
        public string? NhsNumber { get; set; }
        public string? NhsNumberMissingReason { get; set; }
        public string? DateOfBirth { get; set; }
        public string? Address { get; set; }
        public string? Postcode { get; set; }
        public string? Hospital { get; set; }
        public string? Ward { get; set; }
        public string? Patch { get; set; }
        public string? ExpectedDischargeAt { get; set; }
        public string? CallsPerDay { get; set; }
        public string? MinutesPerCall { get; set; }
        public string? DoubleHanded { get; set; }
        public string? NeedsSummary { get; set; }
        public string? SupportedBeforeAdmission { get; set; }
        public string? PreviousProviderId { get; set; }
        public string? ReferrerName { get; set; }
        public string? ReferrerEmail { get; set; }
        public string? ReferrerPhone { get; set; }
        public string? FormId { get; set; }
    }

    [BindProperty] public ReferralForm Input { get; set; } = new();
    public IReadOnlyList<PatchRecord> Patches { get; private set; } = [];
    public IReadOnlyList<ProviderRecord> Providers { get; private set; } = [];

    /// <summary>The workflow's checks answer in sentences; these beginnings say which field a sentence is about.</summary>
    private static readonly (string Start, string Field)[] MessageFields =
    [
        ("The patient's name", "patient.name"), ("Give the NHS number", "patient.nhsNumber"), ("The NHS number", "patient.nhsNumber"),
        ("The date of birth", "patient.dateOfBirth"), ("The address", "patient.address"), ("The postcode", "patient.postcode"),
        ("The hospital", "hospital"), ("The ward", "ward"), ("The patch", "patch"), ("The expected discharge", "expectedDischargeAt"),
        ("Calls per day", "callsPerDay"), ("Minutes per call", "minutesPerCall"), ("A needs summary", "needsSummary"),
        ("Say which provider", "previousProviderId"), ("The referrer", "referrer.email"),
    ];

    public async Task OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        Input.ReferrerName = Actor.DisplayName;
        Input.FormId = Guid.NewGuid().ToString("N");
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        var f = Input;
        int? Int(string? s, string field, string label)
        {
            if (string.IsNullOrWhiteSpace(s)) return null;
            if (int.TryParse(s.Trim(), out var n)) return n;
            ModelState.AddModelError(field, $"{label} must be a whole number.");
            return null;
        }
        bool? YesNo(string? s) => s switch { "yes" => true, "no" => false, _ => null };
        LocalDate? dob = null;
        if (!string.IsNullOrWhiteSpace(f.DateOfBirth))
        {
            if (NodaTime.Text.LocalDatePattern.Iso.Parse(f.DateOfBirth.Trim()) is { Success: true } d) dob = d.Value;
            else ModelState.AddModelError("patient.dateOfBirth", "Enter the date of birth as a date, e.g. 1941-03-07.");
        }
        if (!string.IsNullOrWhiteSpace(f.ExpectedDischargeAt) && D2AReferralsApi.ParseTime(f.ExpectedDischargeAt) is null)
            ModelState.AddModelError("expectedDischargeAt", "Enter the expected discharge as a date and time, e.g. 2026-11-24T14:00 (UK time).");
        var body = new RaiseReferralBody(
            new PatientBody(f.PatientName, Blank(f.NhsNumber), dob, f.Address, f.Postcode, Blank(f.NhsNumberMissingReason)),
            f.Hospital, f.Ward, f.Patch, f.ExpectedDischargeAt,
            Int(f.CallsPerDay, "callsPerDay", "Calls per day"), Int(f.MinutesPerCall, "minutesPerCall", "Minutes per call"), YesNo(f.DoubleHanded),
            f.NeedsSummary, YesNo(f.SupportedBeforeAdmission) ?? false, Blank(f.PreviousProviderId),
            new ReferrerBody(f.ReferrerName, f.ReferrerEmail, Blank(f.ReferrerPhone)));
        if (!ModelState.IsValid) return Invalid();

        var (outcome, errors) = await D2AReferralsApi.RaiseReferralAsync(body, Actor, FormKey(f.FormId, "d2a:raise"), runtime, directory, ct);
        if (errors is not null) { AddErrors(errors); return Invalid(); }
        return AfterStart(outcome!, r => $"Referral {r} is raised and offered to providers.", "The referral could not be raised. Try again.",
            message => MessageFields.FirstOrDefault(m => message.StartsWith(m.Start, StringComparison.Ordinal)).Field ?? "");
    }

    private IActionResult Invalid(int status = 422)
    {
        Response.StatusCode = status;
        return Page();
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private async Task LoadAsync(CancellationToken ct)
    {
        Patches = await directory.ListPatchesAsync(ct);
        Providers = (await directory.ListProvidersAsync(ct)).Where(p => p.Active).OrderBy(p => p.Name).ToList();
    }
}
