using System.Net;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Workflows;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using NodaTime;

namespace CareWorkflows.Functions.Pages;

/// <summary>Words and times as people read them: Europe/London, plain English.</summary>
public static class PageText
{
    public static string Local(Instant i) => WorkflowContext.Local(i);

    /// <summary>"3 days 4 hours left" or "overdue by 2 hours".</summary>
    public static string TimeLeft(Instant due, Instant now)
    {
        var d = due - now;
        var span = d < Duration.Zero ? -d : d;
        string text;
        if (span < Duration.FromMinutes(1)) text = "less than a minute";
        else if (span < Duration.FromHours(1)) text = Plural((int)span.TotalMinutes, "minute");
        else if (span < Duration.FromDays(2)) text = Plural((int)span.TotalHours, "hour") + (span.Minutes > 0 && span < Duration.FromHours(6) ? " " + Plural(span.Minutes, "minute") : "");
        else text = Plural(span.Days, "day") + (span.Hours > 0 ? " " + Plural(span.Hours, "hour") : "");
        return d < Duration.Zero ? $"overdue by {text}" : $"{text} left";
    }

    private static string Plural(int n, string word) => $"{n} {word}{(n == 1 ? "" : "s")}";

    public static string RoleName(string role) => role switch
    {
        Roles.DischargeTeam => "Discharge team",
        Roles.Brokerage => "Brokerage",
        Roles.CareManager => "Care manager",
        Roles.SeniorCareManager => "Senior care manager",
        Roles.QualityAssurance => "Quality assurance",
        Roles.SafeguardingLead => "Safeguarding lead",
        Roles.Provider => "Provider",
        Roles.Admin => "Administrator",
        Roles.System => "System",
        _ => role,
    };

    public static string TypeName(string type) => type switch
    {
        "D2A" => "D2A referral",
        "QC" => "Quality concern",
        "SI" => "Serious incident",
        "TA" => "Trusted-assessor adjustment",
        "VA" => "Late or missed visit alert",
        "NR" => "No reply at a visit",
        _ => type,
    };

    /// <summary>"ProviderResponded" → "Provider responded".</summary>
    public static string Words(string pascal)
    {
        if (string.IsNullOrEmpty(pascal)) return pascal;
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < pascal.Length; i++)
        {
            var ch = pascal[i];
            if (i > 0 && char.IsUpper(ch) && !char.IsUpper(pascal[i - 1])) sb.Append(' ').Append(char.ToLowerInvariant(ch));
            else sb.Append(ch);
        }
        return sb.ToString();
    }

    /// <summary>The id of the input for a model-state key: "Input.Patient.Name" → "patient-name".</summary>
    public static string FieldId(string key)
    {
        if (key.StartsWith("Input.", StringComparison.Ordinal)) key = key[6..];
        return key.Replace('.', '-').Replace('[', '-').Replace("]", "").ToLowerInvariant();
    }

    public static string H(string? s) => WebUtility.HtmlEncode(s ?? "");

    /// <summary>An ask field's label as shown: "(optional)" added to an optional field once, never twice.</summary>
    public static string AskLabel(AskField f) =>
        f.Required || f.Label.Contains("(optional)", StringComparison.OrdinalIgnoreCase) ? f.Label : f.Label + " (optional)";

    /// <summary>An instance page's title: what it is and where it stands, "D2A-7K3QX — D2A referral, awarded".</summary>
    public static string InstanceTitle(InstanceRow row) => $"{row.Reference} — {TypeName(row.Type)}, {Words(row.Status).ToLowerInvariant()}";
}

/// <summary>
/// One field of a page's form, in the order the page shows it: the key its errors are filed under (the API's field
/// name, prefixed by the form's name where a page has several forms), its visible label, the message when it is left
/// empty, and the id the error summary links to (the input itself; for a radio group its first radio, since a legend
/// cannot take focus).
/// </summary>
public sealed record FormField(string Key, string Label, string? Missing = null, string? FocusId = null, string? Hint = null)
{
    public string Id => PageText.FieldId(Key);
    public string Target => FocusId ?? Id;

    /// <summary>A radio group: the summary links to its first option, whose id is "{group id}-{value}".</summary>
    public static FormField Radios(string key, string legend, string firstValue, string? missing = null, string? hint = null) =>
        new(key, legend, missing, $"{PageText.FieldId(key)}-{PageText.FieldId(firstValue)}", hint);
}

/// <summary>Base for the pages: the signed-in actor and field errors in the shape the APIs return (field → messages).</summary>
public abstract class CareWorkflowsPage : PageModel
{
    public Actor Actor => User.ToActor();

    /// <summary>The page's fields, every form top to bottom: the error summary lists errors in this order.</summary>
    public virtual IReadOnlyList<FormField> FormFields => [];

    public FormField? FieldOf(string key) => FormFields.FirstOrDefault(f => string.Equals(f.Key, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Copies API-style field errors ("patient.dateOfBirth") onto the page's inputs, worded with the visible label: the
    /// API's "x is required." becomes the field's own message, and an API field name at the start becomes the label. A
    /// field the page has already reported keeps the page's message.
    /// </summary>
    public void AddErrors(IDictionary<string, string[]> errors, string prefix = "")
    {
        foreach (var (field, messages) in errors)
        {
            var key = prefix + field;
            if (HasError(key)) continue;
            var f = FieldOf(key);
            foreach (var m in messages) ModelState.AddModelError(f?.Key ?? key, Reword(f, field, m));
        }
    }

    /// <summary>An API message in the page's words (see AddErrors).</summary>
    public static string Reword(FormField? f, string apiField, string message)
    {
        if (f is null) return message;
        var name = apiField.Contains('.') ? apiField[(apiField.LastIndexOf('.') + 1)..] : apiField;
        foreach (var n in new[] { apiField, name })
        {
            if (message.StartsWith(n + " is required", StringComparison.Ordinal) && f.Missing is { } missing) return missing;
            if (message.StartsWith(n + " ", StringComparison.Ordinal)) return f.Label.Replace(" (optional)", "", StringComparison.Ordinal) + message[n.Length..];
            if (message.StartsWith($"'", StringComparison.Ordinal) && message.Contains($" is not a known {n}.", StringComparison.Ordinal))
                return f.Missing ?? $"Choose one of the options for {f.Label.ToLowerInvariant()}.";
        }
        return message;
    }

    /// <summary>
    /// The error summary's entries: errors not about one field first (no link), then each field's in form order, each
    /// linking to what takes focus for that field.
    /// </summary>
    public IReadOnlyList<(string? Href, string Message)> SummaryErrors()
    {
        var fields = FormFields;
        int Order(string key)
        {
            if (key.Length == 0) return -1;
            var i = fields.ToList().FindIndex(f => string.Equals(f.Key, key, StringComparison.OrdinalIgnoreCase));
            return i < 0 ? int.MaxValue : i;
        }
        return ModelState.Where(e => e.Value.Errors.Count > 0).OrderBy(e => Order(e.Key))
            .SelectMany(e => e.Value.Errors.Select(x => (e.Key.Length == 0 ? null : "#" + (FieldOf(e.Key)?.Target ?? PageText.FieldId(e.Key)), x.ErrorMessage)))
            .ToList();
    }

    /// <summary>The idempotency key of one rendered form (its FormId): a double submit starts one instance.</summary>
    protected string? FormKey(string? formId, string scope) => formId is { Length: > 0 and <= 64 } id ? $"{scope}:{Actor.Id}:page:{id}" : null;

    /// <summary>
    /// After starting an instance from a form: to the instance page with a notice, or this page again with the workflow's
    /// refusal (its status; 409 when the instance moved on), the message on <paramref name="fieldFor"/>'s field.
    /// </summary>
    protected IActionResult AfterStart(TransitionOutcome outcome, Func<string, string> notice, string failure, Func<string, string>? fieldFor = null)
    {
        if (outcome.Kind is OutcomeKind.Applied or OutcomeKind.Replayed)
        {
            TempData["Notice"] = notice(outcome.Reference!);
            return Redirect($"/instances/{outcome.Reference}");
        }
        var message = outcome.Rejection?.Detail ?? failure;
        ModelState.AddModelError(outcome.Rejection?.Field ?? fieldFor?.Invoke(message) ?? "", message);
        Response.StatusCode = outcome.Rejection is { } r ? (int)r.Kind : 409;
        return Page();
    }

    public string FieldClass(string key) => HasError(key) ? "field field--error" : "field";

    public bool HasError(string key) => ModelState.TryGetValue(key, out var e) && e.Errors.Count > 0;

    /// <summary>aria-invalid for an input: "true" when its field has an error, otherwise absent.</summary>
    public string? Invalid(string key) => HasError(key) ? "true" : null;

    /// <summary>The error message(s) for one field, shown above its input and linked from the summary.</summary>
    public IHtmlContent ErrorFor(string key)
    {
        if (!ModelState.TryGetValue(key, out var e) || e.Errors.Count == 0) return HtmlString.Empty;
        var text = string.Join(" ", e.Errors.Select(x => x.ErrorMessage));
        return new HtmlString($"<p class=\"error-message\" id=\"{PageText.FieldId(key)}-error\"><span class=\"visually-hidden\">Error:</span> {PageText.H(text)}</p>");
    }

    /// <summary>aria-describedby for an input: its hint and its error, when present.</summary>
    public string? Describe(string key, bool hint = false) =>
        string.Join(' ', new[] { hint ? PageText.FieldId(key) + "-hint" : null, HasError(key) ? PageText.FieldId(key) + "-error" : null }.Where(x => x is not null)) is { Length: > 0 } s ? s : null;

    /// <summary>One labelled text input (or textarea) for the _TextField partial, its label and hint from FormFields.</summary>
    public TextField Text(string key, string name, string? value, string type = "text", string? css = null, string? autocomplete = null, int rows = 4)
    {
        var f = FieldOf(key) ?? throw new InvalidOperationException($"{key} is not one of the page's FormFields.");
        return new TextField(this, f.Key, name, f.Label, value, type, f.Hint, css, autocomplete, rows);
    }

    /// <summary>A radio group for the _Radios partial, its legend and hint from FormFields.</summary>
    public RadioGroup Radios(string key, string name, string? value, params (string Value, string Label)[] options)
    {
        var f = FieldOf(key) ?? throw new InvalidOperationException($"{key} is not one of the page's FormFields.");
        return new RadioGroup(this, f.Key, name, f.Label, value, options, f.Hint);
    }
}

/// <summary>
/// Which providers an instance concerns. A provider user sees and acts only on instances that concern its own
/// provider id: offers made to it, packages awarded to it, its incidents, concerns raised with it, its adjustments.
/// </summary>
public static class ProviderScope
{
    public static IReadOnlySet<string> ProvidersOf(InstanceRow row, Workflows.WorkflowClient workflows)
    {
        var state = workflows.StateOf(row);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        switch (state)
        {
            case D2AState d:
                foreach (var o in d.Offers) ids.Add(o.Provider.Id);
                if (d.Award is { } a) ids.Add(a.Provider.Id);
                if (d.Referral?.PreviousProvider is { } prev) ids.Add(prev.Id);
                break;
            case Definitions.QualityConcerns.QualityConcern.State q: ids.Add(q.ProviderId); break;
            case Definitions.Incidents.SeriousIncident.State s: ids.Add(s.Report.ProviderId); break;
            case Definitions.TrustedAssessor.TrustedAssessorAdjustment.State t: ids.Add(t.ProviderId); break;
            case Definitions.Visits.VisitAlert.State v: ids.Add(v.ProviderId); break;
            case Definitions.Visits.NoReply.State n: ids.Add(n.ProviderId); break;
        }
        return ids;
    }

    /// <summary>Staff may see every instance; a provider only those that concern it.</summary>
    public static bool MaySee(Actor actor, InstanceRow row, Workflows.WorkflowClient workflows) =>
        Policies.StaffRoles.Contains(actor.Role)
        || (actor.Role == Roles.Provider && actor.ProviderId is { Length: > 0 } own && ProvidersOf(row, workflows).Contains(own));
}

/// <summary>One labelled input for the _TextField partial; Key is the API's field name (errors are keyed by it).</summary>
public sealed record TextField(CareWorkflowsPage Form, string Key, string Name, string Label, string? Value, string Type = "text", string? Hint = null, string? Css = null,
    string? Autocomplete = null, int Rows = 4);

/// <summary>A radio group for the _Radios partial: a fieldset whose legend is the question; option ids are "{group id}-{value}".</summary>
public sealed record RadioGroup(CareWorkflowsPage Form, string Key, string Name, string Legend, string? Value, IReadOnlyList<(string Value, string Label)> Options,
    string? Hint = null);

/// <summary>
/// Deadlines as people mean them: the earliest of an instance's next timer and its open asks' deadlines. An ask whose
/// deadline has passed stays overdue until answered, even after the timer that marked it has fired and escalated.
/// </summary>
public static class Deadlines
{
    public static async Task<Dictionary<string, Instant>> EarliestAskDeadlinesAsync(Workflows.WorkflowClient workflows, CancellationToken ct) =>
        (await workflows.FindAsksAsync(ct: ct)).Where(a => a.Ask.Deadline is not null)
            .GroupBy(a => a.Reference).ToDictionary(g => g.Key, g => g.Min(a => a.Ask.Deadline!.Value));

    public static Instant? Next(InstanceRow row, IReadOnlyDictionary<string, Instant> asks) =>
        asks.TryGetValue(row.Reference, out var ask) && (row.NextDueAt is null || ask < row.NextDueAt) ? ask : row.NextDueAt;
}
