using CareWorkflows.TaskHub.Store;
using Google.Protobuf.WellKnownTypes;
using NodaTime;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.TaskHub.Engine;

/// <summary>
/// One orchestration step, both halves, as pure functions: what the worker is sent (<see cref="Request"/>) and what its
/// answer writes (<see cref="Plan"/>). No I/O: the dispatcher claims and commits around them.
/// </summary>
public static class OrchestrationStep
{
    /// <summary>The error type the SDK reports when replay does not match history.</summary>
    public const string NonDeterminismError = "DurableTask.Core.Exceptions.NonDeterministicOrchestrationException";

    /// <summary>
    /// The step's time: the clock, but never before the previous step or a timer being delivered, so an orchestration's
    /// <c>CurrentUtcDateTime</c> never goes back and a timer is never seen to fire before its time.
    /// </summary>
    public static Instant StepTime(OrchestrationWorkItem item, Instant now)
    {
        var t = now;
        if (item.LastStepAt is { } last && last > t) t = last;
        foreach (var m in item.Messages)
            if (m.Event.TimerFired?.FireAt is { } fireAt && fireAt.ToDateTimeOffset() is var f && Instant.FromDateTimeOffset(f) > t)
                t = Instant.FromDateTimeOffset(f);
        return t;
    }

    /// <summary>
    /// The messages a step delivers, in order: a new execution's <c>ExecutionStarted</c> first (ContinueAsNew puts it
    /// after events the old execution carried over), then the rest as they arrived. Messages for an execution that is
    /// no longer current (a timer or result from before ContinueAsNew) are consumed without being delivered.
    /// </summary>
    public static (IReadOnlyList<InboxMessage> Deliver, IReadOnlyList<InboxMessage> Discard) Sort(OrchestrationWorkItem item)
    {
        var deliver = new List<InboxMessage>();
        var discard = new List<InboxMessage>();
        foreach (var m in item.Messages)
        {
            if (m.ExecutionId is not null && m.ExecutionId != item.ExecutionId) discard.Add(m);
            else if (m.Event.ExecutionStarted is not null && item.History.Count > 0) discard.Add(m); // a duplicate start
            else deliver.Add(m);
        }
        var start = deliver.FindIndex(m => m.Event.ExecutionStarted is not null);
        if (start > 0)
        {
            var s = deliver[start];
            deliver.RemoveAt(start);
            deliver.Insert(0, s);
        }
        return (deliver, discard);
    }

    /// <summary>True when the step has something for the orchestrator (it has started, or its start is among the messages).</summary>
    public static bool CanRun(OrchestrationWorkItem item, IReadOnlyList<InboxMessage> deliver) =>
        deliver.Count > 0 && (item.History.Count > 0 || deliver[0].Event.ExecutionStarted is not null);

    public static P.OrchestratorRequest Request(OrchestrationWorkItem item, IReadOnlyList<InboxMessage> deliver, Instant stepAt)
    {
        var request = new P.OrchestratorRequest { InstanceId = item.InstanceId, ExecutionId = item.ExecutionId };
        request.PastEvents.AddRange(item.History);
        request.NewEvents.Add(new P.HistoryEvent { EventId = -1, Timestamp = Ts(stepAt), OrchestratorStarted = new P.OrchestratorStartedEvent() });
        foreach (var m in deliver) request.NewEvents.Add(m.Event);
        return request;
    }

    /// <summary>
    /// Turns the worker's answer into the step's writes: history appended, messages consumed, the instance row, and what
    /// each action produces (activity tasks, timer messages, events, sub-orchestrations, results to a parent).
    /// </summary>
    public static StepCommit Plan(OrchestrationWorkItem item, IReadOnlyList<InboxMessage> deliver, IReadOnlyList<InboxMessage> discard,
        P.OrchestratorResponse response, Instant stepAt, Func<string> newExecutionId)
    {
        var newEvents = Request(item, deliver, stepAt).NewEvents.ToList();
        var consumed = deliver.Select(m => m.Id).Concat(discard.Select(m => m.Id)).ToList();
        var delivered = deliver;
        if (response.NumEventsProcessed is { } processed && processed >= 1 && processed < newEvents.Count)
        {
            // The worker processed only the first events (OrchestratorStarted counts as one): the rest wait for the next step.
            newEvents = newEvents.Take(processed).ToList();
            delivered = deliver.Take(processed - 1).ToList();
            consumed = delivered.Select(m => m.Id).Concat(discard.Select(m => m.Id)).ToList();
        }

        var all = item.History.Concat(newEvents).ToList();
        var started = all.FirstOrDefault(e => e.ExecutionStarted is not null)?.ExecutionStarted;
        var appended = new List<P.HistoryEvent>(newEvents);
        var tasks = new List<NewTask>();
        var messages = new List<OutgoingMessage>();
        var children = new List<NewChild>();
        var ts = Ts(stepAt);

        var actions = response.Actions.ToList();
        var completion = actions.FirstOrDefault(a => a.CompleteOrchestration is not null)?.CompleteOrchestration;
        var completes = completion is not null && completion.OrchestrationStatus != P.OrchestrationStatus.ContinuedAsNew;
        // A replay that did not match history: the worker fails the orchestration and may send actions beside it that came
        // from the mismatched code. Only the failure is kept.
        if (completes && completion!.FailureDetails?.ErrorType == NonDeterminismError)
            actions = actions.Where(a => a.CompleteOrchestration is not null).ToList();

        foreach (var action in actions)
        {
            switch (action.OrchestratorActionTypeCase)
            {
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask:
                {
                    var a = action.ScheduleTask;
                    appended.Add(new P.HistoryEvent
                    {
                        EventId = action.Id, Timestamp = ts,
                        TaskScheduled = new P.TaskScheduledEvent { Name = a.Name, Version = a.Version, Input = a.Input, ParentTraceContext = a.ParentTraceContext, Tags = { a.Tags } },
                    });
                    // Dispatched even when the step also ends the orchestration (as DurableTask.Core does): a message sent on
                    // the way out still goes; its result is dropped, the instance having ended.
                    tasks.Add(new NewTask(item.InstanceId, item.ExecutionId, action.Id, new P.ActivityRequest
                        {
                            Name = a.Name, Version = a.Version, Input = a.Input, TaskId = action.Id, ParentTraceContext = a.ParentTraceContext, Tags = { a.Tags },
                            OrchestrationInstance = new P.OrchestrationInstance { InstanceId = item.InstanceId, ExecutionId = item.ExecutionId },
                        }, stepAt));
                    break;
                }
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer:
                {
                    var fireAt = action.CreateTimer.FireAt ?? ts;
                    appended.Add(new P.HistoryEvent { EventId = action.Id, Timestamp = ts, TimerCreated = new P.TimerCreatedEvent { FireAt = fireAt } });
                    if (!completes)
                        messages.Add(new OutgoingMessage(item.InstanceId, item.ExecutionId, Instant.FromDateTimeOffset(fireAt.ToDateTimeOffset()),
                            new P.HistoryEvent { EventId = -1, Timestamp = fireAt, TimerFired = new P.TimerFiredEvent { TimerId = action.Id, FireAt = fireAt } },
                            Delivery.Self));
                    break;
                }
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent:
                {
                    var a = action.SendEvent;
                    var target = a.Instance?.InstanceId ?? "";
                    appended.Add(new P.HistoryEvent { EventId = action.Id, Timestamp = ts, EventSent = new P.EventSentEvent { InstanceId = target, Name = a.Name, Input = a.Data } });
                    if (target.Length > 0)
                        messages.Add(new OutgoingMessage(target, null, stepAt,
                            new P.HistoryEvent { EventId = -1, Timestamp = ts, EventRaised = new P.EventRaisedEvent { Name = a.Name, Input = a.Data } }, Delivery.IfActive));
                    break;
                }
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration:
                {
                    var a = action.CreateSubOrchestration;
                    var childId = string.IsNullOrEmpty(a.InstanceId) ? Guid.NewGuid().ToString("N") : a.InstanceId;
                    appended.Add(new P.HistoryEvent
                    {
                        EventId = action.Id, Timestamp = ts,
                        SubOrchestrationInstanceCreated = new P.SubOrchestrationInstanceCreatedEvent
                        {
                            InstanceId = childId, Name = a.Name, Version = a.Version, Input = a.Input, ParentTraceContext = a.ParentTraceContext, Tags = { a.Tags },
                        },
                    });
                    var childExecution = newExecutionId();
                    var childStart = new P.HistoryEvent
                    {
                        EventId = -1, Timestamp = ts,
                        ExecutionStarted = new P.ExecutionStartedEvent
                        {
                            Name = a.Name, Version = a.Version, Input = a.Input, ParentTraceContext = a.ParentTraceContext, Tags = { a.Tags },
                            OrchestrationInstance = new P.OrchestrationInstance { InstanceId = childId, ExecutionId = childExecution },
                            ParentInstance = new P.ParentInstanceInfo
                            {
                                TaskScheduledId = action.Id, Name = item.Name, Version = started?.Version,
                                OrchestrationInstance = new P.OrchestrationInstance { InstanceId = item.InstanceId, ExecutionId = item.ExecutionId },
                            },
                        },
                    };
                    var failure = new OutgoingMessage(item.InstanceId, item.ExecutionId, stepAt, new P.HistoryEvent
                    {
                        EventId = -1, Timestamp = ts,
                        SubOrchestrationInstanceFailed = new P.SubOrchestrationInstanceFailedEvent
                        {
                            TaskScheduledId = action.Id,
                            FailureDetails = new P.TaskFailureDetails
                            {
                                ErrorType = "OrchestrationAlreadyExists", IsNonRetriable = true,
                                ErrorMessage = $"A sub-orchestration with instance id '{childId}' is already running.",
                            },
                        },
                    }, Delivery.Self);
                    children.Add(new NewChild(new NewInstance(childId, childExecution, a.Name, a.Version, a.Input, stepAt, null, item.InstanceId,
                        a.Tags.Count > 0 ? new Dictionary<string, string>(a.Tags) : null, childStart), failure));
                    break;
                }
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.TerminateOrchestration:
                {
                    var a = action.TerminateOrchestration;
                    if (!string.IsNullOrEmpty(a.InstanceId))
                        messages.Add(new OutgoingMessage(a.InstanceId, null, stepAt,
                            new P.HistoryEvent { EventId = -1, Timestamp = ts, ExecutionTerminated = new P.ExecutionTerminatedEvent { Input = a.Reason, Recurse = a.Recurse } },
                            Delivery.IfActive));
                    break;
                }
                case P.OrchestratorAction.OrchestratorActionTypeOneofCase.CompleteOrchestration:
                    break; // below, after every other action
                default:
                    // Entity messages and rewinds are not supported by this server (entities answer Unimplemented).
                    break;
            }
        }

        var status = RuntimeStatus(all, item.Status);
        if (completion is not null && completion.OrchestrationStatus == P.OrchestrationStatus.ContinuedAsNew)
        {
            // ContinueAsNew: the history restarts with a new execution. Its ExecutionStarted and the carried-over events go
            // to the inbox (events the SDK re-sends to itself arrive as SendEvent actions above, so nothing is lost);
            // the old execution's timers, results and tasks are dropped.
            var execution = newExecutionId();
            var version = completion.NewVersion ?? started?.Version;
            var start = new P.HistoryEvent
            {
                EventId = -1, Timestamp = ts,
                ExecutionStarted = new P.ExecutionStartedEvent
                {
                    Name = item.Name, Version = version, Input = completion.Result, ParentInstance = started?.ParentInstance,
                    ParentTraceContext = started?.ParentTraceContext, Tags = { completion.Tags.Count > 0 ? completion.Tags : started?.Tags ?? [] },
                    OrchestrationInstance = new P.OrchestrationInstance { InstanceId = item.InstanceId, ExecutionId = execution },
                },
            };
            // Self-addressed events from this step were written as IfActive with no execution: they survive the reset.
            var outgoing = new List<OutgoingMessage> { new(item.InstanceId, null, stepAt, start, Delivery.Self) };
            outgoing.AddRange(messages.Where(m => m.Delivery != Delivery.Self || m.InstanceId != item.InstanceId));
            outgoing.AddRange(completion.CarryoverEvents.Select(e => new OutgoingMessage(item.InstanceId, null, stepAt, e, Delivery.Self)));
            return new StepCommit(item.InstanceId, item.LockToken, consumed, ResetHistory: true, HistoryStart: 0, AppendHistory: [],
                new InstanceUpdate(execution, P.OrchestrationStatus.Running, stepAt, null, null, response.CustomStatus, null,
                    NewExecution: true, Input: completion.Result, Version: version, HistoryCount: 0, StepAt: stepAt),
                Tasks: [], outgoing, children, DropExecutionId: item.ExecutionId, DropAllMessages: false);
        }

        Instant? completedAt = null;
        string? output = null;
        P.TaskFailureDetails? failureDetails = null;
        if (completes)
        {
            appended.Add(new P.HistoryEvent
            {
                EventId = -1, Timestamp = ts,
                ExecutionCompleted = new P.ExecutionCompletedEvent { OrchestrationStatus = completion!.OrchestrationStatus, Result = completion.Result, FailureDetails = completion.FailureDetails },
            });
            status = completion.OrchestrationStatus;
            completedAt = stepAt;
            output = completion.Result;
            failureDetails = completion.FailureDetails;
            if (started?.ParentInstance?.OrchestrationInstance is { } parent)
            {
                var toParent = status == P.OrchestrationStatus.Completed
                    ? new P.HistoryEvent { EventId = -1, Timestamp = ts, SubOrchestrationInstanceCompleted = new P.SubOrchestrationInstanceCompletedEvent { TaskScheduledId = started.ParentInstance.TaskScheduledId, Result = completion.Result } }
                    : new P.HistoryEvent
                    {
                        EventId = -1, Timestamp = ts,
                        SubOrchestrationInstanceFailed = new P.SubOrchestrationInstanceFailedEvent
                        {
                            TaskScheduledId = started.ParentInstance.TaskScheduledId,
                            FailureDetails = completion.FailureDetails ?? new P.TaskFailureDetails { ErrorType = "OrchestrationTerminated", ErrorMessage = $"Sub-orchestration '{item.InstanceId}' ended as {status}.", IsNonRetriable = true },
                        },
                    };
                messages.Add(new OutgoingMessage(parent.InstanceId, parent.ExecutionId, stepAt, toParent, Delivery.IfActive));
            }
        }
        appended.Add(new P.HistoryEvent { EventId = -1, Timestamp = ts, OrchestratorCompleted = new P.OrchestratorCompletedEvent() });

        return new StepCommit(item.InstanceId, item.LockToken, consumed, ResetHistory: false, HistoryStart: item.HistoryCount, appended,
            new InstanceUpdate(item.ExecutionId, status, stepAt, completedAt, output, response.CustomStatus, failureDetails,
                NewExecution: false, Input: null, Version: null, HistoryCount: item.HistoryCount + appended.Count, StepAt: stepAt),
            tasks, messages, children, DropExecutionId: completes ? item.ExecutionId : null, DropAllMessages: completes);
    }

    /// <summary>Runtime status from history: not started → Pending; suspended (last of suspend/resume) → Suspended; else Running.</summary>
    public static P.OrchestrationStatus RuntimeStatus(IEnumerable<P.HistoryEvent> history, P.OrchestrationStatus current)
    {
        var startedSeen = false;
        var suspended = false;
        foreach (var e in history)
        {
            if (e.ExecutionStarted is not null) startedSeen = true;
            else if (e.ExecutionSuspended is not null) suspended = true;
            else if (e.ExecutionResumed is not null) suspended = false;
            else if (e.ExecutionCompleted is not null) return e.ExecutionCompleted.OrchestrationStatus;
        }
        if (!startedSeen) return current;
        return suspended ? P.OrchestrationStatus.Suspended : P.OrchestrationStatus.Running;
    }

    public static Timestamp Ts(Instant i) => Timestamp.FromDateTimeOffset(i.ToDateTimeOffset());
}
