using CareWorkflows.Definitions;
using CareWorkflows.Definitions.D2A;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Providers;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using NodaTime;

namespace CareWorkflows.Functions.Pages.D2A;

/// <summary>
/// The Discharge Passport form (App M §5–6): the same body as POST /api/d2a/referrals, checked by the same code
/// (D2AReferralsApi.RaiseReferralAsync, then the workflow's own Validate). The whole form is checked at once: every
/// error is listed in form order, worded with the field's visible label, and shown next to its field.
/// </summary>
[Authorize(Roles = $"{Roles.DischargeTeam},{Roles.Admin}")]
public sealed class NewModel(Workflows.WorkflowClient workflows, IProviderDirectory directory, IClock clock) : CareWorkflowsPage
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

    /// <summary>The form's fields in order, keyed by the API's field names.</summary>
    public static readonly IReadOnlyList<FormField> Fields =
    [
        new("patient.name", "Full name", "Enter the patient's full name"),
        new("patient.nhsNumber", "NHS number", "Enter the patient's NHS number, or say why it is missing", Hint: "10 digits, for example 943 476 5919."),
        new("patient.nhsNumberMissingReason", "Why the NHS number is missing (only if it is)"),
        new("patient.dateOfBirth", "Date of birth", "Enter the patient's date of birth"),
        new("patient.address", "Home address", "Enter the patient's home address"),
        new("patient.postcode", "Postcode", "Enter the patient's postcode"),
        new("hospital", "Hospital", "Enter the hospital"),
        new("ward", "Ward", "Enter the ward"),
        new("patch", "Patch", "Choose the patch"),
        new("expectedDischargeAt", "Expected discharge (UK time)", "Enter the expected discharge date and time"),
        new("callsPerDay", "Calls per day", "Enter the number of calls per day"),
        new("minutesPerCall", "Minutes per call", "Enter the minutes per call"),
        FormField.Radios("doubleHanded", "Do calls need two carers?", "yes", "Select whether calls need two carers"),
        new("needsSummary", "Summary of care needs", "Enter a summary of the care needs"),
        FormField.Radios("supportedBeforeAdmission", "Did a provider support the person before admission?", "yes"),
        new("previousProviderId", "Provider before admission (only if yes)", "Choose the provider that supported the person before admission"),
        new("referrer.name", "Your name", "Enter your name"),
        new("referrer.email", "Your work email", "Enter your work email"),
        new("referrer.phone", "Your phone (optional)"),
    ];

    public override IReadOnlyList<FormField> FormFields => Fields;

    /// <summary>The workflow's checks answer in sentences; these beginnings say which field a sentence is about.</summary>
    private static readonly (string Start, string Field)[] MessageFields =
    [
        ("The patient's name", "patient.name"), ("Give the NHS number", "patient.nhsNumber"), ("The NHS number", "patient.nhsNumber"),
        ("The date of birth", "patient.dateOfBirth"), ("The address", "patient.address"), ("The postcode", "patient.postcode"),
        ("The hospital", "hospital"), ("The ward", "ward"), ("The patch", "patch"), ("The expected discharge", "expectedDischargeAt"),
        ("Calls per day", "callsPerDay"), ("Minutes per call", "minutesPerCall"), ("A needs summary", "needsSummary"),
        ("Say which provider", "previousProviderId"), ("The referrer", "referrer.email"), ("The patient is required", "patient.name"),
        ("Unknown patch", "patch"), ("There is no provider", "previousProviderId"),
    ];

    private static string? FieldOfMessage(string message) =>
        MessageFields.FirstOrDefault(m => message.StartsWith(m.Start, StringComparison.Ordinal)).Field;

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
        var candidate = Check(f, clock.GetCurrentInstant());
        if (!ModelState.IsValid || candidate is null) return Invalid();

        var body = new RaiseReferralBody(
            new PatientBody(f.PatientName, Blank(f.NhsNumber), candidate.Patient.DateOfBirth, f.Address, f.Postcode, Blank(f.NhsNumberMissingReason)),
            f.Hospital, f.Ward, f.Patch, f.ExpectedDischargeAt, candidate.CallsPerDay, candidate.MinutesPerCall, candidate.DoubleHanded,
            f.NeedsSummary, f.SupportedBeforeAdmission == "yes", f.SupportedBeforeAdmission == "yes" ? Blank(f.PreviousProviderId) : null,
            new ReferrerBody(f.ReferrerName, f.ReferrerEmail, Blank(f.ReferrerPhone)));
        var (outcome, errors) = await D2AReferralsApi.RaiseReferralAsync(body, Actor, FormKey(f.FormId, "d2a:raise"), workflows, directory, ct);
        if (errors is not null)
        {
            // Anything the API still finds goes on its field, in the page's words, never under an API field name.
            foreach (var (field, messages) in errors)
                AddErrors(new Dictionary<string, string[]> { [FieldOf(field) is null ? FieldOfMessage(messages[0]) ?? "" : field] = messages });
            return Invalid();
        }
        return AfterStart(outcome!, r => $"Referral {r} is raised and offered to providers.", "The referral could not be raised. Try again.",
            message => FieldOfMessage(message) ?? "");
    }

    /// <summary>
    /// Checks every field at once and adds each problem to its field. Returns the referral as the workflow would see it
    /// (fields with a problem replaced by a known-good sample), or null when a field cannot be read at all.
    /// </summary>
    private RaiseReferral? Check(ReferralForm f, Instant now)
    {
        void Error(string key, string message) { if (!HasError(key)) ModelState.AddModelError(key, message); }
        string? Required(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value)) return value.Trim();
            Error(key, FieldOf(key)!.Missing!);
            return null;
        }
        int? Whole(string key, string? value, string example)
        {
            if (Required(key, value) is not { } text) return null;
            if (int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n)) return n;
            Error(key, $"Enter {FieldOf(key)!.Label.ToLowerInvariant()} as a whole number, like {example}");
            return null;
        }

        var name = Required("patient.name", f.PatientName);
        if (Blank(f.NhsNumber) is { } nhs)
        {
            if (!D2AReferralRules.IsValidNhsNumber(nhs)) Error("patient.nhsNumber", "Enter a valid NHS number: 10 digits with a correct check digit, like 943 476 5919");
        }
        else if (Blank(f.NhsNumberMissingReason) is null) Error("patient.nhsNumber", FieldOf("patient.nhsNumber")!.Missing!);
        LocalDate? dob = null;
        if (Required("patient.dateOfBirth", f.DateOfBirth) is { } dobText)
        {
            if (NodaTime.Text.LocalDatePattern.Iso.Parse(dobText) is { Success: true } d) dob = d.Value;
            else Error("patient.dateOfBirth", "Enter the date of birth as a real date, like 1941-03-07");
        }
        var address = Required("patient.address", f.Address);
        if (Required("patient.postcode", f.Postcode) is { } postcode && D2AReferralRules.NormalisePostcode(postcode) is null)
            Error("patient.postcode", "Enter a real UK postcode, like BR6 7JH");
        var hospital = Required("hospital", f.Hospital);
        var ward = Required("ward", f.Ward);
        if (Required("patch", f.Patch) is { } patch && !Patches.Any(p => string.Equals(p.Name, patch, StringComparison.OrdinalIgnoreCase)))
            Error("patch", "Choose one of the patches in the list");
        Instant? discharge = null;
        if (Required("expectedDischargeAt", f.ExpectedDischargeAt) is { } dischargeText && (discharge = D2AReferralsApi.ParseTime(dischargeText)) is null)
            Error("expectedDischargeAt", "Enter the expected discharge as a date and time, like 2026-11-24T14:00 (UK time)");
        var calls = Whole("callsPerDay", f.CallsPerDay, "4");
        var minutes = Whole("minutesPerCall", f.MinutesPerCall, "30");
        bool? doubleHanded = f.DoubleHanded switch { "yes" => true, "no" => false, _ => null };
        if (doubleHanded is null) Error("doubleHanded", FieldOf("doubleHanded")!.Missing!);
        var needs = Required("needsSummary", f.NeedsSummary);
        if (f.SupportedBeforeAdmission == "yes" && Required("previousProviderId", f.PreviousProviderId) is { } previous && !Providers.Any(p => p.Id == previous))
            Error("previousProviderId", "Choose a provider from the list");
        var referrerName = Required("referrer.name", f.ReferrerName);
        if (Required("referrer.email", f.ReferrerEmail) is { } email && (!email.Contains('@') || !System.Net.Mail.MailAddress.TryCreate(email, out _)))
            Error("referrer.email", "Enter your work email in the right format, like name@nhs.net");

        // The workflow's own rules (lengths, plausible dates, the discharge window, call ranges) answer one sentence at a
        // time: ask again with each field it names set to a known-good sample until it has nothing more to say, so every
        // problem is listed at once and each rule stays in one place.
        var sample = Sample(now);
        bool Ok(string key) => !HasError(key);
        var candidate = sample with
        {
            Patient = sample.Patient with
            {
                Name = Ok("patient.name") ? name! : sample.Patient.Name,
                DateOfBirth = Ok("patient.dateOfBirth") && dob is { } born ? born : sample.Patient.DateOfBirth,
                Address = Ok("patient.address") ? address! : sample.Patient.Address,
            },
            Hospital = Ok("hospital") ? hospital! : sample.Hospital,
            Ward = Ok("ward") ? ward! : sample.Ward,
            ExpectedDischargeAt = Ok("expectedDischargeAt") && discharge is { } at ? at : sample.ExpectedDischargeAt,
            CallsPerDay = Ok("callsPerDay") && calls is { } c ? c : sample.CallsPerDay,
            MinutesPerCall = Ok("minutesPerCall") && minutes is { } m ? m : sample.MinutesPerCall,
            DoubleHanded = doubleHanded ?? false,
            NeedsSummary = Ok("needsSummary") ? needs! : sample.NeedsSummary,
            Referrer = sample.Referrer with { Name = referrerName ?? sample.Referrer.Name },
        };
        for (var round = 0; round < Fields.Count && D2AReferralRules.Validate(candidate, now) is { } error; round++)
        {
            var message = error.Message;
            if ((FieldOfMessage(message) ?? (Fields.Any(f => f.Key == error.Field) ? error.Field : null)) is not { } key || HasError(key)) { Error("", message); break; }
            Error(key, message);
            candidate = WithSample(candidate, sample, key);
        }
        return candidate;
    }

    /// <summary>A referral the workflow accepts at <paramref name="now"/>: stands in for fields that have a problem.</summary>
    private static RaiseReferral Sample(Instant now) => new(
        new Patient("Sample Person", "9434765919", now.InZone(WorkflowContext.London).Date.PlusYears(-70), "1 Sample Road", "BR6 7JH"),
        "Sample Hospital", "Sample Ward", "East", now + Duration.FromHours(2), 2, 30, false, "Sample needs", false, null,
        new Referrer("Sample Referrer", "referrer@example.org"), [], []);

    private static RaiseReferral WithSample(RaiseReferral r, RaiseReferral sample, string key) => key switch
    {
        "patient.name" => r with { Patient = r.Patient with { Name = sample.Patient.Name } },
        "patient.nhsNumber" => r with { Patient = r.Patient with { NhsNumber = sample.Patient.NhsNumber } },
        "patient.dateOfBirth" => r with { Patient = r.Patient with { DateOfBirth = sample.Patient.DateOfBirth } },
        "patient.address" => r with { Patient = r.Patient with { Address = sample.Patient.Address } },
        "patient.postcode" => r with { Patient = r.Patient with { Postcode = sample.Patient.Postcode } },
        "hospital" => r with { Hospital = sample.Hospital },
        "ward" => r with { Ward = sample.Ward },
        "patch" => r with { Patch = sample.Patch },
        "expectedDischargeAt" => r with { ExpectedDischargeAt = sample.ExpectedDischargeAt },
        "callsPerDay" => r with { CallsPerDay = sample.CallsPerDay },
        "minutesPerCall" => r with { MinutesPerCall = sample.MinutesPerCall },
        "needsSummary" => r with { NeedsSummary = sample.NeedsSummary },
        "previousProviderId" => r with { SupportedBeforeAdmission = false },
        _ => r with { Referrer = sample.Referrer },
    };

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
