using System.Globalization;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Incidents;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Providers;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Functions.Pages.Incidents;

/// <summary>
/// A provider reports a serious incident (B 12.4): the body of POST /api/incidents, checked by the API's own code
/// (IncidentsApi.ReportInput). Times are UK local on the form; the provider is the signed-in user's own. The whole form
/// is checked at once. A local time the clocks skipped (spring forward) is refused; one that happened twice (autumn)
/// is asked about: which one, BST or GMT, and that instant is passed on.
/// </summary>
[Authorize(Roles = Roles.Provider)]
public sealed class NewModel(Workflows.WorkflowClient workflows, IProviderDirectory directory, IClock clock) : CareWorkflowsPage
{
    public sealed class IncidentForm
    {
        public string? Category { get; set; }
        public string? OccurredAt { get; set; }
        public string? OccurredAtWhich { get; set; }
        public string? BecameAwareAt { get; set; }
        public string? BecameAwareAtWhich { get; set; }
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

    /// <summary>Times on the form that happened twice (clocks back): the two instants, first (BST) then second (GMT).</summary>
    public Dictionary<string, (ZonedDateTime First, ZonedDateTime Second)> Ambiguous { get; } = [];

    public override IReadOnlyList<FormField> FormFields =>
    [
        new("category", "What kind of incident", "Choose what kind of incident it was"),
        new("occurredAt", "When it happened (UK time)", "Enter when it happened"),
        FormField.Radios("occurredAtWhich", WhichLegend("occurredAt"), "first"),
        new("becameAwareAt", "When you became aware (UK time)", "Enter when you became aware of it"),
        FormField.Radios("becameAwareAtWhich", WhichLegend("becameAwareAt"), "first"),
        new("description", "What happened", "Enter what happened"),
        new("parties", "Who was involved", "Enter who was involved"),
        FormField.Radios("emergencyServicesInvolved", "Were emergency services involved?", "yes", "Select whether emergency services were involved"),
        new("emergencyServicesDetail", "Emergency services: who and reference (optional)"),
        new("immediateAction", "Action taken straight away", "Enter the action taken straight away"),
        new("furtherAction", "Further action planned", "Enter the further action planned"),
        new("serviceUserGroup", "Service user group", "Enter the service user group", Hint: "For example: older people, learning disability."),
        new("serviceUserId", "Service user id", "Enter the service user id"),
        new("serviceUserName", "Service user name (optional)"),
        new("contactEmail", "Email for the council to reply to", "Enter an email for the council to reply to"),
    ];

    private string WhichLegend(string key) => Ambiguous.TryGetValue(key, out var a)
        ? $"{a.First:HH:mm} on {a.First.ToString("d MMMM yyyy", CultureInfo.InvariantCulture)} happened twice: which one do you mean?"
        : "Which time do you mean?";

    /// <summary>The two readings of an ambiguous time as radio options: "01:30 BST (first)", "01:30 GMT (second)".</summary>
    public (string Value, string Label)[] WhichOptions(string key)
    {
        var (first, second) = Ambiguous[key];
        return [("first", $"{first:HH:mm} {first.GetZoneInterval().Name} (first)"), ("second", $"{second:HH:mm} {second.GetZoneInterval().Name} (second)")];
    }

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
        var now = clock.GetCurrentInstant();

        // Every field at once, in the page's words; then the API's own checks for anything left.
        if (string.IsNullOrWhiteSpace(f.Category)) Error("category", FieldOf("category")!.Missing!);
        var occurred = UkTime("occurredAt", f.OccurredAt, f.OccurredAtWhich);
        var aware = UkTime("becameAwareAt", f.BecameAwareAt, f.BecameAwareAtWhich);
        if (occurred is { } o && o > now + SeriousIncident.Skew) Error("occurredAt", "When it happened must be now or in the past");
        if (aware is { } a && a > now + SeriousIncident.Skew) Error("becameAwareAt", "When you became aware must be now or in the past");
        if (occurred is { } o2 && aware is { } a2 && a2 < o2 && !HasError("becameAwareAt"))
            Error("becameAwareAt", "When you became aware must be the same as or after when it happened");
        foreach (var (key, value) in new[] { ("description", f.Description), ("parties", f.Parties), ("immediateAction", f.ImmediateAction),
                     ("furtherAction", f.FurtherAction), ("serviceUserGroup", f.ServiceUserGroup), ("serviceUserId", f.ServiceUserId), ("contactEmail", f.ContactEmail) })
            if (string.IsNullOrWhiteSpace(value)) Error(key, FieldOf(key)!.Missing!);
        if (f.EmergencyServicesInvolved is not ("yes" or "no")) Error("emergencyServicesInvolved", FieldOf("emergencyServicesInvolved")!.Missing!);
        if (!string.IsNullOrWhiteSpace(f.ContactEmail) && !System.Net.Mail.MailAddress.TryCreate(f.ContactEmail.Trim(), out _))
            Error("contactEmail", "Enter the email in the right format, like incidents@provider.example.org");

        static string? Iso(Instant? i) => i is { } x ? NodaTime.Text.InstantPattern.ExtendedIso.Format(x) : null;
        var c = new RequestChecks();
        var body = new IncidentReportRequest(f.Category, Iso(occurred) ?? "", Iso(aware) ?? "", f.Description, f.Parties,
            f.EmergencyServicesInvolved switch { "yes" => true, "no" => false, _ => null }, f.EmergencyServicesDetail, f.ImmediateAction, f.FurtherAction,
            f.ServiceUserGroup, f.ServiceUserId, f.ServiceUserName, provider?.Name ?? own, f.ContactEmail);
        var report = IncidentsApi.ReportInput(body, own, c);
        // Times the page could not read are already reported in its own words; the API's "occurredAt is required" is not news.
        AddErrors(c.Errors.Where(e => !(e.Key is "occurredAt" or "becameAwareAt")).ToDictionary(e => e.Key, e => e.Value));
        if (!ModelState.IsValid)
        {
            Response.StatusCode = 422;
            return Page();
        }
        // The incident's own rules (the API's), then the orchestration: a refusal goes on the field it is about.
        if (IncidentsApi.CheckReport(report, Actor, workflows) is { } no)
        {
            ModelState.AddModelError(no.Field ?? "", no.Detail);
            Response.StatusCode = (int)no.Kind;
            return Page();
        }
        var outcome = await workflows.StartAsync(SeriousIncident.Type, report, Actor, FormKey(f.FormId, "si"), ct);
        return AfterStart(outcome, r => $"Incident {r} is reported. The council has been told.", "The report could not be recorded. Try again.",
            message => message.StartsWith("occurredAt", StringComparison.Ordinal) ? "occurredAt" : message.StartsWith("becameAwareAt", StringComparison.Ordinal) ? "becameAwareAt" : "");
    }

    private void Error(string key, string message)
    {
        if (!HasError(key)) ModelState.AddModelError(key, message);
    }

    /// <summary>
    /// A UK local time from a datetime-local input, as an instant. A time the clocks skipped is refused; a time that
    /// happened twice needs the provider's choice (<paramref name="which"/>: first = BST, second = GMT).
    /// </summary>
    private Instant? UkTime(string key, string? text, string? which)
    {
        if (string.IsNullOrWhiteSpace(text)) { Error(key, FieldOf(key)!.Missing!); return null; }
        var label = FieldOf(key)!.Label;
        LocalDateTime? local = null;
        foreach (var pattern in new[] { "uuuu-MM-dd'T'HH:mm", "uuuu-MM-dd'T'HH:mm:ss", "uuuu-MM-dd HH:mm" })
            if (LocalDateTimePattern.CreateWithInvariantCulture(pattern).Parse(text.Trim()) is { Success: true } r) { local = r.Value; break; }
        if (local is not { } l)
        {
            Error(key, $"Enter {label[0..1].ToLowerInvariant() + label[1..]} as a date and time, like 2026-11-24T14:30");
            return null;
        }
        var map = WorkflowContext.London.MapLocal(l);
        switch (map.Count)
        {
            case 1:
                return map.Single().ToInstant();
            case 0:
                var gap = map.LateInterval.WallOffset - map.EarlyInterval.WallOffset;
                var skippedFrom = map.EarlyInterval.IsoLocalEnd;
                Error(key, $"There was no {l:HH:mm} on {l.ToString("d MMMM yyyy", CultureInfo.InvariantCulture)} in the UK: the clocks went forward from " +
                           $"{skippedFrom:HH:mm} to {skippedFrom.PlusTicks(gap.Ticks):HH:mm}. Enter the time a clock showed, for example {l.PlusTicks(gap.Ticks):HH:mm}");
                return null;
            default:
                Ambiguous[key] = (map.First(), map.Last());
                if (which == "first") return map.First().ToInstant();
                if (which == "second") return map.Last().ToInstant();
                Error(key + "Which", $"{l:HH:mm} on {l.ToString("d MMMM yyyy", CultureInfo.InvariantCulture)} happened twice in the UK because the clocks went back: " +
                                     $"select {map.First().GetZoneInterval().Name} (the first) or {map.Last().GetZoneInterval().Name} (the second)");
                return null;
        }
    }

    public static IEnumerable<string> Categories => Enum.GetNames<IncidentCategory>();
}
