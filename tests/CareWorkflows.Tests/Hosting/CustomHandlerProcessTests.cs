using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Hosting;
using CareWorkflows.Tests.Infrastructure;
using NodaTime;

namespace CareWorkflows.Tests.Hosting;

/// <summary>The built app started the way the Functions host starts it: its own process, FUNCTIONS_CUSTOMHANDLER_PORT set.</summary>
public sealed class CustomHandlerProcessTests
{
    [Fact]
    public async Task Started_with_the_custom_handler_port_the_app_listens_there_and_answers_invocations()
    {
        var port = AppProcess.FreePort();
        await using var app = new AppProcess(new Dictionary<string, string>
        {
            [FunctionsHosting.PortSetting] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Storage__Provider"] = "Sqlite",
            ["Storage__SqlitePath"] = TestDatabases.NewSqlitePath(),
        }, port);
        await app.StartAsync();
        using var host = new HttpClient { BaseAddress = app.BaseAddress };

        var timer = await host.PostAsJsonAsync("/" + FunctionsHosting.RuntimeTimer, FunctionsHostApp.TimerPayload(SystemClock.Instance.GetCurrentInstant()));
        Assert.Equal(HttpStatusCode.OK, timer.StatusCode);
        var body = await timer.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("Fired 0 due timer(s)", body.GetProperty("Logs")[0].GetString());

        var queued = await host.PostAsJsonAsync("/" + FunctionsHosting.ReferralQueue, FunctionsHostApp.ServiceBusPayload("""{"ward":"5B"}""", "msg-process"));
        Assert.Equal(HttpStatusCode.OK, queued.StatusCode);
        var letters = await app.Client(Roles.Admin).GetFromJsonAsync<List<JsonElement>>("/api/intake/dead-letters");
        Assert.Equal("msg-process", Assert.Single(letters!).GetProperty("messageId").GetString());
    }
}
