using Microsoft.DurableTask;
using NodaTime;
using static CareWorkflows.Definitions.D2A.D2AReferral;
using static CareWorkflows.Definitions.D2A.D2AReferralRules;
using M = CareWorkflows.Definitions.D2A.D2AReferralMessages;

namespace CareWorkflows.Definitions.D2A;

/// <summary>
/// D2A referral (B 4.6, App A, App H, App M), version 1, as it happens: the discharge team raises it; the eligible patch
/// providers are offered it, anonymised, with an hour to answer and a reminder at 30 minutes (App M §4, §6); nobody
/// takes it → framework providers borough-wide and the brokerage duty lead is alerted (B 1.5.3); still nobody → the
/// brokerage manager and the discharge team are told and brokerage places it by hand. The winner gets the full referral
/// behind a signed link only (App A); the discharge (its time may move, App M §7) starts the package: an end-date prompt
/// in week 5, the 6-week cap (App M §5, App H), the 48-hour plan revision (B 4.6.8), condition changes (App M §3); then
/// it is closed with an outcome. Deadlines run on elapsed time, 24/7 (B 4.6.5); the cap in calendar weeks, London.
/// </summary>
[DurableTask(Orchestration)]
public sealed class D2AReferralOrchestration : TaskOrchestrator<WorkflowStart<RaiseReferral>, string>
{
    public const string AwardedFact = "referral.awarded", NoProviderFoundFact = "referral.no-provider-found";

    public override async Task<string> RunAsync(TaskOrchestrationContext context, WorkflowStart<RaiseReferral> start)
    {
        var flow = new WorkflowScope(context, D2AReferral.Type, start.Setup, Inputs);
        var reference = flow.Reference;
        var policy = flow.Policy;
        var r = Normalised(start.Body);
        var s = Raised(r, flow.Now);
        Deadline? reminder = null, window = null, week5 = null, cap = null, carePlan = null;
        var dischargeCheck = flow.Deadline(DischargeCheckDeadline, r.ExpectedDischargeAt + DischargeCheckAfter(policy));
        string? roundOver = null;
        var awards = 0;

        // 1. Raised (B 4.6, App M §5–6). The API checked the referral and chose the eligible providers (B 14.5, App A ii).
        flow.Answer(start.InputId, 201, "Raised", result: new { reference });
        flow.Note($"Referral raised by {Who(start.Actor)} for the {r.Patch} patch; discharge expected at {Local(r.ExpectedDischargeAt)}.", "ReferralRaised");

        // 2. The patch round (B 1.5.2, App A): every eligible patch provider of the patch.
        var why = r.PatchProviders.Count == 0 ? $"no patch provider of {r.Patch} can be offered the package" : await RoundAsync(1, r.PatchProviders);

        // 3. Nobody in the patch took it: framework providers borough-wide, and the brokerage duty lead is alerted (B 1.5.3).
        if (why is not null && s.Status != D2AStatus.Closed)
        {
            var framework = NotYetOffered(s, r.FrameworkProviders);
            if (framework.Count == 0) why += ", and no framework provider can be offered it";
            else
            {
                flow.Note($"{Sentence(why)}: offered to {framework.Count} framework provider(s) borough-wide; brokerage duty alerted.", "BrokerageAlerted");
                flow.Send(Brokerage(flow.Contacts, "brokerage-duty", flow.Now, policy).Select(to => M.FrameworkRoundAlert(reference, to, r.Patch, why, framework.Count)));
                why = await RoundAsync(2, framework);
            }
        }

        // 4. No provider found: the brokerage manager and the discharge team hear; it stays open for a manual placement.
        if (why is not null && s.Status != D2AStatus.Closed)
        {
            s = s with { Status = D2AStatus.NoProviderFound, RoundDeadline = null };
            flow.Note($"No provider found: {why}. Open for a manual placement by brokerage.", "NoProviderFound");
            flow.Send(M.NoProviderFound(reference, [.. Brokerage(flow.Contacts, "brokerage-manager", flow.Now, policy), r.Referrer.Email], why, s.ExpectedDischargeAt));
            flow.Publish(NoProviderFoundFact, "NoProviderFound");
            Publish();
            while (s.Status == D2AStatus.NoProviderFound) { Handle(await flow.NextAsync(dischargeCheck)); Publish(); }
        }

        // 5. Awarded: waiting for the discharge (its time may move, App M §7; brokerage may re-award, App A).
        while (s.Status == D2AStatus.Awarded) { Handle(await flow.NextAsync(dischargeCheck)); Publish(); }

        // 6. The active package: week-5 prompt and 6-week cap (App M §5, App H), 48-hour plan revision (B 4.6.8).
        while (s.Status == D2AStatus.Active) { Handle(await flow.NextAsync(week5, cap, carePlan)); Publish(); }

        // 7. Closed: every deadline is cancelled; what is still being sent is finished.
        foreach (var failed in await flow.DrainAsync())
            flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
        await flow.DrainAsync();
        return s.Status.ToString();

        void Publish() => flow.Publish(s.Status.ToString(), s.Status == D2AStatus.Closed, Summary(s), Asks(s), s, reminder, window, dischargeCheck, week5, cap, carePlan);

        // One round of offers (App A: anonymised; App M §4, §6: the window, a reminder to those who have not answered).
        // Returns why it ended without an award, or null when the referral moved on (awarded, closed).
        async Task<string?> RoundAsync(int round, IReadOnlyList<ProviderContact> providers)
        {
            var deadline = flow.Now + RoundWindow(round, policy);
            s = OffersSent(s, round, providers, flow.Now, deadline);
            window = flow.Deadline(WindowDeadline, deadline);
            reminder = ReminderAt(flow.Now, round, policy) is { } remindAt ? flow.Deadline(ReminderDeadline, remindAt) : null;
            roundOver = null;
            flow.Note($"Offered to {providers.Count} {(round == 1 ? "patch" : "framework")} provider(s) until {Local(deadline)}: {string.Join(", ", providers.Select(p => p.Name))}.", "OffersSent");
            foreach (var p in providers) flow.Send(M.Offer(reference, s.Package!, s.ExpectedDischargeAt, p, deadline, reminder: false));
            Publish();
            while (s.Offering && s.Round == round && roundOver is null)
            {
                switch (await flow.NextAsync(reminder, window, dischargeCheck))
                {
                    case DeadlineReached { Deadline.Name: ReminderDeadline }:
                        // Only those who have not answered are reminded, with links to the same deadline.
                        var waiting = ToRemind(s);
                        if (waiting.Count == 0) break;
                        s = Reminded(s, waiting.Select(o => o.Provider.Id));
                        flow.Note($"Reminder sent to {string.Join(", ", waiting.Select(o => o.Provider.Name))}: no answer yet.", "RemindersSent");
                        foreach (var o in waiting) flow.Send(M.Offer(reference, s.Package!, s.ExpectedDischargeAt, o.Provider, o.Deadline, reminder: true));
                        break;
                    case DeadlineReached { Deadline.Name: WindowDeadline }:
                        EndRound();
                        break;
                    case var next:
                        Handle(next);
                        break;
                }
                Publish();
            }
            return s.Status == D2AStatus.Closed ? null : roundOver;
        }

        // The round is over (window ended, or everyone answered) without an acceptance meeting the discharge time.
        void EndRound()
        {
            reminder?.Cancel();
            window?.Cancel();
            if (BestLateBid(s) is { } best) Award(best.Provider, best.FirstCallAt!.Value, ByPolicyAtWindowEnd, null);
            else roundOver = s.Round == 1 ? $"no patch provider of {r.Patch} accepted within {Words(Window(policy))}"
                : $"no framework provider accepted within {Words(FrameworkWindow(policy))} either";
        }

        // Everything that can happen at any stage: inputs (checked by the same rules as the API), deadlines, undelivered messages.
        void Handle(Next next)
        {
            var now = flow.Now;
            switch (next)
            {
                case Received { Input: var input } received when Check(s, received.Actor, input, now, policy, reference) is { } no:
                    flow.Refuse(received, no);
                    break;

                case Received { Input: ProviderResponse p } received:
                {
                    var first = p.Accept ? FirstCallOf(p, now) : null;
                    var offer = s.Offers.Last(o => o.Provider.Id == p.ProviderId);
                    s = Answered(s, p, first, now);
                    flow.Accept(received);
                    flow.Note(p.Accept ? $"{offer.Provider.Name} accepted, first call {Local(first!.Value)}{(MeetsDischarge(first.Value, s, policy) ? "" : " (later than the discharge allows)")}."
                        : $"{offer.Provider.Name} declined{(Trim(p.Reason, 1000) is { } reason ? $": {reason}" : ".")}", p.Accept ? "OfferAccepted" : "OfferDeclined");
                    // The award policy (App A): the first acceptance meeting the discharge time wins at once; brokerage may re-award.
                    if (p.Accept && MeetsDischarge(first!.Value, s, policy)) Award(offer.Provider, first.Value, ByPolicyInWindow, null);
                    else if (AllAnswered(s)) EndRound();
                    break;
                }

                case Received { Input: AwardPackage a } received:
                {
                    var (_, provider, first) = CheckAward(s, received.Actor, a, now, reference);
                    flow.Accept(received);
                    Award(provider, first, ByBrokerage, a.Reason);
                    break;
                }

                case Received { Input: ConfirmDischarge c } received:
                {
                    var at = c.DischargedAt ?? now;
                    s = Discharged(s, at, policy);
                    dischargeCheck.Cancel();
                    SchedulePackage(at);
                    flow.Accept(received);
                    flow.Note($"Discharged at {Local(at)} ({Who(received.Actor)}): the package is active until {Local(CapAt(at, policy))} at most.", "Discharged");
                    flow.Send(M.DischargeConfirmed(reference, s.Award!.Provider, at, CapAt(at, policy), M.DetailsLink(s.Award.Provider, DetailsLinkExpiry(s, policy))));
                    // B 4.6.8: the provider who supported the person before admission tells the next of kin and revises the plan.
                    if (s.PreviousProvider is { } prev) flow.Send(M.CarePlanRevisionRequest(reference, prev, s.CarePlanDueAt!.Value, CarePlanLinkExpiry(s.CarePlanDueAt.Value)));
                    break;
                }

                case Received { Input: ChangeDischargeTime c } received:
                {
                    // App M §7. Before discharge the expected time moves; after, the recorded time is corrected.
                    var wasActive = s.Status == D2AStatus.Active;
                    var from = s.DischargedAt ?? s.ExpectedDischargeAt;
                    s = DischargeTimeChanged(s, c.NewTime, policy);
                    flow.Accept(received);
                    flow.Note($"Discharge time {(wasActive ? "corrected" : "changed")} from {Local(from)} to {Local(c.NewTime)} by {Who(received.Actor)}" +
                              (Trim(c.Reason, 1000) is { } reason ? $". Reason: {reason}" : "."), "DischargeTimeChanged");
                    if (wasActive) { SchedulePackage(c.NewTime); break; }
                    dischargeCheck.Cancel();
                    dischargeCheck = flow.Deadline(DischargeCheckDeadline, c.NewTime + DischargeCheckAfter(policy));
                    if (s is { Status: D2AStatus.Awarded, Award: { } award })
                    {
                        var promised = Promised(award.FirstCallAt, c.NewTime);
                        flow.Send(M.DischargeTimeChanged(reference, award.Provider, c.NewTime, promised, M.DetailsLink(award.Provider, DetailsLinkExpiry(s, policy))));
                        FlagCutOffs(promised);
                    }
                    else foreach (var o in StillInterested(s)) flow.Send(M.DischargeTimeChanged(reference, o.Provider, c.NewTime, null));
                    break;
                }

                case Received { Input: ReceiveCarePlanRevision } received:
                    s = s with { CarePlanReceived = true };
                    carePlan?.Cancel();
                    flow.Accept(received);
                    flow.Note($"Care and support plan revisions received from {s.PreviousProvider!.Name} (B 4.6.8).", "CarePlanRevisionReceived");
                    flow.Send(M.CarePlanReceived(reference, flow.Contacts.Email("care-manager")));
                    break;

                case Received { Input: PlanEnd e } received:
                    s = s with { PlannedEndDate = e.EndDate, PlannedOutcome = e.ExpectedOutcome };
                    week5?.Cancel();
                    flow.Accept(received);
                    flow.Note($"End date {e.EndDate:d MMM yyyy} planned by {Who(received.Actor)}; expected outcome: {e.ExpectedOutcome}.", "EndDatePlanned");
                    flow.Send(M.EndDatePlanned(reference, s.Award!.Provider, e.EndDate));
                    break;

                case Received { Input: ReportConditionChange c } received:
                    // App M §3: a change may mean D2A is no longer the right package; the D2A team decides (the notes are on the timeline).
                    flow.Accept(received);
                    flow.Note($"{(c.Improved ? "Improvement" : "Deterioration")} reported by {Who(received.Actor)}.", "ConditionChangeReported");
                    flow.Send(M.ConditionChanged(reference, flow.Contacts.Email("d2a-team"), s.Award!.Provider.Name, c.Improved));
                    break;

                case Received { Input: CloseReferral c } received:
                {
                    var before = s;
                    s = s with { Status = D2AStatus.Closed, Outcome = c.Outcome, ClosingNotes = Trim(c.Notes, 2000), RoundDeadline = null };
                    foreach (var d in new[] { reminder, window, dischargeCheck, week5, cap, carePlan }) d?.Cancel();
                    flow.Accept(received);
                    flow.Note($"Closed by {Who(received.Actor)}: {c.Outcome}{(s.ClosingNotes is { } notes ? $". {notes}" : ".")}", "ReferralClosed");
                    if (before.Award is { } award) flow.Send(M.Closed(reference, award.Provider));
                    else foreach (var o in StillInterested(before)) flow.Send(M.OfferClosed(reference, o.Provider));
                    break;
                }

                case DeadlineReached { Deadline.Name: DischargeCheckDeadline }:
                    s = s with { DischargeOverdue = true };
                    flow.Note($"The discharge expected at {Local(s.ExpectedDischargeAt)} is not confirmed: brokerage duty is asked to check.", "DischargeOverdue");
                    flow.Send(Brokerage(flow.Contacts, "brokerage-duty", now, policy).Select(to => M.DischargeNotConfirmed(reference, to, r.Referrer.Email, s.ExpectedDischargeAt)));
                    break;

                case DeadlineReached { Deadline.Name: Week5Deadline }:
                {
                    var capDate = WorkingCalendar.LocalDateOf(CapAt(s.DischargedAt!.Value, policy));
                    s = s with { EndDatePrompted = true };
                    flow.Note($"Week {PromptWeek(policy)}: the D2A team is asked to confirm the end date (by {capDate:d MMM yyyy}) and the outcome.", "EndDatePrompted");
                    flow.Send(M.EndDatePrompt(reference, flow.Contacts.Email("d2a-team"), capDate));
                    break;
                }

                case DeadlineReached { Deadline.Name: CapDeadline }:
                {
                    var capAt = CapAt(s.DischargedAt!.Value, policy);
                    s = s with { CapReached = true };
                    flow.Note($"The {MaxWeeks(policy)}-week maximum was reached at {Local(capAt)} and the package is still open (App M §5, App H).", "CapReached");
                    flow.Send(M.CapReached(reference, [flow.Contacts.Email("d2a-team-lead"), .. Brokerage(flow.Contacts, "brokerage-duty", now, policy)], capAt));
                    break;
                }

                case DeadlineReached { Deadline.Name: CarePlanDeadline }:
                    s = s with { CarePlanOverdue = true };
                    flow.Note($"No plan revision from {s.PreviousProvider!.Name} by {Local(s.CarePlanDueAt!.Value)} (B 4.6.8): the care manager is told.", "CarePlanRevisionOverdue");
                    flow.Send(M.CarePlanOverdue(reference, flow.Contacts.Email("care-manager"), s.PreviousProvider.Name, s.CarePlanDueAt.Value));
                    break;

                case Undelivered { Message: var failed }:
                    // A provider we could not reach is brokerage's problem at once; staff mailboxes failing are only recorded (no loops).
                    flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
                    if (!failed.Purpose.StartsWith("staff-", StringComparison.Ordinal) && s.Status != D2AStatus.Closed)
                        flow.Send(Brokerage(flow.Contacts, "brokerage-duty", now, policy).Select(to => M.UndeliveredAlert(reference, to, failed)));
                    break;
            }
        }

        // 5. The award (App A): the winner gets its details link; the others, the referrer and the integration fact follow.
        void Award(ProviderContact winner, Instant firstCall, string by, string? reason)
        {
            var before = s;
            s = Awarded(s, winner, firstCall, by, reason, flow.Now);
            reminder?.Cancel();
            window?.Cancel();
            var promised = Promised(firstCall, s.ExpectedDischargeAt);
            flow.Note($"Awarded to {winner.Name} ({by}{(s.Award!.Reason is { } why ? $": {why}" : "")}); first call {Local(promised)}.", "PackageAwarded");
            flow.Send(M.Awarded(reference, winner, promised, s.ExpectedDischargeAt, M.DetailsLink(winner, DetailsLinkExpiry(s, policy))));
            if (before.Award is { } previous) flow.Send(M.AwardWithdrawn(reference, previous.Provider));
            else
                // Other bidders are told they were not successful; those who had not answered, that the offer is closed.
                foreach (var o in before.Offers.Where(o => o.Provider.Id != winner.Id).GroupBy(o => o.Provider.Id).Select(g => g.Last()))
                {
                    if (o.Accepted == true) flow.Send(M.NotSuccessful(reference, o.Provider));
                    else if (!o.Answered && o.Round == before.Round && before.Offering) flow.Send(M.OfferClosed(reference, o.Provider));
                }
            flow.Send(M.PlacedToDischargeTeam(reference, r.Referrer.Email, winner.Name, promised, s.ExpectedDischargeAt, before.Award?.Provider.Name));
            flow.Publish(AwardedFact, "Awarded", ++awards, new Dictionary<string, Instant> { ["firstCallAt"] = promised });
            FlagCutOffs(promised);
        }

        // App M §6, B 4.6.7, B 4.6.4: promises that cannot be kept go to brokerage duty (and on the timeline).
        void FlagCutOffs(Instant promised)
        {
            var flags = CutOffFlags(flow.Now, promised, s.ExpectedDischargeAt, policy);
            if (flags.Count == 0) return;
            s = s with { Flags = s.Flags.AddRange(flags) };
            flow.Note(string.Join(" ", flags), "CutOffsFlagged");
            flow.Send(Brokerage(flow.Contacts, "brokerage-duty", flow.Now, policy).Select(to => M.CutOffsFlagged(reference, to, flags, promised)));
        }

        // Week 5 and the cap in calendar weeks from the discharge (London); the plan revision 48 elapsed hours after it.
        void SchedulePackage(Instant discharged)
        {
            foreach (var d in new[] { week5, cap, carePlan }) d?.Cancel();
            week5 = !s.EndDatePrompted && s.PlannedEndDate is null ? flow.Deadline(Week5Deadline, EndDatePromptAt(discharged, policy)) : null;
            cap = !s.CapReached ? flow.Deadline(CapDeadline, CapAt(discharged, policy)) : null;
            carePlan = s is { CarePlanApplies: true, CarePlanReceived: false, CarePlanOverdue: false, CarePlanDueAt: { } due } ? flow.Deadline(CarePlanDeadline, due) : null;
        }
    }

    private static string Local(Instant i) => WorkflowContext.Local(i);
    private static string Who(Actor a) => $"{a.DisplayName ?? a.Id} ({a.Role})";
    private static string Who(Received input) => Who(input.Actor);
    private static string Sentence(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
