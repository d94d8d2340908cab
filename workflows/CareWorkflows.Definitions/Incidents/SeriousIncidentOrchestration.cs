using Microsoft.DurableTask;
using NodaTime;
using static CareWorkflows.Definitions.Incidents.SeriousIncident;
using static CareWorkflows.Definitions.Incidents.SeriousIncidentRules;
using M = CareWorkflows.Definitions.Incidents.SeriousIncidentMessages;

namespace CareWorkflows.Definitions.Incidents;

/// <summary>
/// Serious incident (B 12, B 10.5, X 13.3, B App C §5), version 1, as it happens: the provider reports it (within 12
/// hours of it occurring, B 12.4 — a late report is recorded and escalated at once); the council hears at once, the
/// safeguarding lead for safeguarding-type incidents (B 10.5, B 12.3) and brokerage for admissions, deaths and serious
/// injuries (X 13.3); the full report is due 48 hours after it occurred (B 12.5: reminded before, escalated when overdue,
/// again every day until it comes); then status updates every few working days until the council closes or escalates
/// it. Hour deadlines are elapsed time; the update cadence is in working days in Europe/London, and waits (held, with
/// operators told) when the bank-holiday data does not reach its date — nothing else waits for it.
/// </summary>
[DurableTask(Orchestration)]
public sealed class SeriousIncidentOrchestration : TaskOrchestrator<WorkflowStart<Report>, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, WorkflowStart<Report> start)
    {
        var flow = new WorkflowScope(context, SeriousIncident.Type, start.Setup, Inputs);
        var reference = flow.Reference;
        var compliance = flow.Contacts.Email("contract-compliance");
        var safeguarding = flow.Contacts.Email("safeguarding-lead");
        var escalations = 0; // occurrences of the "incident.escalated" fact, 1, 2, … in the order they happen
        Deadline? reminder = null, overdue = null, updateDue = null, updateHeld = null;

        // 1. The initial report (B 12.4), checked by the API; the full report is due 48 h after it occurred (B 12.5).
        var s = Reported(start.Body, flow.Now, flow.Policy);
        if (FullReportReminderAt(s.FullReportDueAt, flow.Now, flow.Policy) is { } remindAt) reminder = flow.Deadline(FullReportReminderDeadline, remindAt);
        overdue = flow.Deadline(FullReportOverdueDeadline, FullReportOverdueAt(s.FullReportDueAt, flow.Now));
        Publish();
        flow.Answer(start.InputId, 201, "Reported", result: new { s.ReportedLate, s.FullReportDueAt });
        flow.Note($"Serious incident ({Label(s.Report.Category)}) reported by {start.Actor.DisplayName ?? start.Actor.Id} for {s.Report.ProviderName}, " +
                  $"{Hours(s.ReportedAt - s.Report.OccurredAt)} after it occurred; the full report is due by {WorkflowContext.Local(s.FullReportDueAt)}.", "IncidentReported");
        // B 12.2: the council hears of every serious incident at once.
        flow.Send(M.Reported(reference, s, compliance));
        if (IsSafeguarding(s.Report.Category))
        {
            // B 10.5, B 12.3: safeguarding-type incidents go to the safeguarding lead without waiting.
            flow.Note($"Safeguarding-type incident: the safeguarding lead ({safeguarding}) is told at once.", "EscalationSent");
            flow.Send(M.SafeguardingAlert(reference, s, safeguarding));
        }
        if (TellsBrokerage(s.Report.Category))
        {
            // X 13.3: hospital admission, death and serious injury are told to the social worker / brokerage team at once.
            var brokerage = flow.Contacts.Email("brokerage-duty");
            flow.Note($"Hospital admission, death or serious injury (X 13.3): the brokerage team ({brokerage}) is told at once.", "EscalationSent");
            flow.Send(M.BrokerageNotice(reference, s, brokerage));
        }
        if (s.ReportedLate)
        {
            // B 12.4: a late initial report is a contract KPI failure; it is escalated at once.
            flow.Note($"Initial report made {Hours(s.ReportedAt - s.Report.OccurredAt)} after the incident (more than 12 hours): " +
                      $"the safeguarding lead and contract compliance are told.", "EscalationSent");
            flow.Send(M.LateReport(reference, s, safeguarding), M.LateReport(reference, s, compliance));
            flow.Publish(EscalatedFact, "Escalated", ++escalations);
        }
        flow.Send(M.Acknowledgement(reference, s));
        await ScheduleUpdateAsync(missed: null);
        Publish();

        // 2. Until the council closes or escalates it: the full report against its deadline, then status updates.
        while (!s.Ended)
        {
            switch (await flow.NextAsync(reminder, overdue, updateDue, updateHeld))
            {
                case DeadlineReached { Deadline.Name: FullReportReminderDeadline }:
                    flow.Note($"Reminder sent: the full report is due by {WorkflowContext.Local(s.FullReportDueAt)}.", "FullReportReminderSent");
                    flow.Send(M.FullReportReminder(reference, s));
                    break;

                case DeadlineReached { Deadline.Name: FullReportOverdueDeadline }:
                    // B 12.5: no full report by 48 h → safeguarding lead and contract compliance, again each day until it comes.
                    s = s with { FullReportEscalations = s.FullReportEscalations + 1 };
                    flow.Note($"The full report was due by {WorkflowContext.Local(s.FullReportDueAt)} and has not come (escalation {s.FullReportEscalations}): " +
                              "the safeguarding lead and contract compliance are told, the provider chased.", "FullReportOverdue");
                    flow.Send(M.FullReportOverdue(reference, s, safeguarding), M.FullReportOverdue(reference, s, compliance), M.FullReportChaser(reference, s, flow.Now));
                    flow.Publish(EscalatedFact, "Escalated", ++escalations);
                    overdue = flow.Deadline(FullReportOverdueDeadline, NextOverdueRound(flow.Now, flow.Policy));
                    break;

                case DeadlineReached { Deadline: { Name: UpdateDueDeadline } missed }:
                {
                    // B 12.5: no status update within the cadence — the council is told and the provider asked again.
                    var targets = UpdateMissedTargets(s, flow.Contacts);
                    s = s with { UpdatesMissed = s.UpdatesMissed + 1 };
                    flow.Note($"No status update by {WorkflowContext.Local(missed.At)}: {string.Join(" and ", targets)} told.", "UpdateMissed");
                    flow.Send(targets.Select(to => M.UpdateMissed(reference, s, to, missed.At)));
                    flow.Publish(EscalatedFact, "Escalated", ++escalations);
                    await ScheduleUpdateAsync(missed: missed.At);
                    break;
                }

                case DeadlineReached { Deadline.Name: UpdateScheduleDeadline }:
                    // The cadence waited for bank-holiday data: look for newer data (an operator may have loaded it on any node).
                    await flow.RefreshSetupAsync();
                    await ScheduleUpdateAsync(missed: null, quiet: true);
                    break;

                case Received { Input: SubmitFullReport f } input when CheckFullReport(s, input.Actor, f, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: SubmitFullReport f } input:
                {
                    // B 12.5: late or not, it counts; the council now reviews it. It counts as a status update too.
                    var escalated = s.FullReportEscalations > 0;
                    s = s with { Phase = IncidentPhase.Open, FullReportReceivedAt = flow.Now, FullReportLate = flow.Now > s.FullReportDueAt };
                    reminder?.Cancel();
                    overdue?.Cancel();
                    flow.Accept(input);
                    flow.Note($"Full report received from {Who(input)}{(s.FullReportLate ? ", late" : "")}. The council reviews it and closes or escalates the incident.", "FullReportReceived");
                    flow.Send(M.FullReportReceived(reference, s, compliance, f));
                    if (escalated) flow.Send(M.OverdueFullReportReceived(reference, safeguarding));
                    await ScheduleUpdateAsync(missed: null);
                    break;
                }

                case Received { Input: SubmitUpdate u } input when CheckUpdate(s, input.Actor, u, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: SubmitUpdate u } input:
                    s = s with { UpdatesReceived = s.UpdatesReceived + 1 };
                    flow.Accept(input);
                    flow.Note($"Status update {s.UpdatesReceived} received from {Who(input)}: {u.Text.Trim()}", "UpdateReceived");
                    await ScheduleUpdateAsync(missed: null);
                    break;

                case Received { Input: Close c } input when CheckClose(s, input.Actor, c, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: Close c } input:
                    // B 12.5: the council closes it; every deadline stops.
                    s = s with { Phase = IncidentPhase.Closed, OutcomeReason = c.Reason.Trim() };
                    await UnscheduleAsync();
                    flow.Accept(input);
                    flow.Note($"Closed by {Who(input)}. Reason: {s.OutcomeReason}", "IncidentClosed");
                    flow.Send(M.Closed(reference, s, s.OutcomeReason));
                    break;

                case Received { Input: Escalate e } input when CheckEscalate(s, input.Actor, e, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: Escalate e } input:
                {
                    // B 12.5: escalated (s42 safeguarding enquiry, CQC, contract review); every deadline stops.
                    var routes = e.Routes.Distinct().ToList();
                    s = s with { Phase = IncidentPhase.Escalated, OutcomeReason = e.Reason.Trim(), EscalatedTo = [.. routes] };
                    await UnscheduleAsync();
                    flow.Accept(input);
                    flow.Note($"Escalated by {Who(input)} for {string.Join(", ", routes.Select(RouteLabel))}. Reason: {s.OutcomeReason}", "IncidentEscalated");
                    flow.Send(routes.Select(route => M.Escalation(reference, s, route, flow.Contacts, s.OutcomeReason)));
                    flow.Send(M.Escalated(reference, s, routes));
                    flow.Publish(EscalatedFact, "Escalated", ++escalations);
                    break;
                }

                case Undelivered { Message: var failed }:
                    // A failed failure notice is not chased again (that would loop); the message log keeps it for operators.
                    flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
                    if (failed.Purpose != "delivery-failed") flow.Send(M.DeliveryFailed(reference, compliance, failed));
                    break;
            }
            Publish();
        }

        foreach (var failed in await flow.DrainAsync())
            flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
        await flow.DrainAsync();
        return s.Phase.ToString();

        void Publish() => flow.Publish(s.Phase.ToString(), s.Ended, Summary(s), Asks(s), s, reminder, overdue, updateDue, updateHeld);

        // The next status update, N working days on (B 12.5), asked for by a signed link. Beyond the bank-holiday data it
        // is held (operators told, the timeline says so) and looked for again every few minutes; the incident goes on.
        async Task ScheduleUpdateAsync(Instant? missed, bool quiet = false)
        {
            var wasHeld = updateHeld is not null;
            updateDue?.Cancel();
            updateHeld?.Cancel();
            updateDue = updateHeld = null;
            Instant next;
            try { next = NextUpdateDue(flow.Now, flow.Calendar, flow.Policy); }
            catch (CalendarOutOfRangeException e)
            {
                s = s with { NextUpdateDueAt = null };
                if (!wasHeld) flow.Note($"The next status update date needs {e.Date:yyyy-MM-dd}, beyond the bank-holiday data: held until newer data is loaded.", "UpdateCadenceHeld");
                await HoldAsync(e.Date);
                updateHeld = flow.Deadline(UpdateScheduleDeadline, flow.Now + WorkflowScope.CalendarRetry);
                if (missed is { } m) flow.Send(M.UpdateOverdue(reference, s, m, null, flow.Now));
                return;
            }
            if (wasHeld) await HoldAsync(null);
            s = s with { NextUpdateDueAt = next };
            updateDue = flow.Deadline(UpdateDueDeadline, next);
            flow.Note($"The next status update is due by {WorkflowContext.Local(next)}.", "NextUpdateScheduled");
            if (missed is { } due) flow.Send(M.UpdateOverdue(reference, s, due, next, flow.Now));
            else if (!quiet) flow.Send(M.UpdateRequest(reference, s, next));
        }

        // Closed or escalated: no deadline is waited for any more, and operators no longer see a held one.
        async Task UnscheduleAsync()
        {
            foreach (var d in new[] { reminder, overdue, updateDue, updateHeld }) d?.Cancel();
            if (updateHeld is not null) await HoldAsync(null);
            reminder = overdue = updateDue = updateHeld = null;
        }

        Task HoldAsync(LocalDate? date) => context.CallActivityAsync(WorkflowScope.CalendarHoldActivity, new CalendarHold(reference, UpdateScheduleDeadline, date));
    }

    private static string Who(Received input) => $"{input.Actor.DisplayName ?? input.Actor.Id} ({input.Actor.Role})";
}
