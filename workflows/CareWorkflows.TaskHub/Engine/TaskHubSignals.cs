using System.Collections.Concurrent;

namespace CareWorkflows.TaskHub.Engine;

/// <summary>
/// In-process wake-ups: "there may be work" for the dispatcher, and "this instance changed" for long polls
/// (WaitForInstanceStart/Completion) and the API's brief waits. Other nodes' changes reach us by NOTIFY (PostgreSQL)
/// or the dispatcher's poll; waiters also re-read the store on a short interval, so a missed signal only costs latency.
/// </summary>
public sealed class TaskHubSignals
{
    private TaskCompletionSource _work = NewSource();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _instances = new(StringComparer.Ordinal);

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Raised after every change the server makes to an instance (id), for observers such as the pages.</summary>
    public event Action<string>? Changed;

    public void WorkAvailable() => Interlocked.Exchange(ref _work, NewSource()).TrySetResult();

    /// <summary>Waits until <see cref="WorkAvailable"/> is called or <paramref name="timeout"/> passes.</summary>
    public async Task WaitForWorkAsync(TimeSpan timeout, CancellationToken ct)
    {
        var signal = Volatile.Read(ref _work).Task;
        try { await signal.WaitAsync(timeout, ct); }
        catch (TimeoutException) { }
    }

    public void InstanceChanged(string instanceId)
    {
        if (_instances.TryRemove(instanceId, out var source)) source.TrySetResult();
        Changed?.Invoke(instanceId);
    }

    /// <summary>Waits until <paramref name="instanceId"/> changes or <paramref name="timeout"/> passes (then returns quietly).</summary>
    public async Task WaitForInstanceAsync(string instanceId, TimeSpan timeout, CancellationToken ct)
    {
        var source = _instances.GetOrAdd(instanceId, _ => NewSource());
        try { await source.Task.WaitAsync(timeout, ct); }
        catch (TimeoutException) { }
    }
}
