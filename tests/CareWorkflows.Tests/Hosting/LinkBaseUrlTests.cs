using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.D2A;
using CareWorkflows.Tests.Infrastructure;

namespace CareWorkflows.Tests.Hosting;

/// <summary>Links in messages open where the app is, not on a port someone once typed into the code.</summary>
public sealed class LinkBaseUrlTests
{
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Without_Links_BaseUrl_the_links_in_messages_use_the_address_the_app_listens_on_and_open()
    {
        var port = FreePort();
        await using var app = new CareWorkflowsApp(settings: new Dictionary<string, string?> { ["Links:BaseUrl"] = null });
        app.UseKestrel(port);
        app.StartServer();

        using var browser = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var raise = new HttpRequestMessage(HttpMethod.Post, "/api/d2a/referrals") { Content = JsonContent.Create(D2ATestKit.Referral()) };
        raise.Headers.Add("X-Demo-Role", Roles.DischargeTeam);
        var raised = await browser.SendAsync(raise);
        Assert.Equal(HttpStatusCode.Created, raised.StatusCode);
        var reference = (await raised.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("reference").GetString()!;

        var offer = (await D2ATestKit.MessagesAsync(app, reference)).First(m => m.Purpose == "offer" && m.Channel == MessageChannel.Email);
        var link = new Uri(offer.Links[0]);
        Assert.Equal(port, link.Port);
        Assert.DoesNotContain(":7071", offer.Body);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(link)).StatusCode);
    }

    [Fact]
    public async Task Links_BaseUrl_when_set_is_the_public_address_in_every_link()
    {
        await using var app = new CareWorkflowsApp(settings: new Dictionary<string, string?> { ["Links:BaseUrl"] = "https://care.council.example/" });
        var reference = await D2ATestKit.RaiseAsync(app);
        Assert.All((await D2ATestKit.MessagesAsync(app, reference)).SelectMany(m => m.Links), l => Assert.StartsWith("https://care.council.example/l/", l));
    }
}
