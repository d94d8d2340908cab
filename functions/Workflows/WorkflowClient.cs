using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.D2A;
using CareWorkflows.Definitions.Incidents;
using CareWorkflows.Definitions.QualityConcerns;
using CareWorkflows.Definitions.Visits;
using CareWorkflows.Definitions.TrustedAssessor;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Grpc.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using NodaTime;

namespace CareWorkflows.Functions.Workflows;

/// <summary>An orchestrated workflow type: its orchestration, version, published state and how it reads replies.</summary>
public sealed record OrchestratedType(string Type, string Orchestration, string Version, Type StateType, Func<OpenAsk, IReadOnlyDictionary<string, string>, ReplyResult> ParseReply,
    Func<object, Actor, WorkflowInput, Instant, PolicySettings, string, Rejection?>? Check = null);

/// <summary>One instance as the API and pages see it, whichever engine runs it.</summary>
public sealed record InstanceSnapshot(InstanceRow Row, object State, IReadOnlyList<AskRow> Asks, IReadOnlyList<TimerRow> Timers,
    IReadOnlyList<TimelineEntry> Timeline, IReadOnlyList<OutboxMessage> Messages);

/// <summary>
/// The edges' one way to the workflows: start an instance, send it a person's input and answer with the outcome, cancel,
/// read it, all through Durable Task: an input becomes an external event; its outcome is read from the instance's custom
/// status, waiting about two seconds, else 202. Idempotency-Key: a key answered before is answered again with its first result.
/// </summary>
public sealed class WorkflowClient(DurableTaskClient client, IWorkflowStore store, IIdempotencyStore idempotency,
    IWorkflowSetupSource setup, IClock clock, IConfiguration config, ILogger<WorkflowClient> logger, TaskHub.Engine.TaskHubSignals? signals = null)
{
    public static readonly IReadOnlyDictionary<string, OrchestratedType> Orchestrated = new Dictionary<string, OrchestratedType>
    {
        [QualityConcern.Type] = new(QualityConcern.Type, QualityConcern.Orchestration, QualityConcern.Version, typeof(QualityConcern.State), QualityConcernRules.ParseReply),
        [D2AReferral.Type] = new(D2AReferral.Type, D2AReferral.Orchestration, D2AReferral.Version, typeof(D2AReferral.State), D2AReferralRules.ParseReply,
            (state, actor, input, now, policy, reference) => D2AReferralRules.Check((D2AReferral.State)state, actor, input, now, policy, reference)),
        [TrustedAssessorAdjustment.Type] = new(TrustedAssessorAdjustment.Type, TrustedAssessorAdjustment.Orchestration, TrustedAssessorAdjustment.Version,
            typeof(TrustedAssessorAdjustment.State), TrustedAssessorAdjustmentRules.ParseReply),
        [SeriousIncident.Type] = new(SeriousIncident.Type, SeriousIncident.Orchestration, SeriousIncident.Version, typeof(SeriousIncident.State), SeriousIncidentRules.ParseReply),
        [VisitAlert.Type] = new(VisitAlert.Type, VisitAlert.Orchestration, VisitAlert.Version, typeof(VisitAlert.State), VisitAlertRules.ParseReply),
        [NoReply.Type] = new(NoReply.Type, NoReply.Orchestration, NoReply.Version, typeof(NoReply.State), NoReplyRules.ParseReply),
    };

    /// <summary>How long an answer waits for the orchestration to take an input before answering 202 (Workflows:AnswerWaitSeconds, default 2).</summary>
    public TimeSpan OutcomeWait { get; } = TimeSpan.FromSeconds(config.GetValue("Workflows:AnswerWaitSeconds", 2.0));

    public const string CancelledStatus = "Cancelled";

    public IClock Clock => clock;
    /// <summary>Policy, contacts and calendar as the service has them now (what an instance started now would get).</summary>
    public WorkflowSetup Setup => setup.Current;

    public static string TypeOf(string reference) => reference.LastIndexOf('-') is var dash and > 0 ? reference[..dash] : "";
    public static bool IsOrchestrated(string typeOrReference) => Orchestrated.ContainsKey(typeOrReference) || Orchestrated.ContainsKey(TypeOf(typeOrReference));

    // ------------------------------------------------------------------------------------------------ writes

    public async Task<TransitionOutcome> StartAsync(string type, WorkflowInput start, Actor actor, string? idempotencyKey = null, CancellationToken ct = default)
    {
        if (!Orchestrated.TryGetValue(type, out var o)) throw new ArgumentException($"No workflow type {type}.", nameof(type));
        if (idempotencyKey is not null && await StartedBeforeAsync(type, idempotencyKey, ct) is { } earlier) return earlier;
        var inputId = idempotencyKey ?? Guid.NewGuid().ToString("N");
        var startType = typeof(WorkflowStart<>).MakeGenericType(start.GetType());
        var body = Activator.CreateInstance(startType, inputId, actor, start, setup.Current)!;
        for (var attempt = 1; ; attempt++)
        {
            // With a key, the first reference tried is the key's own: a start resent after a crash (scheduled, not yet
            // remembered) finds its instance instead of starting a second one.
            var reference = attempt == 1 && idempotencyKey is not null ? KeyedReference(type, idempotencyKey) : References.New(type);
            try
            {
                await client.ScheduleNewOrchestrationInstanceAsync(o.Orchestration, body, new StartOrchestrationOptions(reference) { Version = o.Version }, ct);
            }
            catch (Exception e) when (attempt < 20 && IsAlreadyExists(e))
            {
                // The same key sent twice at once: the other request started it.
                if (attempt == 1 && idempotencyKey is not null && await StartedBeforeAsync(type, idempotencyKey, ct) is { } concurrent) return concurrent;
                continue; // the reference was taken by another start: draw again
            }
            var outcome = await OutcomeAsync(reference, inputId, ct) ?? new TransitionOutcome(OutcomeKind.Applied, reference, "Starting");
            await RememberAsync(idempotencyKey, outcome, ct);
            return outcome;
        }
    }

    /// <summary>
    /// The outcome of a start already made with <paramref name="idempotencyKey"/> (remembered, or — after a crash between
    /// starting and remembering — found at the key's own reference), answered as a replay; null when there was none.
    /// The edges ask before checking a start again, so a resend is answered with the first result even when the
    /// checks would now refuse it (e.g. an expected discharge time that has since passed).
    /// </summary>
    public async Task<TransitionOutcome?> StartedBeforeAsync(string type, string idempotencyKey, CancellationToken ct = default)
    {
        if (await idempotency.FindCommandResultAsync(idempotencyKey, ct) is { } first) return Replay(first);
        if (!Orchestrated.ContainsKey(type)) return null;
        var reference = KeyedReference(type, idempotencyKey);
        if (!await StartedWithAsync(reference, idempotencyKey, ct)) return null;
        var earlier = await OutcomeAsync(reference, idempotencyKey, ct) ?? new TransitionOutcome(OutcomeKind.Applied, reference, "Starting");
        await RememberAsync(idempotencyKey, earlier, ct);
        return earlier.Kind == OutcomeKind.Applied ? earlier with { Kind = OutcomeKind.Replayed } : earlier;
    }

    /// <summary>A reference drawn from an idempotency key (the same key, the same reference), in the reference alphabet.</summary>
    private static string KeyedReference(string type, string key)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{type}\n{key}"));
        return $"{type}-{new string(hash.Take(5).Select(b => References.Alphabet[b % References.Alphabet.Length]).ToArray())}";
    }

    /// <summary>Whether the instance was started by the input <paramref name="inputId"/> (its start input says so).</summary>
    private async Task<bool> StartedWithAsync(string reference, string inputId, CancellationToken ct)
    {
        var m = await client.GetInstanceAsync(reference, getInputsAndOutputs: true, ct);
        if (m?.SerializedInput is not { Length: > 0 } json) return false;
        try { return JsonDocument.Parse(json).RootElement is { ValueKind: JsonValueKind.Object } start && start.TryGetProperty("inputId", out var id) && id.GetString() == inputId; }
        catch (JsonException) { return false; }
    }

    /// <summary>
    /// Starts at most one instance for <paramref name="key"/> however many callers race (a call-monitoring system sending
    /// the same visit's alert twice, a queue redelivering it): a fresh reference is reserved under the key first (the first
    /// writer wins), and the instance is started with that reference (a second start of it is refused by the engine and
    /// changes nothing). A caller that finds the key reserved gets that reference, and starts the instance if a crash left
    /// it unstarted. Created is true for the caller that reserved it.
    /// </summary>
    public async Task<(TransitionOutcome Outcome, bool Created)> StartOnceAsync(string type, WorkflowInput start, Actor actor, string key, CancellationToken ct = default)
    {
        var o = Orchestrated[type];
        var created = false;
        string reference;
        if (await idempotency.FindCommandResultAsync(key, ct) is { } reserved) reference = JsonSerializer.Deserialize<TransitionOutcome>(reserved, WorkflowJson.Options)!.Reference!;
        else
        {
            do reference = References.New(type);
            while (await client.GetInstanceAsync(reference, getInputsAndOutputs: false, ct) is not null);
            var (saved, stored) = await idempotency.SaveCommandResultIfAbsentAsync(key, reference,
                JsonSerializer.Serialize(new TransitionOutcome(OutcomeKind.Applied, reference, "Starting"), WorkflowJson.Options), clock.GetCurrentInstant(), ct);
            created = saved;
            reference = JsonSerializer.Deserialize<TransitionOutcome>(stored, WorkflowJson.Options)!.Reference!;
        }
        if (!created && await client.GetInstanceAsync(reference, getInputsAndOutputs: false, ct) is not null)
            return (new TransitionOutcome(OutcomeKind.Replayed, reference), false);
        var startType = typeof(WorkflowStart<>).MakeGenericType(start.GetType());
        var body = Activator.CreateInstance(startType, key, actor, start, setup.Current)!;
        try { await client.ScheduleNewOrchestrationInstanceAsync(o.Orchestration, body, new StartOrchestrationOptions(reference) { Version = o.Version }, ct); }
        catch (Exception e) when (IsAlreadyExists(e)) { return (new TransitionOutcome(OutcomeKind.Replayed, reference), false); }
        return (await OutcomeAsync(reference, key, ct) ?? new TransitionOutcome(OutcomeKind.Applied, reference, "Starting"), true);
    }

    /// <summary>The reference reserved under <paramref name="key"/> by <see cref="StartOnceAsync"/>, if any.</summary>
    public async Task<string?> ReservedAsync(string key, CancellationToken ct = default) =>
        await idempotency.FindCommandResultAsync(key, ct) is { } stored ? JsonSerializer.Deserialize<TransitionOutcome>(stored, WorkflowJson.Options)?.Reference : null;

    /// <summary>
    /// Leaves nothing of an instance whose orchestration refused its own start (a trusted-assessor proposal that lost its
    /// package to another, say): waits briefly for it to end, then purges it. Callers decide; nothing else changes.
    /// </summary>
    public async Task DiscardRefusedStartAsync(string reference, CancellationToken ct = default)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(OutcomeWait);
        try
        {
            await client.WaitForInstanceCompletionAsync(reference, getInputsAndOutputs: false, wait.Token);
            await client.PurgeInstanceAsync(reference, cancellation: ct);
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException && !ct.IsCancellationRequested)
        {
            logger.LogWarning("{Reference} refused its start but could not be purged now: {Error}", reference, e.Message);
        }
    }

    private static bool IsAlreadyExists(Exception e) =>
        e is RpcException { StatusCode: StatusCode.AlreadyExists } || e.GetType().Name.Contains("AlreadyExists", StringComparison.Ordinal);

    /// <summary>
    /// Sends a person's input (<paramref name="via"/>: api, page, link, sms, email) and answers with the outcome: applied,
    /// refused (403/409/422), not found — or accepted for later (202) when the instance has not taken it in time.
    /// </summary>
    public async Task<TransitionOutcome> ApplyAsync(string reference, WorkflowInput input, Actor actor, string? idempotencyKey = null, string via = "api",
        CancellationToken ct = default)
    {
        if (!IsOrchestrated(reference)) return new TransitionOutcome(OutcomeKind.NotFound, reference);
        if (idempotencyKey is not null && await idempotency.FindCommandResultAsync(idempotencyKey, ct) is { } first) return Replay(first);
        var id = idempotencyKey ?? Guid.NewGuid().ToString("N");
        try
        {
            await client.RaiseEventAsync(reference, InputEvent.EventName, InputEvent.Of(id, input, actor, via), ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound) { return new TransitionOutcome(OutcomeKind.NotFound, reference); }
        catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
        {
            return new TransitionOutcome(OutcomeKind.Rejected, reference, Rejection: new Rejection(RejectionKind.Conflict, "Not possible in the current state", $"{reference} has ended."));
        }
        var outcome = await OutcomeAsync(reference, id, ct) ?? new TransitionOutcome(OutcomeKind.Accepted, reference);
        await RememberAsync(idempotencyKey, outcome, ct);
        return outcome;
    }

    /// <summary>
    /// The first answer to an input already sent to <paramref name="reference"/> with <paramref name="idempotencyKey"/>:
    /// remembered, or — when a crash or a database outage came between the instance taking it and our remembering it —
    /// still published by the instance (the key is the input's id); null when the key is new. The edges ask this before
    /// their own checks, so a resend gets its first answer even when the checks would now refuse it (a referral its first
    /// send closed is closed: the resend is told it closed it, not 409).
    /// </summary>
    public async Task<TransitionOutcome?> AnsweredBeforeAsync(string reference, string? idempotencyKey, CancellationToken ct = default)
    {
        if (idempotencyKey is null) return null;
        if (await idempotency.FindCommandResultAsync(idempotencyKey, ct) is { } first) return Replay(first);
        if (!IsOrchestrated(reference) || await client.GetInstanceAsync(reference, getInputsAndOutputs: false, ct) is not { } m) return null;
        if (Published(m, reference, idempotencyKey) is not { } earlier) return null;
        await RememberAsync(idempotencyKey, earlier, ct);
        return earlier.Kind == OutcomeKind.Applied ? earlier with { Kind = OutcomeKind.Replayed } : earlier;
    }

    /// <summary>The outcome of input <paramref name="id"/> as the instance published it; null if it has not.</summary>
    private static TransitionOutcome? Published(OrchestrationMetadata m, string reference, string id) =>
        Status(m) is { } status && status.Outcomes.FirstOrDefault(o => o.Id == id) is { } outcome
            ? outcome.Accepted
                ? new TransitionOutcome(OutcomeKind.Applied, reference, status.Status)
                : new TransitionOutcome(OutcomeKind.Rejected, reference, status.Status, new Rejection((RejectionKind)outcome.Status, outcome.Title, outcome.Detail ?? outcome.Title))
            : null;

    /// <summary>
    /// Puts a note on an orchestrated instance's timeline from outside it (e.g. a reply from someone not asked): sent
    /// as a <see cref="InputEvent.NoticeType"/> input, which the instance records and otherwise ignores.
    /// </summary>
    public async Task NoticeAsync(string reference, string text, Actor actor, string id, CancellationToken ct = default)
    {
        try
        {
            await client.RaiseEventAsync(reference, InputEvent.EventName,
                new InputEvent(id, InputEvent.NoticeType, actor, JsonSerializer.SerializeToElement(new { text }, WorkflowJson.Options), "notice"), ct);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.NotFound or StatusCode.FailedPrecondition) { /* nothing to note on */ }
    }

    /// <summary>Operators cancel an instance: it is terminated with the reason and who cancelled it (both on the timeline).</summary>
    public async Task<TransitionOutcome> CancelAsync(string reference, string reason, Actor actor, CancellationToken ct = default)
    {
        if (!IsOrchestrated(reference)) return new TransitionOutcome(OutcomeKind.NotFound, reference);
        var m = await client.GetInstanceAsync(reference, getInputsAndOutputs: false, ct);
        if (m is null) return new TransitionOutcome(OutcomeKind.NotFound, reference);
        if (m.IsCompleted)
            return new TransitionOutcome(OutcomeKind.Rejected, reference, Rejection: new Rejection(RejectionKind.Conflict, "Not possible in the current state", $"{reference} has already ended."));
        await client.TerminateInstanceAsync(reference, new Cancellation(reason, actor), ct);
        var deadline = DateTime.UtcNow + OutcomeWait;
        while (DateTime.UtcNow < deadline && (await client.GetInstanceAsync(reference, false, ct))?.IsCompleted != true) await Task.Delay(20, ct);
        return new TransitionOutcome(OutcomeKind.Applied, reference, CancelledStatus);
    }

    /// <summary>Why and by whom an instance was cancelled: the terminate output.</summary>
    public sealed record Cancellation(string Reason, Actor By);

    /// <summary>Waits (briefly) for the instance to publish the outcome of input <paramref name="id"/>; null if it has not.</summary>
    private async Task<TransitionOutcome?> OutcomeAsync(string reference, string id, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + OutcomeWait;
        var pause = 5;
        while (true)
        {
            var m = await client.GetInstanceAsync(reference, getInputsAndOutputs: false, ct);
            if (m is not null && Published(m, reference, id) is { } outcome) return outcome;
            if (m is { IsCompleted: true } || DateTime.UtcNow >= deadline) return null;
            // With our server in this process, its change signal wakes the wait at once; otherwise a short poll.
            if (signals is not null) await signals.WaitForInstanceAsync(reference, TimeSpan.FromMilliseconds(pause), ct);
            else await Task.Delay(pause, ct);
            pause = Math.Min(pause * 2, 100);
        }
    }

    private async Task RememberAsync(string? key, TransitionOutcome outcome, CancellationToken ct)
    {
        if (key is null || outcome.Kind is not (OutcomeKind.Applied or OutcomeKind.Rejected)) return;
        await idempotency.SaveCommandResultIfAbsentAsync(key, outcome.Reference ?? "", JsonSerializer.Serialize(outcome, WorkflowJson.Options), clock.GetCurrentInstant(), ct);
    }

    private static TransitionOutcome Replay(string first)
    {
        var o = JsonSerializer.Deserialize<TransitionOutcome>(first, WorkflowJson.Options)!;
        return o.Kind == OutcomeKind.Applied ? o with { Kind = OutcomeKind.Replayed } : o;
    }

    public static WorkflowStatus? Status(OrchestrationMetadata m)
    {
        if (string.IsNullOrEmpty(m.SerializedCustomStatus)) return null;
        try { return JsonSerializer.Deserialize<WorkflowStatus>(m.SerializedCustomStatus, WorkflowJson.Options); }
        catch (JsonException) { return null; }
    }

    // ------------------------------------------------------------------------------------------------ reads

    /// <summary>The instance with its state, open asks, deadlines, timeline and messages; null when there is none.</summary>
    public async Task<InstanceSnapshot?> LoadAsync(string reference, bool withTimeline = true, CancellationToken ct = default)
    {
        if (!IsOrchestrated(reference)) return null;
        var m = await client.GetInstanceAsync(reference, getInputsAndOutputs: false, ct);
        if (m is null) return null;
        var o = Orchestrated[TypeOf(reference)];
        var history = withTimeline ? await client.GetOrchestrationHistoryAsync(reference, ct) : [];
        var snapshotRow = Row(m, history.Count);
        var status = Status(m);
        var state = status?.View is { ValueKind: JsonValueKind.Object } v ? v.Deserialize(o.StateType, WorkflowJson.Options)! : Activator.CreateInstance(o.StateType, true) ?? new object();
        var asks = m.IsRunning ? (status?.Asks ?? []).Select(a => new AskRow(reference, a)).ToList() : [];
        var timers = m.IsRunning ? (status?.Timers ?? []).Select(t => new TimerRow(Guid.Empty, reference, t.Name, t.At)).ToList() : [];
        return new InstanceSnapshot(snapshotRow, state, asks, timers, withTimeline ? Timeline.From(history) : [],
            withTimeline ? await store.GetMessagesAsync(reference: reference, ct: ct) : []);
    }

    /// <summary>The instance row for lists: status and summary from the custom status; "version" is the history length.</summary>
    private static InstanceRow Row(OrchestrationMetadata m, long version)
    {
        var status = Status(m);
        var name = m.RuntimeStatus switch
        {
            OrchestrationRuntimeStatus.Terminated => CancelledStatus,
            OrchestrationRuntimeStatus.Failed => "Failed",
            _ => status?.Status ?? "Starting",
        };
        var completed = m.IsCompleted || status?.Completed == true;
        return new InstanceRow(m.InstanceId, TypeOf(m.InstanceId), name, completed, status?.View?.GetRawText() ?? "{}", version, version,
            Instant.FromDateTimeOffset(m.CreatedAt), Instant.FromDateTimeOffset(m.LastUpdatedAt), m.IsRunning ? status?.NextDueAt : null, status?.Summary ?? "");
    }

    /// <summary>Instances of every engine, newest first, filtered as the list API and the dashboard ask.</summary>
    public async Task<IReadOnlyList<InstanceRow>> ListAsync(Runtime.Store.InstanceFilter filter, Instant now, CancellationToken ct = default)
    {
        var rows = new List<InstanceRow>();
        foreach (var type in Orchestrated.Keys.Where(t => filter.Type is null || filter.Type == t))
        {
            var query = new OrchestrationQuery { InstanceIdPrefix = type + "-", PageSize = 500, FetchInputsAndOutputs = false };
            await foreach (var m in client.GetAllInstancesAsync(query).WithCancellation(ct))
            {
                var row = Row(m, 0);
                if (filter.Status is not null && row.Status != filter.Status) continue;
                if (filter.Completed is { } c && row.Completed != c) continue;
                if (filter.Overdue is { } overdue && (row.NextDueAt is { } due && due <= now) != overdue) continue;
                rows.Add(row);
            }
        }
        return rows.OrderByDescending(r => r.CreatedAt).Take(filter.Limit).ToList();
    }

    /// <summary>
    /// Open asks, by reference, recipient, or the sender's email or mobile. For orchestrated instances they come from
    /// what each running instance publishes (a search by sender reads every running one: fine at a council's volumes).
    /// </summary>
    public async Task<IReadOnlyList<AskRow>> FindAsksAsync(string? reference = null, string? recipientId = null, string? email = null, string? mobile = null,
        CancellationToken ct = default)
    {
        var found = new List<AskRow>();
        IEnumerable<AskRow> orchestrated;
        if (reference is not null)
        {
            if (!IsOrchestrated(reference)) return found;
            var m = await client.GetInstanceAsync(reference, false, ct);
            orchestrated = m is { IsRunning: true } && Status(m) is { } s ? s.Asks.Select(a => new AskRow(reference, a)) : [];
        }
        else
        {
            var all = new List<AskRow>();
            await foreach (var m in client.GetAllInstancesAsync(new OrchestrationQuery { Statuses = [OrchestrationRuntimeStatus.Running], PageSize = 500 }).WithCancellation(ct))
                if (Orchestrated.ContainsKey(TypeOf(m.InstanceId)) && Status(m) is { } s)
                    all.AddRange(s.Asks.Select(a => new AskRow(m.InstanceId, a)));
            orchestrated = all;
        }
        found.AddRange(orchestrated.Where(a =>
            (recipientId is null || a.Ask.RecipientId == recipientId) &&
            (email is null || string.Equals(a.Ask.Email?.Trim(), email, StringComparison.OrdinalIgnoreCase)) &&
            (mobile is null || a.Ask.Mobile == mobile)));
        return found;
    }

    /// <summary>Every workflow type the service runs.</summary>
    public IReadOnlyList<string> Types => Orchestrated.Keys.Order().ToList();

    /// <summary>How many instances of each type are in each status.</summary>
    public async Task<IReadOnlyList<StatusCount>> CountByStatusAsync(CancellationToken ct = default)
    {
        var counts = new List<StatusCount>();
        var rows = await ListAsync(new Runtime.Store.InstanceFilter(Limit: int.MaxValue), clock.GetCurrentInstant(), ct);
        counts.AddRange(rows.Where(r => IsOrchestrated(r.Type)).GroupBy(r => (r.Type, r.Status)).Select(g => new StatusCount(g.Key.Type, g.Key.Status, g.Count())));
        return counts;
    }

    /// <summary>The typed state of a listed instance: its published view.</summary>
    public object StateOf(InstanceRow row) =>
        Orchestrated.TryGetValue(row.Type, out var o)
            ? (row.State is { Length: > 2 } json ? JsonSerializer.Deserialize(json, o.StateType, WorkflowJson.Options) : null) ?? new object()
            : new object();

    /// <summary>
    /// The workflow's own checks of an input against the instance's published state (the orchestration checks again when
    /// it takes it): a refusal here is answered without sending anything, so the same link can be used again corrected.
    /// Null when it would be taken, or the type has no such checks.
    /// </summary>
    public Rejection? Check(InstanceSnapshot instance, WorkflowInput input, Actor actor) =>
        Orchestrated.TryGetValue(instance.Row.Type, out var o) && o.Check is { } check
            ? check(instance.State, actor, input, clock.GetCurrentInstant(), setup.Current.PolicySettings, instance.Row.Reference) : null;

    /// <summary>Reads an answer (link form, SMS or email reply) into the instance's input.</summary>
    public ReplyResult ParseReply(InstanceSnapshot instance, OpenAsk ask, IReadOnlyDictionary<string, string> fields) =>
        Orchestrated[instance.Row.Type].ParseReply(ask, fields);
}
