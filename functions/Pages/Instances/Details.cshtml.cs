using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Workflows;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Extensions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Providers;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Mvc;
using NodaTime;

namespace CareWorkflows.Functions.Pages.Instances;

/// <summary>
/// One instance: summary, what is awaited from whom and by when, the timeline (events, messages with delivery status,
/// decisions with actor) and the actions the viewer's role allows. Every action goes through WorkflowRuntime as the
/// APIs do, with the APIs' own checks; the workflow definition has the last word (403/409/422 shown on the page).
/// Providers see only instances that concern them (ProviderScope) and act only on asks addressed to them.
/// </summary>
public sealed class DetailsModel(Workflows.WorkflowClient workflows, IClock clock, IProviderDirectory directory) : CareWorkflowsPage
{
    public InstanceRow Row { get; private set; } = null!;
    private Workflows.InstanceSnapshot _instance = null!;
    public object State { get; private set; } = null!;
    public Instant Now { get; private set; }
    public IReadOnlyList<AskRow> Asks { get; private set; } = [];
    public IReadOnlyList<TimerRow> Timers { get; private set; } = [];
    public IReadOnlyList<TimelineEntry> Timeline { get; private set; } = [];
    public IReadOnlyList<OutboxMessage> Messages { get; private set; } = [];
    public bool IsStaff => Policies.StaffRoles.Contains(Actor.Role);
    public bool MayCancel => Actor.IsIn(WebPages.OperatorRoles) && !Row.Completed;
    public bool MayDecideConcern => State is Definitions.QualityConcerns.QualityConcern.State { Stage: Definitions.QualityConcerns.ConcernStage.AwaitingDecision }
        && Actor.IsIn(Definitions.QualityConcerns.QualityConcern.CouncilRoles);
    public bool MayCloseIncident => State is SeriousIncident.State { Phase: IncidentPhase.Open or IncidentPhase.AwaitingFullReport } && Actor.IsIn(SeriousIncident.CouncilDeciders);
    /// <summary>Brokerage's award or manual placement (D2A flow steps 3–5); the definition refuses it once discharged.</summary>
    public bool MayAward => State is D2AState { Status: not (D2AStatus.Active or D2AStatus.Closed) } && Actor.IsIn(Roles.Brokerage, Roles.Admin);
    /// <summary>The discharge team confirms the discharge once a provider is awarded (D2A flow step 6).</summary>
    public bool MayConfirmDischarge => State is D2AState { Status: D2AStatus.Awarded } && Actor.IsIn(Roles.DischargeTeam, Roles.Brokerage, Roles.Admin);
    public IReadOnlyList<ProviderRecord> Providers { get; private set; } = [];
    [TempData] public string? Notice { get; set; }

    /// <summary>Asks the viewer may answer here: a provider's own asks, or staff asks for the viewer's role.</summary>
    public IEnumerable<AskRow> MyAsks => Asks.Where(a => Actor.Role == Roles.Provider
        ? a.Ask.RecipientRole == Roles.Provider && a.Ask.RecipientId == Actor.ProviderId
        : a.Ask.RecipientRole == Actor.Role);

    public async Task<IActionResult> OnGetAsync(string? reference, CancellationToken ct) =>
        await LoadAsync(reference, ct) ? Page() : NotFound();

    /// <summary>Answers an open ask, as a signed link would: the definition parses the fields into its input.</summary>
    public async Task<IActionResult> OnPostAnswerAsync(string? reference, string? action, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        var ask = MyAsks.FirstOrDefault(a => a.Ask.Action == action);
        if (ask is null) return Refused(403, "This is not waiting for an answer from you.");
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in ask.Ask.Fields ?? [])
        {
            var v = Request.Form[f.Name].ToString();
            if (v.Length > RequestChecks.MaxText) { ModelState.AddModelError($"{action}.{f.Name}", $"{f.Label} is longer than {RequestChecks.MaxText:N0} characters."); continue; }
            if (f.Required && string.IsNullOrWhiteSpace(v)) ModelState.AddModelError($"{action}.{f.Name}", $"Enter {f.Label.ToLowerInvariant()}.");
            fields[f.Name] = v;
        }
        if (!ModelState.IsValid) return Status(422);
        var parsed = workflows.ParseReply(_instance, ask.Ask, fields);
        if (parsed.Input is null) { ModelState.AddModelError(action ?? "", parsed.Error ?? "The answer could not be read."); return Status(422); }
        return await ApplyAsync(parsed.Input, $"Your answer ({action}) is recorded.", ct);
    }

    public async Task<IActionResult> OnPostCancelAsync(string? reference, string? reason, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (!Actor.IsIn(WebPages.OperatorRoles)) return Refused(403, "Only brokerage and administrators cancel instances.");
        if (InstancesApi.CancelReasonError(reason) is { } error) { ModelState.AddModelError("reason", error); return Status(422); }
        var outcome = await workflows.CancelAsync(Row.Reference, reason!.Trim(), Actor, ct);
        return await AfterAsync(outcome, "The instance is cancelled.", ct);
    }

    public async Task<IActionResult> OnPostConcernDecisionAsync(string? reference, string? outcome, string? reason, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (Row.Type != Definitions.QualityConcerns.QualityConcern.Type) return NotFound();
        var c = new RequestChecks();
        var input = QualityConcernsApi.DecisionInput(new ConcernDecisionRequest(outcome, null, reason, null), c);
        if (!c.Ok) { AddErrors(c.Errors); return Status(422); }
        return await ApplyAsync(input, "The decision is recorded.", ct);
    }

    public async Task<IActionResult> OnPostCloseIncidentAsync(string? reference, string? reason, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (Row.Type != "SI") return NotFound();
        var c = new RequestChecks();
        var input = new SeriousIncident.Close(c.Text("reason", reason));
        if (!c.Ok) { AddErrors(c.Errors); return Status(422); }
        return await ApplyAsync(input, "The incident is closed.", ct);
    }

    public async Task<IActionResult> OnPostAwardAsync(string? reference, string? providerId, string? reason, string? firstCall, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (Row.Type != D2AReferral.TypeName) return NotFound();
        if (!Actor.IsIn(Roles.Brokerage, Roles.Admin)) return Refused(403, "Only brokerage awards packages.");
        if (string.IsNullOrWhiteSpace(providerId)) ModelState.AddModelError("providerId", "Choose the provider.");
        if (string.IsNullOrWhiteSpace(reason)) ModelState.AddModelError("reason", "Give the reason for the award.");
        if (!ModelState.IsValid) return Status(422);
        var (input, error) = await D2AReferralsApi.AwardInputAsync(
            new AwardBody(providerId, reason, string.IsNullOrWhiteSpace(firstCall) ? null : firstCall), directory, clock, ct);
        if (input is null) { ModelState.AddModelError("providerId", error!); return Status(422); }
        return await ApplyAsync(input, $"The package is awarded to {input.ProviderId}.", ct);
    }

    public async Task<IActionResult> OnPostDischargeAsync(string? reference, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (Row.Type != D2AReferral.TypeName) return NotFound();
        return await ApplyAsync(new ConfirmDischarge(), "The discharge is confirmed: the package is active.", ct);
    }

    private async Task<IActionResult> ApplyAsync(WorkflowInput input, string done, CancellationToken ct) =>
        await AfterAsync(await workflows.ApplyAsync(Row.Reference, input, Actor, via: "page", ct: ct), done, ct);

    private async Task<IActionResult> AfterAsync(TransitionOutcome outcome, string done, CancellationToken ct)
    {
        switch (outcome.Kind)
        {
            case OutcomeKind.Applied or OutcomeKind.Replayed:
                Notice = done;
                return RedirectToPage(new { reference = Row.Reference });
            case OutcomeKind.Accepted:
                Notice = "Your request is with the workflow; this page shows it once it is taken.";
                return RedirectToPage(new { reference = Row.Reference });
            case OutcomeKind.Rejected:
                await LoadAsync(Row.Reference, ct);
                return Refused((int)outcome.Rejection!.Kind, outcome.Rejection.Detail);
            default:
                await LoadAsync(Row.Reference, ct);
                return Refused(409, "The instance moved on meanwhile. Check the page and try again.");
        }
    }

    private IActionResult Refused(int status, string message)
    {
        ModelState.AddModelError("", message);
        return Status(status);
    }

    private IActionResult Status(int status)
    {
        Response.StatusCode = status;
        return Page();
    }

    private async Task<bool> LoadAsync(string? reference, CancellationToken ct)
    {
        var r = (reference ?? "").Trim().ToUpperInvariant();
        if (!References.IsWellFormed(r)) return false;
        var instance = await workflows.LoadAsync(r, withTimeline: true, ct);
        // Someone who may not see an instance is told it does not exist (no probing other providers' references).
        if (instance is null || !ProviderScope.MaySee(Actor, instance.Row, workflows)) return false;
        _instance = instance;
        Row = instance.Row;
        State = instance.State;
        Now = clock.GetCurrentInstant();
        Asks = instance.Asks;
        if (MayAward) Providers = (await directory.ListProvidersAsync(ct)).Where(p => p.Active).OrderBy(p => p.Name).ToList();
        if (IsStaff)
        {
            Timers = instance.Timers;
            Timeline = instance.Timeline;
            Messages = instance.Messages;
        }
        return true;
    }
}
