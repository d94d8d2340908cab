using CareWorkflows.FunctionApp.Hosting;
using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace CareWorkflows.FunctionApp.Functions;

/// <summary>
/// Housekeeping on timers (schedules in UTC, NCRONTAB with seconds). In the standalone host our Durable Task server does
/// the first itself (DurableTask:RetentionDays) and the operations page shows the second.
/// </summary>
public sealed class HousekeepingFunctions(AppHost app, BoundDurableTaskClient bound, ILogger<HousekeepingFunctions> logger)
{
    public const string PurgeSchedule = "0 30 2 * * *";          // daily 02:30
    public const string BankHolidaySchedule = "0 0 7 * * *";     // daily 07:00, before the working day

    [Function("PurgeEndedInstances")]
    public async Task PurgeEndedInstances([TimerTrigger(PurgeSchedule)] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        bound.Use(client);
        var services = (await app.ReadyAsync(ct)).Services;
        await Housekeeping.PurgeEndedAsync(client, services.GetRequiredService<IConfiguration>(), services.GetRequiredService<IClock>(), logger, ct);
    }

    [Function("BankHolidayDataCheck")]
    public async Task BankHolidayDataCheck([TimerTrigger(BankHolidaySchedule)] TimerInfo timer, CancellationToken ct)
    {
        var services = (await app.ReadyAsync(ct)).Services;
        await Housekeeping.CheckBankHolidayDataAsync(services.GetRequiredService<RuntimeEnvironment>(), services.GetRequiredService<IDocumentStore>(),
            services.GetRequiredService<IClock>(), logger, ct);
    }
}

public static class Housekeeping
{
    /// <summary>
    /// Purges the history of instances that ended (completed, failed, cancelled) and were created more than
    /// DurableTask:RetentionDays ago; nothing when the setting is absent. The client's purge filters on creation time,
    /// not on when an instance ended (our server's purge uses the end): an instance is kept at least RetentionDays after
    /// it started, and one still running is never purged, so set RetentionDays to the retention wanted after the end
    /// plus the longest a workflow runs (a D2A placement: about six weeks).
    /// </summary>
    public static async Task<int?> PurgeEndedAsync(DurableTaskClient client, IConfiguration config, IClock clock, ILogger logger, CancellationToken ct)
    {
        if (config.GetValue<double?>("DurableTask:RetentionDays") is not { } days) return null;
        if (days <= 0) throw new InvalidOperationException($"DurableTask:RetentionDays must be more than 0, not {days}.");
        var createdBefore = (clock.GetCurrentInstant() - Duration.FromDays(days)).ToDateTimeOffset();
        var filter = new PurgeInstancesFilter(CreatedFrom: DateTimeOffset.UnixEpoch, CreatedTo: createdBefore,
            Statuses: [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated]);
        var result = await client.PurgeAllInstancesAsync(filter, ct);
        logger.LogInformation("Purged {Count} ended instance(s) created before {CreatedBefore:O} (DurableTask:RetentionDays {Days}).",
            result.PurgedInstanceCount, createdBefore, days);
        return result.PurgedInstanceCount;
    }

    /// <summary>
    /// Warns operators (a warning in the logs, for an alert rule) while the bank-holiday data is about to run out or a
    /// deadline waits for it: the same warnings GET /api/calendar/bank-holidays and the operations page show. Newer data
    /// an operator loaded on any instance is read first.
    /// </summary>
    public static async Task<IReadOnlyList<string>> CheckBankHolidayDataAsync(RuntimeEnvironment environment, IDocumentStore documents, IClock clock, ILogger logger,
        CancellationToken ct)
    {
        await environment.RefreshCalendarAsync(documents, ct);
        var status = await CalendarApi.ReadStatusAsync(environment, documents, clock, ct);
        foreach (var warning in status.Warnings)
            logger.LogWarning("OPERATOR ACTION NEEDED: bank-holiday data: {Warning}", warning);
        if (status.Warnings.Count == 0)
            logger.LogInformation("Bank-holiday data covers {From} to {To} ({Days} days left).", status.CoveredFrom, status.CoveredTo, status.CoverageDaysLeft);
        return status.Warnings;
    }
}
