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

    /// <summary>Key of the operator-loaded GOV.UK bank-holiday file in the store's documents.</summary>
    public const string BankHolidaysDocument = "bank-holidays";

    /// <summary>
    /// Takes the operator-loaded bank holidays from the store if they reach further than the data in use (another
    /// node may have loaded them). True when the calendar changed.
    /// </summary>
    public async Task<bool> RefreshCalendarAsync(Store.IDocumentStore store, CancellationToken ct = default)
    {
        if (await store.GetDocumentAsync(BankHolidaysDocument, ct) is not { } json) return false;
        var loaded = WorkingCalendar.FromGovUkJson(json, endOfDay: Calendar.EndOfDay);
        if (loaded.CoveredTo <= Calendar.CoveredTo && loaded.CoveredFrom >= Calendar.CoveredFrom) return false;
        Calendar = loaded;
        return true;
    }
}
