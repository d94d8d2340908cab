using CareWorkflows.Definitions;
using CareWorkflows.Definitions.D2A;
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
/// decisions with actor) and the actions the viewer's role allows. Every action goes through WorkflowClient as the
/// APIs do, with the APIs' own checks; the orchestration has the last word (403/409/422 shown on the page).
/// Providers see only instances that concern them (ProviderScope) and act only on asks addressed to them.
/// </summary>
public sealed class DetailsModel(Workflows.WorkflowClient workflows, IClock clock, IProviderDirectory directory) : CareWorkflowsPage
{
    public InstanceRow Row { get; private set; } = null!;

    /// <summary>One line of the timeline as people read it: when (UK time), a sentence, who, and a message's fate.</summary>
    public sealed record TimelineItem(Instant At, string Sentence, string? Who, string? Status, bool Failed, string? Detail);

    /// <summary>
    /// The timeline in order: the instance's history as sentences (each message with what became of it).
    /// </summary>
    public IReadOnlyList<TimelineItem> TimelineItems
    {
        get
        {
            var items = new List<TimelineItem>();
            var shown = new HashSet<Guid>();
            foreach (var e in Timeline)
            {
                using var doc = System.Text.Json.JsonDocument.Parse(e.Data);
                var root = doc.RootElement;
                var who = e.ActorRole == Roles.System ? null : $"{e.ActorId} ({PageText.RoleName(e.ActorRole)})";
                if (root.ValueKind == System.Text.Json.JsonValueKind.Object && root.TryGetProperty("text", out var text))
                {
                    OutboxMessage? message = null;
                    if (root.TryGetProperty("data", out var data) && data.ValueKind == System.Text.Json.JsonValueKind.Object &&
                        data.TryGetProperty("id", out var id) && Guid.TryParse(id.GetString(), out var messageId))
                    {
                        message = Messages.FirstOrDefault(m => m.Id == messageId);
                        shown.Add(messageId);
                    }
                    items.Add(new TimelineItem(e.At, text.GetString() ?? "", who,
                        message is null ? null : message.DeliveryStatus is { } ds ? $"{message.Status}, {ds}" : message.Status.ToString(),
                        message?.Status == OutboxStatus.Failed, message?.LastError));
                }
                else items.Add(new TimelineItem(e.At, PageText.Words(e.Type), who ?? PageText.RoleName(e.ActorRole), null, false, Brief(root)));
            }
            foreach (var m in Messages.Where(m => !shown.Contains(m.Id)))
                items.Add(new TimelineItem(m.CreatedAt, $"Message: {m.Subject} ({m.Channel.ToString().ToLowerInvariant()} to {m.To})", null,
                    m.DeliveryStatus is { } ds ? $"{m.Status}, {ds}" : m.Status.ToString(), m.Status == OutboxStatus.Failed, m.LastError));
            return items.OrderBy(i => i.At).ToList();
        }
    }

    private static string? Brief(System.Text.Json.JsonElement e)
    {
        if (e.ValueKind != System.Text.Json.JsonValueKind.Object) return null;
        var parts = e.EnumerateObject().Where(p => p.Value.ValueKind is System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Number)
            .Take(4).Select(p => $"{PageText.Words(p.Name)}: {(p.Value.ValueKind == System.Text.Json.JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())}");
        var text = string.Join("; ", parts);
        return text.Length > 300 ? text[..300] + "…" : text.Length == 0 ? null : text;
    }
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
    public bool MayCloseIncident => State is Definitions.Incidents.SeriousIncident.State { Phase: Definitions.Incidents.IncidentPhase.Open or Definitions.Incidents.IncidentPhase.AwaitingFullReport }
        && Actor.IsIn(Definitions.Incidents.SeriousIncident.CouncilDeciders);
    /// <summary>Brokerage's award or manual placement (D2A flow steps 3–5); the definition refuses it once discharged.</summary>
    public bool MayAward => State is D2AReferral.State { Status: not (D2AStatus.Active or D2AStatus.Closed) } && Actor.IsIn(D2AReferral.Brokers);
    /// <summary>The discharge team confirms the discharge once a provider is awarded (D2A flow step 6).</summary>
    public bool MayConfirmDischarge => State is D2AReferral.State { Status: D2AStatus.Awarded } && Actor.IsIn(D2AReferral.DischargeStaff);
    public IReadOnlyList<ProviderRecord> Providers { get; private set; } = [];
    [TempData] public string? Notice { get; set; }

    /// <summary>Which form was posted ("award", "cancel", "answer:accept", …): only that form shows the values sent back.</summary>
    public string? Posted { get; private set; }

    /// <summary>Set when "Cancel instance" was pressed with a reason: the page asks for confirmation before anything changes (WCAG 3.3.4).</summary>
    public string? ConfirmCancelReason { get; private set; }

    /// <summary>
    /// Every form on the page has its own field keys, so ids, error messages and summary links never collide: the
    /// form's name, then the field ("award.reason" → id award-reason; "cancel.reason" → cancel-reason).
    /// </summary>
    public override IReadOnlyList<FormField> FormFields
    {
        get
        {
            if (Row is null) return [];
            var fields = new List<FormField>();
            foreach (var a in MyAsks)
                foreach (var f in a.Ask.Fields ?? [])
                {
                    var label = PageText.AskLabel(f);
                    fields.Add(new FormField($"{a.Ask.Action}.{f.Name}", label, $"Enter {char.ToLowerInvariant(f.Label[0])}{f.Label[1..]}", Hint: f.Hint));
                }
            if (MayDecideConcern)
            {
                fields.Add(FormField.Radios("decision.outcome", "Outcome", Enum.GetNames<Definitions.QualityConcerns.ConcernOutcome>()[0], "Select an outcome"));
                fields.Add(new FormField("decision.reason", "Reason for the decision", "Enter the reason for the decision"));
            }
            if (MayAward)
            {
                fields.Add(new FormField("award.providerId", "Provider", "Choose the provider"));
                fields.Add(new FormField("award.firstCall", "Earliest first call (optional, UK time, e.g. 14:30)"));
                fields.Add(new FormField("award.reason", "Reason for the award", "Give the reason for the award."));
            }
            if (MayCloseIncident) fields.Add(new FormField("close.reason", "Reason for closing", "Enter the reason for closing the incident"));
            if (MayCancel) fields.Add(new FormField("cancel.reason", "Reason for cancelling", "Enter the reason for cancelling"));
            return fields;
        }
    }

    /// <summary>What the posted form sent for <paramref name="name"/>, when <paramref name="form"/> is the one posted.</summary>
    public string Value(string form, string name) => Posted == form && Request.HasFormContentType ? Request.Form[name].ToString() : "";

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
        Posted = $"answer:{action}";
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in ask.Ask.Fields ?? [])
        {
            var key = $"{action}.{f.Name}";
            var v = Request.Form[f.Name].ToString();
            if (v.Length > RequestChecks.MaxText) { ModelState.AddModelError(key, $"{PageText.AskLabel(f).Replace(" (optional)", "")} is longer than {RequestChecks.MaxText:N0} characters."); continue; }
            if (f.Required && string.IsNullOrWhiteSpace(v)) ModelState.AddModelError(key, FieldOf(key)!.Missing!);
            fields[f.Name] = v;
        }
        if (!ModelState.IsValid) return Status(422);
        var parsed = workflows.ParseReply(_instance, ask.Ask, fields);
        if (parsed.Input is null) { ModelState.AddModelError(AskErrorKey(ask.Ask, parsed.Error), parsed.Error ?? "The answer could not be read."); return Status(422); }
        return await ApplyAsync(parsed.Input, $"Your answer ({action}) is recorded.", ct);
    }

    /// <summary>"Cancel instance": checks the reason, then asks for confirmation; nothing changes yet.</summary>
    public async Task<IActionResult> OnPostCancelAsync(string? reference, string? reason, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (!Actor.IsIn(WebPages.OperatorRoles)) return Refused(403, "Only brokerage and administrators cancel instances.");
        Posted = "cancel";
        if (Row.Completed) return Refused(409, $"{Row.Reference} has already finished ({PageText.Words(Row.Status).ToLowerInvariant()}).");
        if (InstancesApi.CancelReasonError(reason) is { } error) { ModelState.AddModelError("cancel.reason", CancelMessage(error)); return Status(422); }
        ConfirmCancelReason = reason!.Trim();
        return Page();
    }

    /// <summary>"Yes, cancel": the confirmed cancellation.</summary>
    public async Task<IActionResult> OnPostConfirmCancelAsync(string? reference, string? reason, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (!Actor.IsIn(WebPages.OperatorRoles)) return Refused(403, "Only brokerage and administrators cancel instances.");
        Posted = "cancel";
        if (InstancesApi.CancelReasonError(reason) is { } error) { ModelState.AddModelError("cancel.reason", CancelMessage(error)); return Status(422); }
        var outcome = await workflows.CancelAsync(Row.Reference, reason!.Trim(), Actor, ct);
        return await AfterAsync(outcome, "The instance is cancelled.", ct);
    }

    private string CancelMessage(string apiError) => apiError.StartsWith("A reason is required", StringComparison.Ordinal) ? FieldOf("cancel.reason")?.Missing ?? apiError : apiError;

    /// <summary>The field an ask's refusal is about: its only field, or the field it names; otherwise the whole answer.</summary>
    private static string AskErrorKey(OpenAsk ask, string? message)
    {
        var fields = ask.Fields ?? [];
        if (fields.Count == 1) return $"{ask.Action}.{fields[0].Name}";
        var named = fields.FirstOrDefault(f => message?.Contains(f.Name, StringComparison.OrdinalIgnoreCase) == true);
        return named is null ? "" : $"{ask.Action}.{named.Name}";
    }

    public async Task<IActionResult> OnPostConcernDecisionAsync(string? reference, string? outcome, string? reason, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (Row.Type != Definitions.QualityConcerns.QualityConcern.Type) return NotFound();
        Posted = "decision";
        var c = new RequestChecks();
        var input = QualityConcernsApi.DecisionInput(new ConcernDecisionRequest(outcome, null, reason, null), c);
        if (!c.Ok) { AddErrors(c.Errors, "decision."); return Status(422); }
        return await ApplyAsync(input, "The decision is recorded.", ct);
    }

    public async Task<IActionResult> OnPostCloseIncidentAsync(string? reference, string? reason, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (Row.Type != Definitions.Incidents.SeriousIncident.Type) return NotFound();
        Posted = "close";
        var c = new RequestChecks();
        var input = new Definitions.Incidents.SeriousIncident.Close(c.Text("reason", reason));
        if (!c.Ok) { AddErrors(c.Errors, "close."); return Status(422); }
        // The incident's own rules against the state it published, as the API runs them.
        if (State is Definitions.Incidents.SeriousIncident.State s && IncidentsApi.Check(s, Actor, input, Row.Reference) is { } no) return Refused((int)no.Kind, no.Detail);
        return await ApplyAsync(input, "The incident is closed.", ct);
    }

    public async Task<IActionResult> OnPostAwardAsync(string? reference, string? providerId, string? reason, string? firstCall, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (Row.Type != D2AReferral.Type) return NotFound();
        if (!Actor.IsIn(D2AReferral.Brokers)) return Refused(403, "Only brokerage awards packages.");
        Posted = "award";
        // Every field at once, in form order.
        if (string.IsNullOrWhiteSpace(providerId)) ModelState.AddModelError("award.providerId", FieldOf("award.providerId")!.Missing!);
        if (!string.IsNullOrWhiteSpace(firstCall) && !D2AReferralRules.TryParseFirstCall(firstCall, clock.GetCurrentInstant(), out _, out _))
            ModelState.AddModelError("award.firstCall", "Enter the earliest first call as a time, like 14:30, or a date and time, like 2026-11-24T14:30");
        if (string.IsNullOrWhiteSpace(reason)) ModelState.AddModelError("award.reason", FieldOf("award.reason")!.Missing!);
        if (!ModelState.IsValid) return Status(422);
        var (input, error) = await D2AReferralsApi.AwardInputAsync(
            new AwardBody(providerId, reason, string.IsNullOrWhiteSpace(firstCall) ? null : firstCall), directory, clock, ct);
        if (input is null) { ModelState.AddModelError(error!.StartsWith("firstCall", StringComparison.Ordinal) ? "award.firstCall" : "award.providerId", error); return Status(422); }
        // The workflow's refusal goes on the field it is about (e.g. a manual placement without a first call time).
        return await AfterAsync(await workflows.ApplyAsync(Row.Reference, input, Actor, via: "page", ct: ct), $"The package is awarded to {input.ProviderId}.", ct,
            message => message.Contains("first call", StringComparison.OrdinalIgnoreCase) ? "award.firstCall" : "award.providerId");
    }

    public async Task<IActionResult> OnPostDischargeAsync(string? reference, CancellationToken ct)
    {
        if (!await LoadAsync(reference, ct)) return NotFound();
        if (Row.Type != D2AReferral.Type) return NotFound();
        return await ApplyAsync(new ConfirmDischarge(), "The discharge is confirmed: the package is active.", ct);
    }

    private async Task<IActionResult> ApplyAsync(WorkflowInput input, string done, CancellationToken ct) =>
        await AfterAsync(await workflows.ApplyAsync(Row.Reference, input, Actor, via: "page", ct: ct), done, ct);

    private async Task<IActionResult> AfterAsync(TransitionOutcome outcome, string done, CancellationToken ct, Func<string, string>? fieldFor = null)
    {
        switch (outcome.Kind)
        {
            case OutcomeKind.Applied or OutcomeKind.Replayed:
                Notice = done;
                return RedirectToPage(new { reference = Row.Reference });
            case OutcomeKind.Accepted:
                Notice = "Your request is with the workflow; this page shows it once it is taken.";
                return RedirectToPage(new { reference = Row.Reference });
            case OutcomeKind.Rejected when fieldFor is not null && outcome.Rejection!.Kind == RejectionKind.Invalid:
                await LoadAsync(Row.Reference, ct);
                ModelState.AddModelError(fieldFor(outcome.Rejection.Detail), outcome.Rejection.Detail);
                return Status(422);
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
