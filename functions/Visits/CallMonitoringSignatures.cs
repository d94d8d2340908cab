using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NodaTime;

namespace CareWorkflows.Functions.Visits;

/// <summary>How a call-monitoring request's authentication came out. Anything but <see cref="Valid"/> is answered 401 and writes nothing.</summary>
public enum SignatureCheck { Valid, Missing, UnknownSystem, Stale, BadSignature }

/// <summary>A call-monitoring system the council accepts alerts from: its shared secret and the providers it reports for.</summary>
public sealed record CallMonitoringSystem(string Id, string Secret, IReadOnlySet<string> Providers);

/// <summary>
/// Authentication of call-monitoring alerts, per system (docs/visits.md). Each system has a shared secret (setting
/// <c>CallMonitoring:Systems:{id}:Secret</c>, a Key Vault reference in Azure) and the providers it reports for
/// (<c>CallMonitoring:Systems:{id}:Providers</c>, comma-separated). A request carries
/// <c>X-Call-Monitoring-System</c> (the id), <c>X-Call-Monitoring-Timestamp</c> (Unix seconds) and
/// <c>X-Call-Monitoring-Signature: sha256=&lt;hex HMAC-SHA256 of "{timestamp}.{raw body}" with the secret&gt;</c>.
/// Replays: a timestamp more than <c>CallMonitoring:SignatureWindowSeconds</c> (default 300) from the service's clock is
/// refused; within the window a replayed request is the same alert (its alert and visit ids make a repeat one alert).
/// Comparisons are constant-time.
/// </summary>
public sealed class CallMonitoringSignatures(IConfiguration config, IClock clock)
{
    public const string SystemHeader = "X-Call-Monitoring-System", TimestampHeader = "X-Call-Monitoring-Timestamp", SignatureHeader = "X-Call-Monitoring-Signature";
    public static readonly Duration DefaultWindow = Duration.FromMinutes(5);

    public Duration Window => Duration.FromSeconds(config.GetValue("CallMonitoring:SignatureWindowSeconds", DefaultWindow.TotalSeconds));

    public CallMonitoringSystem? System(string? id)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64) return null;
        var section = config.GetSection($"CallMonitoring:Systems:{id}");
        if (section["Secret"] is not { Length: >= 16 } secret) return null;
        var providers = (section["Providers"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        return new CallMonitoringSystem(id, secret, providers);
    }

    public (SignatureCheck Check, CallMonitoringSystem? System) Check(string? systemId, string? timestamp, string? signature, byte[] body)
    {
        if (string.IsNullOrWhiteSpace(systemId) || string.IsNullOrWhiteSpace(timestamp) || string.IsNullOrWhiteSpace(signature)) return (SignatureCheck.Missing, null);
        if (System(systemId.Trim()) is not { } system) return (SignatureCheck.UnknownSystem, null);
        if (!long.TryParse(timestamp.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 253402300799) return (SignatureCheck.Stale, system);
        var at = Instant.FromUnixTimeSeconds(seconds);
        var now = clock.GetCurrentInstant();
        if (at < now - Window || at > now + Window) return (SignatureCheck.Stale, system);
        var expected = Sign(system.Secret, timestamp.Trim(), body);
        var given = signature.Trim();
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(given.ToLowerInvariant()))
            ? (SignatureCheck.Valid, system) : (SignatureCheck.BadSignature, system);
    }

    /// <summary>"sha256=" + lower-case hex HMAC-SHA256 over "{timestamp}.{body}" (what a system sends, and what tests sign with).</summary>
    public static string Sign(string secret, string timestamp, byte[] body)
    {
        var signed = Encoding.UTF8.GetBytes(timestamp + ".").Concat(body).ToArray();
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }
}
