using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using NodaTime;
using NodaTime.Text;
using static CareWorkflows.Definitions.D2A.D2AReferral;

namespace CareWorkflows.Definitions.D2A;

/// <summary>
/// The rules of a D2A referral, pure: validation of the referral (with the field each refusal is about), who may send
/// what in which status, the award policy, cut-off flags, brokerage hours, eligibility (ADASS cap) and the deadline
/// arithmetic. The API runs the same checks at once against the published state; the orchestration has the last word.
/// </summary>
public static class D2AReferralRules
{
    private static Rejection Invalid(string detail, string? field = null) => new(RejectionKind.Invalid, "The request is not valid", detail, field);
    private static Rejection Conflict(string detail) => new(RejectionKind.Conflict, "Not possible in the current state", detail);
    private static Rejection Forbidden(string detail) => new(RejectionKind.Forbidden, "Not allowed", detail);
    private static Rejection? Require(Actor actor, string[] roles, string what) =>
        actor.IsIn(roles) ? null : Forbidden($"Only {string.Join(", ", roles)} may {what}.");

    // ================================================================ policy (settings with their defaults)

    public static Duration Window(PolicySettings p) => p.Duration(D2AReferral.Policy.AcceptanceWindow, D2AReferral.Policy.DefaultAcceptanceWindow);
    public static Duration ReminderAfter(PolicySettings p) => p.Duration(D2AReferral.Policy.ReminderAfter, D2AReferral.Policy.DefaultReminderAfter);
    public static Duration FrameworkWindow(PolicySettings p) => p.Duration(D2AReferral.Policy.FrameworkWindow, Window(p));
    public static Duration FirstCallWithin(PolicySettings p) => p.Duration(D2AReferral.Policy.FirstCallWithin, D2AReferral.Policy.DefaultFirstCallWithin);
    public static Duration InterimCareWithin(PolicySettings p) => p.Duration(D2AReferral.Policy.InterimCareWithin, D2AReferral.Policy.DefaultInterimCareWithin);
    public static Duration DischargeCheckAfter(PolicySettings p) => p.Duration(D2AReferral.Policy.DischargeCheckAfter, D2AReferral.Policy.DefaultDischargeCheckAfter);
    public static Duration CarePlanWithin(PolicySettings p) => p.Duration(D2AReferral.Policy.CarePlanRevisionWithin, D2AReferral.Policy.DefaultCarePlanRevisionWithin);
    public static int MaxWeeks(PolicySettings p) => p.Int(D2AReferral.Policy.MaxWeeks, D2AReferral.Policy.DefaultMaxWeeks);
    public static int PromptWeek(PolicySettings p) => p.Int(D2AReferral.Policy.EndDatePromptWeek, D2AReferral.Policy.DefaultEndDatePromptWeek);
    public static decimal HoursCap(PolicySettings p) => p.Decimal(D2AReferral.Policy.AdassHoursCap, D2AReferral.Policy.DefaultAdassHoursCap);

    private static LocalTime TimeOf(PolicySettings p, string key, LocalTime fallback) =>
        p.Values.TryGetValue(key, out var v) && LocalTimePattern.CreateWithInvariantCulture("HH:mm").Parse(v.Trim()) is { Success: true } r ? r.Value : fallback;

    // ================================================================ 1. the referral (B 4.6, App M §5–6, App A)

    /// <summary>A refusal of a referral field: the API's field name and what is wrong.</summary>
    public sealed record FieldError(string Field, string Message);

    /// <summary>Checks a referral; null when it is valid.</summary>
    public static FieldError? Validate(RaiseReferral r, Instant now)
    {
        var p = r.Patient;
        if (p is null) return new("patient", "The patient is required.");
        if (string.IsNullOrWhiteSpace(p.Name) || p.Name.Length > 200) return new("patient.name", "The patient's name is required (up to 200 characters).");
        if (string.IsNullOrWhiteSpace(p.NhsNumber))
        {
            if (string.IsNullOrWhiteSpace(p.NhsNumberMissingReason)) return new("patient.nhsNumber", "Give the NHS number, or say why it is missing.");
        }
        else if (!IsValidNhsNumber(p.NhsNumber)) return new("patient.nhsNumber", "The NHS number is not valid: it must be 10 digits with a correct check digit (modulus 11).");
        else if (IsPlaceholderNhsNumber(p.NhsNumber))
            return new("patient.nhsNumber", "The NHS number is a placeholder (the same digit ten times), not the person's: give the real number, or leave it empty and say why it is missing.");
        var today = now.InZone(WorkflowContext.London).Date;
        if (p.DateOfBirth > today || p.DateOfBirth < today.PlusYears(-130)) return new("patient.dateOfBirth", "The date of birth is not plausible.");
        if (string.IsNullOrWhiteSpace(p.Address) || p.Address.Length > 500) return new("patient.address", "The address is required (up to 500 characters).");
        if (NormalisePostcode(p.Postcode) is null) return new("patient.postcode", "The postcode is not a valid UK postcode.");
        if (string.IsNullOrWhiteSpace(r.Hospital) || r.Hospital.Length > 200) return new("hospital", "The hospital is required.");
        if (string.IsNullOrWhiteSpace(r.Ward) || r.Ward.Length > 200) return new("ward", "The ward is required.");
        if (string.IsNullOrWhiteSpace(r.Patch)) return new("patch", "The patch is required.");
        if (r.ExpectedDischargeAt <= now) return new("expectedDischargeAt", "The expected discharge time is in the past.");
        if (r.ExpectedDischargeAt > now + DischargeHorizon) return new("expectedDischargeAt", "The expected discharge time is more than 28 days away.");
        if (r.CallsPerDay is < 1 or > 8) return new("callsPerDay", "Calls per day must be between 1 and 8.");
        if (r.MinutesPerCall is < 15 or > 240) return new("minutesPerCall", "Minutes per call must be between 15 and 240.");
        if (string.IsNullOrWhiteSpace(r.NeedsSummary) || r.NeedsSummary.Length > 2000) return new("needsSummary", "A needs summary is required (up to 2,000 characters).");
        if (PersonalDataInOffers(r) is { } leak) return leak;
        if (r.SupportedBeforeAdmission && r.PreviousProvider is null) return new("previousProviderId", "Say which provider supported the person before admission.");
        if (r.Referrer is null || string.IsNullOrWhiteSpace(r.Referrer.Name) || string.IsNullOrWhiteSpace(r.Referrer.Email) || !r.Referrer.Email.Contains('@'))
            return new("referrer.email", "The referrer's name and email are required.");
        if (r.PatchProviders is null || r.FrameworkProviders is null) return new("patch", "The provider lists are required.");
        return null;
    }

    /// <summary>
    /// App A: offers go, anonymised, to every provider of the patch (then borough-wide) before one is awarded; only the
    /// winner may see who the person is. The needs summary travels in every offer and reminder email and on the link page,
    /// so it must not carry the person's name, NHS number, date of birth, address or postcode (or any NHS-number-shaped
    /// string). Null when it does not. Time-independent, so the API runs it before starting anything.
    /// </summary>
    public static FieldError? PersonalDataInOffers(RaiseReferral r)
    {
        if (r.Patient is not { } p || Privacy.PersonalDataGuard.Find(r.NeedsSummary, new(p.Name, p.NhsNumber, p.DateOfBirth, p.Address, p.Postcode)) is not { } kind)
            return null;
        return new("needsSummary", $"The needs summary contains {Privacy.PersonalDataGuard.Describe(kind)}. It is sent to every provider offered the package " +
            "before one is awarded (App A), so describe the care needs without the person's name, NHS number, date of birth, address or postcode.");
    }

    /// <summary>The referral as the workflow keeps it: NHS number without spaces, postcode normalised ("br6 7jh" → "BR6 7JH").</summary>
    public static RaiseReferral Normalised(RaiseReferral r) =>
        r with { Patient = r.Patient with { NhsNumber = NormaliseNhsNumber(r.Patient.NhsNumber), Postcode = NormalisePostcode(r.Patient.Postcode) ?? r.Patient.Postcode } };

    /// <summary>NHS number check: 10 digits; weights 10..2 on the first nine; 11 − (sum mod 11) is the check digit (11 → 0; 10 is never valid).</summary>
    public static bool IsValidNhsNumber(string? value)
    {
        var digits = NormaliseNhsNumber(value);
        if (digits is null || digits.Length != 10 || !digits.All(char.IsAsciiDigit)) return false;
        var sum = 0;
        for (var i = 0; i < 9; i++) sum += (digits[i] - '0') * (10 - i);
        var check = 11 - sum % 11;
        if (check == 11) check = 0;
        return check != 10 && check == digits[9] - '0';
    }

    /// <summary>
    /// All ten digits the same (0000000000, 1111111111, ...): every such number passes the modulus-11 check (54·d ≡ −d mod 11
    /// gives check digit d), so systems use them as fillers. They are nobody's NHS number.
    /// </summary>
    public static bool IsPlaceholderNhsNumber(string? value) =>
        NormaliseNhsNumber(value) is { Length: 10 } digits && digits.All(char.IsAsciiDigit) && digits.All(c => c == digits[0]);

    private static string? NormaliseNhsNumber(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Replace(" ", "").Replace("-", "");

    private static readonly Regex PostcodePattern = new(@"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>"br6 7jh" → "BR6 7JH"; null when it is not a UK postcode shape.</summary>
    public static string? NormalisePostcode(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 10) return null;
        var m = PostcodePattern.Match(value.Trim().ToUpperInvariant());
        return m.Success ? $"{m.Groups[1].Value} {m.Groups[2].Value}" : null;
    }

    /// <summary>The outward code ("BR6"): the only part of the address an offer carries.</summary>
    public static string PostcodeDistrict(string postcode) => NormalisePostcode(postcode) is { } p ? p[..p.IndexOf(' ')] : "";

    /// <summary>Hours of care a week this package needs (two carers count twice), for the ADASS cap.</summary>
    public static decimal HoursPerWeek(int callsPerDay, int minutesPerCall, bool doubleHanded) =>
        callsPerDay * minutesPerCall * 7m / 60m * (doubleHanded ? 2 : 1);

    /// <summary>App A ii: a provider is not offered a package that would take it over the ADASS hours cap (policy, 3,000 a week).</summary>
    public static bool WithinHoursCap(decimal deliveredHoursPerWeek, decimal packageHoursPerWeek, decimal cap) => deliveredHoursPerWeek + packageHoursPerWeek <= cap;

    /// <summary>The state at raising: the anonymised package, the expected discharge, the previous provider (B 4.6.8).</summary>
    public static State Raised(RaiseReferral r, Instant now) => new()
    {
        Status = D2AStatus.OfferedToPatch,
        RaisedAt = now,
        Package = new Package(r.Patch, PostcodeDistrict(r.Patient.Postcode), r.CallsPerDay, r.MinutesPerCall, r.DoubleHanded, r.NeedsSummary.Trim()),
        ExpectedDischargeAt = r.ExpectedDischargeAt,
        PreviousProvider = r.SupportedBeforeAdmission ? r.PreviousProvider : null,
    };

    // ================================================================ 2–4. offer rounds (B 1.5.2–1.5.3, App A, App M §4, §6)

    /// <summary>How long a round is open: the acceptance window (patch), the framework window (borough-wide).</summary>
    public static Duration RoundWindow(int round, PolicySettings p) => round == 1 ? Window(p) : FrameworkWindow(p);

    /// <summary>The reminder to non-responders, when it falls inside the window.</summary>
    public static Instant? ReminderAt(Instant offeredAt, int round, PolicySettings p) =>
        ReminderAfter(p) < RoundWindow(round, p) ? offeredAt + ReminderAfter(p) : null;

    public static State OffersSent(State s, int round, IReadOnlyList<ProviderContact> providers, Instant now, Instant deadline) => s with
    {
        Status = round == 1 ? D2AStatus.OfferedToPatch : D2AStatus.OfferedToFramework,
        Round = round,
        RoundDeadline = deadline,
        Offers = s.Offers.AddRange(providers.Select(p => new Offer(p, round, now, deadline))),
    };

    /// <summary>Framework providers not offered the package yet (B 1.5.3).</summary>
    public static IReadOnlyList<ProviderContact> NotYetOffered(State s, IReadOnlyList<ProviderContact> framework) =>
        framework.Where(f => s.Offers.All(o => o.Provider.Id != f.Id)).ToList();

    /// <summary>Offers in the current round nobody has answered or been reminded of.</summary>
    public static IReadOnlyList<Offer> ToRemind(State s) => s.CurrentRound.Where(o => !o.Answered && !o.Reminded).ToList();

    public static State Reminded(State s, IEnumerable<string> providerIds) =>
        s with { Offers = s.Offers.Select(o => o.Round == s.Round && providerIds.Contains(o.Provider.Id) ? o with { Reminded = true } : o).ToImmutableList() };

    /// <summary>The earliest first call a response gives: an instant, or the next time the London clock shows the time of day.</summary>
    public static Instant? FirstCallOf(ProviderResponse p, Instant now) => p.FirstCallAt ?? (p.FirstCallTime is { } t ? NextOccurrence(t, now) : null);

    public static Rejection? CheckRespond(State s, Actor actor, ProviderResponse p, Instant now, string reference)
    {
        if (actor.Role == Roles.Provider)
        {
            // A provider only ever answers for itself (its provider_id claim, or the recipient of its signed link).
            if (!string.Equals(actor.ProviderId, p.ProviderId, StringComparison.Ordinal)) return Forbidden("A provider may only answer for itself.");
        }
        else if (Require(actor, Brokers, "answer an offer on a provider's behalf") is { } no) return no;
        var offer = s.Offers.LastOrDefault(o => o.Provider.Id == p.ProviderId);
        if (offer is null) return Forbidden($"{p.ProviderId} was not offered {reference}.");
        if (!s.Offering) return Conflict($"{reference} is no longer open for offers ({s.Status}).");
        if (offer.Round != s.Round || now > offer.Deadline) return Conflict($"The time to answer {reference} ended at {WorkflowContext.Local(offer.Deadline)}.");
        if (offer.Answered) return Conflict($"{p.ProviderId} has already answered {reference}.");
        if (!p.Accept) return null;
        if (FirstCallOf(p, now) is not { } first) return Invalid("An acceptance must give the earliest first call time.", "firstCall");
        return Rules.TimeBounds.FirstCall(first, now) is { } bad ? Invalid(bad, "firstCall") : null;
    }

    public static State Answered(State s, ProviderResponse p, Instant? firstCall, Instant now)
    {
        var i = s.Offers.FindLastIndex(o => o.Provider.Id == p.ProviderId);
        if (i < 0) return s;
        var answered = p.Accept ? s.Offers[i] with { Accepted = true, FirstCallAt = firstCall, AnsweredAt = now }
            : s.Offers[i] with { Accepted = false, Reason = Trim(p.Reason, 1000), AnsweredAt = now };
        return s with { Offers = s.Offers.SetItem(i, answered) };
    }

    /// <summary>Award policy (App A; brokerage may re-award): an acceptance whose first call is within FirstCallWithin of the discharge wins at once.</summary>
    public static bool MeetsDischarge(Instant firstCall, State s, PolicySettings p) => firstCall <= s.ExpectedDischargeAt + FirstCallWithin(p);

    /// <summary>The round may end early: every provider offered in it has answered.</summary>
    public static bool AllAnswered(State s) => s.CurrentRound.All(o => o.Answered);

    /// <summary>The round is over without an acceptance meeting the discharge: the earliest first call offered wins (the best the market offers).</summary>
    public static Offer? BestLateBid(State s) =>
        s.CurrentRound.Where(o => o.Accepted == true).OrderBy(o => o.FirstCallAt).ThenBy(o => o.AnsweredAt).FirstOrDefault();

    // ================================================================ 5. award (App A) and its cut-offs (App M §6, B 4.6.7, B 4.6.4)

    public const string ByPolicyInWindow = "policy: first acceptance meeting the discharge time", ByPolicyAtWindowEnd = "policy: earliest first call offered in the window",
        ByBrokerage = "brokerage";

    /// <summary>Brokerage's award, re-award or manual placement. Returns who and when, or why not.</summary>
    public static (Rejection? Refused, ProviderContact Provider, Instant FirstCall) CheckAward(State s, Actor actor, AwardPackage a, Instant now, string reference)
    {
        if (Require(actor, Brokers, "award a package") is { } no) return (no, null!, default);
        if (s.Status is D2AStatus.Active) return (Conflict($"{reference} is already active: the person has been discharged."), null!, default);
        if (s.Status is D2AStatus.Closed) return (Conflict($"{reference} is closed."), null!, default);
        if (string.IsNullOrWhiteSpace(a.Reason)) return (Invalid("Give the reason for the award (App A: allocations must be fair and explainable).", "reason"), null!, default);
        if (s.Award?.Provider.Id == a.ProviderId) return (Conflict($"{reference} is already awarded to {a.ProviderId}."), null!, default);
        var bid = s.Offers.LastOrDefault(o => o.Provider.Id == a.ProviderId && o.Accepted == true);
        ProviderContact provider;
        Instant first;
        if (bid is not null) (provider, first) = (bid.Provider, a.FirstCallAt ?? bid.FirstCallAt!.Value);
        else
        {
            if (a.Provider is null || a.Provider.Id != a.ProviderId)
                return (Invalid($"{a.ProviderId} did not accept {reference}; a manual placement needs the provider's details.", "providerId"), null!, default);
            if (a.FirstCallAt is null) return (Invalid($"{a.ProviderId} did not accept {reference}; a manual placement needs the agreed first call time.", "firstCall"), null!, default);
            (provider, first) = (a.Provider, a.FirstCallAt.Value);
        }
        // The same bounds as a provider's own answer: a manual placement in year 9999 is a typing error, not a plan.
        if (Rules.TimeBounds.FirstCall(first, now) is { } bad) return (Invalid(bad, "firstCall"), null!, default);
        return (null, provider, first);
    }

    public static State Awarded(State s, ProviderContact winner, Instant firstCall, string by, string? reason, Instant now) =>
        s with { Status = D2AStatus.Awarded, RoundDeadline = null, Award = new AwardInfo(winner, firstCall, now, by, Trim(reason, 1000)) };

    /// <summary>What the provider is asked to meet: the first call, but never before the person leaves hospital.</summary>
    public static Instant Promised(Instant firstCall, Instant discharge) => firstCall > discharge ? firstCall : discharge;

    /// <summary>
    /// Flags promises that cannot be kept (App M §6, B 4.6.7, B 4.6.4): same-day start notified after 15:00 (13:00 Sat/Sun),
    /// next-morning start notified after 17:00 (13:00 Sat/Sun), first call after 20:30, interim care later than 24 hours.
    /// Notification time is when the provider is told. Bank holidays follow the day of the week (App M names only Sat/Sun).
    /// </summary>
    public static IReadOnlyList<string> CutOffFlags(Instant notifiedAt, Instant firstCall, Instant discharge, PolicySettings p)
    {
        var flags = new List<string>();
        var n = notifiedAt.InZone(WorkflowContext.London).LocalDateTime;
        var f = firstCall.InZone(WorkflowContext.London).LocalDateTime;
        var weekend = n.DayOfWeek is IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday;
        var weekendCutOff = TimeOf(p, D2AReferral.Policy.WeekendCutOff, D2AReferral.Policy.DefaultWeekendCutOff);
        if (f.Date == n.Date)
        {
            var cutOff = weekend ? weekendCutOff : TimeOf(p, D2AReferral.Policy.SameDayCutOff, D2AReferral.Policy.DefaultSameDayCutOff);
            if (n.TimeOfDay > cutOff) flags.Add($"Same-day first call but the provider was told after {cutOff:HH:mm} ({(weekend ? "weekend" : "weekday")} cut-off, App M §6).");
        }
        else if (f.Date == n.Date.PlusDays(1) && f.TimeOfDay < new LocalTime(12, 0))
        {
            var cutOff = weekend ? weekendCutOff : TimeOf(p, D2AReferral.Policy.NextMorningCutOff, D2AReferral.Policy.DefaultNextMorningCutOff);
            if (n.TimeOfDay > cutOff) flags.Add($"Next-morning first call but the provider was told after {cutOff:HH:mm} ({(weekend ? "weekend" : "weekday")} cut-off, App M §6).");
        }
        var latest = TimeOf(p, D2AReferral.Policy.LatestCall, D2AReferral.Policy.DefaultLatestCall);
        if (f.TimeOfDay > latest) flags.Add($"First call at {f:HH:mm} is later than the latest discharge call of {latest:HH:mm} (B 4.6.7).");
        if (firstCall > discharge + InterimCareWithin(p)) flags.Add($"First call is more than {Words(InterimCareWithin(p))} after discharge (B 4.6.4).");
        return flags;
    }

    /// <summary>
    /// Brokerage works 09:00–17:00 Monday to Friday and 10:00–14:00 Saturday and Sunday (App M §6). Alerts always go to
    /// the brokerage mailbox; when it is closed they also go to the out-of-hours duty (Contacts:out-of-hours, the
    /// Emergency Duty Team), so a missed deadline at night is seen at night.
    /// </summary>
    public static bool BrokerageOpen(Instant at, PolicySettings p)
    {
        var local = at.InZone(WorkflowContext.London).LocalDateTime;
        var weekend = local.DayOfWeek is IsoDayOfWeek.Saturday or IsoDayOfWeek.Sunday;
        var (opens, closes) = weekend
            ? (TimeOf(p, D2AReferral.Policy.BrokerageWeekendOpens, D2AReferral.Policy.DefaultBrokerageWeekendOpens), TimeOf(p, D2AReferral.Policy.BrokerageWeekendCloses, D2AReferral.Policy.DefaultBrokerageWeekendCloses))
            : (TimeOf(p, D2AReferral.Policy.BrokerageOpens, D2AReferral.Policy.DefaultBrokerageOpens), TimeOf(p, D2AReferral.Policy.BrokerageCloses, D2AReferral.Policy.DefaultBrokerageCloses));
        return local.TimeOfDay >= opens && local.TimeOfDay < closes;
    }

    /// <summary>The brokerage mailbox <paramref name="key"/>, and the out-of-hours duty when brokerage is closed at <paramref name="at"/>.</summary>
    public static IReadOnlyList<string> Brokerage(Contacts contacts, string key, Instant at, PolicySettings p) =>
        BrokerageOpen(at, p) ? [contacts.Email(key)] : [contacts.Email(key), contacts.Email("out-of-hours")];

    // ================================================================ 6. discharge and the active package (App M §5, §7, App H, B 4.6.8)

    public static Rejection? CheckDischarge(State s, Actor actor, ConfirmDischarge c, Instant now, string reference)
    {
        if (Require(actor, DischargeStaff, "confirm a discharge") is { } no) return no;
        if (s.Status == D2AStatus.Active) return Conflict($"{reference} is already discharged.");
        if (s.Status != D2AStatus.Awarded) return Conflict($"{reference} has no provider yet ({s.Status}): award the package first.");
        var at = c.DischargedAt ?? now;
        if (at > now) return Invalid("A discharge cannot be confirmed for a time in the future.", "dischargedAt");
        if (at < s.RaisedAt) return Invalid("The discharge time is before the referral was raised.", "dischargedAt");
        return null;
    }

    /// <summary>Discharged at <paramref name="at"/>: the package is active; the plan revision is due 48 elapsed hours later (B 4.6.8).</summary>
    public static State Discharged(State s, Instant at, PolicySettings p) =>
        s with { Status = D2AStatus.Active, DischargedAt = at, CarePlanDueAt = s.CarePlanApplies ? at + CarePlanWithin(p) : null };

    public static Rejection? CheckChangeDischargeTime(State s, Actor actor, ChangeDischargeTime c, Instant now)
    {
        if (Require(actor, DischargeStaff, "change the discharge time") is { } no) return no;
        if (s.Status == D2AStatus.Active)
        {
            if (c.NewTime > now) return Invalid("The person has been discharged: the corrected discharge time cannot be in the future.", "newTime");
            if (c.NewTime < s.RaisedAt) return Invalid("The discharge time is before the referral was raised.", "newTime");
            if (c.NewTime == s.DischargedAt) return Invalid("That is already the discharge time.", "newTime");
            return null;
        }
        if (c.NewTime <= now) return Invalid("The expected discharge time is in the past.", "newTime");
        if (c.NewTime > now + DischargeHorizon) return Invalid("The expected discharge time is more than 28 days away.", "newTime");
        if (c.NewTime == s.ExpectedDischargeAt) return Invalid("That is already the expected discharge time.", "newTime");
        return null;
    }

    /// <summary>Before discharge the expected time moves (the discharge check moves with it); after, the recorded time is corrected.</summary>
    public static State DischargeTimeChanged(State s, Instant to, PolicySettings p) => s.Status == D2AStatus.Active
        ? s with { DischargedAt = to, CarePlanDueAt = s.CarePlanApplies ? to + CarePlanWithin(p) : null }
        : s with { ExpectedDischargeAt = to, DischargeOverdue = false };

    /// <summary>The same local time N calendar weeks later in Europe/London (so a BST change does not move it by an hour).</summary>
    public static Instant PlusWeeks(Instant start, int weeks) =>
        start.InZone(WorkflowContext.London).LocalDateTime.PlusWeeks(weeks).InZoneLeniently(WorkflowContext.London).ToInstant();

    /// <summary>The 6-week cap (App M §5, App H): calendar weeks after the discharge, Europe/London.</summary>
    public static Instant CapAt(Instant start, PolicySettings p) => PlusWeeks(start, MaxWeeks(p));

    /// <summary>Week 5: the D2A team is asked to confirm the end date and outcome.</summary>
    public static Instant EndDatePromptAt(Instant start, PolicySettings p) => PlusWeeks(start, PromptWeek(p));

    /// <summary>
    /// Until when the winner's link to the full referral works: the end of the package, which is the 6-week cap after
    /// discharge (App M §5, App H); before discharge, after the expected discharge. A new link goes out when the discharge
    /// (or its expected time) moves, so the link in hand always reaches the cap; closing or re-awarding revokes it sooner
    /// (the details page checks the award).
    /// </summary>
    public static Instant DetailsLinkExpiry(State s, PolicySettings p) => CapAt(s.DischargedAt ?? s.ExpectedDischargeAt, p);

    /// <summary>The previous provider's link to send the plan revision: a week past its due time.</summary>
    public static Instant CarePlanLinkExpiry(Instant due) => due + Duration.FromDays(7);

    public static Rejection? CheckCarePlan(State s, Actor actor, ReceiveCarePlanRevision c, string reference)
    {
        if (s.PreviousProvider is not { } prev) return Conflict($"No provider supported the person before admission, so {reference} expects no plan revision (B 4.6.8).");
        if (actor.Role == Roles.Provider)
        {
            if (actor.ProviderId != prev.Id) return Forbidden("Only the provider who supported the person before admission may send the plan revision.");
        }
        else if (Require(actor, PlanRecorders, "record a care-plan revision") is { } no) return no;
        if (c.ProviderId is not null && c.ProviderId != prev.Id) return Forbidden("Only the provider who supported the person before admission may send the plan revision.");
        if (s.Status != D2AStatus.Active) return Conflict($"{reference} has not been discharged yet.");
        if (s.CarePlanReceived) return Conflict($"The plan revision for {reference} was already received.");
        if (string.IsNullOrWhiteSpace(c.Summary) || c.Summary.Length > 4000) return Invalid("Describe the revisions (up to 4,000 characters).", "summary");
        return null;
    }

    public static Rejection? CheckPlanEnd(State s, Actor actor, PlanEnd e, PolicySettings p, string reference)
    {
        if (Require(actor, D2ATeam, "plan the end of a package") is { } no) return no;
        if (s.Status != D2AStatus.Active) return Conflict($"{reference} is not an active package ({s.Status}).");
        var start = WorkingCalendar.LocalDateOf(s.DischargedAt!.Value);
        var cap = WorkingCalendar.LocalDateOf(CapAt(s.DischargedAt.Value, p));
        if (e.EndDate < start || e.EndDate > cap) return Invalid($"The end date must be between {start:d MMM yyyy} and {cap:d MMM yyyy} (6 weeks at most, App M §5).", "endDate");
        return null;
    }

    public static Rejection? CheckCondition(State s, Actor actor, ReportConditionChange c, string reference)
    {
        if (actor.Role == Roles.Provider)
        {
            if (s.Award is null || actor.ProviderId != s.Award.Provider.Id) return Forbidden("Only the provider with the package may report a change in condition.");
        }
        else if (Require(actor, D2ATeam, "record a change in condition") is { } no) return no;
        if (c.ProviderId is not null && c.ProviderId != s.Award?.Provider.Id) return Forbidden("Only the provider with the package may report a change in condition.");
        if (s.Status != D2AStatus.Active) return Conflict($"{reference} is not an active package ({s.Status}).");
        if (string.IsNullOrWhiteSpace(c.Summary) || c.Summary.Length > 4000) return Invalid("Describe the change (up to 4,000 characters).", "summary");
        return null;
    }

    // ================================================================ 7. close

    public static Rejection? CheckClose(State s, Actor actor, CloseReferral c, string reference)
    {
        if (Require(actor, D2ATeam, "close a referral") is { } no) return no;
        if (s.Status == D2AStatus.Closed) return Conflict($"{reference} is closed.");
        if (!Enum.IsDefined(c.Outcome)) return Invalid("Unknown outcome.", "outcome");
        if (c.Outcome == D2AOutcome.Other && string.IsNullOrWhiteSpace(c.Notes)) return Invalid("Say what the outcome was when it is \"other\".", "notes");
        return null;
    }

    /// <summary>Providers told the offer closed when a referral ends unplaced: those in the current round who had not answered or had bid.</summary>
    public static IEnumerable<Offer> StillInterested(State s) => s.Offering ? s.CurrentRound.Where(o => !o.Answered || o.Accepted == true) : [];

    /// <summary>Every check of an input against the state, as the API runs it before sending and the orchestration after receiving.</summary>
    public static Rejection? Check(State s, Actor actor, WorkflowInput input, Instant now, PolicySettings p, string reference) => input switch
    {
        _ when s.Status == D2AStatus.Closed => Conflict($"{reference} is closed."),
        ProviderResponse r => CheckRespond(s, actor, r, now, reference),
        AwardPackage a => CheckAward(s, actor, a, now, reference).Refused,
        ConfirmDischarge d => CheckDischarge(s, actor, d, now, reference),
        ChangeDischargeTime c => CheckChangeDischargeTime(s, actor, c, now),
        ReceiveCarePlanRevision c => CheckCarePlan(s, actor, c, reference),
        PlanEnd e => CheckPlanEnd(s, actor, e, p, reference),
        ReportConditionChange c => CheckCondition(s, actor, c, reference),
        CloseReferral c => CheckClose(s, actor, c, reference),
        _ => Invalid($"{input.GetType().Name} is not an input of a D2A referral."),
    };

    // ================================================================ what is published: summary, asks, replies

    /// <summary>For lists: patch, discharge time, who has it. No personal data.</summary>
    public static string Summary(State s) => s.Package is null ? "" :
        $"{s.Package.Patch} · discharge {WorkflowContext.Local(s.DischargedAt ?? s.ExpectedDischargeAt)}" +
        (s.Award is { } a ? $" · {a.Provider.Name}" : "") + (s.Flags.Count > 0 ? " · flagged" : "");

    /// <summary>
    /// Offers waiting for an answer in the current round (one "accept" and one "decline" ask per provider), and the plan
    /// revision awaited from the provider who supported the person before admission ("care-plan").
    /// </summary>
    public static IReadOnlyList<OpenAsk> Asks(State s)
    {
        var asks = new List<OpenAsk>();
        if (s.Offering && s.Package is { } package)
        {
            var facts = D2AReferralMessages.OfferFacts(package, s.ExpectedDischargeAt, includeNeeds: true);
            foreach (var o in s.CurrentRound.Where(o => !o.Answered))
            {
                asks.Add(new OpenAsk(o.Provider.Id, AcceptAction, $"Accept D2A package {facts}", o.Deadline, o.Provider.Email, o.Provider.Mobile, Roles.Provider,
                    [new AskField("firstCall", "Earliest first call you can make", "datetime-local", true, "UK time. A time alone (14:30) means its next occurrence.")]));
                asks.Add(new OpenAsk(o.Provider.Id, DeclineAction, $"Decline D2A package {facts}", o.Deadline, o.Provider.Email, o.Provider.Mobile, Roles.Provider,
                    [new AskField("reason", "Reason (optional)", "textarea")]));
            }
        }
        if (s.Status == D2AStatus.Active && !s.CarePlanReceived && s.PreviousProvider is { } prev)
            asks.Add(new OpenAsk(prev.Id, CarePlanAction, "Send the revisions to the care and support plan after discharge (B 4.6.8).",
                s.CarePlanDueAt, prev.Email, prev.Mobile, Roles.Provider,
                [new AskField("summary", "What changed in the care and support plan", "textarea", true)]));
        return asks;
    }

    /// <summary>
    /// Turns an answer into an input. Link forms send "firstCall" (datetime-local or HH:mm), "reason", "summary";
    /// SMS and email replies send free text in "text" (e.g. "ACCEPT D2A-7K3QX 14:30", "2.30pm", "25/11 09:00"). A day
    /// without a year is the one nearest the ask's deadline.
    /// </summary>
    public static ReplyResult ParseReply(OpenAsk ask, IReadOnlyDictionary<string, string> fields)
    {
        var text = Field(fields, "text");
        switch (ask.Action)
        {
            case AcceptAction:
                var raw = Field(fields, "firstCall") ?? text;
                if (raw is null || !TryParseFirstCall(raw, ask.Deadline ?? Instant.FromUtc(2000, 1, 1, 0, 0), out var at, out var time))
                    return ReplyResult.Fail("Please give the earliest first call you can make, for example 14:30 or 2026-11-24 14:30.");
                return ReplyResult.Ok(new ProviderResponse(ask.RecipientId, true, at, time));
            case DeclineAction:
                var reason = Field(fields, "reason") ?? (text is null ? null : StripCommand(text));
                return ReplyResult.Ok(new ProviderResponse(ask.RecipientId, false, Reason: string.IsNullOrWhiteSpace(reason) ? null : reason.Trim()));
            case CarePlanAction:
                var summary = Field(fields, "summary") ?? (text is null ? null : StripCommand(text));
                if (string.IsNullOrWhiteSpace(summary)) return ReplyResult.Fail("Please describe what changed in the care and support plan.");
                return ReplyResult.Ok(new ReceiveCarePlanRevision(summary.Trim(), ask.RecipientId));
            default:
                return ReplyResult.Fail($"A D2A referral does not take \"{ask.Action}\" answers.");
        }
    }

    private static string? Field(IReadOnlyDictionary<string, string> fields, string name)
    {
        foreach (var (k, v) in fields)
            if (string.Equals(k, name, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(v)) return v;
        return null;
    }

    private static readonly Regex Command = new(@"^\s*(accept|yes|decline|no|revise|plan)\b|\b[A-Z0-9]{1,8}-[A-Z0-9]{5}\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static string StripCommand(string text) => Command.Replace(text, " ").Trim();

    private static readonly Regex TimeOfDay = new(
        @"(?<![\d:])(?<h>[01]?\d|2[0-3])(?:[:.](?<m>[0-5]\d))?\s*(?<ap>am|pm)?(?![\d])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly Regex DayMonth = new(@"\b(?<d>[0-3]?\d)/(?<mo>[01]?\d)(?:/(?<y>\d{2}|\d{4}))?\b", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>
    /// Reads a first-call time: an ISO local date-time ("2026-11-24T14:30", "2026-11-24 14:30") in Europe/London, or free
    /// text with a time ("14:30", "2.30pm", "9am") and optionally a day ("25/11 09:00", the year nearest
    /// <paramref name="near"/>). A time without a day is returned as a local time (its next occurrence is taken when the
    /// answer is applied).
    /// </summary>
    public static bool TryParseFirstCall(string raw, Instant near, out Instant? at, out LocalTime? time)
    {
        at = null; time = null;
        raw = raw.Trim();
        if (raw.Length > 200) return false;
        foreach (var pattern in new[] { "uuuu-MM-dd'T'HH:mm", "uuuu-MM-dd'T'HH:mm:ss", "uuuu-MM-dd HH:mm" })
            if (LocalDateTimePattern.CreateWithInvariantCulture(pattern).Parse(raw) is { Success: true } ldt)
            {
                at = ldt.Value.InZoneLeniently(WorkflowContext.London).ToInstant();
                return true;
            }
        if (OffsetDateTimePattern.ExtendedIso.Parse(raw) is { Success: true } odt) { at = odt.Value.ToInstant(); return true; }

        var rest = StripCommand(raw);
        LocalDate? date = null;
        if (DayMonth.Match(rest) is { Success: true } dm)
        {
            var nearDate = WorkingCalendar.LocalDateOf(near);
            var year = dm.Groups["y"].Success ? int.Parse(dm.Groups["y"].Value, CultureInfo.InvariantCulture) : nearDate.Year;
            if (year < 100) year += 2000;
            try { date = new LocalDate(year, int.Parse(dm.Groups["mo"].Value, CultureInfo.InvariantCulture), int.Parse(dm.Groups["d"].Value, CultureInfo.InvariantCulture)); }
            catch (ArgumentOutOfRangeException) { return false; }
            if (!dm.Groups["y"].Success && date < nearDate.PlusMonths(-6)) date = date.Value.PlusYears(1);
            rest = rest.Remove(dm.Index, dm.Length);
        }
        foreach (Match m in TimeOfDay.Matches(rest))
        {
            // A bare number ("3") is not a time; "3pm", "15:00" and "3.30" are.
            if (!m.Groups["m"].Success && !m.Groups["ap"].Success) continue;
            var h = int.Parse(m.Groups["h"].Value, CultureInfo.InvariantCulture);
            var min = m.Groups["m"].Success ? int.Parse(m.Groups["m"].Value, CultureInfo.InvariantCulture) : 0;
            if (m.Groups["ap"].Success)
            {
                if (h is < 1 or > 12) continue;
                var pm = m.Groups["ap"].Value.Equals("pm", StringComparison.OrdinalIgnoreCase);
                h = h % 12 + (pm ? 12 : 0);
            }
            var t = new LocalTime(h, min);
            if (date is { } day) at = day.At(t).InZoneLeniently(WorkflowContext.London).ToInstant();
            else time = t;
            return true;
        }
        return false;
    }

    /// <summary>The next time the London clock shows <paramref name="time"/>, at or after <paramref name="now"/>.</summary>
    public static Instant NextOccurrence(LocalTime time, Instant now)
    {
        var local = now.InZone(WorkflowContext.London).LocalDateTime;
        var candidate = local.Date.At(time);
        if (candidate < local) candidate = candidate.PlusDays(1);
        return candidate.InZoneLeniently(WorkflowContext.London).ToInstant();
    }

    public static string? Trim(string? s, int max) => string.IsNullOrWhiteSpace(s) ? null : s.Trim().Length > max ? s.Trim()[..max] : s.Trim();

    /// <summary>"1 hour", "30 minutes", "24 hours".</summary>
    public static string Words(Duration d) =>
        d.TotalMinutes % 60 != 0 ? $"{d.TotalMinutes:0} minutes" : d.TotalHours == 1 ? "1 hour" : $"{d.TotalHours:0} hours";
}
