using CareWorkflows.Definitions;

namespace CareWorkflows.Functions.Extensions;

public static class ChannelRegistration
{
    /// <summary>Registers a real channel by name. Returns false for an unknown name.</summary>
    public static bool AddChannel(this IServiceCollection services, MessageChannel kind, string name, IConfiguration config) => false;
}
