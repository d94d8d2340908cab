using System.Collections.Concurrent;
using CareWorkflows.TaskHub.Store;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodaTime;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.TaskHub.Engine;

/// <summary>
/// Hands work to connected workers and records what they send back. It claims (locks) only as much as the workers have
/// room for, renews the locks of items still out with a live worker, and applies each completion in one transaction.
/// A completion whose lock was lost, or whose token this process never issued, changes nothing.
/// </summary>
public sealed class WorkDispatcher(ITaskHubStore store, IClock clock, TaskHubSignals signals, TaskHubOptions options, ILogger<WorkDispatcher> logger)
    : BackgroundService
{
    private sealed record Outstanding(WorkerStream Stream, OrchestrationWorkItem? Orchestration, IReadOnlyList<InboxMessage>? Deliver,
        IReadOnlyList<InboxMessage>? Discard, Instant StepAt, ActivityWorkItem? Activity, string LockToken)
    {
        /// <summary>When the work item was sent to the worker (wall clock, for the step's span).</summary>
        public DateTimeOffset SentAt { get; } = DateTimeOffset.UtcNow;

        public bool IsOrchestration => Orchestration is not null;
    }

    private readonly ConcurrentDictionary<string, Outstanding> _outstanding = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Instant> _recentlyCompleted = new(StringComparer.Ordinal);
    private readonly List<WorkerStream> _streams = [];
    private readonly object _streamsLock = new();
    private int _nextStream;
    private long _tokenCounter;

    /// <summary>Work items out with workers now (all streams).</summary>
    public int InFlight => _outstanding.Count;

    public WorkerStream Connect(P.GetWorkItemsRequest request)
    {
        var stream = new WorkerStream(request.MaxConcurrentOrchestrationWorkItems, request.MaxConcurrentActivityWorkItems);
        lock (_streamsLock) _streams.Add(stream);
        logger.LogInformation("Worker connected (orchestrations {Orchestrations}, activities {Activities}).", stream.MaxOrchestrations, stream.MaxActivities);
        signals.WorkAvailable();
        return stream;
    }

    /// <summary>The stream ended: items never written are given back now; written ones keep their lease (the worker may still complete them).</summary>
    public async Task DisconnectAsync(WorkerStream stream, IReadOnlyList<string> unsent)
    {
        lock (_streamsLock) _streams.Remove(stream);
        foreach (var token in unsent)
            if (_outstanding.TryRemove(token, out var item)) await ReleaseAsync(item, clock.GetCurrentInstant(), CancellationToken.None);
        logger.LogInformation("Worker disconnected ({Unsent} unsent items given back).", unsent.Count);
    }

    /// <summary>Ends every worker stream (shutdown), so workers do not wait out their timeout.</summary>
    public void CloseStreams()
    {
        lock (_streamsLock) foreach (var s in _streams) s.Close();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var renewals = new PeriodicTimer(Renewal);
        var renewing = RenewLoopAsync(renewals, stoppingToken);
        var sleep = options.PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            await signals.WaitForWorkAsync(sleep, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            if (stoppingToken.IsCancellationRequested) break;
            try
            {
                await DispatchAsync(stoppingToken);
                sleep = await SleepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "Dispatching failed; retrying shortly.");
                sleep = TimeSpan.FromSeconds(1);
            }
        }
        await renewing;
    }

    private TimeSpan Renewal => TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, options.Lease.BclCompatibleTicks / 3));

    /// <summary>Claims as much work as the workers have room for, until the backlog is empty or they are full.</summary>
    public async Task DispatchAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var (freeOrchestrations, freeActivities) = FreeCapacity();
            var more = false;
            if (freeOrchestrations > 0)
            {
                var want = Math.Min(freeOrchestrations, options.ClaimBatch);
                var now = clock.GetCurrentInstant();
                var claimed = await store.ClaimOrchestrationsAsync(now, NewToken(), now + options.Lease, want, ct);
                foreach (var item in claimed) await SendOrchestrationAsync(item, now, ct);
                more |= claimed.Count == want;
            }
            if (freeActivities > 0)
            {
                var want = Math.Min(freeActivities, options.ClaimBatch);
                var now = clock.GetCurrentInstant();
                var claimed = await store.ClaimActivitiesAsync(now, NewToken(), now + options.Lease, want, ct);
                foreach (var item in claimed) SendActivity(item);
                more |= claimed.Count == want;
            }
            if (!more) return;
        }
    }

    private async Task<TimeSpan> SleepAsync(CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var next = await store.NextVisibleAfterAsync(now, ct);
        if (next is null) return options.PollInterval;
        var until = (next.Value - now).ToTimeSpan();
        return until < options.PollInterval ? until + TimeSpan.FromMilliseconds(1) : options.PollInterval;
    }

    private (int Orchestrations, int Activities) FreeCapacity()
    {
        lock (_streamsLock) return (_streams.Sum(s => s.FreeOrchestrations), _streams.Sum(s => s.FreeActivities));
    }

    private WorkerStream? PickStream(bool orchestration)
    {
        lock (_streamsLock)
        {
            for (var n = 0; n < _streams.Count; n++)
            {
                var s = _streams[(_nextStream + n) % _streams.Count];
                if ((orchestration ? s.FreeOrchestrations : s.FreeActivities) > 0)
                {
                    _nextStream = (_nextStream + n + 1) % Math.Max(1, _streams.Count);
                    return s;
                }
            }
            return null;
        }
    }

    private string NewToken() => $"{options.WorkerId}:{Interlocked.Increment(ref _tokenCounter)}:{Guid.NewGuid():N}";

    private async Task SendOrchestrationAsync(OrchestrationWorkItem item, Instant now, CancellationToken ct)
    {
        var (deliver, discard) = OrchestrationStep.Sort(item);
        if (TaskHubStatus.IsTerminal(item.Status))
        {
            // An ended instance takes nothing more: its messages are dropped.
            await store.DiscardAsync(item.InstanceId, item.LockToken, item.Messages.Select(m => m.Id).ToList(), now, ct);
            return;
        }
        if (!OrchestrationStep.CanRun(item, deliver))
        {
            // Only stale messages (from an execution before ContinueAsNew), or events ahead of a start that is not yet
            // visible: drop the stale ones, keep the rest, look again shortly.
            await store.DiscardAsync(item.InstanceId, item.LockToken, discard.Select(m => m.Id).ToList(), now + Duration.FromSeconds(1), ct);
            return;
        }
        var at = OrchestrationStep.StepTime(item, now);
        var token = $"o|{item.InstanceId}|{item.LockToken}";
        var stream = PickStream(orchestration: true);
        if (stream is null)
        {
            await store.ReleaseOrchestrationAsync(item.InstanceId, item.LockToken, now, ct);
            return;
        }
        var request = OrchestrationStep.Request(item, deliver, at);
        stream.Taken(orchestration: true);
        _outstanding[token] = new Outstanding(stream, item, deliver, discard, at, null, item.LockToken);
        if (!stream.Send(new P.WorkItem { OrchestratorRequest = request, CompletionToken = token }, token) && _outstanding.TryRemove(token, out var back))
        {
            stream.Returned(orchestration: true);
            await ReleaseAsync(back, now, ct);
        }
    }

    private void SendActivity(ActivityWorkItem item)
    {
        var token = $"a|{item.TaskRowId}|{item.LockToken}";
        var stream = PickStream(orchestration: false);
        if (stream is null)
        {
            _ = store.ReleaseActivityAsync(item.TaskRowId, item.LockToken, clock.GetCurrentInstant(), CancellationToken.None);
            return;
        }
        stream.Taken(orchestration: false);
        _outstanding[token] = new Outstanding(stream, null, null, null, clock.GetCurrentInstant(), item, item.LockToken);
        if (!stream.Send(new P.WorkItem { ActivityRequest = item.Request, CompletionToken = token }, token) && _outstanding.TryRemove(token, out _))
        {
            stream.Returned(orchestration: false);
            _ = store.ReleaseActivityAsync(item.TaskRowId, item.LockToken, clock.GetCurrentInstant(), CancellationToken.None);
        }
    }

    // ------------------------------------------------------------------------------------------- completions

    public async Task CompleteOrchestrationAsync(P.OrchestratorResponse response, CancellationToken ct)
    {
        var token = response.CompletionToken;
        if (!_outstanding.TryGetValue(token, out var item) || item.Orchestration is null)
        {
            if (_recentlyCompleted.ContainsKey(token)) return; // a retry of a completion we already applied
            throw new RpcException(new Status(StatusCode.NotFound, "This server holds no orchestration work item with that completion token (its lock expired or the server restarted)."));
        }
        var w = item.Orchestration;
        if (response.InstanceId.Length > 0 && response.InstanceId != w.InstanceId)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"The response is for instance '{response.InstanceId}' but the token is for '{w.InstanceId}'."));
        var commit = OrchestrationStep.Plan(w, item.Deliver!, item.Discard!, response, item.StepAt, () => Guid.NewGuid().ToString("N"));
        var applied = await store.CommitStepAsync(commit, ct);
        if (_outstanding.TryRemove(token, out _)) item.Stream.Returned(orchestration: true);
        signals.WorkAvailable();
        if (!applied)
        {
            logger.LogWarning("Step of {InstanceId} not applied: its lock was taken over.", w.InstanceId);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"The lock on '{w.InstanceId}' was taken over; this step was not applied."));
        }
        Remember(token);
        TaskHubTelemetry.StepCommitted(w, item.Deliver!, item.StepAt, item.SentAt, commit.Instance.Status is var st && TaskHubStatus.IsTerminal(st) ? st.ToString() : null);
        signals.InstanceChanged(w.InstanceId);
        foreach (var m in commit.Messages) if (m.InstanceId != w.InstanceId) signals.InstanceChanged(m.InstanceId);
        foreach (var c in commit.Children) signals.InstanceChanged(c.Instance.InstanceId);
    }

    public async Task CompleteActivityAsync(P.ActivityResponse response, CancellationToken ct)
    {
        var token = response.CompletionToken;
        if (!_outstanding.TryGetValue(token, out var item) || item.Activity is null)
        {
            if (_recentlyCompleted.ContainsKey(token)) return;
            // A result for a task this process no longer tracks (restart, or its lease passed to another worker). The task
            // row decides: if it is still there, this result is recorded (once); if not, it is dropped.
            if (ParseActivityToken(token) is { } rowId)
            {
                await store.CompleteActivityAsync(rowId, ResultEvent(response, null), clock.GetCurrentInstant(), ct);
                Remember(token);
                signals.WorkAvailable();
                return;
            }
            throw new RpcException(new Status(StatusCode.NotFound, "This server holds no activity work item with that completion token."));
        }
        var a = item.Activity;
        if (response.InstanceId.Length > 0 && response.InstanceId != a.InstanceId)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"The response is for instance '{response.InstanceId}' but the token is for '{a.InstanceId}'."));
        var recorded = await store.CompleteActivityAsync(a.TaskRowId, ResultEvent(response, a), clock.GetCurrentInstant(), ct);
        if (_outstanding.TryRemove(token, out _)) item.Stream.Returned(orchestration: false);
        Remember(token);
        signals.WorkAvailable();
        if (recorded) signals.InstanceChanged(a.InstanceId);
    }

    private P.HistoryEvent ResultEvent(P.ActivityResponse r, ActivityWorkItem? a)
    {
        var taskId = a?.TaskId ?? r.TaskId;
        var ts = OrchestrationStep.Ts(clock.GetCurrentInstant());
        if (r.FailureDetails is not null)
            return new P.HistoryEvent { EventId = -1, Timestamp = ts, TaskFailed = new P.TaskFailedEvent { TaskScheduledId = taskId, FailureDetails = r.FailureDetails } };
        if (r.Result is { } result && System.Text.Encoding.UTF8.GetByteCount(result) > options.MaxPayloadBytes)
            return new P.HistoryEvent
            {
                EventId = -1, Timestamp = ts,
                TaskFailed = new P.TaskFailedEvent
                {
                    TaskScheduledId = taskId,
                    FailureDetails = new P.TaskFailureDetails
                    {
                        ErrorType = "PayloadTooLarge", IsNonRetriable = true,
                        ErrorMessage = $"The activity's result is {System.Text.Encoding.UTF8.GetByteCount(result)} bytes; this task hub records at most {options.MaxPayloadBytes}.",
                    },
                },
            };
        return new P.HistoryEvent { EventId = -1, Timestamp = ts, TaskCompleted = new P.TaskCompletedEvent { TaskScheduledId = taskId, Result = r.Result } };
    }

    private static long? ParseActivityToken(string token)
    {
        var parts = token.Split('|');
        return parts.Length == 3 && parts[0] == "a" && long.TryParse(parts[1], out var id) ? id : null;
    }

    public async Task AbandonAsync(string token, CancellationToken ct)
    {
        if (!_outstanding.TryRemove(token, out var item)) return; // nothing of ours: nothing to give back
        item.Stream.Returned(item.IsOrchestration);
        // Back off a little so a work item that always fails does not spin.
        await ReleaseAsync(item, clock.GetCurrentInstant() + Duration.FromSeconds(1), ct);
        signals.WorkAvailable();
    }

    private Task ReleaseAsync(Outstanding item, Instant retryAt, CancellationToken ct) =>
        item.Orchestration is { } o ? store.ReleaseOrchestrationAsync(o.InstanceId, item.LockToken, retryAt, ct)
        : store.ReleaseActivityAsync(item.Activity!.TaskRowId, item.LockToken, retryAt, ct);

    private void Remember(string token)
    {
        var now = clock.GetCurrentInstant();
        _recentlyCompleted[token] = now;
        if (_recentlyCompleted.Count > 10_000)
            foreach (var old in _recentlyCompleted.OrderBy(kv => kv.Value).Take(5_000).Select(kv => kv.Key).ToList())
                _recentlyCompleted.TryRemove(old, out _);
    }

    // ------------------------------------------------------------------------------------------- lock renewal

    private async Task RenewLoopAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try { await RenewAsync(ct); }
                catch (Exception e) when (!ct.IsCancellationRequested) { logger.LogWarning(e, "Renewing locks failed."); }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Extends the locks of items out with live workers; drops items whose worker went away once their lease has run out.</summary>
    public async Task RenewAsync(CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        foreach (var group in _outstanding.ToArray().GroupBy(kv => kv.Value.LockToken))
        {
            var live = group.Where(kv => kv.Value.Stream.Alive).Select(kv => kv.Value).ToList();
            foreach (var dead in group.Where(kv => !kv.Value.Stream.Alive && now - kv.Value.StepAt > options.Lease))
                _outstanding.TryRemove(dead.Key, out _);
            if (live.Count == 0) continue;
            await store.RenewLocksAsync(live.Where(o => o.Orchestration is not null).Select(o => o.Orchestration!.InstanceId).ToList(),
                live.Where(o => o.Activity is not null).Select(o => o.Activity!.TaskRowId).ToList(), group.Key, now + options.Lease, ct);
        }
    }
}
