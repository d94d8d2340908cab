using Microsoft.Identity.Web;

namespace CareWorkflows.Functions.Auth;

public static class EntraAuthentication
{
    /// <summary>
    /// Production sign-in: Microsoft Entra ID bearer tokens (section AzureAd: Instance, TenantId, ClientId) carrying the
    /// app roles in <see cref="CareWorkflows.Definitions.Roles"/> and, for provider users, a provider_id claim.
    /// </summary>
    public static IServiceCollection AddEntraAuthentication(this IServiceCollection services, IConfiguration config)
    {
        var section = config.GetSection("AzureAd");
        if (string.IsNullOrEmpty(section["ClientId"]) || string.IsNullOrEmpty(section["TenantId"]))
            throw new InvalidOperationException("Auth:Mode=Entra needs AzureAd:TenantId and AzureAd:ClientId (or set Auth:Mode=Demo in Development).");
        services.AddAuthentication(Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerDefaults.AuthenticationScheme)
            .AddMicrosoftIdentityWebApi(section);
        return services;
    }
}
