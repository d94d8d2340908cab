using System.Xml.Linq;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using NodaTime;

namespace CareWorkflows.Functions.Auth;

/// <summary>
/// Keeps the ASP.NET Core data-protection key ring (sign-in cookies, antiforgery tokens) in the service's documents
/// (the workflow database, or Table storage with Storage:ServiceData=Tables), so every copy of the app reads the same keys: a form rendered by one instance can be posted to another,
/// and a sign-in survives a restart. Each key is its own document (<c>data-protection-key:&lt;name&gt;</c>), so two
/// instances creating keys at once never overwrite each other.
/// The keys sit in the store unencrypted (Azure encrypts the storage at rest); whoever can read the store can already
/// read every workflow, so it is guarded like the workflows are.
/// </summary>
public sealed class StoreXmlRepository(IDocumentStore store, IClock clock) : IXmlRepository
{
    public const string KeyPrefix = "data-protection-key:";

    // The data-protection API is synchronous; it reads the ring rarely (start, then about once a day) and writes it on rotation.
    public IReadOnlyCollection<XElement> GetAllElements() =>
        store.ListDocumentsAsync(KeyPrefix).GetAwaiter().GetResult().Select(d => XElement.Parse(d.Value)).ToList();

    public void StoreElement(XElement element, string friendlyName) =>
        store.PutDocumentAsync(KeyPrefix + friendlyName, element.ToString(SaveOptions.DisableFormatting), clock.GetCurrentInstant()).GetAwaiter().GetResult();
}

public static class DataProtectionKeys
{
    public static IServiceCollection AddStoreDataProtection(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("CareWorkflows");
        services.AddOptions<KeyManagementOptions>()
            .Configure<IDocumentStore, IClock>((o, store, clock) => o.XmlRepository = new StoreXmlRepository(store, clock));
        return services;
    }
}
