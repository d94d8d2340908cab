using System.Text.Json;
using System.Text.Json.Nodes;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using DurableTask.Core.History;
using NodaTime;

namespace CareWorkflows.Functions.Workflows;

/// <summary>
/// An orchestrated instance's timeline, read from its own Durable Task history (no copy kept anywhere else): who
/// started it, every input with who sent it and how, every decision the orchestration noted, every message with what
/// became of it, and how it ended. Each entry is a sentence; times are shown in UK local time by the pages.
/// </summary>
public static class Timeline
{
    private static readonly Actor Workflow = new("workflow", Roles.System, DisplayName: "the workflow");

    public static IReadOnlyList<TimelineEntry> From(IList<HistoryEvent> history)
    {
        var entries = new List<TimelineEntry>();
        var scheduled = new Dictionary<int, (string Name, JsonNode? Input, int Index)>();
        foreach (var e in history)
        {
            var at = Instant.FromDateTimeUtc(DateTime.SpecifyKind(e.Timestamp, DateTimeKind.Utc));
            switch (e)
            {
                case ExecutionStartedEvent s:
                {
                    var start = Parse(s.Input);
                    var actor = ActorOf(start?["actor"]);
                    Add(entries, "Started", $"Started by {Name(actor)}.", actor, at, start?["body"]);
                    break;
                }
                case EventRaisedEvent { Name: InputEvent.EventName } r:
                {
                    var input = Parse(r.Input);
                    var actor = ActorOf(input?["actor"]);
                    var type = input?["type"]?.GetValue<string>() ?? "Input";
                    var via = input?["via"]?.GetValue<string>() ?? "api";
                    if (type == InputEvent.NoticeType) Add(entries, type, input?["body"]?["text"]?.GetValue<string>() ?? "", actor, at, null);
                    else Add(entries, type, $"{Words(type)} from {Name(actor)}{Via(via)}.", actor, at, input?["body"]);
                    break;
                }
                case EventRaisedEvent r:
                    Add(entries, r.Name, $"{Words(r.Name)} received.", Workflow, at, Parse(r.Input));
                    break;
                case TaskScheduledEvent t when t.Name == WorkflowScope.NoteActivity:
                {
                    var note = Unwrap(Parse(t.Input));
                    Add(entries, note?["kind"]?.GetValue<string>() ?? "Decision", note?["text"]?.GetValue<string>() ?? "", Workflow, at, null);
                    break;
                }
                case TaskScheduledEvent t when t.Name == WorkflowScope.SendMessageActivity:
                {
                    var send = Unwrap(Parse(t.Input));
                    var m = send?["message"];
                    var channel = m?["channel"]?.GetValue<string>()?.ToLowerInvariant() == "sms" ? "SMS" : "Email";
                    var text = $"{channel} \"{m?["subject"]?.GetValue<string>()}\" to {m?["to"]?.GetValue<string>()} ({Words(m?["purpose"]?.GetValue<string>() ?? "")}).";
                    scheduled[t.EventId] = (t.Name, send, entries.Count);
                    Add(entries, "Message", text, Workflow, at, new JsonObject { ["id"] = send?["id"]?.DeepClone(), ["purpose"] = m?["purpose"]?.DeepClone(), ["status"] = "sending" });
                    break;
                }
                case TaskCompletedEvent c when scheduled.TryGetValue(c.TaskScheduledId, out var s) && s.Name == WorkflowScope.SendMessageActivity:
                {
                    var result = Parse(c.Result);
                    var sent = result?["sent"]?.GetValue<bool>() == true;
                    Amend(entries, s.Index, sent ? $"sent via {result?["provider"]?.GetValue<string>()}" : $"not delivered: {result?["error"]?.GetValue<string>()}", sent ? "sent" : "failed");
                    break;
                }
                case TaskFailedEvent f when scheduled.TryGetValue(f.TaskScheduledId, out var s) && s.Name == WorkflowScope.SendMessageActivity:
                    Amend(entries, s.Index, $"attempt failed: {f.FailureDetails?.ErrorMessage ?? f.Reason}", "retrying");
                    break;
                case ExecutionTerminatedEvent x:
                {
                    var cancel = Parse(x.Input);
                    var actor = ActorOf(cancel?["by"]);
                    Add(entries, "Cancelled", $"Cancelled by {Name(actor)}. Reason: {cancel?["reason"]?.GetValue<string>() ?? "none given"}", actor, at, null);
                    break;
                }
                case ExecutionCompletedEvent done when done.OrchestrationStatus == DurableTask.Core.OrchestrationStatus.Failed:
                    Add(entries, "Failed", $"Stopped by an error: {done.FailureDetails?.ErrorMessage ?? done.Result}", Workflow, at, null);
                    break;
                case ExecutionCompletedEvent done when done.OrchestrationStatus == DurableTask.Core.OrchestrationStatus.Completed:
                    Add(entries, "Completed", "Completed.", Workflow, at, null);
                    break;
            }
        }
        return entries;
    }

    private static void Add(List<TimelineEntry> entries, string type, string text, Actor actor, Instant at, JsonNode? data)
    {
        var obj = new JsonObject { ["text"] = text };
        if (data is not null) obj["data"] = data.DeepClone();
        entries.Add(new TimelineEntry(entries.Count + 1, type, obj.ToJsonString(), actor.DisplayName ?? actor.Id, actor.Role, at));
    }

    private static void Amend(List<TimelineEntry> entries, int index, string outcome, string status)
    {
        var e = entries[index];
        var obj = JsonNode.Parse(e.Data)!.AsObject();
        var text = obj["text"]!.GetValue<string>();
        obj["text"] = text.EndsWith(").", StringComparison.Ordinal) || text.EndsWith('.') ? text[..^1] + $": {outcome}." : text + $" {outcome}.";
        if (obj["data"] is JsonObject data) data["status"] = status;
        entries[index] = e with { Data = obj.ToJsonString() };
    }

    private static JsonNode? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try { return JsonNode.Parse(json); }
        catch (JsonException) { return JsonValue.Create(json); }
    }

    /// <summary>Activity inputs may arrive wrapped in a one-element array.</summary>
    private static JsonNode? Unwrap(JsonNode? node) => node is JsonArray { Count: 1 } a ? a[0] : node;

    private static Actor ActorOf(JsonNode? node)
    {
        if (node is not JsonObject o) return new Actor("unknown", Roles.System);
        return new Actor(o["id"]?.GetValue<string>() ?? "unknown", o["role"]?.GetValue<string>() ?? Roles.System, o["providerId"]?.GetValue<string>(), o["displayName"]?.GetValue<string>());
    }

    private static string Name(Actor a) => $"{a.DisplayName ?? a.Id} ({Words(a.Role)})";

    private static string Via(string via) => via switch
    {
        "link" => " by signed link",
        "sms" => " by SMS reply",
        "email" => " by email reply",
        "page" => " on the instance page",
        _ => "",
    };

    /// <summary>"ReminderSent" → "reminder sent"; "SeniorCareManager" → "senior care manager".</summary>
    public static string Words(string name)
    {
        if (string.IsNullOrEmpty(name)) return name;
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c is '-' or '_') { sb.Append(' '); continue; }
            if (i > 0 && char.IsUpper(c) && !char.IsUpper(name[i - 1])) sb.Append(' ');
            sb.Append(i == 0 ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
