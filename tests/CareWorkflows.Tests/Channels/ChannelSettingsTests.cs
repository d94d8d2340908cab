using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;
using static CareWorkflows.Tests.Channels.ChannelFakes;
using static CareWorkflows.Tests.Channels.ChannelsTestApp;

namespace CareWorkflows.Tests.Channels;

/// <summary>A deployment that chooses a channel without its settings does not start, and says what is missing.</summary>
public sealed class ChannelSettingsTests
{
    [Theory]
    [InlineData("Channels:Email", "SendGrid", "SendGrid:ApiKey")]
    [InlineData("Channels:Email", "Graph", "Graph:TenantId")]
    [InlineData("Channels:Email", "Notify", "Notify:EmailTemplateId")]
    [InlineData("Channels:Email", "Smtp", "Smtp:Host")]
    [InlineData("Channels:Sms", "Twilio", "Twilio:AuthToken")]
    [InlineData("Channels:Sms", "Notify", "Notify:SmsTemplateId")]
    public void A_chosen_channel_without_its_settings_stops_the_start_with_a_clear_message(string key, string channel, string named)
    {
        using var app = new CareWorkflowsApp(settings: new Dictionary<string, string?> { [key] = channel });
        var e = Assert.ThrowsAny<Exception>(() => app.Services);
        var message = Flatten(e);
        Assert.Contains($"{key}={channel} needs", message);
        Assert.Contains(named, message);
    }

    [Fact]
    public void A_Key_Vault_reference_the_platform_could_not_resolve_stops_the_start_naming_the_setting_not_its_value()
    {
        // What App Service / Functions leave in an app setting whose secret is missing: the reference text itself.
        const string unresolved = "@Microsoft.KeyVault(VaultName=kv-cw-prod;SecretName=notify-callback-token)";
        using var app = new CareWorkflowsApp(settings: new Dictionary<string, string?> { ["Notify:CallbackBearerToken"] = unresolved });

        var message = Flatten(Assert.ThrowsAny<Exception>(() => app.Services));

        Assert.Contains("Key Vault references were not resolved for Notify:CallbackBearerToken", message);
        Assert.DoesNotContain("SecretName", message);
    }

    [Fact]
    public void An_unknown_channel_name_stops_the_start()
    {
        using var app = new CareWorkflowsApp(settings: new Dictionary<string, string?> { ["Channels:Sms"] = "Carrier-pigeon" });
        Assert.Contains("not a known channel", Flatten(Assert.ThrowsAny<Exception>(() => app.Services)));
    }

    [Fact]
    public async Task Every_channel_with_its_settings_starts()
    {
        await using var app = new ChannelsTestApp(WebhookSettings(new()
        {
            ["Channels:Email"] = "Graph", ["Graph:TenantId"] = "t", ["Graph:ClientId"] = "c", ["Graph:ClientSecret"] = "s", ["Graph:Mailbox"] = "care@council.example",
            ["Channels:Sms"] = "Twilio", ["Twilio:From"] = "+447700900000",
        }));
        var router = (CareWorkflows.Runtime.Channels.ChannelRouter)app.Services.GetService(typeof(CareWorkflows.Runtime.Channels.ChannelRouter))!;
        Assert.Equal("Graph", router.For(MessageChannel.Email).Name);
        Assert.Equal("Twilio", router.For(MessageChannel.Sms).Name);
    }

    private static string Flatten(Exception e)
    {
        var parts = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException) parts.Add(x.Message);
        return string.Join(" | ", parts);
    }
}
