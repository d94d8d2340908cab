using System.Net;
using System.Text;

namespace CareWorkflows.Definitions;

/// <summary>
/// An email template: subject, plain-text body and optional HTML body with <c>{name}</c> placeholders.
/// Each workflow keeps its templates together in one static class in its own file, reference first, plain English.
/// Values are HTML-encoded in the HTML body; a placeholder without a value fails loudly (a test catches it).
/// </summary>
public sealed record EmailTemplate(string Purpose, string Subject, string Text, string? Html = null)
{
    public OutboundMessage Render(string to, IReadOnlyDictionary<string, string> values, string? recipientId = null, IReadOnlyList<string>? links = null) =>
        new(MessageChannel.Email, to, Purpose, Templates.Fill(Subject, values), Templates.Fill(Text, values),
            Html is null ? null : Templates.Fill(Html, values, html: true), recipientId, links);
}

/// <summary>
/// An SMS template. SMS carries the reference, the ask, the deadline in local time and a short signed link only —
/// never names, addresses, NHS numbers or health details (DOMAIN.md, information governance). The SMS channels
/// refuse bodies that look like they carry an NHS number or a postcode, as a second line of defence.
/// </summary>
public sealed record SmsTemplate(string Purpose, string Text)
{
    public OutboundMessage Render(string to, IReadOnlyDictionary<string, string> values, string? recipientId = null, IReadOnlyList<string>? links = null)
    {
        var body = Templates.Fill(Text, values);
        return new(MessageChannel.Sms, to, Purpose, body.Length > 60 ? body[..60] : body, body, null, recipientId, links);
    }
}

public static class Templates
{
    /// <summary>Replaces <c>{name}</c> with values[name]; <c>{{</c> and <c>}}</c> are literal braces.</summary>
    public static string Fill(string template, IReadOnlyDictionary<string, string> values, bool html = false)
    {
        var sb = new StringBuilder(template.Length + 64);
        for (var i = 0; i < template.Length; i++)
        {
            var ch = template[i];
            if (ch == '{' && i + 1 < template.Length && template[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (ch == '}' && i + 1 < template.Length && template[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (ch != '{') { sb.Append(ch); continue; }
            var end = template.IndexOf('}', i + 1);
            if (end < 0) throw new FormatException($"Unclosed placeholder at {i} in template \"{template}\".");
            var name = template[(i + 1)..end];
            if (!values.TryGetValue(name, out var value))
                throw new KeyNotFoundException($"Template placeholder {{{name}}} has no value.");
            sb.Append(html ? WebUtility.HtmlEncode(value) : value);
            i = end;
        }
        return sb.ToString();
    }
}
