using System.Security.Cryptography;
using System.Text;

namespace CareWorkflows.Functions.Channels;

/// <summary>Signature and secret checks for provider webhooks. All comparisons are constant-time.</summary>
public static class WebhookSignatures
{
    /// <summary>
    /// Twilio's X-Twilio-Signature, checked by the Twilio SDK's <see cref="Twilio.Security.RequestValidator"/> with the
    /// account auth token (HMAC-SHA1 over the full URL followed by each POST parameter name and value, sorted by name).
    /// <paramref name="url"/> must be the URL Twilio called (the public one, with the query string); the validator also
    /// accepts a signature over that URL with the default port added. Webhooks signed with a Twilio SharedKey (they carry
    /// <c>X-Twilio-Webhooks-Signature-Settings</c>) are not configured here and fail the check.
    /// </summary>
    public static bool IsValidTwilio(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form, string? signature) =>
        !string.IsNullOrEmpty(signature) && !string.IsNullOrEmpty(authToken)
        && new Twilio.Security.RequestValidator(authToken).Validate(url, form.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), signature);

    /// <summary>
    /// SendGrid's signed event webhook: ECDSA P-256 / SHA-256 over timestamp + raw body, the signature (DER, Base64) in
    /// X-Twilio-Email-Event-Webhook-Signature and the timestamp in X-Twilio-Email-Event-Webhook-Timestamp. The public key is
    /// the Base64 key SendGrid shows when signing is turned on.
    /// </summary>
    public static bool IsValidSendGrid(string publicKeyBase64, string? timestamp, string? signatureBase64, byte[] rawBody)
    {
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signatureBase64)) return false;
        try
        {
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKeyBase64), out _);
            var signed = Encoding.UTF8.GetBytes(timestamp).Concat(rawBody).ToArray();
            return ecdsa.VerifyData(signed, Convert.FromBase64String(signatureBase64), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (FormatException) { return false; }
        catch (CryptographicException) { return false; }
    }

    /// <summary>Shared secrets (Notify bearer token, SendGrid Inbound Parse path secret or basic-auth password).</summary>
    public static bool SameText(string expected, string? given) =>
        given is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));
}
