using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>
/// Small key/value documents the service keeps: the operator-loaded bank-holiday file, the data-protection key ring,
/// intake dead letters. Implemented by the SQL stores (<c>documents</c> table) and by Table storage
/// (<see cref="Tables.TableDocumentStore"/>); one contract test suite runs against all of them.
/// </summary>
public interface IDocumentStore
{
    Task<string?> GetDocumentAsync(string key, CancellationToken ct = default);

    /// <summary>Adds or replaces the document (last writer wins).</summary>
    Task PutDocumentAsync(string key, string value, Instant now, CancellationToken ct = default);

    /// <summary>Documents whose key starts with <paramref name="keyPrefix"/> (exactly: no wildcards), in ordinal key order.</summary>
    Task<IReadOnlyList<(string Key, string Value)>> ListDocumentsAsync(string keyPrefix, CancellationToken ct = default);
}
