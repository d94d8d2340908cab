using System.Text.Json;
using CareWorkflows.Runtime.Providers;
using Dapper;

namespace CareWorkflows.Runtime.Store;

/// <summary>The provider directory (tables from migration 0002), same SQL on both stores.</summary>
public abstract partial class SqlWorkflowStore : IProviderDirectory
{
    private const string ProviderColumns = "id, name, kind, patches, email, mobile, cqc_rating, active, weekly_hours, updated_at";

#pragma warning disable CS0649 // assigned by Dapper
    private sealed class ProviderDb
    {
        public string id = ""; public string name = ""; public string kind = ""; public string patches = "[]"; public string email = ""; public string mobile = "";
        public string cqc_rating = ""; public bool active; public double weekly_hours; public long updated_at;

        public ProviderRecord ToRecord() => new(id, name, Enum.Parse<ProviderKind>(kind), JsonSerializer.Deserialize<string[]>(patches, Json) ?? [],
            email, mobile, Enum.Parse<CqcRating>(cqc_rating), active, (decimal)weekly_hours, I(updated_at));
    }
#pragma warning restore CS0649

    private static object ProviderParams(ProviderRecord p) => new
    {
        p.Id, p.Name, kind = p.Kind.ToString(), patches = JsonSerializer.Serialize(p.Patches, Json), p.Email, p.Mobile,
        rating = p.CqcRating.ToString(), p.Active, hours = (double)p.WeeklyHours, at = T(p.UpdatedAt),
    };

    public async Task<IReadOnlyList<ProviderRecord>> ListProvidersAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var rows = await c.QueryAsync<ProviderDb>(new CommandDefinition($"SELECT {ProviderColumns} FROM providers ORDER BY id", cancellationToken: ct));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task<ProviderRecord?> GetProviderAsync(string id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<ProviderDb>(new CommandDefinition(
            $"SELECT {ProviderColumns} FROM providers WHERE id = @id", new { id }, cancellationToken: ct));
        return row?.ToRecord();
    }

    public async Task<bool> AddProviderAsync(ProviderRecord provider, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        // ON CONFLICT DO NOTHING: a taken id is an answer (false), not an error, on both databases.
        var n = await c.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO providers ({ProviderColumns}) VALUES (@Id, @Name, @kind, @patches, @Email, @Mobile, @rating, @Active, @hours, @at) ON CONFLICT (id) DO NOTHING",
            ProviderParams(provider), tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return n == 1;
    }

    public async Task<bool> UpdateProviderAsync(ProviderRecord provider, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        var n = await c.ExecuteAsync(new CommandDefinition(
            "UPDATE providers SET name = @Name, kind = @kind, patches = @patches, email = @Email, mobile = @Mobile, cqc_rating = @rating, " +
            "active = @Active, weekly_hours = @hours, updated_at = @at WHERE id = @Id",
            ProviderParams(provider), tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return n == 1;
    }

    public async Task<IReadOnlyList<PatchRecord>> ListPatchesAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var rows = await c.QueryAsync<(string Name, string Wards)>(new CommandDefinition("SELECT name, wards FROM patches ORDER BY name", cancellationToken: ct));
        return rows.Select(r => new PatchRecord(r.Name, JsonSerializer.Deserialize<string[]>(r.Wards, Json) ?? [])).ToList();
    }

    public async Task PutPatchAsync(PatchRecord patch, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        using var _ = await WriteLockAsync(ct);
        await using var tx = await BeginWriteAsync(c, ct);
        await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO patches (name, wards) VALUES (@Name, @wards) ON CONFLICT (name) DO UPDATE SET wards = excluded.wards",
            new { patch.Name, wards = JsonSerializer.Serialize(patch.Wards, Json) }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }
}
