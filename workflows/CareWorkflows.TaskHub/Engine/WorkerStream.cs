using System.Threading.Channels;
using Grpc.Core;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.TaskHub.Engine;

/// <summary>
/// One connected worker (a <c>GetWorkItems</c> stream). The worker does no throttling of its own: it states its limits
/// when it connects and the server keeps within them, counting what is out with it. Writes to the stream go through one
/// writer loop; when idle it sends a health ping well inside the worker's 120 s silence limit.
/// </summary>
public sealed class WorkerStream(int maxOrchestrations, int maxActivities)
{
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(30);

    private readonly Channel<(P.WorkItem Item, string Token)> _queue = Channel.CreateUnbounded<(P.WorkItem, string)>(new UnboundedChannelOptions { SingleReader = true });
    private int _orchestrations, _activities;
    private volatile bool _alive = true;

    public int MaxOrchestrations { get; } = maxOrchestrations > 0 ? maxOrchestrations : 100;
    public int MaxActivities { get; } = maxActivities > 0 ? maxActivities : 100;
    public bool Alive => _alive;
    public int FreeOrchestrations => _alive ? Math.Max(0, MaxOrchestrations - Volatile.Read(ref _orchestrations)) : 0;
    public int FreeActivities => _alive ? Math.Max(0, MaxActivities - Volatile.Read(ref _activities)) : 0;

    public void Taken(bool orchestration) => Interlocked.Increment(ref orchestration ? ref _orchestrations : ref _activities);
    public void Returned(bool orchestration) => Interlocked.Decrement(ref orchestration ? ref _orchestrations : ref _activities);

    /// <summary>Queues a work item for the writer loop. False when the stream has closed.</summary>
    public bool Send(P.WorkItem item, string token) => _alive && _queue.Writer.TryWrite((item, token));

    /// <summary>
    /// Writes queued items to the worker until the call ends or <see cref="Close"/>. Returns the tokens of items that were
    /// queued but never written (they can be given back at once; written ones wait for a completion or their lease).
    /// </summary>
    public async Task<IReadOnlyList<string>> PumpAsync(IServerStreamWriter<P.WorkItem> writer, CancellationToken ct)
    {
        var unsent = new List<string>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
                idle.CancelAfter(PingInterval);
                bool ready;
                try { ready = await _queue.Reader.WaitToReadAsync(idle.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    await writer.WriteAsync(new P.WorkItem { HealthPing = new P.HealthPing() }, ct);
                    continue;
                }
                if (!ready) break; // closed by the server (shutdown)
                while (_queue.Reader.TryRead(out var next))
                {
                    try { await writer.WriteAsync(next.Item, ct); }
                    catch
                    {
                        unsent.Add(next.Token);
                        throw;
                    }
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or RpcException) { /* the worker went away */ }
        finally
        {
            _alive = false;
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var left)) unsent.Add(left.Token);
        }
        return unsent;
    }

    /// <summary>Ends the stream (server shutdown), so the worker reconnects elsewhere at once instead of waiting.</summary>
    public void Close() => _queue.Writer.TryComplete();
}
