using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Workflows;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Providers;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace CareWorkflows.Functions.Pages.Incidents;

/// <summary>
/// A provider reports a serious incident (B 12.4): the body of POST /api/incidents, checked by the API's own code
/// (IncidentsApi.ReportInput). Times are UK local on the form; the provider is the signed-in user's own.
/// </summary>
[Authorize(Roles = Roles.Provider)]
public sealed class NewModel(WorkflowRuntime runtime, IProviderDirectory directory) : CareWorkflowsPage
{
    public sealed class IncidentForm
    {
        public string? Category { get; set; }
        public string? OccurredAt { get; set; }
        public string? BecameAwareAt { get; set; }
        public string? Description { get; set; }
        public string? Parties { get; set; }
        public string? EmergencyServicesInvolved { get; set; }
        public string? EmergencyServicesDetail { get; set; }
        public string? ImmediateAction { get; set; }
        public string? FurtherAction { get; set; }
        public string? ServiceUserGroup { get; set; }
        public string? ServiceUserId { get; set; }
        public string? ServiceUserName { get; set; }
        public string? ContactEmail { get; set; }
        public string? FormId { get; set; }
    }

    [BindProperty] public IncidentForm Input { get; set; } = new();

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (Actor.ProviderId is not { Length: > 0 } own) return Forbid();
        Input.ContactEmail = (await directory.GetProviderAsync(own, ct))?.Email;
        Input.FormId = Guid.NewGuid().ToString("N");
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (Actor.ProviderId is not { Length: > 0 } own) return Forbid();
        var provider = await directory.GetProviderAsync(own, ct);
        var f = Input;
        // The form gives UK local times; the API takes instants with their offset.
        string? Instant(string? local) => D2AReferralsApi.ParseTime(local) is { } i ? NodaTime.Text.InstantPattern.ExtendedIso.Format(i) : local;
        var c = new RequestChecks();
        var body = new IncidentReportRequest(f.Category, Instant(f.OccurredAt), Instant(f.BecameAwareAt), f.Description, f.Parties,
            f.EmergencyServicesInvolved switch { "yes" => true, "no" => false, _ => null }, f.EmergencyServicesDetail, f.ImmediateAction, f.FurtherAction,
            f.ServiceUserGroup, f.ServiceUserId, f.ServiceUserName, provider?.Name ?? own, f.ContactEmail);
        var report = IncidentsApi.ReportInput(body, own, c);
        if (!c.Ok)
        {
            foreach (var (field, messages) in c.Errors)
                foreach (var m in messages)
                    ModelState.AddModelError(field, field is "occurredAt" or "becameAwareAt" && !string.IsNullOrWhiteSpace(field == "occurredAt" ? f.OccurredAt : f.BecameAwareAt)
                        ? "Enter a date and time, e.g. 2026-11-24T14:30 (UK time)." : m);
            Response.StatusCode = 422;
            return Page();
        }
        var outcome = await runtime.StartAsync("SI", report, Actor, FormKey(f.FormId, "si"), ct);
        return AfterStart(outcome, r => $"Incident {r} is reported. The council has been told.", "The report could not be recorded. Try again.");
    }

    public static IEnumerable<string> Categories => Enum.GetNames<IncidentCategory>();
}
