using NodaTime;

namespace CareWorkflows.Runtime.Store;

/// <summary>
/// Idempotency keys and the first result recorded under each, so a replayed command answers what the first one did.
/// Implemented by the SQL stores (<c>commands</c> table) and by Table storage (<see cref="Tables.TableIdempotencyStore"/>).
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>The stored result of an idempotent command, if that key was used before.</summary>
    Task<string?> FindCommandResultAsync(string idempotencyKey, CancellationToken ct = default);

    /// <summary>
    /// Saves <paramref name="result"/> under the key unless the key is taken: the first writer wins, however many race.
    /// Returns whether this call saved it, and the result now stored (this one, or the first writer's).
    /// </summary>
    Task<(bool Saved, string Result)> SaveCommandResultIfAbsentAsync(string idempotencyKey, string reference, string result, Instant at, CancellationToken ct = default);
}
