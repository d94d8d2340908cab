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

public enum MessageChannel { Email = 1, Sms = 2 }

/// <summary>
/// A message to send, through the SendMessage activity (logged with its delivery status). <see cref="Purpose"/> names why
/// it is sent (e.g. "offer", "escalation"); it comes back with an undelivered message's fate.
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

/// <summary>Issues signed, expiring, single-purpose links. Pure computation (HMAC), no I/O.</summary>
public interface ILinkIssuer
{
    /// <summary>An absolute URL for <paramref name="action"/> on instance <paramref name="reference"/> by <paramref name="recipientId"/>.</summary>
    string Issue(string reference, string recipientId, string action, Instant expiresAt);
}

/// <summary>The time zone the councils work in, and how times are written for people.</summary>
public static class WorkflowContext
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
