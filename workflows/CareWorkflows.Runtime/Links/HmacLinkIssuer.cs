using System.Security.Cryptography;
using System.Text;
using CareWorkflows.Definitions;
using NodaTime;

namespace CareWorkflows.Runtime.Links;

/// <summary>The parts a signed link carries. <see cref="TokenId"/> identifies the link for single-use checks.</summary>
public sealed record LinkClaims(string Reference, string RecipientId, string Action, Instant ExpiresAt, string TokenId);

public enum LinkValidation { Valid, Malformed, BadSignature, Expired }

/// <summary>
/// HMAC-SHA256 signed, expiring, single-purpose links: /l/{token}. The token names the instance, the recipient
/// and the one action it allows; single use is enforced by using the token id as the command's idempotency key.
/// </summary>
public sealed class HmacLinkIssuer : ILinkIssuer
{
    private readonly byte[] _key;
    private readonly Func<string> _baseUrl;

    public HmacLinkIssuer(string signingKey, string baseUrl) : this(signingKey, () => baseUrl) { }

    /// <param name="baseUrl">Read when a link is issued: the public address may only be known once the server listens.</param>
    public HmacLinkIssuer(string signingKey, Func<string> baseUrl)
    {
        if (string.IsNullOrWhiteSpace(signingKey) || signingKey.Length < 16)
            throw new ArgumentException("Links:SigningKey must be at least 16 characters.");
        _key = Encoding.UTF8.GetBytes(signingKey);
        _baseUrl = baseUrl;
    }

    /// <summary>The public address links are issued under, without a trailing slash.</summary>
    public string BaseUrl => _baseUrl().TrimEnd('/');

    public string Issue(string reference, string recipientId, string action, Instant expiresAt) =>
        $"{_baseUrl().TrimEnd('/')}/l/{CreateToken(reference, recipientId, action, expiresAt)}";

    public string CreateToken(string reference, string recipientId, string action, Instant expiresAt)
    {
        // The token id is derived, not random: the same link issued twice for the same ask is the same link,
        // which keeps a replayed message the same message.
        var payload = $"{reference}|{recipientId}|{action}|{expiresAt.ToUnixTimeSeconds()}";
        var p = B64(Encoding.UTF8.GetBytes(payload));
        return $"{p}.{B64(Sign(p))[..32]}";
    }

    public LinkValidation Validate(string token, Instant now, out LinkClaims? claims)
    {
        claims = null;
        if (string.IsNullOrEmpty(token) || token.Length > 600) return LinkValidation.Malformed;
        var dot = token.IndexOf('.');
        if (dot <= 0 || dot == token.Length - 1) return LinkValidation.Malformed;
        var p = token[..dot];
        var sig = token[(dot + 1)..];
        var expected = B64(Sign(p))[..32];
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(sig), Encoding.ASCII.GetBytes(expected))) return LinkValidation.BadSignature;
        string payload;
        try { payload = Encoding.UTF8.GetString(FromB64(p)); } catch (FormatException) { return LinkValidation.Malformed; }
        var parts = payload.Split('|');
        if (parts.Length != 4 || !long.TryParse(parts[3], out var exp)) return LinkValidation.Malformed;
        claims = new LinkClaims(parts[0], parts[1], parts[2], Instant.FromUnixTimeSeconds(exp), "link:" + sig);
        return now > claims.ExpiresAt ? LinkValidation.Expired : LinkValidation.Valid;
    }

    private byte[] Sign(string p) => HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(p));

    private static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromB64(string s)
    {
        var t = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(t.PadRight(t.Length + (4 - t.Length % 4) % 4, '='));
    }
}
