using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace CareWorkflows.Tests.Infrastructure;

/// <summary>Small HTTP helpers for workflow API tests: post JSON, read the status and body together.</summary>
public static class WorkflowHttp
{
    public sealed record Reply(HttpStatusCode Status, JsonElement Body)
    {
        public string Str(string name) => Body.GetProperty(name).GetString()!;
        public override string ToString() => $"{(int)Status} {Body}";
    }

    public static async Task<Reply> PostJsonAsync(this HttpClient client, string url, object body)
    {
        using var r = await client.PostAsJsonAsync(url, body, CareWorkflowsApp.Json, TestContext.Current.CancellationToken);
        return await ReadAsync(r);
    }

    public static async Task<Reply> PostRawAsync(this HttpClient client, string url, string json)
    {
        using var r = await client.PostAsync(url, new StringContent(json, System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        return await ReadAsync(r);
    }

    public static async Task<Reply> GetJsonAsync(this HttpClient client, string url)
    {
        using var r = await client.GetAsync(url, TestContext.Current.CancellationToken);
        return await ReadAsync(r);
    }

    private static async Task<Reply> ReadAsync(HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        JsonElement body = default;
        if (text.Length > 0)
        {
            try { body = JsonDocument.Parse(text).RootElement.Clone(); }
            catch (JsonException) { body = JsonDocument.Parse(JsonSerializer.Serialize(text)).RootElement.Clone(); }
        }
        return new Reply(r.StatusCode, body);
    }

    /// <summary>Lets the dispatcher send what is pending (one simulated second), then lists what the dev channel kept.</summary>
    public static async Task<List<DevMessageDto>> SentAsync(this CareWorkflowsApp app, string? reference = null, string? to = null)
    {
        await app.AdvanceAsync(NodaTime.Duration.FromSeconds(1));
        return await app.OutboxAsync(reference, to);
    }

    /// <summary>Timeline event type names of an instance, in order.</summary>
    public static async Task<List<string>> TimelineAsync(this CareWorkflowsApp app, string reference) =>
        (await app.InstanceAsync(reference)).GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("type").GetString()!).ToList();

    /// <summary>The decisions an orchestrated instance noted on its timeline, by kind, in order (inputs, messages and start left out).</summary>
    public static async Task<List<string>> DecisionsAsync(this CareWorkflowsApp app, string reference) =>
        (await app.InstanceAsync(reference)).GetProperty("timeline").EnumerateArray()
            .Where(e => e.GetProperty("actorRole").GetString() == "System" && e.GetProperty("type").GetString() is not ("Started" or "Message" or "Completed"))
            .Select(e => e.GetProperty("type").GetString()!).ToList();

    /// <summary>Timers of an instance: name → due.</summary>
    public static async Task<Dictionary<string, string>> TimersAsync(this CareWorkflowsApp app, string reference) =>
        (await app.InstanceAsync(reference)).GetProperty("timers").EnumerateArray()
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("dueAt").GetString()!);
}
