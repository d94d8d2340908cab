using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Providers;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Channels;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static CareWorkflows.Tests.Channels.ChannelFakes;

namespace CareWorkflows.Tests.ServiceData;

/// <summary>
/// The app with Storage:ServiceData=Tables (Azurite): the calendar, the provider directory and inbound replies are kept
/// in Table storage, not in the workflow database, and another copy of the app (a new database) sees them.
/// </summary>
public sealed class TablesModeTests
{
    private static Dictionary<string, string?> TablesSettings(string prefix) => new()
    {
        ["Storage:ServiceData"] = "Tables",
        ["ConnectionStrings:Tables"] = ServiceDataStores.Azurite,
        ["Storage:TablePrefix"] = prefix,
    };

    private static async Task<List<TableEntity>> RowsAsync(string prefix, string table)
    {
        var rows = new List<TableEntity>();
        await foreach (var e in new TableServiceClient(ServiceDataStores.Azurite).GetTableClient(prefix + table).QueryAsync<TableEntity>()) rows.Add(e);
        return rows;
    }

    private static readonly string[] Dates2029 = ["2029-01-01", "2029-03-30", "2029-04-02", "2029-05-07", "2029-05-28", "2029-08-27", "2029-12-25", "2029-12-26"];

    private static string BankHolidaysTo2029() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["england-and-wales"] = new
        {
            division = "england-and-wales",
            events = WorkingCalendar.Shipped.Holidays.Select(d => d.ToString("yyyy-MM-dd", null)).Concat(Dates2029)
                .Select(d => new { title = "Bank holiday", date = d, notes = "", bunting = true }),
        },
    });

    [Fact]
    public async Task The_calendar_and_the_provider_directory_are_kept_in_Table_storage_and_read_by_another_copy_of_the_app()
    {
        var prefix = ServiceDataStores.NewPrefix();
        int listed;
        await using (var app = new CareWorkflowsApp(settings: TablesSettings(prefix)))
        {
            var providers = await app.As(Roles.Brokerage).GetJsonAsync("/api/providers");
            Assert.Equal(HttpStatusCode.OK, providers.Status);
            listed = providers.Body.GetArrayLength(); // the demo directory, seeded into Table storage
            Assert.True(listed > 0);
            var load = await app.As(Roles.Admin).PostRawAsync("/api/calendar/bank-holidays", BankHolidaysTo2029());
            Assert.True(load.Status == HttpStatusCode.OK, load.ToString());

            var database = app.Services.GetRequiredService<IWorkflowStore>();
            Assert.Empty(await ((IProviderDirectory)database).ListProvidersAsync());
            Assert.Null(await database.GetDocumentAsync("bank-holidays"));
        }
        Assert.Equal(listed, (await RowsAsync(prefix, "Providers")).Count(r => r.PartitionKey == "provider"));
        Assert.Contains(await RowsAsync(prefix, "Documents"), r => r.RowKey == "bank-holidays");

        // A new database, the same tables: the operator's calendar and the directory are there.
        await using var other = new CareWorkflowsApp(settings: TablesSettings(prefix));
        var status = await other.As(Roles.Admin).GetJsonAsync("/api/calendar/bank-holidays");
        Assert.Equal(("operator", "2029-12-31"), (status.Str("source"), status.Str("coveredTo")));
    }

    [Fact]
    public async Task An_SMS_reply_is_recorded_once_in_Table_storage_however_often_the_webhook_is_delivered()
    {
        var prefix = ServiceDataStores.NewPrefix();
        await using var app = new ChannelsTestApp(WebhookSettings(TablesSettings(prefix)));
        var reference = await app.OfferAsync();
        var form = new Dictionary<string, string> { ["MessageSid"] = "SM-tables-1", ["From"] = ChannelsTestApp.Alpha.Mobile, ["Body"] = $"ACCEPT {reference} 14:30" };

        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.OK, (await app.Client().SendAsync(TwilioPost("/webhooks/twilio/inbound", form))).StatusCode);

        Assert.Equal(ChannelsTestApp.Alpha.Id, (await app.StateAsync(reference)).AwardedTo);
        var row = Assert.Single(await RowsAsync(prefix, "Inbound"));
        Assert.Equal(("SM-tables-1", InboundOutcomes.Applied, reference), (row.RowKey, row.GetString("Outcome"), row.GetString("Reference")));
        Assert.Empty(await ((IInboundStore)app.Store).GetInboundAsync());
    }
}
