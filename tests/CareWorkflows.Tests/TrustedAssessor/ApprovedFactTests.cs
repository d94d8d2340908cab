using System.Collections.Concurrent;
using System.Net;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Integration;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static CareWorkflows.Tests.TrustedAssessor.TrustedAssessorTestKit;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>
/// Issue 15: an adjustment that is signed off or approved (the change stands, finance adjusts the payment, App N) is
/// published once as the integration fact <c>adjustment.approved</c>, end to end through the orchestration's
/// PublishIntegrationEvent activity; a refused or reversed one publishes nothing.
/// </summary>
public sealed class ApprovedFactTests
{
    private sealed class Captured : IIntegrationEvents
    {
        public ConcurrentQueue<IntegrationEvent> Events { get; } = new();
        public Task PublishAsync(IntegrationEvent e, CancellationToken ct = default) { Events.Enqueue(e); return Task.CompletedTask; }
    }

    private static async Task<(CareWorkflowsApp App, Captured Events)> ReadyWithEventsAsync()
    {
        var events = new Captured();
        var app = new CareWorkflowsApp(settings: new Dictionary<string, string?> { ["TrustedAssessors:SeedDemo"] = "false" },
            services: s => s.AddSingleton<IIntegrationEvents>(events));
        await RegisterAssessorAsync(app);
        await RegisterPackageAsync(app, "PKG-1", 10m);
        return (app, events);
    }

    [Fact]
    public async Task Signed_off_within_parameters_publishes_adjustment_approved_once()
    {
        var (app, events) = await ReadyWithEventsAsync();
        await using var _ = app;
        var reference = await ProposeOkAsync(app, 10m, 8m);
        await app.SettleAsync();
        Assert.Empty(events.Events); // in effect, but not yet signed off

        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.SeniorCareManager, reference, "sign-off")).StatusCode);
        await app.SettleAsync();

        var e = Assert.Single(events.Events);
        Assert.Equal((IntegrationEventNames.AdjustmentApproved, reference, "Approved", app.Now), (e.Name, e.Reference, e.Outcome, e.OccurredAt));
    }

    [Fact]
    public async Task Approved_outside_parameters_publishes_it_and_a_rejected_one_does_not()
    {
        var (app, events) = await ReadyWithEventsAsync();
        await using var _ = app;
        var approved = await ProposeOkAsync(app, 10m, 7m); // -30%: outside parameters, care-manager approval first
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.CareManager, approved, "approve", new { reason = "Needs agreed" })).StatusCode);
        await app.SettleAsync();
        Assert.Equal([approved], events.Events.Where(e => e.Name == IntegrationEventNames.AdjustmentApproved).Select(e => e.Reference));

        var rejected = await ProposeOkAsync(app, 7m, 5m); // from the hours now in effect, -29%
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.CareManager, rejected, "reject", new { reason = "Needs a full reassessment first" })).StatusCode);
        await app.SettleAsync();
        Assert.Equal([approved], events.Events.Select(e => e.Reference));
    }
}
