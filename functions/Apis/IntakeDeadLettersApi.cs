using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CareWorkflows.Functions.Apis;

/// <summary>Queued hospital referrals that were refused or kept failing (poison messages). Admin only: the body may hold personal data.</summary>
public static class IntakeDeadLettersApi
{
    public static WebApplication MapIntakeDeadLettersApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/intake/dead-letters").RequireAuthorization(Policies.Admin).WithTags("Intake");
        api.MapGet("/", ListAsync);
        api.MapGet("/{messageId}", GetAsync);
        return app;
    }

    private static async Task<Ok<IReadOnlyList<DeadLetterSummary>>> ListAsync(IntakeDeadLetters deadLetters, CancellationToken ct) =>
        TypedResults.Ok(await deadLetters.ListAsync(ct));

    private static async Task<Results<Ok<DeadLetter>, ProblemHttpResult>> GetAsync(string messageId, IntakeDeadLetters deadLetters, CancellationToken ct) =>
        await deadLetters.GetAsync(messageId, ct) is { } letter
            ? TypedResults.Ok(letter)
            : TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"There is no dead letter for message {messageId}.");
}
