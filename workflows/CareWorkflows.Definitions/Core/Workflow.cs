using System.Text.Json;
using NodaTime;

namespace CareWorkflows.Definitions;

/// <summary>
/// Who sent an input. Roles are the app roles of the service (see docs/architecture.md);
/// <see cref="ProviderId"/> is set for provider users and signed-link recipients.
/// </summary>
public sealed record Actor(string Id, string Role, string? ProviderId = null, string? DisplayName = null)
{
    public static readonly Actor System = new("system", Roles.System);

    public bool IsIn(params string[] roles) => roles.Contains(Role);
}

/// <summary>The app roles. Names match the Entra ID app roles.</summary>
public static class Roles
{
    public const string DischargeTeam = "DischargeTeam";
    public const string Brokerage = "Brokerage";
    public const string CareManager = "CareManager";
    public const string SeniorCareManager = "SeniorCareManager";
    public const string QualityAssurance = "QualityAssurance";
    public const string SafeguardingLead = "SafeguardingLead";
    public const string Provider = "Provider";
    public const string Admin = "Admin";
    /// <summary>Timers, delivery failures and other inputs the runtime itself produces.</summary>
    public const string System = "System";

    public static readonly string[] All =
        [DischargeTeam, Brokerage, CareManager, SeniorCareManager, QualityAssurance, SafeguardingLead, Provider, Admin];
}

/// <summary>An input to a workflow instance. Concrete inputs are records in each workflow's file.</summary>
public abstract record WorkflowInput;

/// <summary>A named timer came due. Produced by the timer pump.</summary>
public sealed record TimerFired(string Name) : WorkflowInput;

/// <summary>
/// A message could not be delivered after its last attempt (or the provider reported a permanent failure).
/// Produced by the outbox dispatcher and delivery webhooks so the workflow can fall back or escalate.
/// </summary>
public sealed record MessageFailed(Guid MessageId, string Purpose, string Channel, string To, string Error) : WorkflowInput;

/// <summary>Something the workflow records on its timeline. Concrete events are records in each workflow's file.</summary>
public abstract record WorkflowEvent;

/// <summary>A timer to set (or move: setting a name again replaces it).</summary>
public sealed record TimerRequest(string Name, Instant DueAt);

public enum MessageChannel { Email = 1, Sms = 2 }

/// <summary>
/// A message to send. It leaves the workflow as an outbox row, written in the same transaction as the events.
/// <see cref="Purpose"/> names why it is sent (e.g. "offer", "escalation"); it comes back in <see cref="MessageFailed"/>.
/// Bodies must carry only what the recipient needs (DOMAIN.md, information governance).
/// </summary>
public sealed record OutboundMessage(
    MessageChannel Channel,
    string To,
    string Purpose,
    string Subject,
    string Body,
    string? HtmlBody = null,
    string? RecipientId = null,
    IReadOnlyList<string>? Links = null,
    IReadOnlyList<LinkRequest>? Sign = null);

/// <summary>
/// A signed link a message needs. Orchestrations never hold signing keys: the message carries <c>{{Key}}</c> where the
/// link goes, and the SendMessage activity signs the link and puts it there (so histories hold no live links).
/// <see cref="PathPrefix"/> replaces the default "/l/" (e.g. "/d2a/details/" for the winner's details page).
/// </summary>
public sealed record LinkRequest(string Key, string RecipientId, string Action, Instant ExpiresAt, string? PathPrefix = null)
{
    public string Placeholder => "{{" + Key + "}}";
}

/// <summary>
/// The instance's own page (people sign in to it), for messages to staff and providers that carry "a reference and a
/// link": the SendMessage activity puts {base URL}/instances/{reference} where <see cref="Placeholder"/> stands.
/// </summary>
public static class InstancePage
{
    public const string Placeholder = "{{instance-page}}";
}

/// <summary>Why an input was refused. Nothing is written when a decision is a rejection.</summary>
public enum RejectionKind
{
    /// <summary>The input is not valid for this workflow (422).</summary>
    Invalid = 422,
    /// <summary>The input is valid but the instance is not in a state to take it (409).</summary>
    Conflict = 409,
    /// <summary>The actor may not send this input to this instance (403).</summary>
    Forbidden = 403,
}

/// <param name="Field">The request field the refusal is about (API name, e.g. "needsSummary"), when it is about one.</param>
public sealed record Rejection(RejectionKind Kind, string Title, string Detail, string? Field = null);

/// <summary>
/// What a workflow decided in answer to one input: events to record, timers to set or cancel, messages to send.
/// Or a rejection, in which case nothing is written.
/// </summary>
public sealed record Decision
{
    public IReadOnlyList<WorkflowEvent> Events { get; init; } = [];
    public IReadOnlyList<TimerRequest> SetTimers { get; init; } = [];
    public IReadOnlyList<string> CancelTimers { get; init; } = [];
    public IReadOnlyList<OutboundMessage> Messages { get; init; } = [];
    public Rejection? Rejected { get; init; }

    public bool IsRejected => Rejected is not null;

    public static Decision Nothing { get; } = new();

    public static Decision Reject(RejectionKind kind, string title, string detail, string? field = null) =>
        new() { Rejected = new Rejection(kind, title, detail, field) };

    /// <summary>422; <paramref name="field"/> names the request field at fault so the problem details can say which.</summary>
    public static Decision Invalid(string detail, string? field = null) => Reject(RejectionKind.Invalid, "The request is not valid", detail, field);
    public static Decision Conflict(string detail) => Reject(RejectionKind.Conflict, "Not possible in the current state", detail);
    public static Decision Forbidden(string detail) => Reject(RejectionKind.Forbidden, "Not allowed", detail);
}

/// <summary>Builds a <see cref="Decision"/> step by step; keeps workflow files readable.</summary>
public sealed class DecisionBuilder
{
    private readonly List<WorkflowEvent> _events = [];
    private readonly List<TimerRequest> _timers = [];
    private readonly List<string> _cancels = [];
    private readonly List<OutboundMessage> _messages = [];

    public DecisionBuilder Record(WorkflowEvent e) { _events.Add(e); return this; }
    public DecisionBuilder SetTimer(string name, Instant due) { _cancels.Remove(name); _timers.RemoveAll(t => t.Name == name); _timers.Add(new(name, due)); return this; }
    public DecisionBuilder CancelTimer(string name) { _timers.RemoveAll(t => t.Name == name); if (!_cancels.Contains(name)) _cancels.Add(name); return this; }
    public DecisionBuilder Send(OutboundMessage m) { _messages.Add(m); return this; }
    public Decision Build() => new() { Events = _events.ToArray(), SetTimers = _timers.ToArray(), CancelTimers = _cancels.ToArray(), Messages = _messages.ToArray() };
}

/// <summary>Issues signed, expiring, single-purpose links. Pure computation (HMAC), no I/O.</summary>
public interface ILinkIssuer
{
    /// <summary>An absolute URL for <paramref name="action"/> on instance <paramref name="reference"/> by <paramref name="recipientId"/>.</summary>
    string Issue(string reference, string recipientId, string action, Instant expiresAt);
}

/// <summary>Everything a definition may know besides its state and input. No I/O behind any of it.</summary>
public sealed record WorkflowContext(
    Instant Now,
    string Reference,
    Actor Actor,
    WorkingCalendar Calendar,
    PolicySettings Policy,
    ILinkIssuer Links,
    Contacts Contacts)
{
    public static readonly DateTimeZone London = DateTimeZoneProviders.Tzdb["Europe/London"];

    /// <summary>Formats an instant as Europe/London local time for people, e.g. "14:30 on Tue 3 Nov 2026".</summary>
    public static string Local(Instant instant) =>
        instant.InZone(London).ToString("HH:mm 'on' ddd d MMM yyyy", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The council's own mailboxes and phones that escalations go to (settings, not code).</summary>
public sealed record Contacts(IReadOnlyDictionary<string, string> Emails)
{
    public static readonly Contacts Default = new(new Dictionary<string, string>());
    public string Email(string key) => Emails.TryGetValue(key, out var v) ? v : $"{key}@council.example";
}

/// <summary>Policy settings: windows, cadences and thresholds the council may change without a code change.</summary>
public sealed record PolicySettings(IReadOnlyDictionary<string, string> Values)
{
    public static readonly PolicySettings Default = new(new Dictionary<string, string>());

    /// <summary>ISO-8601 (PT12H, P2D, P6W: elapsed time, no months or years), NodaTime round-trip (2:00:00:00) or TimeSpan (12:00:00).</summary>
    public Duration Duration(string key, Duration fallback) =>
        Values.TryGetValue(key, out var iso) && NodaTime.Text.PeriodPattern.NormalizingIso.Parse(iso.Trim()) is { Success: true } p
            && p.Value.Years == 0 && p.Value.Months == 0 ? p.Value.Normalize().ToDuration()
        : Values.TryGetValue(key, out var v) && NodaTime.Text.DurationPattern.Roundtrip.Parse(v) is { Success: true } r1 ? r1.Value
        : Values.TryGetValue(key, out var v2) && TimeSpan.TryParse(v2, System.Globalization.CultureInfo.InvariantCulture, out var ts) ? NodaTime.Duration.FromTimeSpan(ts)
        : fallback;

    public int Int(string key, int fallback) =>
        Values.TryGetValue(key, out var v) && int.TryParse(v, out var i) ? i : fallback;

    public decimal Decimal(string key, decimal fallback) =>
        Values.TryGetValue(key, out var v) && decimal.TryParse(v, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : fallback;

    public bool Bool(string key, bool fallback) =>
        Values.TryGetValue(key, out var v) && bool.TryParse(v, out var b) ? b : fallback;
}

/// <summary>A field a person fills in when answering an ask (e.g. the first-call time on an accept).</summary>
public sealed record AskField(string Name, string Label, string Kind = "text", bool Required = false, string? Hint = null);

/// <summary>
/// Something the workflow is waiting for from one recipient, answerable by signed link, SMS or email reply.
/// <see cref="Action"/> is a lower-case verb ("accept", "decline", "respond"); SMS "ACCEPT D2A-7K3QX 14:30" maps to it.
/// </summary>
public sealed record OpenAsk(
    string RecipientId,
    string Action,
    string Prompt,
    Instant? Deadline,
    string? Email = null,
    string? Mobile = null,
    string RecipientRole = Roles.Provider,
    IReadOnlyList<AskField>? Fields = null);

/// <summary>An answer turned into an input, or the reason it could not be.</summary>
public sealed record ReplyResult(WorkflowInput? Input, string? Error)
{
    public static ReplyResult Ok(WorkflowInput input) => new(input, null);
    public static ReplyResult Fail(string error) => new(null, error);
}

/// <summary>
/// A workflow type. Implementations are pure: <see cref="Decide"/> and <see cref="Evolve"/> never do I/O and
/// read time only from the context.
/// </summary>
public interface IWorkflowDefinition
{
    /// <summary>Type name and reference prefix, e.g. "D2A" (references look like D2A-7K3QX).</summary>
    string Type { get; }
    Type StateType { get; }
    Type StartInputType { get; }
    object InitialState { get; }
    Decision Decide(object state, WorkflowInput input, WorkflowContext context);
    object Evolve(object state, WorkflowEvent e);
    /// <summary>Short status for lists and filters, e.g. "AwaitingAcceptance".</summary>
    string Status(object state);
    /// <summary>True when the instance has ended (no more inputs expected except by operators).</summary>
    bool IsCompleted(object state);
    /// <summary>Optional summary for lists (no personal data beyond what staff list views need).</summary>
    string Summary(object state);
    /// <summary>What the instance is waiting for, from whom (kept in the asks table for replies and dashboards).</summary>
    IReadOnlyList<OpenAsk> OpenAsks(object state);
    /// <summary>Turns an answer (link form, SMS words, email first line; free text in fields["text"]) into an input.</summary>
    ReplyResult ParseReply(object state, OpenAsk ask, IReadOnlyDictionary<string, string> fields);
}

/// <summary>Typed base for a workflow definition. One file per workflow, named after it.</summary>
public abstract class Workflow<TState, TStart> : IWorkflowDefinition
    where TState : class
    where TStart : WorkflowInput
{
    public abstract string Type { get; }
    public abstract TState Initial { get; }
    public abstract Decision Decide(TState state, WorkflowInput input, WorkflowContext context);
    public abstract TState Evolve(TState state, WorkflowEvent e);
    public abstract string Status(TState state);
    public abstract bool IsCompleted(TState state);
    public virtual string Summary(TState state) => "";
    public virtual IReadOnlyList<OpenAsk> OpenAsks(TState state) => [];
    public virtual ReplyResult ParseReply(TState state, OpenAsk ask, IReadOnlyDictionary<string, string> fields) =>
        ReplyResult.Fail("This workflow takes no replies.");

    Type IWorkflowDefinition.StateType => typeof(TState);
    Type IWorkflowDefinition.StartInputType => typeof(TStart);
    object IWorkflowDefinition.InitialState => Initial;
    Decision IWorkflowDefinition.Decide(object state, WorkflowInput input, WorkflowContext context) => Decide((TState)state, input, context);
    object IWorkflowDefinition.Evolve(object state, WorkflowEvent e) => Evolve((TState)state, e);
    string IWorkflowDefinition.Status(object state) => Status((TState)state);
    bool IWorkflowDefinition.IsCompleted(object state) => IsCompleted((TState)state);
    string IWorkflowDefinition.Summary(object state) => Summary((TState)state);
    IReadOnlyList<OpenAsk> IWorkflowDefinition.OpenAsks(object state) => OpenAsks((TState)state);
    ReplyResult IWorkflowDefinition.ParseReply(object state, OpenAsk ask, IReadOnlyDictionary<string, string> fields) => ParseReply((TState)state, ask, fields);

    /// <summary>Folds a decision's events into the state (what the runtime does before it writes).</summary>
    public TState Apply(TState state, Decision d) => d.Events.Aggregate(state, Evolve);
}
