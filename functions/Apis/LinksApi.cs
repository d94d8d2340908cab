using System.Net;
using System.Text;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Links;
using CareWorkflows.Runtime.Store;
using NodaTime;

namespace CareWorkflows.Functions.Apis;

/// <summary>
/// Signed links: GET shows the ask and a button (mail scanners follow GETs, so GET never acts); POST answers it.
/// The token names instance, recipient and the one action allowed; its id is the command's idempotency key, so a
/// link works once. Forged → 403, expired → 410, used or no longer open → 409.
/// </summary>
public static class LinksApi
{
    public static WebApplication MapLinksApi(this WebApplication app)
    {
        var links = app.MapGroup("/l").AllowAnonymous().WithTags("Links").DisableAntiforgery();
        links.MapGet("/{token}", ShowAsync);
        links.MapPost("/{token}", AnswerAsync);
        return app;
    }

    public sealed record LinkAnswer(string Reference, string Action, string Status);

    private static async Task<IResult> ShowAsync(string token, HttpContext http, HmacLinkIssuer issuer, IWorkflowStore store, Workflows.WorkflowClient workflows, IClock clock, CancellationToken ct)
    {
        var (ask, problem) = await ResolveAsync(token, issuer, store, workflows, clock, ct);
        if (problem is not null) return Page(http, problem.Value.Status, problem.Value.Title, $"<p>{H(problem.Value.Detail)}</p>");
        var (reference, a) = ask!.Value;
        return AskForm(http, 200, token, reference, a, null, null);
    }

    /// <summary>
    /// The ask's form: its prompt, deadline and fields; shown again after a refused answer with the provider's input and
    /// the message (in an error summary that takes focus and next to the field it is about), so nothing typed is lost.
    /// </summary>
    private static IResult AskForm(HttpContext http, int status, string token, string reference, OpenAsk a, IReadOnlyDictionary<string, string>? values, string? error)
    {
        var fields = a.Fields ?? [];
        // The field a refusal is about: the ask's only field, or the one the message names.
        var errorField = error is null ? null : fields.Count == 1 ? fields[0] : fields.FirstOrDefault(f => error.Contains(f.Name, StringComparison.OrdinalIgnoreCase));
        var body = new StringBuilder();
        if (error is not null)
        {
            body.Append("<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\" tabindex=\"-1\" autofocus>");
            body.Append("<h2 id=\"error-summary-title\">There is a problem</h2><ul>");
            body.Append(errorField is null ? $"<li>{H(error)}</li>" : $"<li><a href=\"#{H(errorField.Name)}\">{H(error)}</a></li>");
            body.Append("</ul></div>");
        }
        body.Append($"<p class=\"lead\">{H(a.Prompt)}</p>");
        if (a.Deadline is { } d) body.Append($"<p><strong>Please answer by {H(WorkflowContext.Local(d))}</strong> (UK time).</p>");
        body.Append($"<form method=\"post\" action=\"/l/{H(token)}\">");
        foreach (var f in fields)
        {
            var id = H(f.Name);
            var invalid = errorField == f;
            var describedBy = string.Join(' ', new[] { f.Hint is null ? null : $"{f.Name}-hint", invalid ? $"{f.Name}-error" : null }.OfType<string>());
            var aria = (describedBy.Length > 0 ? $" aria-describedby=\"{H(describedBy)}\"" : "") + (invalid ? " aria-invalid=\"true\"" : "");
            var value = values is not null && values.TryGetValue(f.Name, out var v) ? v : "";
            body.Append($"<div class=\"field{(invalid ? " field--error" : "")}\"><label for=\"{id}\">{H(CareWorkflows.Functions.Pages.PageText.AskLabel(f))}</label>");
            if (f.Hint is not null) body.Append($"<p class=\"hint\" id=\"{id}-hint\">{H(f.Hint)}</p>");
            if (invalid) body.Append($"<p class=\"error-message\" id=\"{id}-error\"><span class=\"visually-hidden\">Error:</span> {H(error!)}</p>");
            var type = f.Kind is "time" or "date" or "datetime-local" or "number" ? f.Kind : "text";
            if (f.Kind == "textarea")
                body.Append($"<textarea id=\"{id}\" name=\"{id}\" rows=\"5\"{(f.Required ? " required" : "")}{aria}>{H(value)}</textarea>");
            else
                body.Append($"<input id=\"{id}\" name=\"{id}\" type=\"{type}\" value=\"{H(value)}\"{(f.Required ? " required" : "")}{aria}>");
            body.Append("</div>");
        }
        body.Append($"<button type=\"submit\" class=\"button\">{H(char.ToUpperInvariant(a.Action[0]) + a.Action[1..])} {H(reference)}</button></form>");
        return Page(http, status, $"{(error is null ? "" : "Error: ")}{reference}: {a.Action}", body.ToString(), heading: $"{reference}: {a.Action}");
    }

    private static async Task<IResult> AnswerAsync(string token, HttpContext http, HmacLinkIssuer issuer, IWorkflowStore store, IClock clock,
        Workflows.WorkflowClient workflows, CancellationToken ct)
    {
        var (ask, problem) = await ResolveAsync(token, issuer, store, workflows, clock, ct, allowClosed: true);
        if (problem is not null) return Answer(http, problem.Value.Status, problem.Value.Title, problem.Value.Detail);
        var (reference, a) = ask!.Value;
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (http.Request.HasFormContentType)
        {
            if (await RequestChecks.TryReadFormAsync(http.Request, ct) is not { } form)
                return Answer(http, 400, "The request is not valid", "The body is not a readable form.");
            foreach (var (k, v) in form) if (k.Length <= 64) fields[k] = v.ToString().Length > 4000 ? v.ToString()[..4000] : v.ToString();
        }
        else if (http.Request.HasJsonContentType())
        {
            try
            {
                var json = await http.Request.ReadFromJsonAsync<Dictionary<string, string>>(ct) ?? [];
                foreach (var (k, v) in json) if (k.Length <= 64 && v is not null) fields[k] = v.Length > 4000 ? v[..4000] : v;
            }
            catch (System.Text.Json.JsonException) { return Answer(http, 400, "The request is not valid", "The body is not a JSON object of strings."); }
        }
        // Was the link used already? Its id is the idempotency key of the answer it gave.
        if (await store.FindCommandResultAsync(ClaimsOf(token, issuer, clock).TokenId, ct) is not null)
            return Answer(http, 409, "This link has already been used", $"The answer to {reference} through this link was already recorded.");
        var instance = await workflows.LoadAsync(reference, withTimeline: false, ct);
        if (instance is null) return Answer(http, 404, "Not found", $"There is no {reference}.");
        if (!a.Action.Equals(ClaimsOf(token, issuer, clock).Action, StringComparison.Ordinal))
            return Answer(http, 409, "No longer open", "This request is no longer open.");
        var open = instance.Asks.Any(x => x.Ask.RecipientId == a.RecipientId && x.Ask.Action == a.Action);
        if (!open) return Answer(http, 409, "No longer open", $"{reference} is no longer waiting for this answer.");
        var parsed = workflows.ParseReply(instance, a, fields);
        // A browser gets the form back with its answer and the message; an API client gets the problem.
        var browser = http.Request.HasFormContentType;
        if (parsed.Input is null)
            return browser ? AskForm(http, 422, token, reference, a, fields, parsed.Error ?? "The answer could not be read.")
                : Answer(http, 422, "The answer is not valid", parsed.Error ?? "The answer could not be read.");
        var actor = new Actor(a.RecipientId, a.RecipientRole, a.RecipientRole == Roles.Provider ? a.RecipientId : null, $"signed link ({a.Action})");
        // The workflow's own checks first: a refused answer is not kept against the link, so the corrected one is taken.
        if (workflows.Check(instance, parsed.Input, actor) is { } no)
            return browser && no.Kind == RejectionKind.Invalid ? AskForm(http, 422, token, reference, a, fields, no.Detail) : Answer(http, (int)no.Kind, no.Title, no.Detail);
        var outcome = await workflows.ApplyAsync(reference, parsed.Input, actor, idempotencyKey: ClaimsOf(token, issuer, clock).TokenId, via: "link", ct: ct);
        return outcome.Kind switch
        {
            OutcomeKind.Applied => Answer(http, 200, "Thank you", $"Your answer to {reference} is recorded.", new LinkAnswer(reference, a.Action, outcome.Status!)),
            OutcomeKind.Accepted => Answer(http, 202, "Thank you", $"Your answer to {reference} is received and will be recorded shortly.", new LinkAnswer(reference, a.Action, "Pending")),
            OutcomeKind.Replayed => Answer(http, 409, "This link has already been used", $"The answer to {reference} through this link was already recorded."),
            OutcomeKind.Rejected when browser && outcome.Rejection!.Kind == RejectionKind.Invalid => AskForm(http, 422, token, reference, a, fields, outcome.Rejection.Detail),
            OutcomeKind.Rejected => Answer(http, (int)outcome.Rejection!.Kind, outcome.Rejection.Title, outcome.Rejection.Detail),
            _ => Answer(http, 409, "No longer open", $"{reference} moved on meanwhile."),
        };
    }

    private static LinkClaims ClaimsOf(string token, HmacLinkIssuer issuer, IClock clock)
    {
        issuer.Validate(token, clock.GetCurrentInstant(), out var claims);
        return claims!;
    }

    private static async Task<((string Reference, OpenAsk Ask)?, (int Status, string Title, string Detail)?)> ResolveAsync(
        string token, HmacLinkIssuer issuer, IWorkflowStore store, Workflows.WorkflowClient workflows, IClock clock, CancellationToken ct, bool allowClosed = false)
    {
        switch (issuer.Validate(token, clock.GetCurrentInstant(), out var claims))
        {
            case LinkValidation.Malformed: return (null, (400, "This link is not valid", "The link is incomplete or damaged. Please use the link from your message."));
            case LinkValidation.BadSignature: return (null, (403, "This link is not valid", "The link was not issued by this service."));
            case LinkValidation.Expired: return (null, (410, "This link has expired", "The time to answer through this link has passed. Please contact the council team."));
        }
        var c = claims!;
        var asks = await workflows.FindAsksAsync(reference: c.Reference, recipientId: c.RecipientId, ct: ct);
        var ask = asks.FirstOrDefault(x => x.Ask.Action == c.Action);
        if (ask is null)
        {
            if (await store.FindCommandResultAsync(c.TokenId, ct) is not null)
                return (null, (409, "This link has already been used", $"The answer to {c.Reference} through this link was already recorded."));
            return (null, (409, "No longer open", $"{c.Reference} is no longer waiting for this answer."));
        }
        return ((c.Reference, ask.Ask), null);
    }

    private static IResult Answer(HttpContext http, int status, string title, string detail, object? body = null)
    {
        var wantsHtml = http.Request.HasFormContentType || http.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
        if (wantsHtml) return Page(http, status, title, $"<p>{H(detail)}</p>");
        return status < 400 ? Results.Json(body, statusCode: status) : Results.Problem(statusCode: status, title: title, detail: detail);
    }

    /// <summary>
    /// A link page in the staff pages' look (one stylesheet, no inline style: the CSP allows none). A refusal without a
    /// form (<paramref name="heading"/> not given, status 400+) is announced as an alert.
    /// </summary>
    public static IResult Page(HttpContext http, int status, string title, string bodyHtml, string? heading = null)
    {
        http.Response.Headers["Cache-Control"] = "no-store";
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        var html = CareWorkflows.Functions.Pages.PlainPage.Html(title, heading ?? title, bodyHtml, alert: status >= 400 && heading is null);
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private static string H(string s) => WebUtility.HtmlEncode(s);
}
