using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;

namespace CareWorkflows.Runtime.Tables;

/// <summary>
/// The Table storage account that keeps the service's data beside the Durable backend in Azure (documents, idempotency
/// keys, inbound replies, the provider and trusted-assessor directories). Each table is named <c>{prefix}{Name}</c> and
/// created on first use (the app's identity needs Storage Table Data Contributor, which allows that).
/// </summary>
public sealed partial class ServiceTables
{
    public const string DefaultPrefix = "cw";
    public const string Documents = "Documents";
    public const string Commands = "Commands";
    public const string Inbound = "Inbound";
    public const string Providers = "Providers";
    public const string TrustedAssessors = "TrustedAssessors";
    public static readonly IReadOnlyList<string> All = [Documents, Commands, Inbound, Providers, TrustedAssessors];

    private readonly TableServiceClient _service;
    private readonly ConcurrentDictionary<string, Task<TableClient>> _tables = new();

    public ServiceTables(TableServiceClient service, string prefix = DefaultPrefix)
    {
        // Table names: a letter, then letters and digits, 3-63 characters in all.
        if (!PrefixPattern().IsMatch(prefix)) throw new ArgumentException($"Table prefix '{prefix}' must be a letter followed by up to 40 letters or digits.", nameof(prefix));
        _service = service;
        Prefix = prefix;
    }

    public string Prefix { get; }

    /// <summary>The table, created if it does not exist yet (once per process; a failed attempt is tried again next time).</summary>
    public async Task<TableClient> TableAsync(string name, CancellationToken ct)
    {
        var creating = _tables.GetOrAdd(name, CreateAsync);
        try { return await creating.WaitAsync(ct); }
        catch when (creating.IsFaulted || creating.IsCanceled)
        {
            _tables.TryRemove(KeyValuePair.Create(name, creating));
            throw;
        }
    }

    /// <summary>Creates every table now (start-up, readiness), rather than on first use.</summary>
    public async Task CreateAllAsync(CancellationToken ct = default)
    {
        foreach (var name in All) await TableAsync(name, ct);
    }

    private async Task<TableClient> CreateAsync(string name)
    {
        var table = _service.GetTableClient(Prefix + name);
        await table.CreateIfNotExistsAsync(CancellationToken.None);
        return table;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{0,40}$")]
    private static partial Regex PrefixPattern();
}

/// <summary>
/// PartitionKey / RowKey values from our keys. Table storage refuses / \ # ? and control characters in keys, so those
/// (and % itself) become %XX: escaping is one-to-one and keeps prefixes (an escaped prefix is a prefix of the escaped
/// key), so range scans by prefix still work. Keys are at most 1 KiB: a point-lookup key longer than
/// <see cref="MaxLength"/> once escaped is cut and completed with a SHA-256 of the whole key after "%~", which escaping
/// never produces, so it cannot meet a short key.
/// </summary>
public static class TableKeys
{
    public const int MaxLength = 400;

    public static string Escape(string key)
    {
        StringBuilder? sb = null;
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c is '/' or '\\' or '#' or '?' or '%' || char.IsControl(c))
            {
                sb ??= new StringBuilder(key.Length + 8).Append(key, 0, i);
                sb.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else sb?.Append(c);
        }
        return sb?.ToString() ?? key;
    }

    /// <summary>A key for point lookups only (not for prefix scans): escaped, and shortened with a hash when too long.</summary>
    public static string ForLookup(string key)
    {
        var escaped = Escape(key);
        if (escaped.Length <= MaxLength) return escaped;
        var cut = char.IsHighSurrogate(escaped[199]) ? 199 : 200;
        return escaped[..cut] + "%~" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>A key that must keep its prefixes (documents): escaped, refused when too long.</summary>
    public static string ForRange(string key)
    {
        var escaped = Escape(key);
        return escaped.Length <= MaxLength ? escaped
            : throw new ArgumentException($"A document key may be at most {MaxLength} characters once escaped for Table storage ('{key[..40]}…').", nameof(key));
    }
}

/// <summary>
/// Text longer than one string property allows (32K characters) spread over numbered properties ({name}0, {name}1, ...)
/// with the count in {name}Parts, never splitting a surrogate pair. An entity is at most 1 MiB, hence
/// <see cref="MaxChars"/>.
/// </summary>
public static class TableText
{
    public const int PartChars = 32_000;
    public const int MaxParts = 15;
    public const int MaxChars = PartChars * MaxParts;

    public static void Write(TableEntity entity, string name, string text)
    {
        if (text.Length > MaxChars)
            throw new ArgumentException($"{name} is {text.Length} characters; Table storage keeps at most {MaxChars} in one entity.", nameof(text));
        var parts = 0;
        for (var at = 0; at < text.Length || parts == 0; parts++)
        {
            var length = Math.Min(PartChars, text.Length - at);
            if (length > 0 && at + length < text.Length && char.IsHighSurrogate(text[at + length - 1])) length--;
            entity[name + parts] = text.Substring(at, length);
            at += length;
        }
        entity[name + "Parts"] = parts;
    }

    public static string Read(TableEntity entity, string name)
    {
        var parts = entity.GetInt32(name + "Parts") ?? 0;
        if (parts == 1) return entity.GetString(name + "0") ?? "";
        var sb = new StringBuilder();
        for (var i = 0; i < parts; i++) sb.Append(entity.GetString(name + i));
        return sb.ToString();
    }
}

/// <summary>The answers Table storage gives that are outcomes here, not errors.</summary>
internal static class TableStatus
{
    public static bool IsConflict(RequestFailedException e) => e.Status == 409;
    public static bool IsNotFound(RequestFailedException e) => e.Status == 404;
    public static bool IsPreconditionFailed(RequestFailedException e) => e.Status == 412;
}
