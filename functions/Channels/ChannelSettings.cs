namespace CareWorkflows.Functions.Channels;

/// <summary>Fail fast at startup: a chosen channel without its settings stops the service with a clear message.</summary>
public static class ChannelSettings
{
    public static void Require(IConfigurationSection section, string chosenBy, params string[] keys)
    {
        var missing = keys.Where(k => string.IsNullOrWhiteSpace(section[k])).Select(k => $"{section.Path}:{k}").ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"{chosenBy} needs {string.Join(", ", missing)} (app settings or Key Vault references; see docs/channels.md).");
    }
}
