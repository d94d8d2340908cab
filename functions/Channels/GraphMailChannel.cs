using Azure.Core;
using Azure.Identity;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Channels;
using CareWorkflows.Runtime.Store;
using Microsoft.Graph;
using Microsoft.Graph.Authentication;
using Microsoft.Graph.Models;
using Microsoft.Graph.Users.Item.SendMail;
using Microsoft.Kiota.Abstractions;

namespace CareWorkflows.Functions.Channels;

/// <summary>
/// Settings section "Graph": an Entra app registration with the Mail.Send application permission (limited to the shared
/// mailbox by an application access policy). ClientSecret from Key Vault. BaseUrl and AuthorityHost default to the
/// public cloud; tests point both at a fake.
/// </summary>
public sealed record GraphSettings(string TenantId, string ClientId, string ClientSecret, string Mailbox, string BaseUrl, Uri AuthorityHost)
{
    public static GraphSettings Read(IConfiguration config)
    {
        var s = config.GetSection("Graph");
        ChannelSettings.Require(s, "Channels:Email=Graph", "TenantId", "ClientId", "ClientSecret", "Mailbox");
        return new(s["TenantId"]!, s["ClientId"]!, s["ClientSecret"]!, s["Mailbox"]!,
            s["BaseUrl"] is { Length: > 0 } b ? b.TrimEnd('/') : "https://graph.microsoft.com/v1.0",
            s["AuthorityHost"] is { Length: > 0 } a ? new Uri(a) : AzureAuthorityHosts.AzurePublicCloud);
    }

    public TokenCredential Credential(ClientSecretCredentialOptions? options = null)
    {
        options ??= new ClientSecretCredentialOptions();
        options.AuthorityHost = AuthorityHost;
        return new ClientSecretCredential(TenantId, ClientId, ClientSecret, options);
    }
}

/// <summary>
/// Email through Microsoft Graph sendMail from the council's shared mailbox (POST /users/{mailbox}/sendMail), with an
/// app-only token from client credentials. Graph returns no message id: we record our outbox id, which also travels in
/// the X-CareWorkflows-Message-Id header. sendMail has no idempotency key, so a retry after a timeout may send twice.
/// </summary>
public sealed class GraphMailChannel : IMessageChannel
{
    private readonly GraphServiceClient _graph;
    private readonly GraphSettings _settings;

    public GraphMailChannel(HttpClient http, GraphSettings settings, TokenCredential credential)
    {
        _settings = settings;
        // Our own HttpClient without Graph's retry handler: the outbox dispatcher owns retries and backoff.
        var auth = new AzureIdentityAuthenticationProvider(credential, [new Uri(settings.BaseUrl).Host], null, true, ScopeFor(settings.BaseUrl));
        _graph = new GraphServiceClient(http, auth, settings.BaseUrl);
    }

    private static string ScopeFor(string baseUrl)
    {
        var u = new Uri(baseUrl);
        return u.Host.EndsWith("graph.microsoft.com", StringComparison.OrdinalIgnoreCase) || u.IsLoopback
            ? "https://graph.microsoft.com/.default"
            : $"{u.Scheme}://{u.Host}/.default";
    }

    public string Name => "Graph";
    public MessageChannel Kind => MessageChannel.Email;

    public async Task<string> SendAsync(OutboxMessage m, CancellationToken ct)
    {
        var body = new SendMailPostRequestBody
        {
            Message = new Message
            {
                Subject = m.Subject,
                Body = m.HtmlBody is { Length: > 0 } html
                    ? new ItemBody { ContentType = BodyType.Html, Content = html }
                    : new ItemBody { ContentType = BodyType.Text, Content = m.Body },
                ToRecipients = [new Recipient { EmailAddress = new EmailAddress { Address = m.To } }],
                InternetMessageHeaders = [new InternetMessageHeader { Name = "X-CareWorkflows-Message-Id", Value = m.Id.ToString() }],
            },
            SaveToSentItems = true,
        };
        try
        {
            await _graph.Users[_settings.Mailbox].SendMail.PostAsync(body, cancellationToken: ct);
            return m.Id.ToString();
        }
        catch (ApiException e) { throw ChannelErrors.FromStatus(Name, e.ResponseStatusCode, e.Message, e); }
        catch (AuthenticationFailedException e) { throw new ChannelException($"Graph token request failed: {e.Message}", permanent: false, e); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { throw ChannelErrors.Unreachable(Name, e); }
    }
}
