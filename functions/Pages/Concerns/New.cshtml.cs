using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Providers;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace CareWorkflows.Functions.Pages.Concerns;

/// <summary>
/// Raise a quality concern with a provider (B 15.1). The provider is chosen from the directory, which supplies its
/// name and email; everything is checked by the API's own code (QualityConcernsApi.RaiseInputAsync) and the workflow.
/// </summary>
[Authorize(Roles = "QualityAssurance,Admin")]
public sealed class NewModel(Workflows.WorkflowClient workflows, IProviderDirectory directory) : CareWorkflowsPage
{
    [BindProperty] public string? ProviderId { get; set; }
    [BindProperty] public string? Concern { get; set; }
    [BindProperty] public string? ResponseWorkingDays { get; set; }
    [BindProperty] public string? FormId { get; set; }
    public IReadOnlyList<ProviderRecord> Providers { get; private set; } = [];

    public override IReadOnlyList<FormField> FormFields { get; } =
    [
        new("providerId", "Provider", "Choose the provider the concern is about"),
        new("concern", "The concern", "Enter the concern", Hint: "What was seen or reported, when, and who is affected. The provider reads this."),
        new("responseWorkingDays", "Working days to respond (optional)",
            Hint: "Leave empty for the standard time. Working days exclude weekends and bank holidays in England and Wales."),
    ];

    public async Task OnGetAsync(CancellationToken ct)
    {
        Providers = (await directory.ListProvidersAsync(ct)).OrderBy(p => p.Name).ToList();
        FormId = Guid.NewGuid().ToString("N");
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        Providers = (await directory.ListProvidersAsync(ct)).OrderBy(p => p.Name).ToList();
        var c = new RequestChecks();
        int? days = null;
        if (!string.IsNullOrWhiteSpace(ResponseWorkingDays))
        {
            if (int.TryParse(ResponseWorkingDays.Trim(), out var d)) days = d;
            else c.Add("responseWorkingDays", "Enter the working days as a whole number, or leave it empty for the standard time");
        }
        var input = await QualityConcernsApi.RaiseInputAsync(new RaiseConcernRequest(ProviderId, Concern, days), directory, c, ct);
        if (!c.Ok)
        {
            // Every field at once, in form order and the page's words (the summary orders them by FormFields).
            if (string.IsNullOrWhiteSpace(ProviderId)) ModelState.AddModelError("providerId", FieldOf("providerId")!.Missing!);
            AddErrors(c.Errors);
            Response.StatusCode = 422;
            return Page();
        }
        var outcome = await workflows.StartAsync(Definitions.QualityConcerns.QualityConcern.Type, input, Actor, FormKey(FormId, "qc"), ct);
        return AfterStart(outcome, r => $"Quality concern {r} is raised with {input.ProviderName}.", "The concern could not be raised. Try again.");
    }
}
