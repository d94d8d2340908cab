using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Visits;
using CareWorkflows.Functions.Workflows;
using NodaTime;

namespace CareWorkflows.Functions.Visits;

/// <summary>The visit KPIs for alerts and no-replies started in a period (UK dates, inclusive), from the record: the KPIs page and GET /api/kpis/visits.</summary>
public static class VisitKpiReport
{
    public static async Task<IReadOnlyList<VisitFigure>> ComputeAsync(WorkflowClient workflows, LocalDate from, LocalDate to, Instant now, CancellationToken ct)
    {
        var start = from.AtStartOfDayInZone(WorkingCalendar.London).ToInstant();
        var end = to.PlusDays(1).AtStartOfDayInZone(WorkingCalendar.London).ToInstant();
        async Task<List<T>> InPeriod<T>(string type) =>
            (await workflows.ListAsync(new Runtime.Store.InstanceFilter(Type: type, Limit: 100_000), now, ct))
                .Where(r => r.CreatedAt >= start && r.CreatedAt < end).Select(workflows.StateOf).OfType<T>().ToList();
        var alerts = (await InPeriod<VisitAlert.State>(VisitAlert.Type)).Where(a => a.Stage != AlertStage.None).ToList();
        var noReplies = (await InPeriod<NoReply.State>(NoReply.Type)).Where(n => n.Stage != NoReplyStage.None).ToList();
        return VisitKpis.Compute(alerts, noReplies, now, workflows.Setup.PolicySettings);
    }
}
