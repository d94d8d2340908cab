using System.Reflection;
using System.Text.Json;
using Microsoft.DurableTask;

namespace CareWorkflows.Tests.Hosting;

/// <summary>Where the Functions app's build output is, and what the workflows register on our server.</summary>
public static class FunctionsApp
{
    public static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CareWorkflows.sln"))) return dir.FullName;
        throw new InvalidOperationException("CareWorkflows.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The standalone app's folder (its content root: wwwroot, appsettings.json).</summary>
    public static string StandaloneContentRoot => Path.Combine(Root, "functions");

    /// <summary>functions/FunctionApp/bin/{the configuration these tests were built in}/net10.0/.</summary>
    public static string OutputDirectory
    {
        get
        {
            var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = tfm.Parent!.Name;
            return Path.Combine(Root, "functions", "FunctionApp", "bin", configuration, tfm.Name);
        }
    }

    /// <summary>The function metadata the Worker SDK generated at build time: what the Functions host indexes.</summary>
    public static IReadOnlyDictionary<string, JsonElement> Metadata()
    {
        var path = Path.Combine(OutputDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: the Functions app was not built (dotnet build CareWorkflows.sln).");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.Clone());
    }

    public static IReadOnlyList<JsonElement> Bindings(JsonElement function) => function.GetProperty("bindings").EnumerateArray().ToList();

    public static JsonElement Trigger(JsonElement function) =>
        Bindings(function).Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));

    /// <summary>Names registered by DurableTaskHosting.RegisterWorkflows (read as the Durable extension reads a registry).</summary>
    public static (IReadOnlyList<string> Orchestrators, IReadOnlyList<string> Activities) Registered()
    {
        var registry = new DurableTaskRegistry();
        CareWorkflows.Functions.Extensions.DurableTaskHosting.RegisterWorkflows(registry);
        return (Names(registry, "Orchestrators"), Names(registry, "Activities"));
    }

    private static List<string> Names(DurableTaskRegistry registry, string property)
    {
        var value = typeof(DurableTaskRegistry).GetProperty(property, BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(registry)!;
        return ((System.Collections.IEnumerable)value).Cast<object>()
            .Select(kv => kv.GetType().GetProperty("Key")!.GetValue(kv)!.ToString()!).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Every class in Definitions marked [DurableTask]: orchestrators and activities, by name.</summary>
    public static (IReadOnlyList<string> Orchestrators, IReadOnlyList<string> Activities) Declared()
    {
        var tasks = typeof(CareWorkflows.Definitions.WorkflowScope).Assembly.GetTypes()
            .Select(t => (Type: t, Attribute: t.GetCustomAttribute<DurableTaskAttribute>())).Where(t => t.Attribute is not null && !t.Type.IsAbstract).ToList();
        return (tasks.Where(t => typeof(ITaskOrchestrator).IsAssignableFrom(t.Type)).Select(t => t.Attribute!.Name.Name).Order(StringComparer.Ordinal).ToList(),
            tasks.Where(t => typeof(ITaskActivity).IsAssignableFrom(t.Type)).Select(t => t.Attribute!.Name.Name).Order(StringComparer.Ordinal).ToList());
    }
}
