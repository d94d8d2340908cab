using CareWorkflows.Definitions;
using CareWorkflows.Functions.Channels;
using CareWorkflows.Runtime.Channels;
using Twilio.Security;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using static CareWorkflows.Tests.Channels.ChannelFakes;

namespace CareWorkflows.Tests.Channels;

/// <summary>
/// What the Twilio SDK brings: webhook signatures checked by its RequestValidator against Twilio's own published
/// examples, and sends through its client over our HttpClient (so a fake, a proxy or a regional edge can be the target).
/// </summary>
public sealed class TwilioSdkTests : IDisposable
{
    private readonly WireMockServer _fake = WireMockServer.Start();

    public void Dispose() => _fake.Stop();

    // Twilio's documented example ("Validating requests are coming from Twilio"): auth token 12345, this URL and these
    // parameters sign to 0/KCTR6DLpKmkAf8muzZqo1nDgQ=. The SDK's own test suite (RequestValidatorTest) uses other caller
    // numbers with RSOYDt4T1cUTdK1PDd93/VVr8B8=. Both were checked against the SDK before being written down here.
    private const string ExampleToken = "12345";
    private const string ExampleUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";

    private static Dictionary<string, string> ExampleForm(string caller) => new()
    {
        ["CallSid"] = "CA1234567890ABCDE", ["Caller"] = caller, ["Digits"] = "1234", ["From"] = caller, ["To"] = "+18005551212",
    };

    [Theory]
    [InlineData("+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")] // docs
    [InlineData("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")] // the SDK's tests
    public void Twilios_published_signature_examples_pass_the_webhook_check(string caller, string signature)
    {
        var form = ExampleForm(caller);
        Assert.True(new RequestValidator(ExampleToken).Validate(ExampleUrl, form, signature));
        Assert.True(WebhookSignatures.IsValidTwilio(ExampleToken, ExampleUrl, form, signature));
        // The tests' signer (ChannelFakes) signs as Twilio does.
        Assert.Equal(signature, TwilioSignature(ExampleToken, ExampleUrl, form));
    }

    [Fact]
    public void A_changed_parameter_url_or_token_fails_the_webhook_check()
    {
        var form = ExampleForm("+12349013030");
        const string signature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
        Assert.False(WebhookSignatures.IsValidTwilio(ExampleToken, ExampleUrl, form.Append(new("Body", "ACCEPT")), signature));
        Assert.False(WebhookSignatures.IsValidTwilio(ExampleToken, ExampleUrl, new Dictionary<string, string>(form) { ["Digits"] = "1235" }, signature));
        Assert.False(WebhookSignatures.IsValidTwilio(ExampleToken, "https://mycompany.com/myapp.php?foo=1&bar=3", form, signature));
        Assert.False(WebhookSignatures.IsValidTwilio("12346", ExampleUrl, form, signature));
        Assert.False(WebhookSignatures.IsValidTwilio(ExampleToken, ExampleUrl, form, ""));
        Assert.False(WebhookSignatures.IsValidTwilio("", ExampleUrl, form, signature));
    }

    [Fact]
    public void A_signature_over_the_url_with_the_default_port_passes_for_the_configured_url_without_it()
    {
        // Twilio's back ends sometimes sign https://host:443/...; the SDK's validator also tries that variation of our URL.
        var form = ExampleForm("+12349013030");
        var signedWithPort = TwilioSignature(ExampleToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", form);
        Assert.NotEqual("0/KCTR6DLpKmkAf8muzZqo1nDgQ=", signedWithPort);
        Assert.True(WebhookSignatures.IsValidTwilio(ExampleToken, ExampleUrl, form, signedWithPort));
    }

    private string MessagesPath => $"/2010-04-01/Accounts/{TwilioSid}/Messages.json";

    private TwilioSmsChannel Channel(string baseUrl, string? messagingServiceSid = null) =>
        new(new HttpClient(new TwilioApiBaseUrl(baseUrl) { InnerHandler = new HttpClientHandler() }) { Timeout = TimeSpan.FromSeconds(10) },
            new TwilioSettings(TwilioSid, TwilioToken, messagingServiceSid is null ? "+447700900000" : null, messagingServiceSid, baseUrl, null));

    [Fact]
    public async Task A_messaging_service_is_sent_instead_of_a_from_number_and_no_callback_without_a_webhook_base()
    {
        _fake.Given(Request.Create().WithPath(MessagesPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithHeader("Content-Type", "application/json").WithBody("{\"sid\":\"SM-ms-1\"}"));

        Assert.Equal("SM-ms-1", await Channel(_fake.Url!, "MG00000000000000000000000000000001").SendAsync(Message(MessageChannel.Sms, "+447700900123"), default));

        var form = Form(Assert.Single(Calls(_fake, "/Messages.json")));
        Assert.Equal("MG00000000000000000000000000000001", form["MessagingServiceSid"]);
        Assert.False(form.ContainsKey("From"));
        Assert.False(form.ContainsKey("StatusCallback"));
    }

    [Theory]
    [InlineData(500, false)]
    [InlineData(502, false)]
    [InlineData(400, true)]
    [InlineData(403, true)]
    public async Task An_error_answer_that_is_not_Twilio_json_is_still_classified_by_its_status(int status, bool permanent)
    {
        // The SDK only puts a status on its exception when the body is Twilio's error JSON; a proxy's HTML page has none.
        _fake.Given(Request.Create().WithPath(MessagesPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "text/html").WithBody("<html>gateway says no</html>"));

        var e = await Assert.ThrowsAsync<ChannelException>(() => Channel(_fake.Url!).SendAsync(Message(MessageChannel.Sms, "+447700900123"), default));

        Assert.Equal(permanent, e.Permanent);
        Assert.Contains($"Twilio answered {status}", e.Message);
    }

    [Fact]
    public async Task Twilio_unreachable_is_transient()
    {
        var port = _fake.Port;
        _fake.Stop();
        var e = await Assert.ThrowsAsync<ChannelException>(() => Channel($"http://127.0.0.1:{port}").SendAsync(Message(MessageChannel.Sms, "+447700900123"), default));
        Assert.False(e.Permanent);
        Assert.Contains("could not be reached", e.Message);
    }

    [Fact]
    public async Task A_base_url_with_a_path_is_put_in_front_of_the_api_path()
    {
        _fake.Given(Request.Create().WithPath("/twilio-edge" + MessagesPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithHeader("Content-Type", "application/json").WithBody("{\"sid\":\"SM-edge-1\"}"));

        Assert.Equal("SM-edge-1", await Channel(_fake.Url + "/twilio-edge/").SendAsync(Message(MessageChannel.Sms, "+447700900123"), default));
    }
}
