using CareWorkflows.Definitions;
using NodaTime;

namespace CareWorkflows.Runtime.Engine;

/// <summary>
/// What the runtime hands to definitions besides state and input: calendar, policy, link issuer, contacts.
/// The calendar can be replaced at run time when an operator loads a newer bank-holiday file.
/// </summary>
public sealed class RuntimeEnvironment(PolicySettings policy, ILinkIssuer links, Contacts contacts, WorkingCalendar calendar)
{
    private volatile WorkingCalendar _calendar = calendar;

    public WorkingCalendar Calendar { get => _calendar; set => _calendar = value; }
    public PolicySettings Policy { get; } = policy;
    public ILinkIssuer Links { get; } = links;
    public Contacts Contacts { get; } = contacts;
    /// <summary>Timers held and requests refused for want of calendar data, for operators.</summary>
    public CalendarAlerts CalendarAlerts { get; } = new();

    public WorkflowContext ContextFor(string reference, Actor actor, Instant now) =>
        new(now, reference, actor, Calendar, Policy, Links, Contacts);
}
