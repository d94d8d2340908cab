using CareWorkflows.Definitions;

namespace CareWorkflows.Runtime.Engine;

/// <summary>
/// How an input to an instance ended, as the edges answer it: applied (200/201), replayed (the first result of an
/// Idempotency-Key again), refused with a <see cref="Rejection"/> (403/409/422), not found (404), or accepted for
/// later (202: the orchestration had not taken it when the answer was due).
/// </summary>
public enum OutcomeKind { Applied, Replayed, Rejected, NotFound, Accepted }

/// <summary>The result of one input. <see cref="Rejection"/> is set for <see cref="OutcomeKind.Rejected"/>.</summary>
public sealed record TransitionOutcome(OutcomeKind Kind, string? Reference = null, string? Status = null, Rejection? Rejection = null, long Version = 0)
{
    public bool Succeeded => Kind is OutcomeKind.Applied or OutcomeKind.Replayed;
}
