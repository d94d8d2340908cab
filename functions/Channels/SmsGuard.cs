using System.Text.RegularExpressions;
using CareWorkflows.Runtime.Channels;

namespace CareWorkflows.Functions.Channels;

/// <summary>
/// Defence in depth for SMS: refuses (permanent failure, so the orchestration hears the message was undelivered) a body that looks like it
/// carries an NHS number (10 digits, optionally 3-3-4 spaced or dashed) or a full UK postcode. Templates should never
/// put these in an SMS (DOMAIN.md, information governance: SMS carries no names, addresses, NHS numbers or health details).
/// </summary>
public static partial class SmsGuard
{
    // Full-form postcode: outward code (A9, A99, AA9, AA99, A9A, AA9A), an optional space, inward code (9AA).
    // Not inside a reference (D2A-A22CD) or a link token: those neighbours are excluded on both sides.
    [GeneratedRegex(@"(?<![A-Za-z0-9_\-./=])[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}(?![A-Za-z0-9_\-])", RegexOptions.IgnoreCase)]
    private static partial Regex Postcode();

    /// <summary>Why the body is refused, or null when it may be sent.</summary>
    public static string? Check(string body)
    {
        if (CareWorkflows.Definitions.Privacy.PersonalDataGuard.ContainsNhsNumberShape(body)) return "SMS refused: the body contains a 10-digit number that could be an NHS number.";
        if (Postcode().IsMatch(body)) return "SMS refused: the body contains what looks like a postcode.";
        return null;
    }

    public static void Ensure(string body)
    {
        if (Check(body) is { } why) throw new ChannelException(why, permanent: true);
    }
}
