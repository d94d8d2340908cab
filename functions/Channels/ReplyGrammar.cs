using System.Text.RegularExpressions;
using CareWorkflows.Runtime.Engine;

namespace CareWorkflows.Functions.Channels;

/// <summary>A reply read from an SMS or an email's first line: the verb (as an ask action), an optional reference, the rest.</summary>
public sealed record ReadReply(string? Action, string? Reference, string Rest, string Line);

/// <summary>
/// The reply grammar: <c>ACCEPT D2A-7K3QX 14:30</c>, <c>DECLINE D2A-7K3QX</c>, and <c>YES</c> / <c>NO</c> (accept / decline)
/// when the sender has exactly one open ask. Case and surrounding punctuation do not matter. A visit alert's desk answers
/// <c>REASSURED VA-7K3QX 14:35</c>, <c>REPLACEMENT VA-7K3QX Sam Jones 14:50</c>, and <c>NOREPLY VA-7K3QX</c> (or
/// <c>NO REPLY VA-7K3QX</c>) for no reply at the door; a no-reply's <c>OUTCOME NR-7K3QX found safe</c>.
/// </summary>
public static partial class ReplyGrammar
{
    public static ReadReply Read(string line)
    {
        line = line.Trim();
        var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) return new(null, null, "", line);
        var verb = words[0].Trim('.', ',', '!', ':', ';').ToUpperInvariant();
        // "NO REPLY VA-7K3QX": a carer's no-reply at the door (B App E), not a "no" (decline).
        if (verb == "NO" && words.Length > 1 && words[1].Trim('.', ',', '!', ':', ';').Equals("REPLY", StringComparison.OrdinalIgnoreCase))
        {
            verb = "NOREPLY";
            words = words[1..];
        }
        string? action = verb switch
        {
            "YES" or "Y" => "accept",
            "NO" or "N" => "decline",
            // Any other word is taken as the ask's action verb (ACCEPT, DECLINE, CARE-PLAN, ...).
            _ when verb.Length is > 1 and <= 20 && char.IsAsciiLetter(verb[0]) && verb.All(c => char.IsAsciiLetter(c) || c == '-') => verb.ToLowerInvariant(),
            _ => null,
        };
        var i = 1;
        string? reference = null;
        if (words.Length > 1 && AsReference(words[1]) is { } r) { reference = r; i = 2; }
        return new(action, reference, string.Join(' ', words.Skip(i)), line);
    }

    /// <summary>A well-formed reference anywhere in <paramref name="text"/> (an email subject), upper-cased.</summary>
    public static string? FindReference(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        foreach (Match m in ReferenceLike().Matches(text))
            if (AsReference(m.Value) is { } r) return r;
        return null;
    }

    private static string? AsReference(string word)
    {
        var w = word.Trim('.', ',', '!', ':', ';', '(', ')', '[', ']').ToUpperInvariant();
        return References.IsWellFormed(w) ? w : null;
    }

    /// <summary>
    /// The answer in an email reply: the first non-empty line above the quoted text. Stops at "On … wrote:",
    /// "-----Original Message-----", "From:" headers and lines starting with "&gt;".
    /// </summary>
    public static string FirstLineOfEmail(string? text)
    {
        foreach (var raw in (text ?? "").Replace("\r\n", "\n").Split('\n'))
        {
            var l = raw.Trim();
            if (l.Length == 0) continue;
            if (l.StartsWith('>') || QuoteHeader().IsMatch(l)) return "";
            return l;
        }
        return "";
    }

    [GeneratedRegex(@"[A-Za-z0-9]{1,10}-[A-Za-z0-9]{5}\b")]
    private static partial Regex ReferenceLike();

    [GeneratedRegex(@"^(On .+ wrote:?|-{2,}\s*Original Message\s*-{2,}|From:\s.+|_{5,})$", RegexOptions.IgnoreCase)]
    private static partial Regex QuoteHeader();

    /// <summary>UK mobiles in the forms people and providers use: +447700900123, 447700900123, 07700 900123.</summary>
    public static string NormalisePhone(string? phone)
    {
        var digits = new string((phone ?? "").Where(char.IsAsciiDigit).ToArray());
        if (digits.StartsWith("44", StringComparison.Ordinal)) return "+" + digits;
        if (digits.StartsWith('0')) return "+44" + digits[1..];
        return "+" + digits;
    }

    /// <summary>The stored forms of a number to look asks up by (asks keep what the workflow was given).</summary>
    public static string[] PhoneForms(string phone)
    {
        var e164 = NormalisePhone(phone);
        return e164.StartsWith("+44", StringComparison.Ordinal) ? [e164, "0" + e164[3..], e164[1..]] : [e164, e164[1..]];
    }
}
