using CareWorkflows.Definitions;
using CareWorkflows.Definitions.QualityConcerns;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;
using static CareWorkflows.Definitions.QualityConcerns.QualityConcern;

namespace CareWorkflows.Tests.QualityConcerns;

/// <summary>The quality-concern orchestrator's branches against a mocked orchestration context (no engine, no database).</summary>
public sealed class QualityConcernOrchestrationTests
{
    private static readonly Actor Qa = new("qa-1", Roles.QualityAssurance, DisplayName: "Quinn (QA)");
    private static readonly Actor TheProvider = new("p-1", Roles.Provider, "prov-7", "CareFirst office");
    private static readonly Actor OtherProvider = new("p-2", Roles.Provider, "prov-8");

    /// <summary>Raised Tue 24 Nov 2026 10:00 with 3 working days: due at the end of Fri 27 Nov.</summary>
    private static async Task<(OrchestrationHarness H, Task<string> Run)> RaisedAsync(int days = 3)
    {
        var h = new OrchestrationHarness("QC-ABCDE", Instant.FromUtc(2026, 11, 24, 10, 0));
        var start = new WorkflowStart<Raise>("start-1", Qa, new Raise("prov-7", "CareFirst Ltd", "quality@carefirst.example", "Late evening calls.", days),
            WorkflowSetup.From(PolicySettings.Default, Contacts.Default, WorkingCalendar.Shipped));
        var run = await h.StartAsync(new QualityConcernOrchestration(), start);
        return (h, run);
    }

    [Fact]
    public async Task Raising_sets_the_reminder_and_the_overdue_alarm_and_asks_the_provider_with_a_signed_link()
    {
        var (h, _) = await RaisedAsync();
        Assert.Equal([new DateTime(2026, 11, 25, 9, 0, 0, DateTimeKind.Utc), new DateTime(2026, 11, 27, 23, 59, 59, 999, DateTimeKind.Utc)],
            h.Pending.Select(t => t.FireAt).Order());
        var request = Assert.Single(h.Sent);
        Assert.Equal("quality@carefirst.example", request.To);
        Assert.Equal(RespondAction, Assert.Single(request.Sign!).Action);
        Assert.Contains("{{answer}}", request.Body); // the link is signed by the activity, never in the history
        Assert.Equal("AwaitingResponse", h.Status.Status);
        Assert.Equal(RespondAction, Assert.Single(h.Status.Asks).Action);
        Assert.Equal(201, Assert.Single(h.Status.Outcomes).Status);
    }

    [Fact]
    public async Task Overdue_escalates_to_contract_compliance_publishes_the_fact_and_sets_the_QA_lead_a_working_day_later()
    {
        var (h, _) = await RaisedAsync();
        await h.AdvanceToAsync(Instant.FromUtc(2026, 11, 28, 0, 1));
        Assert.Contains(h.Sent, m => m.Purpose == "reminder");
        Assert.Contains(h.Sent, m => m.Purpose == "overdue-escalation" && m.To == "contract-compliance@council.example");
        Assert.Contains(h.Calls, c => c.Name == WorkflowScope.PublishActivity && ((IntegrationFact)c.Input!).Name == "concern.overdue");
        // The weekend is not a working day: the QA lead at the end of Monday 30 November.
        Assert.Equal(new DateTime(2026, 11, 30, 23, 59, 59, 999, DateTimeKind.Utc), Assert.Single(h.Pending).FireAt);
        Assert.Equal(["ConcernRaised", "ReminderSent", "ResponseOverdue"], h.Notes);
    }

    [Fact]
    public async Task Another_providers_response_is_refused_and_changes_nothing()
    {
        var (h, _) = await RaisedAsync();
        var sent = h.Calls.Count;
        var outcome = await h.SendAsync(new Respond("Looked", false, null), OtherProvider);
        Assert.Equal(403, outcome!.Status);
        Assert.Equal("AwaitingResponse", h.Status.Status);
        Assert.Equal(2, h.Pending.Count());
        Assert.DoesNotContain(h.Calls.Skip(sent), c => c.Name == WorkflowScope.SendMessageActivity);
    }

    [Fact]
    public async Task A_late_response_counts_is_marked_late_and_those_escalated_hear_of_it()
    {
        var (h, _) = await RaisedAsync();
        await h.AdvanceToAsync(Instant.FromUtc(2026, 12, 1, 0, 1)); // past the QA lead's escalation
        var outcome = await h.SendAsync(new Respond("Rota reviewed", true, "Rota changed"), TheProvider);
        Assert.Equal(200, outcome!.Status);
        Assert.True(h.View<State>().ResponseLate);
        Assert.Equal("AwaitingDecision", h.Status.Status);
        Assert.Empty(h.Pending); // every deadline cancelled
        Assert.Equal(2, h.Sent.Count(m => m.Purpose == "overdue-answered")); // compliance and the QA lead
    }

    [Fact]
    public async Task An_action_plan_runs_the_deadline_again_and_acceptance_closes_the_concern()
    {
        var (h, run) = await RaisedAsync();
        await h.SendAsync(new Respond("Reviewed", true, "Actions"), TheProvider);
        var decided = await h.SendAsync(new RecordDecision([ConcernOutcome.ActionPlanRequired], "No timescales", null), Qa);
        Assert.Equal(200, decided!.Status);
        Assert.Equal("AwaitingActionPlan", h.Status.Status);
        // Decided Tue 24 Nov: 10 working days → end of Tue 8 Dec; reminder Fri 4 Dec 09:00.
        Assert.Equal([new DateTime(2026, 12, 4, 9, 0, 0, DateTimeKind.Utc), new DateTime(2026, 12, 8, 23, 59, 59, 999, DateTimeKind.Utc)], h.Pending.Select(t => t.FireAt).Order());
        Assert.Equal(409, (await h.SendAsync(new Respond("again", false, null), TheProvider))!.Status); // the plan is awaited now

        await h.SendAsync(new SubmitActionPlan("1. Rota fix. 2. Audit."), TheProvider);
        var accepted = await h.SendAsync(new RecordDecision([ConcernOutcome.Accepted], "Plan is specific", null), Qa);
        Assert.Equal(200, accepted!.Status);
        Assert.Equal("Closed", await run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(h.Status.Completed);
    }

    [Fact]
    public async Task A_resent_input_is_answered_with_its_first_outcome_and_applied_once()
    {
        var (h, _) = await RaisedAsync();
        await h.SendAsync(new Respond("Reviewed", false, null), TheProvider, id: "key-1");
        var messages = h.Sent.Count();
        var again = await h.SendAsync(new Respond("Reviewed", false, null), TheProvider, id: "key-1");
        Assert.Equal(200, again!.Status);
        Assert.Equal(messages, h.Sent.Count());
    }

    [Fact]
    public async Task An_undelivered_message_asks_the_QA_team_to_reach_the_provider_another_way()
    {
        var (h, _) = await (Task.FromResult(new OrchestrationHarness("QC-ABCDE", Instant.FromUtc(2026, 11, 24, 10, 0))).ContinueWith(t => (t.Result, Task.FromResult(""))));
        h.SendResult = m => new MessageResult(m.Id, m.Message.Purpose, m.Message.To, m.Message.Purpose != "request", "Dev", null, m.Message.Purpose == "request" ? "550 mailbox unknown" : null);
        var start = new WorkflowStart<Raise>("start-1", Qa, new Raise("prov-7", "CareFirst Ltd", "quality@carefirst.example", "Late calls.", 3),
            WorkflowSetup.From(PolicySettings.Default, Contacts.Default, WorkingCalendar.Shipped));
        await h.StartAsync(new QualityConcernOrchestration(), start);
        Assert.Contains(h.Sent, m => m.Purpose == "delivery-failed" && m.To == "quality-assurance@council.example");
        Assert.Contains("MessageUndelivered", h.Notes);
    }
}
