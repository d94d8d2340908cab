using System.Text.Json;
using System.Text.Json.Serialization;

namespace CareWorkflows.Functions.Hosting;

/// <summary>
/// What the Azure Functions host POSTs to <c>/{FunctionName}</c> for a non-HTTP trigger: <c>{"Data": {binding: value},
/// "Metadata": {...}}</c>. Property names are read case-insensitively.
/// </summary>
public sealed class InvocationRequest(JsonElement root)
{
    public JsonElement Data { get; } = Property(root, "Data");
    public JsonElement Metadata { get; } = Property(root, "Metadata");

    public static async Task<InvocationRequest?> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? new InvocationRequest(doc.RootElement.Clone()) : null;
        }
        catch (JsonException) { return null; }
    }

    public static JsonElement Property(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object) return default;
        foreach (var p in e.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return default;
    }

    public string? MetadataString(string name) => Property(Metadata, name) is { ValueKind: JsonValueKind.String } s ? s.GetString()
        : Property(Metadata, name) is { ValueKind: JsonValueKind.Number } n ? n.GetRawText() : null;

    public int? MetadataInt(string name) => Property(Metadata, name) switch
    {
        { ValueKind: JsonValueKind.Number } n when n.TryGetInt32(out var i) => i,
        { ValueKind: JsonValueKind.String } s when int.TryParse(s.GetString(), out var i) => i,
        _ => null,
    };
}

/// <summary>What the app answers: <c>{"Outputs": {...}, "Logs": [...], "ReturnValue": ...}</c> (the host writes the logs to its own log).</summary>
public sealed record InvocationResponse(
    [property: JsonPropertyName("Outputs")] Dictionary<string, object?> Outputs,
    [property: JsonPropertyName("Logs")] List<string> Logs,
    [property: JsonPropertyName("ReturnValue")] object? ReturnValue)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = null };

    public static IResult Ok(params string[] logs) => Results.Json(new InvocationResponse([], [.. logs], null), Json, statusCode: 200);

    /// <summary>A failed invocation: the host counts it as failed (and Service Bus redelivers the message).</summary>
    public static IResult Failed(params string[] logs) => Results.Json(new InvocationResponse([], [.. logs], null), Json, statusCode: 500);
}
