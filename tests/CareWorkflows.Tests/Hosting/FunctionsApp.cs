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

    /// <summary>Every class marked [DurableTask] in Definitions and in the app (activities with I/O may live there), by name.</summary>
    public static (IReadOnlyList<string> Orchestrators, IReadOnlyList<string> Activities) Declared()
    {
        var tasks = DeclaredTypes();
        return (tasks.Where(t => t.Orchestrator).Select(t => t.Name).Order(StringComparer.Ordinal).ToList(),
            tasks.Where(t => !t.Orchestrator).Select(t => t.Name).Order(StringComparer.Ordinal).ToList());
    }

    public sealed record DeclaredTask(string Name, Type Type, bool Orchestrator, Type Input, Type Output);

    /// <summary>The [DurableTask] classes with the input and output of their TaskOrchestrator/TaskActivity base.</summary>
    public static IReadOnlyList<DeclaredTask> DeclaredTypes() =>
        new[] { typeof(CareWorkflows.Definitions.WorkflowScope).Assembly, typeof(CareWorkflows.Functions.Extensions.DurableTaskHosting).Assembly }
            .SelectMany(a => a.GetTypes())
            .Select(t => (Type: t, Attribute: t.GetCustomAttribute<DurableTaskAttribute>()))
            .Where(t => t.Attribute is not null && !t.Type.IsAbstract)
            .Select(t =>
            {
                var orchestrator = BaseOf(t.Type, typeof(TaskOrchestrator<,>));
                var activity = BaseOf(t.Type, typeof(TaskActivity<,>));
                var generic = orchestrator ?? activity ?? throw new InvalidOperationException($"{t.Type} is [DurableTask] but neither a TaskOrchestrator<,> nor a TaskActivity<,>.");
                var args = generic.GetGenericArguments();
                return new DeclaredTask(t.Attribute!.Name.Name, t.Type, orchestrator is not null, args[0], args[1]);
            })
            .OrderBy(t => t.Orchestrator ? 0 : 1).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();

    private static Type? BaseOf(Type type, Type open)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
            if (t.IsGenericType && t.GetGenericTypeDefinition() == open) return t;
        return null;
    }

    /// <summary>The checked-in file of Durable Functions wrappers, written from <see cref="DeclaredTypes"/>.</summary>
    public static string GeneratedWrappersPath => Path.Combine(Root, "functions", "FunctionApp", "Functions", "WorkflowFunctions.Generated.cs");

    /// <summary>
    /// The wrappers for every orchestrator and activity (one [OrchestrationTrigger]/[ActivityTrigger] function each, named
    /// as registered), as the Durable Task SDK's source generator would write them (it is not served here).
    /// </summary>
    public static string GenerateWrappers()
    {
        var b = new System.Text.StringBuilder();
        b.Append("""
            // <auto-generated>
            // Written by scripts/generate-functions.sh (FunctionsCodegenTests) from the [DurableTask] orchestrators and activities
            // that DurableTaskHosting.RegisterWorkflows registers. Do not edit: add the workflow to RegisterWorkflows and rerun the
            // script. FunctionsCodegenTests fails while this file is out of date.
            // </auto-generated>
            #nullable enable
            using Microsoft.Azure.Functions.Worker;

            namespace CareWorkflows.FunctionApp.Functions;

            public static partial class WorkflowFunctions
            {

            """);
        foreach (var t in DeclaredTypes())
        {
            var args = $"{CSharp(t.Type)}, {CSharp(t.Input)}, {CSharp(t.Output)}";
            b.Append($"    [Function(\"{t.Name}\")]\n");
            if (t.Orchestrator)
                b.Append($"    public static global::System.Threading.Tasks.Task<{CSharp(t.Output)}> {t.Type.Name}([OrchestrationTrigger] global::Microsoft.DurableTask.TaskOrchestrationContext context) =>\n" +
                         $"        global::CareWorkflows.FunctionApp.Functions.Orchestration.RunAsync<{args}>(context);\n\n");
            else
                b.Append($"    public static global::System.Threading.Tasks.Task<{CSharp(t.Output)}> {t.Type.Name}([ActivityTrigger] {CSharp(t.Input)} input, FunctionContext context) =>\n" +
                         $"        global::CareWorkflows.FunctionApp.Functions.Activity.RunAsync<{args}>(input, context);\n\n");
        }
        b.Length -= 1;
        b.Append("}\n");
        return b.ToString();
    }

    private static string CSharp(Type t)
    {
        if (t == typeof(string)) return "string";
        if (t == typeof(bool)) return "bool";
        if (t == typeof(int)) return "int";
        if (t == typeof(object)) return "object";
        if (Nullable.GetUnderlyingType(t) is { } inner) return CSharp(inner) + "?";
        var name = t.IsNested ? CSharp(t.DeclaringType!) + "." + t.Name : "global::" + t.Namespace + "." + t.Name;
        if (!t.IsGenericType) return name;
        return name[..name.IndexOf('`')] + "<" + string.Join(", ", t.GetGenericArguments().Select(CSharp)) + ">";
    }
}
