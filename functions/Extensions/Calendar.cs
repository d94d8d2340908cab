using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;

namespace CareWorkflows.Functions.Extensions;

public static class CalendarLoading
{
    public const string DocumentKey = "bank-holidays";

    /// <summary>Uses the bank-holiday file an operator loaded (kept in the store), if any, instead of the shipped one.</summary>
    public static async Task LoadOperatorCalendarAsync(this IServiceProvider services)
    {
        var store = services.GetRequiredService<IWorkflowStore>();
        if (await store.GetDocumentAsync(DocumentKey) is { } json)
        {
            var env = services.GetRequiredService<RuntimeEnvironment>();
            env.Calendar = WorkingCalendar.FromGovUkJson(json, endOfDay: env.Calendar.EndOfDay);
        }
    }
}
