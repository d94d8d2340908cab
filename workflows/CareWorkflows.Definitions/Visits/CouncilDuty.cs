using NodaTime;

namespace CareWorkflows.Definitions.Visits;

/// <summary>Who at the council hears of a no-reply or an unattended visit, by when it happens.</summary>
public enum CouncilContact
{
    /// <summary>The duty care manager, in council working hours (B App E; X 21.3 "the appropriate Social Worker").</summary>
    DutyCareManager = 1,
    /// <summary>Bromley Social Services Direct, 17:00–17:30 on working days (B App E).</summary>
    SocialServicesDirect = 2,
    /// <summary>The Emergency Duty Team, outside council working hours, weekends and bank holidays (B App E; X 21.3).</summary>
    EmergencyDutyTeam = 3,
}

/// <summary>Where an escalation goes, and why (in words for the timeline).</summary>
/// <param name="Contacts">Usually one; both the duty care manager and the Emergency Duty Team when the calendar cannot tell.</param>
public sealed record CouncilRoute(IReadOnlyList<CouncilContact> Contacts, string Why);

/// <summary>
/// The council's duty rota, pure. Council working hours are working days (Monday to Friday less England and Wales bank
/// holidays, <see cref="WorkingCalendar"/>) from 09:00 to 17:30 Europe/London: the duty care manager from 09:00 to 17:00
/// (B 6.2 names 9.00am–5.00pm as standard office hours), Social Services Direct from 17:00 to 17:30 (B App E), and the
/// Emergency Duty Team at every other time (B App E, X 21.3). The times are policy settings; the contacts (mailboxes)
/// are settings under "Contacts". Local times, so exact across BST/GMT.
/// </summary>
public static class CouncilDuty
{
    /// <summary>Policy settings (section "Policy"), times of day as hh:mm.</summary>
    public const string DutyFromSetting = "Council:DutyCareManagerFrom", DutyToSetting = "Council:DutyCareManagerTo",
        SocialServicesDirectToSetting = "Council:SocialServicesDirectTo";

    public static readonly LocalTime DefaultDutyFrom = new(9, 0), DefaultDutyTo = new(17, 0), DefaultSocialServicesDirectTo = new(17, 30);

    /// <summary>Contact keys (section "Contacts"): the mailbox of each; "{key}-sms" adds a mobile for an SMS (reference and link only).</summary>
    public static string ContactKey(CouncilContact c) => c switch
    {
        CouncilContact.DutyCareManager => "duty-care-manager",
        CouncilContact.SocialServicesDirect => "social-services-direct",
        _ => "emergency-duty-team",
    };

    public static string Label(CouncilContact c) => c switch
    {
        CouncilContact.DutyCareManager => "the duty care manager",
        CouncilContact.SocialServicesDirect => "Social Services Direct",
        _ => "the Emergency Duty Team",
    };

    /// <summary>Who to tell at <paramref name="at"/>. Beyond the bank-holiday data a day cannot be called working or not: both the
    /// duty care manager and the Emergency Duty Team are told (a safety message is never held for calendar data).</summary>
    public static CouncilRoute Route(Instant at, WorkingCalendar calendar, PolicySettings policy)
    {
        var local = at.InZone(WorkingCalendar.London);
        bool workingDay;
        try { workingDay = calendar.IsWorkingDay(local.Date); }
        catch (CalendarOutOfRangeException)
        {
            return new([CouncilContact.DutyCareManager, CouncilContact.EmergencyDutyTeam],
                $"{local.Date:yyyy-MM-dd} is beyond the bank-holiday data, so both the duty care manager and the Emergency Duty Team are told");
        }
        var contact = Contact(local.LocalDateTime, workingDay, policy);
        var day = !workingDay ? (calendar.IsBankHoliday(local.Date) ? "a bank holiday" : "a weekend") : "a working day";
        return new([contact], $"{local:HH:mm} on {day} ({Label(contact)})");
    }

    /// <summary>The rule itself: a local time on a working day or not.</summary>
    public static CouncilContact Contact(LocalDateTime local, bool workingDay, PolicySettings policy)
    {
        if (!workingDay) return CouncilContact.EmergencyDutyTeam;
        var time = local.TimeOfDay;
        var from = Time(policy, DutyFromSetting, DefaultDutyFrom);
        var to = Time(policy, DutyToSetting, DefaultDutyTo);
        var ssdTo = Time(policy, SocialServicesDirectToSetting, DefaultSocialServicesDirectTo);
        if (time >= from && time < to) return CouncilContact.DutyCareManager;
        if (time >= to && time < ssdTo) return CouncilContact.SocialServicesDirect;
        return CouncilContact.EmergencyDutyTeam;
    }

    private static LocalTime Time(PolicySettings policy, string key, LocalTime fallback) =>
        policy.Values.TryGetValue(key, out var v) && NodaTime.Text.LocalTimePattern.CreateWithInvariantCulture("HH:mm").Parse(v.Trim()) is { Success: true } p ? p.Value : fallback;
}
