using CareWorkflows.Definitions;

namespace CareWorkflows.Runtime.Engine;

/// <summary>The workflow types this service runs, by type name (= reference prefix).</summary>
public sealed class WorkflowRegistry
{
    private readonly Dictionary<string, IWorkflowDefinition> _byType;

    public WorkflowRegistry(IEnumerable<IWorkflowDefinition> definitions)
    {
        _byType = definitions.ToDictionary(d => d.Type, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<IWorkflowDefinition> All => _byType.Values;

    public IWorkflowDefinition Get(string type) =>
        _byType.TryGetValue(type, out var d) ? d : throw new InvalidOperationException($"No workflow type '{type}' is registered.");

    public bool TryGet(string type, out IWorkflowDefinition definition) => _byType.TryGetValue(type, out definition!);

    /// <summary>The type of a reference like D2A-7K3QX, if it is well-formed and registered.</summary>
    public IWorkflowDefinition? ForReference(string reference)
    {
        var dash = reference.LastIndexOf('-');
        return dash > 0 && _byType.TryGetValue(reference[..dash], out var d) ? d : null;
    }
}
