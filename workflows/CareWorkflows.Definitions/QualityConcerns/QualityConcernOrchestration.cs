using Microsoft.DurableTask;
using NodaTime;
using static CareWorkflows.Definitions.QualityConcerns.QualityConcern;
using static CareWorkflows.Definitions.QualityConcerns.QualityConcernRules;
using M = CareWorkflows.Definitions.QualityConcerns.QualityConcernMessages;

namespace CareWorkflows.Definitions.QualityConcerns;

/// <summary>
/// Quality concern (B 15), version 1, as it happens: the council asks the provider to investigate and answer in writing
/// within 7 working days (B 15.2); a reminder two working days before; overdue, the contract compliance manager hears,
/// and the QA lead a working day later; the council may move the deadline (B 15.2); then it decides — accepted, a
/// detailed action plan required (which runs the same deadline again), a default notice, a safeguarding referral
/// (B 15.3–15.4). Deadlines fall at the end of a working day in Europe/London.
/// </summary>
[DurableTask(Orchestration)]
public sealed class QualityConcernOrchestration : TaskOrchestrator<WorkflowStart<Raise>, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, WorkflowStart<Raise> start)
    {
        var flow = new WorkflowScope(context, QualityConcern.Type, start.Setup, Inputs);
        var reference = flow.Reference;
        var qa = flow.Contacts.Email("quality-assurance");

        // 1. The request for information (B 15.1–15.2): due at the end of the Nth working day after the day it is sent.
        var days = ResponseDays(start.Body, flow.Policy);
        var s = Raised(start.Body, flow.Now, days, Due(flow.Now, days, flow.Calendar));
        Deadline? reminder = null, overdue = null, qaLead = null;
        var overdueCount = 0;
        Schedule();
        flow.Answer(start.InputId, 201, "Raised", result: new { s.DueAt });
        Publish();
        flow.Note($"Quality concern raised with {s.ProviderName} by {start.Actor.DisplayName ?? start.Actor.Id}; the response is due by {WorkflowContext.Local(s.DueAt)} ({days} working days).", "ConcernRaised");
        flow.Send(M.Request(reference, s, LinkExpiry(s.DueAt, flow.Policy)));

        // 2. Until the council closes it: the provider's answer against its deadline, and the council's decisions.
        while (s.Stage != ConcernStage.Closed)
        {
            switch (await flow.NextAsync(reminder, overdue, qaLead))
            {
                case DeadlineReached { Deadline.Name: ReminderDeadline }:
                    flow.Note($"Reminder sent: the provider's {s.What} is due by {WorkflowContext.Local(s.DueAt)}.", "ReminderSent");
                    flow.Send(M.Reminder(reference, s, LinkExpiry(s.DueAt, flow.Policy)));
                    break;

                case DeadlineReached { Deadline.Name: OverdueDeadline }:
                    // Overdue: the contract compliance manager now, and the provider is chased.
                    var compliance = flow.Contacts.Email("contract-compliance");
                    s = s with { Escalation = Math.Max(s.Escalation, 1) };
                    flow.Note($"The {s.What} was due by {WorkflowContext.Local(s.DueAt)} and has not come: the contract compliance manager ({compliance}) is told.", "ResponseOverdue");
                    flow.Send(M.OverdueToCompliance(reference, s, compliance), M.OverdueToProvider(reference, s, LinkExpiry(s.DueAt, flow.Policy)));
                    flow.Publish("concern.overdue", "Overdue", ++overdueCount, new Dictionary<string, Instant> { ["dueAt"] = s.DueAt });
                    qaLead = flow.Deadline(QaLeadDeadline, await flow.WithCalendarAsync(QaLeadDeadline, calendar => QaLeadAt(s.DueDate, calendar, flow.Policy)));
                    break;

                case DeadlineReached { Deadline.Name: QaLeadDeadline }:
                    var lead = flow.Contacts.Email("qa-lead");
                    s = s with { Escalation = 2 };
                    flow.Note($"Still no {s.What} a working day after it was due: the QA lead ({lead}) is told.", "OverdueEscalatedToQaLead");
                    flow.Send(M.OverdueToQaLead(reference, s, lead));
                    break;

                case Received { Input: Respond r } input when CheckRespond(s, input.Actor, r, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: Respond r } input:
                {
                    // The provider's written response (B 15.2): late or not, it counts; the council now decides (B 15.3).
                    var late = flow.Now > s.DueAt;
                    var before = s;
                    s = s with { Stage = ConcernStage.AwaitingDecision, Investigation = r.Investigation.Trim(), IssueFound = r.IssueFound, Actions = r.Actions?.Trim(), ResponseLate = late, Escalation = 0 };
                    Unschedule();
                    flow.Accept(input);
                    flow.Note($"{s.ProviderName} responded{(late ? " late" : "")}: issue found {(r.IssueFound ? "yes" : "no")}. The council's decision is awaited.", "ResponseReceived");
                    flow.Send(M.ResponseReceived(reference, before, qa, r, late));
                    if (before.Escalation > 0) flow.Send(M.OverdueAnswered(reference, before, flow.Contacts, "response"));
                    break;
                }

                case Received { Input: SubmitActionPlan p } input when CheckActionPlan(s, input.Actor, p, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: SubmitActionPlan p } input:
                {
                    var late = flow.Now > s.DueAt;
                    var before = s;
                    s = s with { Stage = ConcernStage.AwaitingDecision, ActionPlan = p.Plan.Trim(), Escalation = 0 };
                    Unschedule();
                    flow.Accept(input);
                    flow.Note($"{s.ProviderName} sent the action plan{(late ? " late" : "")}. The council's decision is awaited.", "ActionPlanReceived");
                    flow.Send(M.ActionPlanReceived(reference, before, qa, p, late));
                    if (before.Escalation > 0) flow.Send(M.OverdueAnswered(reference, before, flow.Contacts, "action plan"));
                    break;
                }

                case Received { Input: ChangeDueDate c } input:
                {
                    // B 15.2: the council may shorten or extend the time; the reminder and escalation move with it.
                    var (no, date, at) = CheckChangeDueDate(s, input.Actor, c, flow.Now, flow.Calendar, reference);
                    if (no is not null) { flow.Refuse(input, no); break; }
                    var previous = s.DueAt;
                    s = s with { DueDate = date, DueAt = at, Escalation = 0 };
                    Schedule();
                    flow.Accept(input);
                    flow.Note($"Due date moved from {WorkflowContext.Local(previous)} to {WorkflowContext.Local(at)} by {Who(input)}. Reason: {c.Reason.Trim()}", "DueDateChanged");
                    flow.Send(M.DueDateChanged(reference, s, previous, c.Reason.Trim(), LinkExpiry(at, flow.Policy)));
                    break;
                }

                case Received { Input: RecordDecision d } input when CheckDecision(s, input.Actor, d, flow.Policy, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: RecordDecision d } input:
                {
                    // B 15.3–15.4: the council's decision. A detailed action plan runs the same deadline cycle again.
                    var outcomes = d.Outcomes.Distinct().ToList();
                    var reason = d.Reason.Trim();
                    var decidedOn = s;
                    var planDays = ActionPlanDays(d, flow.Policy);
                    if (outcomes.Contains(ConcernOutcome.ActionPlanRequired))
                    {
                        var (date, at) = Due(flow.Now, planDays, flow.Calendar);
                        s = s with { Stage = ConcernStage.AwaitingActionPlan, Outcomes = outcomes, DecisionReason = reason, RequestedAt = flow.Now, DueDate = date, DueAt = at, Escalation = 0 };
                        Schedule();
                    }
                    else s = s with { Stage = ConcernStage.Closed, Outcomes = outcomes, DecisionReason = reason };
                    flow.Accept(input, result: new { s.Stage });
                    flow.Note($"Decided by {Who(input)}: {string.Join(", ", outcomes.Select(Label))}. Reason: {reason}" +
                              (s.Stage == ConcernStage.AwaitingActionPlan ? $" A detailed action plan is due by {WorkflowContext.Local(s.DueAt)}." : ""), "ConcernDecided");
                    if (outcomes.Contains(ConcernOutcome.DefaultNotice)) flow.Send(M.DefaultNotice(reference, decidedOn, flow.Contacts.Email("contract-compliance"), reason));
                    if (outcomes.Contains(ConcernOutcome.SafeguardingReferral)) flow.Send(M.SafeguardingReferral(reference, decidedOn, flow.Contacts.Email("safeguarding-lead"), reason));
                    flow.Send(M.Decision(reference, s, outcomes, reason, planDays, s.Stage == ConcernStage.AwaitingActionPlan ? LinkExpiry(s.DueAt, flow.Policy) : null));
                    break;
                }

                case Undelivered { Message: var failed }:
                    // A failed failure notice is not chased again (that would loop); the message log keeps it for operators.
                    flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
                    if (failed.Purpose != "delivery-failed") flow.Send(M.DeliveryFailed(reference, qa, failed));
                    break;
            }
            Publish();
        }

        foreach (var failed in await flow.DrainAsync())
            flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
        await flow.DrainAsync();
        return s.Stage.ToString();

        void Publish() => flow.Publish(s.Stage.ToString(), s.Stage == ConcernStage.Closed, Summary(s), Asks(s), s, reminder, overdue, qaLead);

        // The reminder (if still ahead) and the overdue alarm for the current deadline; any QA-lead escalation is dropped.
        void Schedule()
        {
            Unschedule();
            var remindAt = ReminderAt(s.DueDate, flow.Calendar, flow.Policy);
            reminder = remindAt > flow.Now ? flow.Deadline(ReminderDeadline, remindAt) : null;
            overdue = flow.Deadline(OverdueDeadline, s.DueAt);
        }

        void Unschedule()
        {
            reminder?.Cancel();
            overdue?.Cancel();
            qaLead?.Cancel();
            reminder = overdue = qaLead = null;
        }
    }

    private static string Who(Received input) => $"{input.Actor.DisplayName ?? input.Actor.Id} ({input.Actor.Role})";
}
