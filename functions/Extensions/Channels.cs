using CareWorkflows.Definitions;
using CareWorkflows.Functions.Channels;
using CareWorkflows.Runtime.Channels;

namespace CareWorkflows.Functions.Extensions;

public static class ChannelRegistration
{
    /// <summary>
    /// Registers a real channel by name (Channels:Email / Channels:Sms). Returns false for an unknown name; throws with a
    /// clear message when the chosen channel lacks its settings, so a misconfigured deployment does not start.
    /// </summary>
    public static bool AddChannel(this IServiceCollection services, MessageChannel kind, string name, IConfiguration config)
    {
        switch (kind, name)
        {
            case (MessageChannel.Email, "SendGrid"):
            {
                var settings = SendGridSettings.Read(config, required: true);
                services.AddHttpClient(nameof(SendGridChannel), c => c.Timeout = TimeSpan.FromSeconds(30));
                services.AddSingleton<IMessageChannel>(sp => new SendGridChannel(Client(sp, nameof(SendGridChannel)), settings));
                return true;
            }
            case (MessageChannel.Email, "Graph"):
            {
                var settings = GraphSettings.Read(config);
                services.AddHttpClient(nameof(GraphMailChannel), c => c.Timeout = TimeSpan.FromSeconds(30));
                services.AddSingleton<IMessageChannel>(sp => new GraphMailChannel(Client(sp, nameof(GraphMailChannel)), settings, settings.Credential()));
                return true;
            }
            case (_, "Notify"):
            {
                var settings = NotifySettings.Read(config, kind);
                services.AddSingleton<IMessageChannel>(new NotifyChannel(kind, settings));
                return true;
            }
            case (MessageChannel.Email, "Smtp"):
            {
                services.AddSingleton<IMessageChannel>(new SmtpChannel(SmtpSettings.Read(config)));
                return true;
            }
            case (MessageChannel.Sms, "Twilio"):
            {
                var settings = TwilioSettings.Read(config, required: true);
                services.AddHttpClient(nameof(TwilioSmsChannel), c => c.Timeout = TimeSpan.FromSeconds(30))
                    .AddHttpMessageHandler(() => new TwilioApiBaseUrl(settings.BaseUrl));
                services.AddSingleton<IMessageChannel>(sp => new TwilioSmsChannel(Client(sp, nameof(TwilioSmsChannel)), settings));
                return true;
            }
            default:
                return false;
        }
    }

    private static HttpClient Client(IServiceProvider sp, string name) => sp.GetRequiredService<IHttpClientFactory>().CreateClient(name);
}
