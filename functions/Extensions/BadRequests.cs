using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace CareWorkflows.Functions.Extensions;

/// <summary>
/// A body that cannot be read (malformed JSON, wrong types) is the client's mistake: 400 with a problem, never 500.
/// Minimal APIs throw <see cref="BadHttpRequestException"/> for these in Development; this answers it.
/// </summary>
public sealed class BadRequestHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is not BadHttpRequestException e) return false;
        http.Response.StatusCode = e.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = e,
            ProblemDetails = new ProblemDetails
            {
                Status = e.StatusCode,
                Title = "The request is not valid",
                Detail = e.InnerException is System.Text.Json.JsonException j ? $"The body is not valid JSON for this request: {j.Message}" : e.Message,
            },
        });
    }
}
