using CareWorkflows.Definitions;
using System.Text.Json;
using NodaTime;

namespace CareWorkflows.Definitions;

/// <summary>
/// An orchestration's input: what started it, who, and the setup it runs with (read once, through the start, so a
/// replay after an operator changes policy or holidays takes the same path).
/// </summary>
public sealed record WorkflowStart<T>(string InputId, Actor Actor, T Body, WorkflowSetup Setup);

/// <summary>
/// A person's input to a running instance, sent as the external event <see cref="EventName"/>. <see cref="Id"/> is the
/// idempotency key (the request's Idempotency-Key, a signed link's id, an inbound message's id) so a resent input is
/// answered with its first outcome and never applied twice. <see cref="Via"/> says how it came (API, link, SMS, email).
/// </summary>
public sealed record InputEvent(string Id, string Type, Actor Actor, JsonElement Body, string Via = "api")
{
    public const string EventName = "input";

    /// <summary>A note from outside for the timeline only (e.g. a reply from someone not asked); recorded, never acted on.</summary>
    public const string NoticeType = "Notice";

    public static InputEvent Of(string id, WorkflowInput input, Actor actor, string via = "api") =>
        new(id, input.GetType().Name, actor, JsonSerializer.SerializeToElement(input, input.GetType(), WorkflowJson.Options), via);
}

/// <summary>The inputs one workflow takes, by type name, to read an <see cref="InputEvent"/> back into its record.</summary>
public sealed class InputTypes(params Type[] types)
{
    private readonly Dictionary<string, Type> _byName = types.ToDictionary(t => t.Name, StringComparer.Ordinal);

    public bool Knows(string name) => _byName.ContainsKey(name);

    /// <summary>The input, or null when the type is not one of this workflow's or the body does not read as it.</summary>
    public WorkflowInput? Read(InputEvent e)
    {
        if (!_byName.TryGetValue(e.Type, out var type)) return null;
        try { return (WorkflowInput?)e.Body.Deserialize(type, WorkflowJson.Options); }
        catch (JsonException) { return null; }
    }
}

/// <summary>How an input ended: the HTTP-like status the sender is answered with (200, 403, 409, 422) and why.</summary>
public sealed record InputOutcome(string Id, int Status, string Title, string? Detail, Instant At, string? Result = null)
{
    public bool Accepted => Status < 400;
}

/// <summary>
/// What an instance publishes as its custom status after every step: where it is, what it waits for and from whom,
/// the outcomes of the latest inputs (the API waits for its input's outcome here), and a workflow-specific view the
/// API's quick checks and the pages read. No names, addresses or health details of the person.
/// </summary>
public sealed record WorkflowStatus(
    string Type,
    string Status,
    bool Completed,
    string Summary,
    Instant? NextDueAt,
    IReadOnlyList<OpenAsk> Asks,
    IReadOnlyList<InputOutcome> Outcomes,
    JsonElement? View = null,
    IReadOnlyList<DueTimer>? Timers = null)
{
    /// <summary>How many input outcomes an instance keeps published (older ones stay on the timeline).</summary>
    public const int KeptOutcomes = 30;

    public T? ViewAs<T>() => View is { ValueKind: JsonValueKind.Object } v ? v.Deserialize<T>(WorkflowJson.Options) : default;
}

/// <summary>
/// Everything an orchestration reads from outside at its start: policy settings, council contacts and the working-day
/// calendar data (bank holidays). Given in the start input, so it is part of the history.
/// </summary>
public sealed record WorkflowSetup(
    IReadOnlyDictionary<string, string> Policy,
    IReadOnlyDictionary<string, string> Contacts,
    IReadOnlyList<LocalDate> BankHolidays,
    LocalDate CalendarFrom,
    LocalDate CalendarTo,
    LocalTime EndOfDay)
{
    public PolicySettings PolicySettings => new(Policy);
    public Contacts ContactBook => new(Contacts);
    public WorkingCalendar Calendar => new(BankHolidays, CalendarFrom, CalendarTo, EndOfDay);

    public static WorkflowSetup From(PolicySettings policy, Contacts contacts, WorkingCalendar calendar) =>
        new(policy.Values, contacts.Emails, calendar.Holidays.Order().ToList(), calendar.CoveredFrom, calendar.CoveredTo, calendar.EndOfDay);
}
