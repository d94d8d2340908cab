using System.Text.Json;
using CareWorkflows.Definitions;
using Microsoft.AspNetCore.Diagnostics;

namespace CareWorkflows.Functions.Extensions;

/// <summary>
/// Turns exceptions that mean "bad input" into 400 problems (malformed JSON, wrong types, oversized bodies), and a
/// missing-calendar-data error into 503 with an operator alert in the log, an unreachable database into 503 with
/// Retry-After (the client sends again with its Idempotency-Key). Anything else stays a 500 problem without
/// internals — and is a bug to fix.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        (int status, string title, string detail) = exception switch
        {
            BadHttpRequestException b => (b.StatusCode, "The request is not valid", BadRequestDetail(b)),
            JsonException => (400, "The request is not valid", "The body is not valid JSON for this request."),
            CalendarOutOfRangeException c => (503, "Calendar data needed",
                $"{c.Message} Operators have been alerted; nothing was changed."),
            _ when IsUnavailable(exception) => (503, "Temporarily unavailable",
                "The service cannot reach its database just now. Send the request again shortly with the same Idempotency-Key: it is applied at most once."),
            _ => (500, "Something went wrong", "The request failed and nothing was changed. The error has been logged."),
        };
        if (exception is CalendarOutOfRangeException)
            logger.LogCritical(exception, "OPERATOR ACTION NEEDED: {Path} needs bank-holiday data: {Message}", http.Request.Path, exception.Message);
        else if (status >= 500 && status != 503)
            logger.LogError(exception, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
        if (status == 503 && exception is not CalendarOutOfRangeException)
        {
            logger.LogWarning("Database unavailable on {Method} {Path}: {Message}", http.Request.Method, http.Request.Path, exception.Message);
            http.Response.Headers.RetryAfter = "5";
        }
        http.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    /// <summary>The database (or our task hub server in front of it) unreachable: transient, so 503 with Retry-After, not 500.</summary>
    private static bool IsUnavailable(Exception e) =>
        CareWorkflows.TaskHub.Hosting.StoreUnavailableInterceptor.IsUnavailable(e) ||
        (e is global::Grpc.Core.RpcException { StatusCode: global::Grpc.Core.StatusCode.Unavailable }) ||
        (e.InnerException is not null && IsUnavailable(e.InnerException));

    private static string BadRequestDetail(BadHttpRequestException b) =>
        b.InnerException is JsonException j ? $"The body is not valid JSON for this request ({j.Path ?? "$"})." : b.Message;
}
