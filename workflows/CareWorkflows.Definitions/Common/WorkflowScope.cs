using CareWorkflows.Definitions;
using System.Text.Json;
using Microsoft.DurableTask;
using NodaTime;

namespace CareWorkflows.Definitions;

/// <summary>What woke an orchestration waiting in <see cref="WorkflowScope.NextAsync"/>: a person's input, or a deadline.</summary>
public abstract record Next;

/// <summary>A person's input, read into the workflow's input record.</summary>
public sealed record Received(InputEvent Event, WorkflowInput Input) : Next
{
    public Actor Actor => Event.Actor;
}

/// <summary>A deadline came (its timer fired).</summary>
public sealed record DeadlineReached(Deadline Deadline) : Next;

/// <summary>A message could not be delivered (refused for good, or still failing after every retry).</summary>
public sealed record Undelivered(MessageResult Message) : Next;

/// <summary>
/// A named point in time an orchestration waits for, as a durable timer created once and kept across waits (so waiting
/// again does not create a new timer). Moving it cancels the old timer and makes a new one.
/// </summary>
public sealed class Deadline(string name, Instant at)
{
    private CancellationTokenSource? _cancel;

    public string Name { get; } = name;
    public Instant At { get; } = at;
    public bool Reached { get; internal set; }
    public bool Cancelled { get; private set; }
    /// <summary>Still to come: neither reached nor cancelled.</summary>
    public bool Pending => !Reached && !Cancelled;
    internal Task? Timer { get; private set; }

    internal Task Arm(TaskOrchestrationContext context)
    {
        if (Timer is not null) return Timer;
        _cancel = new CancellationTokenSource();
        Timer = context.CreateTimer(At.ToDateTimeUtc(), _cancel.Token);
        return Timer;
    }

    /// <summary>No longer waited for: its timer is cancelled (when it fires later, nothing happens).</summary>
    public void Cancel()
    {
        Cancelled = true;
        _cancel?.Cancel();
    }
}

/// <summary>A message's fate: sent (with the provider's id) or failed for good.</summary>
public sealed record MessageResult(Guid Id, string Purpose, string To, bool Sent, string? Provider, string? ProviderMessageId, string? Error);

/// <summary>The input of the SendMessage activity.</summary>
public sealed record MessageToSend(string Reference, Guid Id, OutboundMessage Message);

/// <summary>A line for the timeline: a decision the orchestration took, in words, and its kind (the Note activity records it).</summary>
public sealed record TimelineNote(string Text, string Kind);

/// <summary>A deadline an instance waits for, as published.</summary>
public sealed record DueTimer(string Name, Instant At);

/// <summary>
/// The common work of every care workflow's orchestration, so each orchestrator reads as its process: waiting for the
/// next input or deadline, answering the sender of each input, publishing where it is (custom status), sending
/// messages and recording decisions (through activities). Time only from the context; nothing from outside but the
/// start input and activity results.
/// </summary>
public sealed class WorkflowScope(TaskOrchestrationContext context, string type, WorkflowSetup setup, InputTypes inputs)
{
    /// <summary>Activity names shared by every workflow.</summary>
    public const string SendMessageActivity = "SendMessage", NoteActivity = "Note";

    private readonly Dictionary<string, InputOutcome> _handled = new(StringComparer.Ordinal);
    private readonly List<InputOutcome> _outcomes = [];
    private Task<InputEvent>? _input;
    private readonly List<(Task Task, OutboundMessage? Message)> _background = [];
    private WorkflowStatus _status = new(type, "Starting", false, "", null, [], []);

    public TaskOrchestrationContext Context => context;
    public string Reference => context.InstanceId;
    public WorkflowSetup Setup { get; private set; } = setup;
    public PolicySettings Policy => Setup.PolicySettings;
    public Contacts Contacts => Setup.ContactBook;
    public WorkingCalendar Calendar => _calendar ??= Setup.Calendar;
    private WorkingCalendar? _calendar;

    /// <summary>Now, as the orchestration sees it (the same on every replay).</summary>
    public Instant Now => Instant.FromDateTimeUtc(DateTime.SpecifyKind(context.CurrentUtcDateTime, DateTimeKind.Utc));

    /// <summary>How many times a message is tried before it counts as undelivered.</summary>
    public const int MessageAttempts = 5;

    /// <summary>
    /// Retries of a message send (Outbox:MaxAttempts, BaseDelaySeconds, MaxDelaySeconds; default 5 tries, 5 s doubling
    /// to 15 min): transient failures back off; a permanent one comes back at once.
    /// </summary>
    public TaskOptions MessageRetry => new(new TaskRetryOptions(new RetryPolicy(
        Math.Max(1, Policy.Int("Outbox:MaxAttempts", MessageAttempts)),
        TimeSpan.FromSeconds(Policy.Decimal("Outbox:BaseDelaySeconds", 5) is var b and > 0 ? (double)b : 5), 2.0,
        TimeSpan.FromSeconds(Policy.Decimal("Outbox:MaxDelaySeconds", 900) is var m and > 0 ? (double)m : 900))));

    public Deadline Deadline(string name, Instant at) => new(name, at);

    /// <summary>
    /// Waits for the next input, the first of <paramref name="deadlines"/> to come, or a message failing. Messages and
    /// notes go on in the background meanwhile, so an input is never kept waiting behind a send's retries. A resent
    /// input (an id already answered) is answered again with its first outcome and not returned; an input this workflow
    /// does not take is refused (422) and not returned.
    /// </summary>
    public async Task<Next> NextAsync(params Deadline?[] deadlines)
    {
        while (true)
        {
            _input ??= context.WaitForExternalEvent<InputEvent>(InputEvent.EventName);
            var timers = deadlines.Where(d => d is { Pending: true }).Select(d => (Deadline: d!, Task: d!.Arm(context))).ToList();
            var first = await Task.WhenAny(timers.Select(t => t.Task).Concat(_background.Select(b => b.Task)).Prepend(_input));
            if (_background.FindIndex(b => b.Task == first) is var done and >= 0)
            {
                var (task, message) = _background[done];
                _background.RemoveAt(done);
                if (message is not null && Fate(task, message) is { Sent: false } failed) return new Undelivered(failed);
                continue;
            }
            if (first != _input)
            {
                var reached = timers.First(t => t.Task == first).Deadline;
                reached.Reached = true;
                return new DeadlineReached(reached);
            }
            var e = _input.Result;
            _input = null;
            if (_handled.TryGetValue(e.Id, out var earlier))
            {
                Publish(earlier);
                continue;
            }
            if (e.Type == InputEvent.NoticeType) continue; // on the timeline by being in the history; nothing to do

            if (inputs.Read(e) is not { } input)
            {
                Answer(e, 422, "The request is not valid", $"{e.Type} is not an input {Reference} takes, or its content could not be read.");
                continue;
            }
            return new Received(e, input);
        }
    }

    /// <summary>Waits for every message and note still going (before the orchestration ends). Returns the messages that failed.</summary>
    public async Task<IReadOnlyList<MessageResult>> DrainAsync()
    {
        var failed = new List<MessageResult>();
        while (_background.Count > 0)
        {
            var (task, message) = _background[0];
            _background.RemoveAt(0);
            try { await task; } catch (TaskFailedException) { }
            if (message is not null && Fate(task, message) is { Sent: false } f) failed.Add(f);
        }
        return failed;
    }

    private static MessageResult Fate(Task task, OutboundMessage message) => task switch
    {
        Task<MessageResult> { IsCompletedSuccessfully: true } t => t.Result,
        { Exception: { } e } => new MessageResult(Guid.Empty, message.Purpose, message.To, false, null, null,
            e.InnerException is TaskFailedException tf ? tf.FailureDetails.ErrorMessage : e.InnerException?.Message),
        _ => new MessageResult(Guid.Empty, message.Purpose, message.To, false, null, null, "cancelled"),
    };

    /// <summary>Answers an input: accepted (2xx) or refused (403/409/422).</summary>
    public InputOutcome Answer(InputEvent e, int status, string title, string? detail = null, object? result = null) => Answer(e.Id, status, title, detail, result);

    /// <summary>Answers the input that started the instance (its id is the start request's idempotency key).</summary>
    public InputOutcome Answer(string inputId, int status, string title, string? detail = null, object? result = null)
    {
        var outcome = new InputOutcome(inputId, status, title, detail, Now, result is null ? null : JsonSerializer.Serialize(result, WorkflowJson.Options));
        _handled[inputId] = outcome;
        Publish(outcome);
        return outcome;
    }

    public InputOutcome Accept(Received r, string title = "Recorded", object? result = null) => Answer(r.Event, 200, title, null, result);

    /// <summary>Refuses an input that the instance cannot take now (a race the API's checks could not see): answered and on the timeline.</summary>
    public void Refuse(Received r, Rejection rejection)
    {
        Answer(r.Event, (int)rejection.Kind, rejection.Title, rejection.Detail);
        Note($"Refused {Describe(r)}: {rejection.Detail}", "InputRefused");
    }

    private static string Describe(Received r) => $"{r.Event.Type} from {r.Actor.DisplayName ?? r.Actor.Id} ({r.Actor.Role})";

    /// <summary>
    /// Publishes where the instance is (custom status): its status, summary, open asks, view and the deadlines still to
    /// come (the earliest is "next due"); the latest input outcomes go with it.
    /// </summary>
    public void Publish(string status, bool completed, string summary, IReadOnlyList<OpenAsk> asks, object? view, params Deadline?[] deadlines)
    {
        var pending = deadlines.Where(d => d is { Pending: true }).Select(d => new DueTimer(d!.Name, d.At)).OrderBy(t => t.At).ToList();
        _status = _status with
        {
            Status = status, Completed = completed, Summary = summary, NextDueAt = pending.Count > 0 ? pending[0].At : null, Asks = asks, Timers = pending,
            View = view is null ? null : JsonSerializer.SerializeToElement(view, view.GetType(), WorkflowJson.Options),
        };
        context.SetCustomStatus(_status with { Outcomes = _outcomes.ToList() });
    }

    private void Publish(InputOutcome outcome)
    {
        _outcomes.RemoveAll(o => o.Id == outcome.Id);
        _outcomes.Add(outcome);
        if (_outcomes.Count > WorkflowStatus.KeptOutcomes) _outcomes.RemoveAt(0);
        context.SetCustomStatus(_status with { Outcomes = _outcomes.ToList() });
    }

    /// <summary>
    /// Sends messages, each through the SendMessage activity with retries, in the background: a failure comes back from
    /// <see cref="NextAsync"/> (or <see cref="DrainAsync"/>) as <see cref="Undelivered"/> for the orchestration to act on.
    /// </summary>
    public void Send(IEnumerable<OutboundMessage> messages)
    {
        foreach (var m in messages)
            _background.Add((context.CallActivityAsync<MessageResult>(SendMessageActivity, new MessageToSend(Reference, context.NewGuid(), m), MessageRetry), m));
    }

    public void Send(params OutboundMessage[] messages) => Send((IEnumerable<OutboundMessage>)messages);

    /// <summary>Records a decision on the timeline, in words (<paramref name="kind"/> names it, e.g. "ReminderSent").</summary>
    public void Note(string text, string kind) => _background.Add((context.CallActivityAsync(NoteActivity, new TimelineNote(text, kind)), null));

    /// <summary>Reads the setup again (after an operator loaded newer calendar data, say); the result is in the history.</summary>
    public async Task RefreshSetupAsync()
    {
        Setup = await context.CallActivityAsync<WorkflowSetup>(ReadSetupActivity, Reference);
        _calendar = null;
    }

    public const string ReadSetupActivity = "ReadSetup", CalendarHoldActivity = "HoldForCalendar", PublishActivity = "PublishIntegrationEvent";

    /// <summary>
    /// Publishes an integration fact (e.g. "concern.overdue") in the background, retried like a message; its idempotency
    /// key (reference, name, occurrence) makes the repeats of one publication one message for consumers.
    /// </summary>
    public void Publish(string name, string outcome, int occurrence = 1, IReadOnlyDictionary<string, Instant>? times = null) =>
        _background.Add((context.CallActivityAsync(PublishActivity, new IntegrationFact(Reference, name, outcome, Now, occurrence, times), MessageRetry), null));

    /// <summary>How long a deadline held for calendar data waits before looking for newer data again.</summary>
    public static readonly Duration CalendarRetry = Duration.FromMinutes(5);

    /// <summary>
    /// Works out a date from the working-day calendar. Beyond the loaded bank-holiday data it never guesses: operators
    /// are told the deadline is held (and the timeline says so), and it looks again for newer data every few minutes
    /// (an operator may load a newer GOV.UK file on any node) until the date can be worked out.
    /// </summary>
    public async Task<T> WithCalendarAsync<T>(string deadline, Func<WorkingCalendar, T> compute)
    {
        var held = false;
        while (true)
        {
            try
            {
                var result = compute(Calendar);
                if (held) await context.CallActivityAsync(CalendarHoldActivity, new CalendarHold(Reference, deadline, null));
                return result;
            }
            catch (CalendarOutOfRangeException e)
            {
                if (!held) Note($"The {deadline} date needs {e.Date:yyyy-MM-dd}, beyond the bank-holiday data: held until newer data is loaded.", "CalendarDataMissing");
                held = true;
                await context.CallActivityAsync(CalendarHoldActivity, new CalendarHold(Reference, deadline, e.Date));
                await context.CreateTimer((Now + CalendarRetry).ToDateTimeUtc(), CancellationToken.None);
                await RefreshSetupAsync();
            }
        }
    }
}
