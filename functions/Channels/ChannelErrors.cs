using System.Net;
using CareWorkflows.Runtime.Channels;

namespace CareWorkflows.Functions.Channels;

/// <summary>How every HTTP channel classifies a provider's answer: 429 and 5xx are worth retrying, other 4xx are not.</summary>
public static class ChannelErrors
{
    public static bool IsTransient(int status) => status == 429 || status == 408 || status >= 500;

    public static ChannelException FromStatus(string provider, int status, string? detail, Exception? inner = null) =>
        new($"{provider} answered {status}{(string.IsNullOrWhiteSpace(detail) ? "" : ": " + Trim(detail))}", permanent: !IsTransient(status), inner);

    public static ChannelException FromStatus(string provider, HttpStatusCode status, string? detail, Exception? inner = null) =>
        FromStatus(provider, (int)status, detail, inner);

    /// <summary>Network trouble and timeouts: transient.</summary>
    public static ChannelException Unreachable(string provider, Exception e) => new($"{provider} could not be reached: {e.Message}", permanent: false, e);

    private static string Trim(string s) => s.Length > 500 ? s[..500] : s;
}
