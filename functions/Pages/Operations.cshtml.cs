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
public sealed class OperationsModel(IWorkflowStore store, IClock clock, RuntimeEnvironment env, Workflows.WorkflowClient workflows, Workflows.MessageResender resender, IServiceProvider services) : CareWorkflowsPage
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

    /// <summary>Set when "Cancel instance" was pressed with a good reference and reason: the instance to confirm (WCAG 3.3.4).</summary>
    public InstanceRow? ConfirmCancel { get; private set; }

    public override IReadOnlyList<FormField> FormFields { get; } =
    [
        new("by", "Move forward by", "Enter how far to move the clock", Hint: "An ISO-8601 duration: PT1H is an hour, P1D a day, P2W two weeks."),
        new("reference", "Reference", "Enter the reference of the instance to cancel"),
        new("reason", "Reason for cancelling", "Enter the reason for cancelling"),
    ];

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostRetryAsync(string? id, CancellationToken ct)
    {
        var (result, problem) = await resender.RetryAsync(id ?? "", Actor, ct);
        if (problem is { } p) return await RefuseAsync(p.Status, "", p.Detail, ct);
        Notice = result!.Status == nameof(OutboxStatus.Sent)
            ? $"The message for {result.Reference} was sent again."
            : $"The message for {result.Reference} failed again: {result.Error}";
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

    /// <summary>"Cancel instance": checks the reference and reason, then asks for confirmation; nothing changes yet.</summary>
    public async Task<IActionResult> OnPostCancelAsync(CancellationToken ct)
    {
        var reference = Reference?.Trim().ToUpperInvariant() ?? "";
        if (await CancelErrorsAsync(reference, ct) is { } status) return await RefuseAsync(status, ct);
        ConfirmCancel = (await workflows.LoadAsync(reference, withTimeline: false, ct))?.Row;
        Reason = Reason!.Trim();
        return Page();
    }

    /// <summary>"Yes, cancel": the confirmed cancellation.</summary>
    public async Task<IActionResult> OnPostConfirmCancelAsync(CancellationToken ct)
    {
        var reference = Reference?.Trim().ToUpperInvariant() ?? "";
        if (await CancelErrorsAsync(reference, ct) is { } status) return await RefuseAsync(status, ct);
        var outcome = await workflows.CancelAsync(reference, Reason!.Trim(), Actor, ct);
        if (outcome.Kind == OutcomeKind.NotFound) return await RefuseAsync(404, "reference", $"There is no instance {reference}.", ct);
        if (!outcome.Succeeded) return await RefuseAsync(outcome.Rejection is { } r ? (int)r.Kind : 409, "reference", outcome.Rejection?.Detail ?? "It moved on meanwhile.", ct);
        Notice = $"{reference} is cancelled.";
        return RedirectToPage();
    }

    /// <summary>Both fields checked at once; the status to answer with when either is wrong.</summary>
    private async Task<int?> CancelErrorsAsync(string reference, CancellationToken ct)
    {
        int? status = null;
        if (reference.Length == 0) { ModelState.AddModelError("reference", FieldOf("reference")!.Missing!); status = 422; }
        else if (!References.IsWellFormed(reference)) { ModelState.AddModelError("reference", "Enter a reference such as D2A-7K3QX"); status = 422; }
        else if ((await workflows.LoadAsync(reference, withTimeline: false, ct))?.Row is not { } row) { ModelState.AddModelError("reference", $"There is no instance {reference}"); status = 404; }
        else if (row.Completed) { ModelState.AddModelError("reference", $"{reference} has already finished ({PageText.Words(row.Status).ToLowerInvariant()})"); status = 409; }
        if (InstancesApi.CancelReasonError(Reason) is { } error)
        {
            ModelState.AddModelError("reason", error.StartsWith("A reason is required", StringComparison.Ordinal) ? FieldOf("reason")!.Missing! : error);
            status ??= 422;
        }
        return status;
    }

    private async Task<IActionResult> RefuseAsync(int status, CancellationToken ct)
    {
        await LoadAsync(ct);
        Response.StatusCode = status;
        return Page();
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
        var asks = await Deadlines.EarliestAskDeadlinesAsync(workflows, ct);
        var open = await workflows.ListAsync(new InstanceFilter(Completed: false, Limit: 5000), Now, ct);
        Overdue = open.Select(r => (Row: r, Due: Deadlines.Next(r, asks))).Where(x => x.Due <= Now)
            .Select(x => (x.Row, x.Due!.Value)).OrderBy(x => x.Item2).ToList();
        Calendar = await CalendarApi.ReadStatusAsync(env, services.GetRequiredService<IDocumentStore>(), clock, ct);
    }
}
