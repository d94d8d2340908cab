using CareWorkflows.Definitions;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Functions.Apis;

/// <summary>
/// Collects field errors for a request body (RFC 7807 "errors": field → messages), so a client hears about every
/// bad field at once. Nothing is written while any error stands.
/// </summary>
public sealed class RequestChecks
{
    public const int MaxText = 4000;
    private readonly Dictionary<string, List<string>> _errors = [];

    public bool Ok => _errors.Count == 0;
    public IDictionary<string, string[]> Errors => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
    }

    /// <summary>A required piece of text, trimmed; null (with an error) when missing or too long.</summary>
    public string Text(string field, string? value, int max = MaxText)
    {
        if (string.IsNullOrWhiteSpace(value)) { Add(field, $"{field} is required."); return ""; }
        if (value.Length > max) { Add(field, $"{field} is longer than {max:N0} characters."); return ""; }
        return value.Trim();
    }

    public string? OptionalText(string field, string? value, int max = MaxText)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (value.Length > max) { Add(field, $"{field} is longer than {max:N0} characters."); return null; }
        return value.Trim();
    }

    public string Email(string field, string? value)
    {
        var text = Text(field, value, 320);
        if (text.Length > 0 && !System.Net.Mail.MailAddress.TryCreate(text, out _)) Add(field, $"{field} is not an email address.");
        return text;
    }

    /// <summary>An instant with its offset, e.g. 2026-10-24T20:00:00+01:00 or 2026-10-24T19:00:00Z. Local times without an offset are refused (ambiguous across BST/GMT).</summary>
    public Instant Instant(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) { Add(field, $"{field} is required."); return default; }
        var r = OffsetDateTimePattern.ExtendedIso.Parse(value.Trim());
        if (!r.Success) { Add(field, $"{field} must be a date and time with its offset, e.g. 2026-10-24T20:00:00+01:00 or 2026-10-24T19:00:00Z."); return default; }
        return r.Value.ToInstant();
    }

    public LocalDate? Date(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var r = LocalDatePattern.Iso.Parse(value.Trim());
        if (!r.Success) { Add(field, $"{field} must be a date as yyyy-MM-dd."); return null; }
        return r.Value;
    }

    /// <summary>A name from an enum, case-insensitive; numbers are refused so values stay readable.</summary>
    public TEnum? Enum<TEnum>(string field, string? value) where TEnum : struct, System.Enum
    {
        if (string.IsNullOrWhiteSpace(value)) { Add(field, $"{field} is required. One of: {string.Join(", ", System.Enum.GetNames<TEnum>())}."); return null; }
        if (!value.Any(char.IsDigit) && System.Enum.TryParse<TEnum>(value.Trim(), ignoreCase: true, out var parsed) && System.Enum.IsDefined(parsed)) return parsed;
        Add(field, $"'{value}' is not a known {field}. One of: {string.Join(", ", System.Enum.GetNames<TEnum>())}.");
        return null;
    }

    /// <summary>
    /// Reads a urlencoded or multipart form; null when the body is not a well-formed form (a truncated multipart body,
    /// a broken encoding), so callers answer 400 instead of failing with 500.
    /// </summary>
    public static async Task<IFormCollection?> TryReadFormAsync(HttpRequest request, CancellationToken ct)
    {
        try { return await request.ReadFormAsync(ct); }
        catch (Exception e) when (e is IOException or InvalidDataException && !ct.IsCancellationRequested) { return null; }
    }

    /// <summary>The Idempotency-Key header, scoped to the caller so two users cannot collide.</summary>
    public static string? IdempotencyKey(HttpContext http, Actor actor) =>
        http.Request.Headers["Idempotency-Key"].ToString() is { Length: > 0 and <= 200 } key ? $"{actor.Id}:{key}" : null;
}
