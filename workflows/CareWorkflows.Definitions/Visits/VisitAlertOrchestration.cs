using Microsoft.DurableTask;
using NodaTime;
using static CareWorkflows.Definitions.Visits.VisitAlert;
using static CareWorkflows.Definitions.Visits.VisitAlertRules;
using M = CareWorkflows.Definitions.Visits.VisitAlertMessages;

namespace CareWorkflows.Definitions.Visits;

/// <summary>
/// Late or missed visit (B 21.2, 22.1–22.7, X 10.6, B 7.27), version 1, as it happens: call monitoring reports a planned
/// visit not started within 30 minutes (B 21.2); the provider's alert desk is told to contact the person now (B 22.2).
/// The desk records, each with its time, the person reassured, the carer contacted (22.3), a replacement sent with the
/// carer's name (22.4), the person told of it (22.5) — or that the person could not be contacted, which tells the council
/// at once (22.6). Nothing recorded after 15 minutes: the provider's manager. No carer on site an hour after the alert:
/// the council's duty contact (duty care manager in working hours, Emergency Duty Team out of hours) and, if the person
/// was not contacted either, the safeguarding lead. An hour past the planned start, the desk is prompted to tell the
/// person of the delay (X 10.6). It ends when monitoring reports the call started or completed, on a cancellation a senior
/// member of staff confirmed with the person or next of kin (B 7.27), or when no reply at the door hands it to the
/// no-reply procedure. Every report and action is on the instance's timeline with its time (22.7).
/// </summary>
[DurableTask(Orchestration)]
public sealed class VisitAlertOrchestration : TaskOrchestrator<WorkflowStart<Raise>, string>
{
    public const string StartNoReplyActivity = "StartNoReply";
    /// <summary>Contact key (section "Contacts") of a provider's manager, "provider-manager:{providerId}"; else the provider's own mailbox.</summary>
    public const string ProviderManagerContact = "provider-manager:";
    public const string MonitoringContact = "home-care-monitoring", SafeguardingContact = "safeguarding-lead";

    public override async Task<string> RunAsync(TaskOrchestrationContext context, WorkflowStart<Raise> start)
    {
        var flow = new WorkflowScope(context, VisitAlert.Type, start.Setup, Inputs);
        var reference = flow.Reference;
        var policy = flow.Policy;

        // 1. The alert (B 21.2), checked again here: the orchestration has the last word.
        if (CheckRaise(start.Body, flow.Now, policy) is { } refused)
        {
            flow.Answer(start.InputId, (int)refused.Kind, refused.Title, refused.Detail);
            flow.Publish("Refused", true, "", [], null);
            return "Refused";
        }
        var s = Raised(start.Body, flow.Now);
        var manager = flow.Deadline(ManagerDeadline, ManagerAt(s, policy));
        // A short call was made: nobody is waiting at home, so no council escalation and no delay to tell of.
        var council = s.Kind == MonitoringKind.Short ? null : flow.Deadline(CouncilDeadline, CouncilAt(s, policy));
        var delay = s.Kind == MonitoringKind.Short ? null : flow.Deadline(DelayDeadline, DelayPromptAt(s, flow.Now, policy));
        var managerEmail = flow.Contacts.Emails.TryGetValue(ProviderManagerContact + s.ProviderId, out var m) ? m : s.ProviderEmail;
        flow.Answer(start.InputId, 201, "Raised", result: new { s.AlertedAt });
        Publish();
        flow.Note($"{VisitRules.Words(s.Kind.ToString())} visit alert {start.Body.AlertId} from call monitoring ({s.SystemId}) for visit {s.VisitId}, " +
                  $"planned {VisitRules.Local(s.PlannedStart)}; the provider's alert desk is told to contact the person now (B 22.2).", "AlertRaised");
        flow.Send(M.AlertToProvider(reference, s));

        // 2. Until the visit ends: the desk's records against the escalation times, and what call monitoring reports.
        while (s.Stage == AlertStage.Open)
        {
            switch (await flow.NextAsync(manager, council, delay))
            {
                case DeadlineReached { Deadline.Name: ManagerDeadline }:
                    if (s.Steps.Count > 0) break;
                    s = s with { ManagerToldAt = flow.Now };
                    var after = flow.Now - s.AlertedAt;
                    flow.Note($"Nothing recorded {after.TotalMinutes:0} minutes after the alert: the provider's manager ({managerEmail}) is told.", "ManagerEscalation");
                    flow.Send(M.ToProviderManager(reference, s, managerEmail, after));
                    flow.Publish("visit.alert-unanswered", "ManagerTold");
                    break;

                case DeadlineReached { Deadline.Name: CouncilDeadline }:
                {
                    if (s.CarerOnSite) break;
                    // No carer on site: the council's duty contact for now; the safeguarding lead too if nobody spoke to the person.
                    var route = CouncilDuty.Route(flow.Now, flow.Calendar, policy);
                    var contacted = PersonContacted(s);
                    s = s with { CouncilToldAt = flow.Now, CouncilTold = s.CouncilTold.Union(route.Contacts).ToList() };
                    foreach (var contact in route.Contacts) flow.Send(M.ToCouncil(reference, s, contact, flow.Contacts, route.Why, contacted, flow.Now - s.AlertedAt));
                    if (!contacted)
                    {
                        s = s with { SafeguardingToldAt = flow.Now };
                        flow.Send(M.ToSafeguardingLead(reference, s, flow.Contacts.Email(SafeguardingContact)));
                    }
                    flow.Note($"No carer on site {(flow.Now - s.AlertedAt).TotalMinutes:0} minutes after the alert: the council is told, {route.Why}" +
                              (contacted ? "." : "; the person was not contacted either, so the safeguarding lead is told."), "CouncilEscalation");
                    flow.Publish("visit.no-carer-on-site", contacted ? "CouncilTold" : "SafeguardingTold");
                    break;
                }

                case DeadlineReached { Deadline.Name: DelayDeadline }:
                    if (s.CarerOnSite) break;
                    s = s with { DelayPromptAt = flow.Now };
                    flow.Note($"The call is {(flow.Now - s.PlannedStart).TotalMinutes:0} minutes past its planned start: the provider is prompted to tell the person (X 10.6).", "DelayPrompt");
                    flow.Send(M.TellPersonOfDelay(reference, s));
                    break;

                case Received { Input: Monitoring r } input when CheckMonitoring(s, input.Actor, r, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: Monitoring r } input:
                    // A repeat of the same alert is one alert: recorded once, answered alike.
                    if (s.Reports.Any(x => x.AlertId == r.AlertId && x.Kind == r.Kind)) { flow.Answer(input.Event, 200, "Already recorded"); break; }
                    s = s with { Reports = [.. s.Reports, new MonitoringRecord(r.AlertId, r.Kind, r.ReportedAt, flow.Now)] };
                    flow.Accept(input);
                    if (r.Kind is MonitoringKind.Started or MonitoringKind.Completed)
                    {
                        // Someone is with the person: the visit alert ends.
                        var at = r.ReportedAt < flow.Now ? r.ReportedAt : flow.Now;
                        s = s with { CarerOnSiteAt = s.CarerOnSiteAt ?? at };
                        End(r.Kind == MonitoringKind.Started ? VisitEnding.CallStarted : VisitEnding.CallCompleted,
                            $"call monitoring reports the call {(r.Kind == MonitoringKind.Started ? "started" : "completed")} at {VisitRules.Local(at)}");
                    }
                    else
                    {
                        if (r.Kind == MonitoringKind.Missed) s = s with { Kind = MonitoringKind.Missed };
                        flow.Note($"Call monitoring reports the visit as {VisitRules.Words(r.Kind.ToString()).ToLowerInvariant()} (alert {r.AlertId}).", "AlertUpdated");
                    }
                    break;

                case Received { Input: RecordStep r } input when CheckStep(s, input.Actor, r, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: RecordStep r } input:
                {
                    var (at, bad) = VisitRules.ResolveTime(r.At, r.AtLocal, flow.Now, EarliestStep(s));
                    if (bad is not null) { flow.Refuse(input, bad); break; }
                    var step = new StepRecord(r.Step, at, flow.Now, Who(input.Actor), input.Event.Via, r.CarerName?.Trim(), r.Note?.Trim());
                    s = s with { Steps = [.. s.Steps, step] };
                    flow.Accept(input);
                    flow.Note(StepNote(s, step, policy), "StepRecorded");
                    if (r.Step == VisitStep.PersonUnreachable)
                    {
                        // B 22.6: the council is told at once (the provider tells the next of kin, and records it).
                        var route = CouncilDuty.Route(flow.Now, flow.Calendar, policy);
                        s = s with { CouncilToldAt = s.CouncilToldAt ?? flow.Now, CouncilTold = s.CouncilTold.Union(route.Contacts).ToList() };
                        foreach (var contact in route.Contacts) flow.Send(M.UnreachableToCouncil(reference, s, contact, flow.Contacts, route.Why, at));
                        flow.Note($"The person could not be contacted: the council is told at once, {route.Why} (B 22.6).", "CouncilToldPersonUnreachable");
                    }
                    if (s.Kind == MonitoringKind.Short && r.Step == VisitStep.CarerContacted) End(VisitEnding.ShortCallExplained, "the short call's reason is recorded");
                    break;
                }

                case Received { Input: RecordCancellation c } input when CheckCancellation(s, input.Actor, c, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: RecordCancellation c } input:
                {
                    var (at, bad) = VisitRules.ResolveTime(c.At, c.AtLocal, flow.Now, EarliestStep(s) - Duration.FromDays(1));
                    if (bad is not null) { flow.Refuse(input, bad); break; }
                    var with = c.ConfirmedWith == ConfirmedWith.Person ? "the person" : "the next of kin";
                    s = s with { Cancellation = $"confirmed with {with} by {c.ConfirmedBy.Trim()} at {VisitRules.Local(at)}" + (c.Note is { } n ? $": {n.Trim()}" : "") };
                    flow.Accept(input);
                    End(VisitEnding.Cancelled, $"the call was cancelled, {s.Cancellation} (recorded by {Who(input.Actor)}, B 7.27)");
                    break;
                }

                case Received { Input: ReportNoReply n } input when CheckNoReply(s, input.Actor, n, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: ReportNoReply n } input:
                {
                    var (at, bad) = VisitRules.ResolveTime(n.At, n.AtLocal, flow.Now, EarliestStep(s));
                    if (bad is not null) { flow.Refuse(input, bad); break; }
                    // The no-reply procedure takes over (B App E): its own instance, told to the council at once.
                    var report = new NoReply.Report(s.ProviderId, s.ProviderName, s.ProviderEmail, s.ProviderMobile, s.VisitId, s.PersonId, reference, at, null, n.Note?.Trim());
                    var started = await context.CallActivityAsync<NoReplyStarted>(StartNoReplyActivity,
                        new NoReplyStart(reference, report, input.Actor, $"noreply-from:{reference}"), flow.MessageRetry);
                    if (started.Reference is null)
                    {
                        flow.Refuse(input, VisitRules.Conflict($"The no-reply could not be started: {started.Refused}"));
                        break;
                    }
                    s = s with { NoReplyReference = started.Reference, CarerOnSiteAt = s.CarerOnSiteAt ?? at };
                    flow.Accept(input, result: new { noReply = started.Reference });
                    End(VisitEnding.NoReply, $"the carer got no reply at the door at {VisitRules.Local(at)}; no-reply {started.Reference} takes over (B Appendix E)");
                    break;
                }

                case Undelivered { Message: var failed }:
                    flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
                    if (failed.Purpose != "delivery-failed") flow.Send(M.DeliveryFailed(reference, flow.Contacts.Email(MonitoringContact), failed));
                    break;
            }
            Publish();
        }

        foreach (var failed in await flow.DrainAsync())
            flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
        await flow.DrainAsync();
        return s.Ending?.ToString() ?? s.Stage.ToString();

        void Publish() => flow.Publish(s.Stage == AlertStage.Ended ? s.Ending!.Value.ToString() : s.Stage.ToString(), s.Stage == AlertStage.Ended,
            Summary(s), Asks(s, policy), s, manager, council, delay);

        // The visit ends: deadlines dropped; those who were escalated to hear how it ended.
        void End(VisitEnding ending, string how)
        {
            s = s with { Stage = AlertStage.Ended, Ending = ending, EndedAt = flow.Now };
            manager.Cancel();
            council?.Cancel();
            delay?.Cancel();
            flow.Note($"The alert ends: {how}.", "AlertEnded");
            if (s.ManagerToldAt is not null) flow.Send(M.Ended(reference, s, managerEmail, how));
            foreach (var contact in s.CouncilTold) flow.Send(M.Ended(reference, s, flow.Contacts.Email(CouncilDuty.ContactKey(contact)), how));
            if (s.SafeguardingToldAt is not null) flow.Send(M.Ended(reference, s, flow.Contacts.Email(SafeguardingContact), how));
            flow.Publish("visit.alert-ended", ending.ToString());
        }
    }

    /// <summary>A recorded step in words for the timeline (the replacement carer's name is on the record, B 22.5).</summary>
    private static string StepNote(State s, StepRecord step, PolicySettings policy)
    {
        var text = step.Step switch
        {
            VisitStep.Reassured => "The person was contacted and reassured (B 22.2)",
            VisitStep.CarerContacted => "The carer was contacted (B 22.3)",
            VisitStep.ReplacementSent => $"Replacement carer {step.CarerName} sent (B 22.4), " +
                                         (step.At <= ReplacementDue(s, policy) ? "within the hour" : "NOT within the hour of the alert"),
            VisitStep.ReplacementTold => "The person was told a replacement carer is coming and their name (B 22.5)",
            VisitStep.PersonUnreachable => "The person could not be contacted (B 22.6)",
            VisitStep.NextOfKinTold => "The next of kin was told (B 22.6)",
            _ => "The person was told of the delay (X 10.6)",
        };
        return $"{text} at {VisitRules.Local(step.At)}; recorded by {step.By} via {step.Via}" + (step.Note is { } n ? $": {n}" : ".");
    }

    private static string Who(Actor a) => $"{a.DisplayName ?? a.Id} ({a.Role})";
}
