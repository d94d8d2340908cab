using CareWorkflows.Definitions;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using NodaTime;

namespace CareWorkflows.Functions.Pages;

/// <summary>
/// Operations (brokerage, administrators): failed messages with retry, what is overdue, cancel an instance, the
/// bank-holiday data, and the simulation clock when simulation is on. Each action uses the API's own code.
/// </summary>
[Authorize(Roles = "Admin,Brokerage")]
public sealed class OperationsModel(IWorkflowStore store, IClock clock, RuntimeEnvironment env, WorkflowRuntime runtime, IServiceProvider services) : CareWorkflowsPage
{
    public Instant Now { get; private set; }
    public IReadOnlyList<OutboxMessage> Failed { get; private set; } = [];
    public IReadOnlyList<(InstanceRow Row, Instant Due)> Overdue { get; private set; } = [];
    public CalendarStatus Calendar { get; private set; } = null!;
    public Simulator? Simulator => services.GetService<Simulator>();
    [TempData] public string? Notice { get; set; }
    [BindProperty] public string? By { get; set; }
    [BindProperty] public string? Reference { get; set; }
    [BindProperty] public string? Reason { get; set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostRetryAsync(string? id, CancellationToken ct)
    {
        var (result, problem) = await MessagesApi.RetryMessageAsync(id ?? "", store, clock, ct);
        if (problem is { } p) return await RefuseAsync(p.Status, "", p.Detail, ct);
        Notice = $"The message for {result!.Reference} is queued to send again.";
        return RedirectToPage();
    }

    /// <summary>Moving the simulation clock fires deadlines for everyone: administrators only, as on the API.</summary>
    public bool MayMoveClock => Actor.IsIn(Roles.Admin);

    public async Task<IActionResult> OnPostAdvanceAsync(CancellationToken ct)
    {
        if (Simulator is not { } sim) return NotFound();
        if (!MayMoveClock) return await RefuseAsync(403, "by", "Only administrators move the simulation clock.", ct);
        if (!SimulationApi.TryParseDuration(By, out var by)) return await RefuseAsync(422, "by", "Enter a duration such as PT1H, PT30M, P2D or P6W.", ct);
        if (by <= Duration.Zero || by > CareWorkflows.Definitions.Rules.TimeBounds.SimulationHorizon) return await RefuseAsync(422, "by", "The clock moves forward only, by at most ten years.", ct);
        if (SimulationApi.MoveError(sim, env, sim.Clock.GetCurrentInstant() + by) is { } error) return await RefuseAsync(422, "by", error, ct);
        await sim.MoveToAsync(sim.Clock.GetCurrentInstant() + by, ct);
        Notice = $"The simulation clock moved forward to {PageText.Local(sim.Clock.GetCurrentInstant())}; due deadlines fired.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostCancelAsync(CancellationToken ct)
    {
        var reference = Reference?.Trim().ToUpperInvariant() ?? "";
        if (!References.IsWellFormed(reference)) return await RefuseAsync(422, "reference", "Enter a reference such as D2A-7K3QX.", ct);
        if (InstancesApi.CancelReasonError(Reason) is { } error) return await RefuseAsync(422, "reason", error, ct);
        var outcome = await runtime.CancelAsync(reference, Reason!.Trim(), Actor, ct);
        if (outcome.Kind == OutcomeKind.NotFound) return await RefuseAsync(404, "reference", $"There is no instance {reference}.", ct);
        if (!outcome.Succeeded) return await RefuseAsync(outcome.Rejection is { } r ? (int)r.Kind : 409, "reference", outcome.Rejection?.Detail ?? "It moved on meanwhile.", ct);
        Notice = $"{reference} is cancelled.";
        return RedirectToPage();
    }

    private async Task<IActionResult> RefuseAsync(int status, string field, string message, CancellationToken ct)
    {
        ModelState.AddModelError(field, message);
        await LoadAsync(ct);
        Response.StatusCode = status;
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Now = clock.GetCurrentInstant();
        Failed = await MessagesApi.FailedAsync(store, null, ct);
        // Overdue: a timer past due and not yet fired, or an ask whose deadline has passed unanswered.
        var asks = await Deadlines.EarliestAskDeadlinesAsync(store, ct);
        var open = await store.ListInstancesAsync(new InstanceFilter(Completed: false, Limit: 5000), Now, ct);
        Overdue = open.Select(r => (Row: r, Due: Deadlines.Next(r, asks))).Where(x => x.Due <= Now)
            .Select(x => (x.Row, x.Due!.Value)).OrderBy(x => x.Item2).ToList();
        Calendar = await CalendarApi.ReadStatusAsync(env, store, clock, ct);
    }
}
