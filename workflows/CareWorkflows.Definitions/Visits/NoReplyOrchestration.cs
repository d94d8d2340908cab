using Microsoft.DurableTask;
using NodaTime;
using static CareWorkflows.Definitions.Visits.NoReply;
using static CareWorkflows.Definitions.Visits.NoReplyRules;
using M = CareWorkflows.Definitions.Visits.NoReplyMessages;

namespace CareWorkflows.Definitions.Visits;

/// <summary>
/// No reply at the door (B Appendix E; X 21.3; B 7.24), version 1, as it happens: the carer or office reports it; at once
/// the council's duty contact for the time is told — the duty care manager in council working hours, Social Services
/// Direct 17:00–17:30 on working days, the Emergency Duty Team otherwise — followed by an email to the care manager. The
/// provider records its checks (App E 1, 3) and the outcome. No outcome within the hour: the safeguarding lead is told;
/// "not located": the safeguarding lead at once.
/// </summary>
[DurableTask(Orchestration)]
public sealed class NoReplyOrchestration : TaskOrchestrator<WorkflowStart<Report>, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, WorkflowStart<Report> start)
    {
        var flow = new WorkflowScope(context, NoReply.Type, start.Setup, Inputs);
        var reference = flow.Reference;
        var report = start.Body;

        // 1. The report (App E 2), checked again here: the orchestration has the last word.
        if (CheckReport(report, start.Actor) is { } refused)
        {
            flow.Answer(start.InputId, (int)refused.Kind, refused.Title, refused.Detail);
            flow.Publish("Refused", true, "", [], null);
            return "Refused";
        }
        var (occurredAt, badTime) = VisitRules.ResolveTime(report.At, report.AtLocal, flow.Now, flow.Now - MaxReportAge);
        if (badTime is not null)
        {
            flow.Answer(start.InputId, (int)badTime.Kind, badTime.Title, badTime.Detail);
            flow.Publish("Refused", true, "", [], null);
            return "Refused";
        }

        // 2. At once: the council's duty contact for now, then the care manager by email (App E; X 21.3).
        var route = CouncilDuty.Route(flow.Now, flow.Calendar, flow.Policy);
        var s = Reported(report, occurredAt, flow.Now, route);
        foreach (var contact in route.Contacts) flow.Send(M.ToCouncil(reference, s, contact, flow.Contacts));
        flow.Send(M.ToCareManager(reference, s, flow.Contacts.Email(CareManagerContact)), M.Received(reference, s));
        var overdue = flow.Deadline(OutcomeDeadline, OutcomeDue(s, flow.Policy));
        flow.Answer(start.InputId, 201, "Reported", result: new { s.CouncilTold, s.CouncilRoute });
        Publish();
        flow.Note($"No reply at visit {s.VisitId} reported by {Who(start.Actor)}" + (s.AlertReference is { } a ? $" from alert {a}" : "") +
                  $"; the council is told at once: {route.Why}, and the care manager by email.", "CouncilTold");

        // 3. The checks and the outcome, against the hour.
        while (s.Stage != NoReplyStage.Closed)
        {
            switch (await flow.NextAsync(overdue))
            {
                case DeadlineReached { Deadline.Name: OutcomeDeadline }:
                {
                    var why = $"no outcome recorded {VisitRules.Local(overdue.At)}, an hour after the report";
                    s = s with { SafeguardingToldAt = flow.Now, SafeguardingWhy = why };
                    flow.Note($"No outcome recorded by {VisitRules.Local(overdue.At)}: the safeguarding lead is told.", "OutcomeOverdue");
                    flow.Send(M.ToSafeguardingLead(reference, s, flow.Contacts.Email(SafeguardingContact), why));
                    flow.Publish("no-reply.outcome-overdue", "Overdue");
                    break;
                }

                case Received { Input: RecordChecks c } input when CheckChecks(s, input.Actor, c, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: RecordChecks c } input:
                    s = WithChecks(s, c.Checks, flow.Now, Who(input.Actor));
                    if (c.Note is { } note) s = s with { Notes = [.. s.Notes, note.Trim()] };
                    flow.Accept(input);
                    flow.Note($"Checks recorded by {Who(input.Actor)}: {string.Join(", ", c.Checks.Distinct().Select(Label))}.", "ChecksRecorded");
                    break;

                case Received { Input: RecordOutcome o } input when CheckOutcome(s, input.Actor, o, reference) is { } no:
                    flow.Refuse(input, no);
                    break;
                case Received { Input: RecordOutcome o } input:
                {
                    var (at, bad) = VisitRules.ResolveTime(o.At, o.AtLocal, flow.Now, s.OccurredAt);
                    if (bad is not null) { flow.Refuse(input, bad); break; }
                    s = WithChecks(s, o.Checks ?? [], flow.Now, Who(input.Actor)) with
                    {
                        Stage = NoReplyStage.Closed, Outcome = o.Outcome, OutcomeAt = at, OutcomeRecordedAt = flow.Now,
                        Notes = o.Note is { } outcomeNote ? [.. s.Notes, outcomeNote.Trim()] : s.Notes,
                    };
                    overdue.Cancel();
                    flow.Accept(input, result: new { s.Outcome });
                    flow.Note($"Outcome recorded by {Who(input.Actor)}: {Label(o.Outcome)} at {VisitRules.Local(at)}" +
                              (flow.Now > overdue.At ? " (after the hour)." : "."), "OutcomeRecorded");
                    if (o.Outcome == NoReplyOutcome.NotLocated)
                    {
                        // Not located after every check: the safeguarding lead at once.
                        s = s with { SafeguardingToldAt = flow.Now, SafeguardingWhy = "not located" };
                        flow.Note("Not located: the safeguarding lead is told at once.", "SafeguardingToldNotLocated");
                        flow.Send(M.ToSafeguardingLead(reference, s, flow.Contacts.Email(SafeguardingContact), "not located after the checks"));
                    }
                    else if (s.SafeguardingToldAt is not null) flow.Send(M.Outcome(reference, s, flow.Contacts.Email(SafeguardingContact)));
                    // Those told of the no-reply hear the outcome (App E emergency 2.4: the care manager, of the person's condition).
                    foreach (var contact in s.CouncilTold) flow.Send(M.Outcome(reference, s, flow.Contacts.Email(CouncilDuty.ContactKey(contact))));
                    flow.Send(M.Outcome(reference, s, flow.Contacts.Email(CareManagerContact)));
                    flow.Publish("no-reply.outcome", o.Outcome.ToString());
                    break;
                }

                case Undelivered { Message: var failed }:
                    // A council or provider message that cannot be delivered: the safeguarding lead makes contact another way.
                    flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
                    if (failed.Purpose != "delivery-failed") flow.Send(M.DeliveryFailed(reference, flow.Contacts.Email(SafeguardingContact), failed));
                    break;
            }
            Publish();
        }

        foreach (var failed in await flow.DrainAsync())
            flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
        await flow.DrainAsync();
        return s.Outcome?.ToString() ?? s.Stage.ToString();

        void Publish() => flow.Publish(s.Stage == NoReplyStage.Closed ? s.Outcome!.Value.ToString() : s.Stage.ToString(), s.Stage == NoReplyStage.Closed,
            Summary(s), Asks(s, flow.Policy), s, overdue);
    }

    private static string Who(Actor a) => $"{a.DisplayName ?? a.Id} ({a.Role})";
}
