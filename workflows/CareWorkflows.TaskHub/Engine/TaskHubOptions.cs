using NodaTime;

namespace CareWorkflows.TaskHub.Engine;

/// <summary>Settings of our Durable Task server (configuration section "DurableTask").</summary>
public sealed class TaskHubOptions
{
    /// <summary>Where the gRPC server listens (HTTP/2 without TLS; keep it on loopback or a private network).</summary>
    public string GrpcEndpoint { get; set; } = "http://127.0.0.1:4001";

    /// <summary>How long a claimed work item stays ours without renewal; a crashed node's work is taken over after it.</summary>
    public Duration Lease { get; set; } = Duration.FromSeconds(30);

    /// <summary>
    /// The dispatcher's longest sleep when nothing signals it: it bounds how late a takeover after a crash is noticed.
    /// New work wakes it at once (in-process signal; PostgreSQL NOTIFY from other nodes); timers wake it when due.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest input, output, event or result accepted, in UTF-8 bytes.</summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>How many work items one claim takes at most.</summary>
    public int ClaimBatch { get; set; } = 100;

    /// <summary>Terminal instances are purged this long after they completed (null: kept for ever).</summary>
    public Duration? Retention { get; set; }

    /// <summary>Unique per process: prefixes lock tokens so an operator can tell whose locks they are.</summary>
    public string WorkerId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";
}
