using System.Security.Cryptography;

namespace CareWorkflows.Runtime.Engine;

/// <summary>
/// Human references: type prefix + 5 characters from an alphabet without look-alikes (no 0/O, 1/I/L),
/// e.g. D2A-7K3QX. 31^5 ≈ 28.6 million per type; the instances primary key keeps them unique and the
/// runtime draws again on a collision.
/// </summary>
public static class References
{
    public const string Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

    public static string New(string prefix)
    {
        Span<char> chars = stackalloc char[5];
        for (var i = 0; i < chars.Length; i++) chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        return $"{prefix}-{new string(chars)}";
    }

    /// <summary>True for PREFIX-XXXXX with the reference alphabet (case-insensitive input is normalised by callers).</summary>
    public static bool IsWellFormed(string reference)
    {
        var dash = reference.LastIndexOf('-');
        if (dash <= 0 || reference.Length - dash - 1 != 5 || reference.Length > 32) return false;
        for (var i = dash + 1; i < reference.Length; i++) if (!Alphabet.Contains(reference[i])) return false;
        for (var i = 0; i < dash; i++) if (!char.IsAsciiLetterOrDigit(reference[i])) return false;
        return true;
    }
}
