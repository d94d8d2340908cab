using Microsoft.DurableTask;
using NodaTime;
using static CareWorkflows.Definitions.TrustedAssessor.TrustedAssessorAdjustment;
using static CareWorkflows.Definitions.TrustedAssessor.TrustedAssessorAdjustmentRules;
using M = CareWorkflows.Definitions.TrustedAssessor.TrustedAssessorAdjustmentMessages;

namespace CareWorkflows.Definitions.TrustedAssessor;

/// <summary>
/// Trusted-assessor adjustment and sign-off (B 4.2.7–4.2.9, B 9.8, App G, App N), version 1, as it happens: a provider's
/// qualified trusted assessor proposes new weekly hours for a package, with the person's agreement. Within parameters
/// (−25% / +10%, G.6, G.10 §1) the change takes effect at once and goes to the senior care manager (and the
/// moving-and-handling assessor where relevant) for sign-off (G.10 §4.2); outside them nothing changes until the care
/// manager (and the OT, where flagged) approves (G.7, G.10 §5). The senior care manager may raise a concern with the
/// provider, or pause the change pending a care-management review, when the provider reinstates the original service
/// (G.10 §4.2). Sign-off or approval requests the payment adjustment (App N). Each window has a reminder and an escalation
/// on working days; the package's hours in the registry follow the hours in effect (an activity: I/O).
/// </summary>
[DurableTask(Orchestration)]
public sealed class TrustedAssessorAdjustmentOrchestration : TaskOrchestrator<WorkflowStart<ProposeAdjustment>, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, WorkflowStart<ProposeAdjustment> start)
    {
        var flow = new WorkflowScope(context, TrustedAssessorAdjustment.Type, start.Setup, Inputs);
        var reference = flow.Reference;
        var p = start.Body;
        var check = Evaluate(p, flow.Policy);
        var s = Proposed(p, check);
        string? window = null;
        Deadline? reminder = null, escalation = null;

        // 1. The proposal (App G.1, G.6, B 9.8). The API checked it against the registry at once; these rules have the last word.
        if (CheckPropose(p, start.Actor, flow.Now, flow.Policy) is { } refused) return await RefuseStartAsync(refused);
        Publish();

        // One adjustment at a time per package, from the hours in effect: the first proposal to take the package wins; one that
        // finds it taken (or its hours moved) since it was checked is refused and leaves nothing behind.
        var claimed = await ClaimAsync();
        if (claimed != true)
            return await RefuseStartAsync(new Rejection(RejectionKind.Conflict, "Not possible in the current state", claimed is null
                ? $"{s.PackageId} could not be linked to this adjustment now (the registry did not answer): please try again."
                : $"{s.PackageId} already has an open trusted-assessor adjustment, or its hours changed, since this proposal was checked: propose again from the hours in effect.", "packageId"));
        var written = s.HoursInEffect;
        flow.Note($"Proposed by {Who(start.Actor)} (trusted assessor {p.Assessor.Id}): {What(s)}, {Percent(s.ChangePercent)}% " +
                  $"(submitted {p.ProposedWeeklyHours.ToString(System.Globalization.CultureInfo.InvariantCulture)} hours, recorded as {H(s.ProposedHours)}). {check.Explanation}", "AdjustmentProposed");
        var detail = M.Detail(s, p, check);
        if (s.WithinParameters)
        {
            // G.10 §4.2: within parameters and agreed by the person, it takes effect at once, then goes for sign-off.
            var (remindAt, due) = await WindowAsync(SignOffWindow, SignOffDays(flow.Policy));
            s = s with { Stage = AdjustmentStage.AwaitingSignOff, Due = due, FirstSignOffDue = due };
            OpenWindow(SignOffWindow, remindAt, due);
            flow.Note($"Implemented at once: {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week from {Date(s.EffectiveDate)}. Within trusted-assessor " +
                      "parameters and agreed by the person: takes effect at once (App G.10 §4.2).", "AdjustmentImplemented");
            flow.Note($"Sent for sign-off to {string.Join(" and ", PendingSignOff(s))} by {WorkflowContext.Local(due)}.", "SentForSignOff");
            flow.Send(M.SignOffRequests(reference, flow.Contacts, detail, due, senior: true, s.NeedsMovingAndHandlingSignOff));
            flow.Send(M.Implemented(reference, s, due));
        }
        else
        {
            // G.7, G.10 §5: outside parameters, care-manager (and OT, if flagged) approval before anything changes.
            var (remindAt, due) = await WindowAsync(ApprovalWindow, ApprovalDays(flow.Policy));
            s = s with { Stage = AdjustmentStage.AwaitingApproval, Due = due };
            OpenWindow(ApprovalWindow, remindAt, due);
            flow.Note($"Outside parameters: sent for approval to {string.Join(" and ", PendingApproval(s))} by {WorkflowContext.Local(due)}; " +
                      $"{H(s.OriginalHours)} hours a week stay in effect meanwhile (App G.7, G.10 §5).", "SentForApproval");
            flow.Send(M.ApprovalRequests(reference, flow.Contacts, detail, due, s.NeedsOtApproval));
            flow.Send(M.AwaitingApproval(reference, s, check.Explanation));
        }
        flow.Answer(start.InputId, 201, "Proposed", result: new { s.Stage });
        Publish();

        // 2. Until signed off, rejected or reversed: people's answers, and the window that runs now (reminder, then escalation).
        while (!s.Closed)
        {
            switch (await flow.NextAsync(reminder, escalation))
            {
                case DeadlineReached { Deadline: var d } when d == reminder:
                {
                    var (note, messages) = M.Reminder(window!, reference, s, flow.Contacts);
                    flow.Note(note, "ReminderSent");
                    flow.Send(messages);
                    break;
                }
                case DeadlineReached:
                {
                    // Escalation does not close anything: the people asked can still answer.
                    var (note, messages) = M.Escalation(window!, reference, s, flow.Contacts, flow.Policy);
                    flow.Note(note, "Escalated");
                    flow.Send(messages);
                    break;
                }

                case Received input when Check(s, input.Actor, input.Input, reference) is { } no:
                    flow.Refuse(input, no);
                    break;

                case Received { Input: SignOff x } input:
                {
                    // G.10 §4.2: the senior care manager's sign-off, and the moving-and-handling assessor's where needed.
                    var before = s;
                    (s, var by, var complete) = SignedOff(s, input.Actor);
                    if (before.Stage == AdjustmentStage.ConcernRaised && by == People.SeniorCareManager) CloseWindow();
                    var why = "Signed off by the senior care manager" + (s.NeedsMovingAndHandlingSignOff ? " and the moving-and-handling assessor" : "") + " (App G.10 §4.2).";
                    if (complete) s = Completed(s, flow.Now, why);
                    await AcceptAsync(input);
                    flow.Note($"Signed off by {Who(input.Actor)} for {by}: {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week.{Said(x.Note)}", "SignOffGiven");
                    if (complete) SignedOffNotes(before.HoursInEffect, why, input.Actor);
                    break;
                }

                case Received { Input: Approve x } input:
                {
                    // G.7, G.10 §5: approval by all required is the sign-off; only now does the change take effect.
                    var before = s;
                    (s, var by, var complete) = Approved(s, input.Actor);
                    var why = "Outside parameters; approved by the care manager" + (s.NeedsOtApproval ? " and the OT" : "") + " before taking effect (App G.7, G.10 §5).";
                    if (complete) s = Completed(s, flow.Now, why);
                    await AcceptAsync(input);
                    flow.Note($"Approved by {Who(input.Actor)} for {by}: {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week.{Said(x.Reason)}", "ApprovalGiven");
                    if (complete) SignedOffNotes(before.HoursInEffect, why, input.Actor);
                    break;
                }

                case Received { Input: Reject x } input:
                {
                    s = s with { Stage = AdjustmentStage.Rejected, Outcome = x.Reason.Trim(), Due = null };
                    CloseWindow();
                    await AcceptAsync(input);
                    flow.Note($"Not approved by {Who(input.Actor)} for {ApproverOf(input.Actor)}: {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week refused; " +
                              $"{H(s.HoursInEffect)} stay in effect. Reasons: {x.Reason.Trim()}", "ApprovalRefused");
                    flow.Send(M.Rejected(reference, s, x.Reason.Trim()));
                    break;
                }

                case Received { Input: RaiseConcern x } input:
                {
                    // G.10 §4.2: a concern goes to the provider to answer; the change stays in effect meanwhile.
                    var (remindAt, due) = await WindowAsync(ConcernWindow, ConcernDays(flow.Policy));
                    s = s with { Stage = AdjustmentStage.ConcernRaised, Due = due, Concerns = [.. s.Concerns, x.Concern.Trim()] };
                    OpenWindow(ConcernWindow, remindAt, due);
                    await AcceptAsync(input);
                    flow.Note($"Concern raised by {Who(input.Actor)} about {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week: {x.Concern.Trim()} " +
                              $"The provider is asked to respond by {WorkflowContext.Local(due)}.", "ConcernRaised");
                    flow.Send(M.Concern(reference, s, x.Concern.Trim(), due));
                    break;
                }

                case Received { Input: RespondToConcern x } input:
                {
                    var (remindAt, due) = await WindowAsync(SignOffWindow, SignOffDays(flow.Policy));
                    s = s with { Stage = AdjustmentStage.AwaitingSignOff, Due = due };
                    OpenWindow(SignOffWindow, remindAt, due);
                    await AcceptAsync(input);
                    flow.Note($"{s.ProviderId} responded ({Who(input.Actor)}) to the concern about {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week: " +
                              $"{x.Response.Trim()} Back for sign-off by {WorkflowContext.Local(due)}.", "ConcernAnswered");
                    flow.Send(M.SignOffRequests(reference, flow.Contacts, M.ConcernAnswered(s, x.Response.Trim()), due, senior: !s.SeniorSignedOff, movingAndHandling: false));
                    break;
                }

                case Received { Input: PausePendingReview x } input:
                {
                    // G.10 §4.2: paused pending a care-management review; the provider reinstates the original service meanwhile
                    // and confirms within an elapsed window (hour deadlines run 24/7).
                    var (remindAt, due) = Reinstatement(flow.Now, flow.Policy);
                    s = s with { Stage = AdjustmentStage.AwaitingReinstatement, Due = due };
                    OpenWindow(ReinstatementWindow, remindAt, due);
                    await AcceptAsync(input);
                    flow.Note($"Paused pending a care-management review by {Who(input.Actor)}. Reason: {x.Reason.Trim()} The provider is asked to go from " +
                              $"{H(s.HoursInEffect)} back to the original hours: {H(s.HoursInEffect)} → {H(s.OriginalHours)} hours a week, confirmed by {WorkflowContext.Local(due)}.", "PauseRequested");
                    flow.Send(M.Reinstate(reference, s, x.Reason.Trim(), due), M.ReviewRequested(reference, s, flow.Contacts, x.Reason.Trim()));
                    break;
                }

                case Received { Input: ConfirmReinstatement x } input:
                {
                    var before = s;
                    s = s with { Stage = AdjustmentStage.PausedPendingReview, HoursInEffect = s.OriginalHours, Due = null };
                    CloseWindow();
                    await AcceptAsync(input);
                    flow.Note($"{s.ProviderId} confirmed ({Who(input.Actor)}) the original hours are back: {H(before.HoursInEffect)} → {H(s.OriginalHours)} hours a week " +
                              $"pending the care-management review.{Said(x.Note)}", "ReinstatementConfirmed");
                    flow.Send(M.Reinstated(reference, s, flow.Contacts));
                    break;
                }

                case Received { Input: RecordReviewOutcome x } input:
                {
                    // The care-management review ends the pause: the change stands (and is signed off), or it is reversed.
                    var before = s;
                    var why = $"Approved by care-management review: {x.Reason.Trim()}";
                    s = x.Approve ? Completed(s, flow.Now, why) : s with { Stage = AdjustmentStage.Reversed, HoursInEffect = s.OriginalHours, Outcome = x.Reason.Trim(), Due = null };
                    CloseWindow();
                    await AcceptAsync(input);
                    flow.Note($"Review concluded by {Who(input.Actor)}: {(x.Approve ? "the change stands" : "the change is reversed")}, " +
                              $"{H(before.HoursInEffect)} → {H(s.HoursInEffect)} hours a week. Reason: {x.Reason.Trim()}", "ReviewConcluded");
                    if (x.Approve) SignedOffNotes(s.HoursInEffect, why, input.Actor);
                    else flow.Send(M.Reversed(reference, s, x.Reason.Trim()));
                    break;
                }

                case Undelivered { Message: var failed }:
                    // A failed failure notice is not chased again (that would loop); the message log keeps it for operators.
                    flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
                    if (failed.Purpose != "delivery-failed") flow.Send(M.DeliveryFailed(reference, flow.Contacts, failed));
                    break;
            }
            Publish();
        }

        foreach (var failed in await flow.DrainAsync())
            flow.Note($"The {failed.Purpose} message to {failed.To} could not be delivered ({failed.Error}).", "MessageUndelivered");
        await flow.DrainAsync();
        return s.Stage.ToString();

        void Publish() => flow.Publish(s.Stage.ToString(), s.Closed, Summary(s), Asks(s), s, reminder, escalation);

        async Task<string> RefuseStartAsync(Rejection no)
        {
            flow.Answer(start.InputId, (int)no.Kind, no.Title, no.Detail);
            flow.Publish("Refused", true, "", [], s);
            await flow.DrainAsync();
            return "Refused";
        }

        async Task<bool?> ClaimAsync()
        {
            var claim = new PackageClaim(s.PackageId, reference, p.Package.AdjustmentReference, AdjustmentParameters.RoundHours(p.Package.WeeklyHours), s.HoursInEffect, flow.Now);
            try { return await context.CallActivityAsync<bool>(ClaimPackageActivity, claim, RegistryRetry); }
            catch (TaskFailedException) { return null; }
        }

        // The package's row follows the hours in effect before the sender hears the answer (so a read after it sees them).
        async Task AcceptAsync(Received input)
        {
            if (s.HoursInEffect != written)
            {
                try
                {
                    await context.CallActivityAsync(SetPackageHoursActivity, new PackageHoursChange(s.PackageId, reference, s.HoursInEffect, flow.Now), RegistryRetry);
                    written = s.HoursInEffect;
                }
                catch (TaskFailedException e)
                {
                    flow.Note($"{s.PackageId}'s hours could not be set to {H(s.HoursInEffect)} in the registry ({e.FailureDetails.ErrorMessage}): operators must correct them.", "PackageHoursNotUpdated");
                }
            }
            flow.Accept(input, result: new { s.Stage });
        }

        // App N: signed off (or approved) — the proposed hours stand from the effective date; finance adjusts the payment.
        void SignedOffNotes(decimal hoursBefore, string why, Actor by)
        {
            if (hoursBefore != s.ProposedHours)
                flow.Note($"Implemented on approval by {Who(by)}: {H(hoursBefore)} → {H(s.ProposedHours)} hours a week from {Date(s.EffectiveDate)}. {why}", "AdjustmentImplemented");
            flow.Note($"Signed off: {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week from {Date(s.EffectiveDate)}. {why}", "AdjustmentSignedOff");
            flow.Note($"Payment adjustment requested for {s.PackageId} ({s.ProviderId}): {H(s.OriginalHours)} → {H(s.ProposedHours)} hours a week " +
                      $"from {Date(s.EffectiveDate)} (App N), on the decision of {Who(by)}.", "PaymentAdjustmentRequested");
            flow.Send(M.SignedOff(reference, s, flow.Contacts, flow.Now, why));
            flow.Publish(ApprovedFact, "Approved");
            CloseWindow();
        }

        Task<(Instant? RemindAt, Instant Due)> WindowAsync(string name, int days) =>
            flow.WithCalendarAsync(EscalationOf(name), calendar => Window(flow.Now, days, calendar, flow.Policy));

        void OpenWindow(string name, Instant? remindAt, Instant due)
        {
            CloseWindow();
            window = name;
            reminder = remindAt is { } at ? flow.Deadline(ReminderOf(name), at) : null;
            escalation = flow.Deadline(EscalationOf(name), due);
        }

        void CloseWindow()
        {
            reminder?.Cancel();
            escalation?.Cancel();
            reminder = escalation = null;
            window = null;
        }
    }

    private static string Who(Actor actor) => $"{actor.DisplayName ?? actor.Id} ({actor.Role})";

    private static string Said(string? text) => string.IsNullOrWhiteSpace(text) ? "" : $" Note: {text.Trim()}";
}
