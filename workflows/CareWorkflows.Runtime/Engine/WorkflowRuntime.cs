using System.Diagnostics;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace CareWorkflows.Runtime.Engine;

/// <summary>
/// How applying an input ended. <see cref="NotDue"/>: a claimed timer whose due time is after the runtime's now (the
/// clock stepped back after the claim); nothing was written and the timer stays pending. <see cref="Accepted"/>: an
/// orchestrated instance has the input but had not taken it yet when the answer was due (202).
/// </summary>
public enum OutcomeKind { Applied, Replayed, Rejected, NotFound, Stale, NotDue, Accepted }

/// <summary>The result of applying one input. <see cref="Rejection"/> is set for <see cref="OutcomeKind.Rejected"/>.</summary>
public sealed record TransitionOutcome(OutcomeKind Kind, string? Reference = null, string? Status = null, Rejection? Rejection = null, long Version = 0)
{
    public bool Succeeded => Kind is OutcomeKind.Applied or OutcomeKind.Replayed;
}

/// <summary>Recorded by the runtime itself when an operator cancels an instance.</summary>
public sealed record InstanceCancelled(string Reason) : WorkflowEvent;

/// <summary>Recorded when a timer fired but the workflow no longer had a use for it.</summary>
public sealed record TimerIgnored(string Name, string Why) : WorkflowEvent;

/// <summary>
/// Applies one input to one instance in one transaction: load, decide, fold events, commit (events, instance row
/// with version check, timers, outbox, idempotency key). On a conflict it reloads and decides again.
/// </summary>
public sealed class WorkflowRuntime(
    IWorkflowStore store,
    WorkflowRegistry registry,
    IClock clock,
    RuntimeEnvironment environment,
    RuntimeSignals signals,
    ILogger<WorkflowRuntime> logger)
{
    public const string CancelledStatus = "Cancelled";
    private const int MaxAttempts = 100;
    public static readonly ActivitySource Activity = new("CareWorkflows.Runtime");

    public IWorkflowStore Store => store;
    public WorkflowRegistry Registry => registry;
    public RuntimeEnvironment Environment => environment;
    public IClock Clock => clock;

    /// <summary>Starts a new instance of <paramref name="type"/> with its start input.</summary>
    public async Task<TransitionOutcome> StartAsync(string type, WorkflowInput start, Actor actor, string? idempotencyKey = null, CancellationToken ct = default)
    {
        var definition = registry.Get(type);
        using var activity = Activity.StartActivity("workflow.start");
        activity?.SetTag("workflow.type", type);
        activity?.SetTag("workflow.input", start.GetType().Name);
        for (var attempt = 1; ; attempt++)
        {
            if (idempotencyKey is not null && await store.FindCommandResultAsync(idempotencyKey, ct) is { } first)
                return Replay(first);
            var reference = References.New(definition.Type);
            var now = clock.GetCurrentInstant();
            var state = definition.InitialState;
            var decision = definition.Decide(state, start, environment.ContextFor(reference, actor, now));
            if (decision.Rejected is { } r) return new(OutcomeKind.Rejected, Rejection: r);
            var batch = Build(definition, reference, 0, 0, state, decision, actor, now, idempotencyKey, null, null, false);
            try
            {
                await store.CommitAsync(batch, ct);
                activity?.SetTag("workflow.reference", reference);
                activity?.SetTag("workflow.outcome", batch.Status);
                signals.Committed(batch);
                RuntimeMetrics.StatusEntered(definition.Type, batch.Status);
                return new(OutcomeKind.Applied, reference, batch.Status, Version: 1);
            }
            catch (ConcurrencyConflictException) when (attempt < MaxAttempts)
            {
                // The reference or the idempotency key was taken meanwhile: look again.
            }
        }
    }

    /// <summary>
    /// Applies <paramref name="input"/> to the instance <paramref name="reference"/>. With <paramref name="consumeTimerId"/>
    /// (a claimed timer) give its <paramref name="timerDueAt"/>: a timer is never fired before it is due at the clock
    /// reading the decision uses, even when the clock stepped back after the claim (then <see cref="OutcomeKind.NotDue"/>).
    /// </summary>
    public async Task<TransitionOutcome> ApplyAsync(string reference, WorkflowInput input, Actor actor, string? idempotencyKey = null,
        Guid? consumeTimerId = null, Guid? failMessageId = null, string? failError = null, CancellationToken ct = default, Instant? timerDueAt = null)
    {
        using var activity = Activity.StartActivity("workflow.apply");
        activity?.SetTag("workflow.reference", reference);
        activity?.SetTag("workflow.input", input.GetType().Name);
        for (var attempt = 1; ; attempt++)
        {
            if (idempotencyKey is not null && await store.FindCommandResultAsync(idempotencyKey, ct) is { } first)
                return Replay(first);
            var row = await store.LoadAsync(reference, ct);
            if (row is null || !registry.TryGet(row.Type, out var definition)) return new(OutcomeKind.NotFound, reference);
            activity?.SetTag("workflow.type", row.Type);
            var now = clock.GetCurrentInstant();
            // The clock may have stepped back since the pump claimed this timer: firing now would be early. Write nothing.
            if (consumeTimerId is not null && timerDueAt is { } due && due > now)
            {
                activity?.SetTag("workflow.outcome", "not-due");
                return new(OutcomeKind.NotDue, reference, row.Status, Version: row.Version);
            }
            var state = JsonSerializer.Deserialize(row.State, definition.StateType, WorkflowJson.Options)!;

            Decision decision;
            if (row.Status == CancelledStatus)
                decision = input is TimerFired or MessageFailed ? Decision.Nothing : Decision.Conflict($"{reference} was cancelled.");
            else
                decision = definition.Decide(state, input, environment.ContextFor(reference, actor, now));

            if (decision.Rejected is { } r)
            {
                if (consumeTimerId is null && failMessageId is null)
                {
                    activity?.SetTag("workflow.outcome", "rejected");
                    return new(OutcomeKind.Rejected, reference, row.Status, r, row.Version);
                }
                // A timer or a delivery failure the workflow no longer wants: record that and let it go.
                decision = new Decision { Events = [new TimerIgnored(input is TimerFired t ? t.Name : input.GetType().Name, r.Detail)] };
            }

            var batch = Build(definition, reference, row.Version, row.LastSeq, state, decision, actor, now, idempotencyKey, consumeTimerId, failMessageId,
                row.Status == CancelledStatus) with { FailError = failError };
            try
            {
                await store.CommitAsync(batch, ct);
                signals.Committed(batch);
                activity?.SetTag("workflow.outcome", batch.Status);
                if (batch.Status != row.Status) RuntimeMetrics.StatusEntered(row.Type, batch.Status);
                return new(OutcomeKind.Applied, reference, batch.Status, Version: row.Version + 1);
            }
            catch (ConcurrencyConflictException e) when (attempt < MaxAttempts)
            {
                logger.LogDebug("Version conflict on {Reference} (attempt {Attempt}): {Message}; reloading", reference, attempt, e.Message);
                await BackOffAsync(attempt, ct);
            }
            catch (StaleTimerException)
            {
                return new(OutcomeKind.Stale, reference, row.Status, Version: row.Version);
            }
        }
    }

    /// <summary>Operator cancel: records the reason, stops every timer, refuses further inputs.</summary>
    public async Task<TransitionOutcome> CancelAsync(string reference, string reason, Actor actor, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var row = await store.LoadAsync(reference, ct);
            if (row is null) return new(OutcomeKind.NotFound, reference);
            if (row.Completed || row.Status == CancelledStatus)
                return new(OutcomeKind.Rejected, reference, row.Status, new Rejection(RejectionKind.Conflict, "Already ended", $"{reference} has already ended ({row.Status})."));
            var now = clock.GetCurrentInstant();
            var e = new InstanceCancelled(reason);
            var batch = new CommitBatch(reference, row.Type, row.Version, CancelledStatus, true, row.State, row.Summary,
                [ToAppend(row.LastSeq + 1, e, actor, now)], [], [], CancelAllTimers: true, [], now, Asks: []);
            try
            {
                await store.CommitAsync(batch, ct);
                return new(OutcomeKind.Applied, reference, CancelledStatus, Version: row.Version + 1);
            }
            catch (ConcurrencyConflictException) when (attempt < MaxAttempts) { }
        }
    }

    /// <summary>After a conflict: a short random pause that grows with the attempt, so hot instances do not starve writers.</summary>
    private static Task BackOffAsync(int attempt, CancellationToken ct) =>
        attempt < 3 ? Task.CompletedTask : Task.Delay(Random.Shared.Next(1, Math.Min(50, attempt * 3)), ct);

    public object DeserializeState(InstanceRow row) =>
        JsonSerializer.Deserialize(row.State, registry.Get(row.Type).StateType, WorkflowJson.Options)!;

    private static TransitionOutcome Replay(string result)
    {
        var r = JsonSerializer.Deserialize<StoredResult>(result, WorkflowJson.Options)!;
        return new(OutcomeKind.Replayed, r.Reference, r.Status);
    }

    private sealed record StoredResult(string Reference, string Status);

    private static EventToAppend ToAppend(long seq, WorkflowEvent e, Actor actor, Instant now) =>
        new(seq, e.GetType().Name, JsonSerializer.Serialize(e, e.GetType(), WorkflowJson.Options), actor, now);

    private static CommitBatch Build(IWorkflowDefinition definition, string reference, long version, long lastSeq, object state, Decision decision,
        Actor actor, Instant now, string? idempotencyKey, Guid? consumeTimerId, Guid? failMessageId, bool cancelled)
    {
        var newState = decision.Events.Where(e => e is not TimerIgnored).Aggregate(state, definition.Evolve);
        var events = decision.Events.Select((e, i) => ToAppend(lastSeq + 1 + i, e, actor, now)).ToList();
        var status = cancelled ? CancelledStatus : definition.Status(newState);
        var completed = cancelled || definition.IsCompleted(newState);
        var messages = decision.Messages.Select(m => new OutboxMessage(
            Guid.CreateVersion7(now.ToDateTimeOffset()), reference, m.Channel, m.To, m.RecipientId, m.Purpose, m.Subject, m.Body, m.HtmlBody,
            m.Links ?? [], OutboxStatus.Pending, 0, now, now, null, null, null, null, null)).ToList();
        // Asks are rewritten only when they changed, so most transitions cost no extra statements.
        var oldAsks = version == 0 ? [] : definition.OpenAsks(state);
        var newAsks = completed ? [] : definition.OpenAsks(newState);
        var asks = oldAsks.SequenceEqual(newAsks, AskComparer.Instance) ? null : newAsks;
        var result = idempotencyKey is null ? null : JsonSerializer.Serialize(new StoredResult(reference, status), WorkflowJson.Options);
        return new CommitBatch(reference, definition.Type, version, status, completed,
            JsonSerializer.Serialize(newState, definition.StateType, WorkflowJson.Options), definition.Summary(newState),
            events,
            decision.SetTimers.Select(t => new TimerToSet(Guid.NewGuid(), t.Name, t.DueAt)).ToList(),
            decision.CancelTimers,
            CancelAllTimers: completed,
            messages, now, idempotencyKey, result, consumeTimerId, failMessageId, Asks: asks);
    }

    private sealed class AskComparer : IEqualityComparer<OpenAsk>
    {
        public static readonly AskComparer Instance = new();
        public bool Equals(OpenAsk? a, OpenAsk? b) => a is not null && b is not null && a with { Fields = null } == b with { Fields = null }
            && (a.Fields ?? []).SequenceEqual(b.Fields ?? []);
        public int GetHashCode(OpenAsk a) => HashCode.Combine(a.RecipientId, a.Action);
    }
}

/// <summary>In-process wake-ups: a commit that sets an earlier timer or writes a message wakes the loops at once.</summary>
public sealed class RuntimeSignals
{
    public event Action<Instant>? TimerSet;
    public event Action? MessageWritten;

    public void Committed(CommitBatch batch)
    {
        if (batch.SetTimers.Count > 0) TimerSet?.Invoke(batch.SetTimers.Min(t => t.DueAt));
        if (batch.Messages.Count > 0) MessageWritten?.Invoke();
    }
}
