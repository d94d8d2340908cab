using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Providers;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace CareWorkflows.Functions.Pages.NoReplies;

/// <summary>
/// A carer or the office reports no reply at a visit (B Appendix E): the council is told at once. Checked by the API's own
/// code (NoRepliesApi.ReportInputAsync) and the workflow; a visit with an open call-monitoring alert hands that alert over.
/// </summary>
[Authorize(Roles = "Provider")]
public sealed class NewModel(Workflows.WorkflowClient workflows, IProviderDirectory directory) : CareWorkflowsPage
{
    [BindProperty] public string? VisitId { get; set; }
    [BindProperty] public string? PersonId { get; set; }
    [BindProperty] public string? At { get; set; }
    [BindProperty] public string? Note { get; set; }
    [BindProperty] public string? FormId { get; set; }

    public override IReadOnlyList<FormField> FormFields { get; } =
    [
        new("visitId", "Visit id", "Enter the visit id", Hint: "As your call monitoring system shows it."),
        new("personId", "Council person id", "Enter the council's person id", Hint: "For example LBB-104233. Never the person's name."),
        new("at", "Time the carer got no reply (optional)", Hint: "UK time, for example 14:35. Leave empty for now."),
        new("note", "What the carer found (optional)", Hint: "The checks so far: letterbox, windows, back door, neighbours, warden. No names or addresses."),
    ];

    public void OnGet() => FormId = Guid.NewGuid().ToString("N");

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var c = new RequestChecks();
        var input = await NoRepliesApi.ReportInputAsync(new NoReplyReportRequest(null, VisitId, PersonId, At, Note), Actor, directory, c, ct);
        if (!c.Ok || input is null)
        {
            if (string.IsNullOrWhiteSpace(VisitId)) ModelState.AddModelError("visitId", FieldOf("visitId")!.Missing!);
            if (string.IsNullOrWhiteSpace(PersonId)) ModelState.AddModelError("personId", FieldOf("personId")!.Missing!);
            AddErrors(c.Errors);
            Response.StatusCode = 422;
            return Page();
        }
        var now = workflows.Clock.GetCurrentInstant();
        if (Definitions.Visits.VisitRules.ResolveTime(input.At, input.AtLocal, now, now - Definitions.Visits.NoReplyRules.MaxReportAge).Refused is { } bad)
        {
            ModelState.AddModelError("at", bad.Detail);
            Response.StatusCode = 422;
            return Page();
        }
        var (outcome, _) = await NoRepliesApi.StartAsync(input, Actor, FormKey(FormId, "nr"), workflows, ct);
        return AfterStart(outcome, r => $"No-reply {r} is reported: the council has been told. Record the checks and the outcome below.", "The no-reply could not be reported. Try again.");
    }
}
