using CareWorkflows.Definitions;
using CareWorkflows.Functions.Extensions;
using Google.Protobuf;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Grpc;
using Microsoft.Extensions.DependencyInjection;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.Tests.Versioning;

/// <summary>
/// Replays a recorded orchestration history against the orchestrator code of today, step by step, through Microsoft's
/// own replay engine (<see cref="GrpcOrchestrationRunner"/>, what Durable Functions uses): each step is given the history
/// before it and the events it received, and must decide exactly the actions it decided when it was recorded. A change
/// that would break an instance already running (a six-week referral) makes a step decide differently, or fail with
/// the SDK's non-determinism error.
/// </summary>
public static class HistoryReplay
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    public static string ToJson(IEnumerable<P.HistoryEvent> history) =>
        "[\n" + string.Join(",\n", history.Select(e => Formatter.Format(e))) + "\n]\n";

    public static IReadOnlyList<P.HistoryEvent> FromJson(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        return doc.RootElement.EnumerateArray().Select(e => Parser.Parse<P.HistoryEvent>(e.GetRawText())).ToList();
    }

    /// <summary>Today's orchestrator class for an orchestration name (its [DurableTask] name), as the worker registers it.</summary>
    public static ITaskOrchestrator Orchestrator(string name, string? version)
    {
        var type = typeof(WorkflowScope).Assembly.GetTypes()
            .FirstOrDefault(t => typeof(ITaskOrchestrator).IsAssignableFrom(t) && !t.IsAbstract &&
                                 t.GetCustomAttributes(typeof(DurableTaskAttribute), false).OfType<DurableTaskAttribute>().Any(a => a.Name.Name == name))
            ?? throw new InvalidOperationException($"No orchestrator {name} (version {version}) exists today: an instance of it could not finish.");
        return (ITaskOrchestrator)Activator.CreateInstance(type)!;
    }

    private static bool IsAction(P.HistoryEvent e) => e.EventTypeCase is
        P.HistoryEvent.EventTypeOneofCase.TaskScheduled or P.HistoryEvent.EventTypeOneofCase.TimerCreated or
        P.HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCreated or P.HistoryEvent.EventTypeOneofCase.EventSent or
        P.HistoryEvent.EventTypeOneofCase.ExecutionCompleted;

    /// <summary>
    /// What one action decides, as replay depends on it: its kind, id and name, and a timer's fire time (a deadline).
    /// An activity's input (a message's wording) may change without breaking a running instance, so it is not compared.
    /// </summary>
    private static string Describe(P.HistoryEvent e) => e.EventTypeCase switch
    {
        P.HistoryEvent.EventTypeOneofCase.TaskScheduled => $"#{e.EventId} activity {e.TaskScheduled.Name}",
        P.HistoryEvent.EventTypeOneofCase.TimerCreated => $"#{e.EventId} timer {e.TimerCreated.FireAt.ToDateTime():O}",
        P.HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCreated => $"#{e.EventId} sub-orchestration {e.SubOrchestrationInstanceCreated.Name}",
        P.HistoryEvent.EventTypeOneofCase.EventSent => $"#{e.EventId} event {e.EventSent.Name} to {e.EventSent.InstanceId}",
        P.HistoryEvent.EventTypeOneofCase.ExecutionCompleted => $"completed {e.ExecutionCompleted.OrchestrationStatus}",
        _ => e.EventTypeCase.ToString(),
    };

    private static string Describe(P.OrchestratorAction a) => a.OrchestratorActionTypeCase switch
    {
        P.OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask => $"#{a.Id} activity {a.ScheduleTask.Name}",
        P.OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer => $"#{a.Id} timer {a.CreateTimer.FireAt.ToDateTime():O}",
        P.OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration => $"#{a.Id} sub-orchestration {a.CreateSubOrchestration.Name}",
        P.OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent => $"#{a.Id} event {a.SendEvent.Name} to {a.SendEvent.Instance?.InstanceId}",
        P.OrchestratorAction.OrchestratorActionTypeOneofCase.CompleteOrchestration => $"completed {a.CompleteOrchestration.OrchestrationStatus}",
        _ => a.OrchestratorActionTypeCase.ToString(),
    };

    /// <summary>Replays every step; returns how many were checked. Throws with the step and both decisions when one differs.</summary>
    public static int ReplayEveryStep(string instanceId, IReadOnlyList<P.HistoryEvent> history)
    {
        var started = history.First(e => e.ExecutionStarted is not null).ExecutionStarted;
        var orchestrator = Orchestrator(started.Name, started.Version);
        // The runner builds its shim factory from the services: it takes the worker options (our DataConverter) from there.
        var services = new ServiceCollection().AddLogging()
            .AddSingleton(new DurableTaskWorkerOptions { DataConverter = DurableTaskHosting.Converter }).BuildServiceProvider();
        var stepStarts = history.Select((e, i) => (e, i)).Where(x => x.e.OrchestratorStarted is not null).Select(x => x.i).ToList();
        for (var s = 0; s < stepStarts.Count; s++)
        {
            var from = stepStarts[s];
            var to = s + 1 < stepStarts.Count ? stepStarts[s + 1] : history.Count;
            var step = history.Skip(from).Take(to - from).ToList();
            var request = new P.OrchestratorRequest { InstanceId = instanceId, ExecutionId = started.OrchestrationInstance?.ExecutionId };
            request.PastEvents.AddRange(history.Take(from));
            request.NewEvents.AddRange(step.Where(e => !IsAction(e) && e.OrchestratorCompleted is null));
            var response = P.OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(
                GrpcOrchestrationRunner.LoadAndRun(Convert.ToBase64String(request.ToByteArray()), orchestrator, services)));
            var recorded = step.Where(IsAction).Select(Describe).ToList();
            var now = response.Actions.Select(Describe).ToList();
            if (!recorded.SequenceEqual(now))
                throw new InvalidOperationException(
                    $"Step {s + 1} of {instanceId} ({started.Name} v{started.Version}) decides differently today.\n" +
                    $"Recorded:\n  {string.Join("\n  ", recorded)}\nToday:\n  {string.Join("\n  ", now)}\nResponse: {Formatter.Format(response)}");
        }
        return stepStarts.Count;
    }
}
