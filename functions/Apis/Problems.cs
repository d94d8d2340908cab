using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CareWorkflows.Functions.Apis;

/// <summary>RFC 7807 problem details for the ways an input can be refused.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string reference) =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"There is no workflow instance {reference}.");

    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(statusCode: 400, title: "The request is not valid", detail: detail);

    public static ProblemHttpResult Unprocessable(string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(statusCode: 422, title: "The request is not valid", detail: detail, extensions: extensions);

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: 409, title: "Not possible in the current state", detail: detail);

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(statusCode: 403, title: "Not allowed", detail: detail);

    /// <summary>A workflow's refusal; one about a field also carries it in "errors", as the API's own checks do.</summary>
    public static ProblemHttpResult From(Rejection r) =>
        TypedResults.Problem(statusCode: (int)r.Kind, title: r.Title, detail: r.Detail,
            extensions: r.Field is null ? null : new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [r.Field] = [r.Detail] } });

    /// <summary>Maps a refused transition to its problem; null when it succeeded.</summary>
    public static ProblemHttpResult? For(TransitionOutcome o) => o.Kind switch
    {
        OutcomeKind.NotFound => NotFound(o.Reference ?? "?"),
        OutcomeKind.Rejected => From(o.Rejection!),
        // The instance has the input but had not taken it when the answer was due: 202 with where to look.
        OutcomeKind.Accepted => TypedResults.Problem(statusCode: 202, title: "Accepted", detail: $"{o.Reference} has the request and will act on it shortly: see /api/instances/{o.Reference}.",
            extensions: new Dictionary<string, object?> { ["instance"] = $"/api/instances/{o.Reference}" }),
        _ => null,
    };

    /// <summary>Validation errors (422) in the RFC 7807 "errors" shape, field → messages.</summary>
    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors) =>
        TypedResults.Problem(statusCode: 422, title: "The request is not valid", detail: string.Join(" ", errors.SelectMany(e => e.Value)),
            extensions: new Dictionary<string, object?> { ["errors"] = errors });
}
