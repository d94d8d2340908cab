using Dapper;

namespace CareWorkflows.Runtime.Store;

/// <summary>How many instances of a type are in a status.</summary>
public sealed record StatusCount(string Type, string Status, long Count);

/// <summary>Instance counts for the instances-by-state metric (kept apart from IWorkflowStore: only telemetry needs it).</summary>
public interface IInstanceCounts
{
    Task<IReadOnlyList<StatusCount>> CountByStatusAsync(CancellationToken ct = default);
}

public abstract partial class SqlWorkflowStore : IInstanceCounts
{
    public async Task<IReadOnlyList<StatusCount>> CountByStatusAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        // served by ix_instances_type_status
        var rows = await c.QueryAsync<(string Type, string Status, long Count)>(new CommandDefinition(
            "SELECT type, status, COUNT(*) FROM instances GROUP BY type, status", cancellationToken: ct));
        return rows.Select(r => new StatusCount(r.Type, r.Status, r.Count)).ToList();
    }
}
