using CareWorkflows.Functions.Apis;
using CareWorkflows.Runtime.Engine;

namespace CareWorkflows.Functions.Hosting;

/// <summary>
/// Azure Functions custom-handler hosting. The Functions host starts this app with FUNCTIONS_CUSTOMHANDLER_PORT set,
/// forwards HTTP requests unchanged (the HTTP functions in FunctionApp/), and POSTs non-HTTP invocations to
/// <c>/{FunctionName}</c>: the timer that drives the runtime and the Service Bus queue of hospital referrals.
/// </summary>
public static class FunctionsHosting
{
    /// <summary>Function names = folder names under FunctionApp/ = the paths the host POSTs invocations to.</summary>
    public const string RuntimeTimer = "RuntimeTimer";
    public const string ReferralQueue = "ReferralQueue";

    public const string PortSetting = "FUNCTIONS_CUSTOMHANDLER_PORT";

    public static bool IsHostedByFunctions(IConfiguration config) => !string.IsNullOrEmpty(config[PortSetting]);

    /// <summary>
    /// Headers that only requests from outside carry (the platform front end adds them and the host forwards them).
    /// Invocations the host makes itself never do, so an outside request cannot reach an invocation endpoint through
    /// the pages catch-all route.
    /// </summary>
    private static readonly string[] OutsideHeaders = ["X-Forwarded-For", "X-ARR-LOG-ID", "X-Original-URL", "DISGUISED-HOST", "X-Forwarded-Host"];

    public static bool CameFromOutside(HttpRequest request) => OutsideHeaders.Any(request.Headers.ContainsKey);

    /// <summary>Maps the invocation endpoints, only when the Functions host runs the app (they do not exist standalone).</summary>
    public static WebApplication MapFunctionsHosting(this WebApplication app)
    {
        app.MapIntakeDeadLettersApi();
        if (!IsHostedByFunctions(app.Configuration)) return app;
        var invocations = app.MapGroup("").AllowAnonymous().ExcludeFromDescription().DisableAntiforgery()
            .AddEndpointFilter(async (context, next) => CameFromOutside(context.HttpContext.Request) ? Results.NotFound() : await next(context));
        invocations.MapPost($"/{RuntimeTimer}", RunTimerAsync);
        invocations.MapPost($"/{ReferralQueue}", ReferralQueueFunction.HandleAsync);
        return app;
    }

    /// <summary>
    /// The timer trigger (every 10 s by default, RuntimeTimerSchedule): fire every due timer, send every due message,
    /// return. Overlapping runs are safe (claims are leased) and the Functions timer is a singleton anyway.
    /// </summary>
    private static async Task<IResult> RunTimerAsync(HttpRequest request, TimerPump pump, OutboxDispatcher dispatcher, ILoggerFactory loggers, CancellationToken ct)
    {
        var invocation = await InvocationRequest.ReadAsync(request, ct);
        var pastDue = invocation is not null && InvocationRequest.Property(InvocationRequest.Property(invocation.Data, "timer"), "IsPastDue").ValueKind == System.Text.Json.JsonValueKind.True;
        try
        {
            var fired = await pump.RunDueAsync(ct);
            var sent = await dispatcher.RunOnceAsync(ct);
            return InvocationResponse.Ok($"Fired {fired} due timer(s); dispatched {sent} message(s){(pastDue ? " (the schedule was past due)" : "")}.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            loggers.CreateLogger(typeof(FunctionsHosting)).LogError(e, "The runtime timer invocation failed");
            return InvocationResponse.Failed($"The runtime timer failed: {e.Message}");
        }
    }
}
