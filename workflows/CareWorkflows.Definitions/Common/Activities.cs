using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace CareWorkflows.Definitions;

/// <summary>
/// Sends one message through the channel configured for its kind (email, SMS), signing the links it asks for. The
/// edges implement it (channels, message log). A transient failure throws (the orchestration's retry policy tries
/// again); a permanent one (bad address, refused) returns a failed <see cref="MessageResult"/> at once.
/// </summary>
public interface IMessageSender
{
    Task<MessageResult> SendAsync(MessageToSend message, CancellationToken ct);
}

/// <summary>The setup an orchestration runs with (policy, contacts, calendar), as the service has it now.</summary>
public interface IWorkflowSetupSource
{
    WorkflowSetup Current { get; }

    /// <summary>The setup after looking for newer data (bank holidays an operator loaded on any node).</summary>
    Task<WorkflowSetup> ReadAsync(CancellationToken ct);
}

/// <summary>What operators see when a deadline waits for bank-holiday data the service does not have (and when it no longer does).</summary>
public interface ICalendarAlerts
{
    void Held(string reference, string deadline, LocalDate date);
    void Released(string reference, string deadline);
}

/// <summary>A deadline held for want of calendar data (<see cref="Date"/> set), or released (null).</summary>
public sealed record CalendarHold(string Reference, string Deadline, LocalDate? Date);

/// <summary>A message leaves a workflow: email or SMS, with retries (see <see cref="WorkflowScope.MessageRetry"/>).</summary>
[DurableTask(WorkflowScope.SendMessageActivity)]
public sealed class SendMessage(IMessageSender sender) : TaskActivity<MessageToSend, MessageResult>
{
    public override Task<MessageResult> RunAsync(TaskActivityContext context, MessageToSend input) => sender.SendAsync(input, CancellationToken.None);
}

/// <summary>A decision in words, recorded on the instance's history (the timeline reads it there) and in the log.</summary>
[DurableTask(WorkflowScope.NoteActivity)]
public sealed class Note(ILogger<Note> logger) : TaskActivity<TimelineNote, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, TimelineNote input)
    {
        logger.LogInformation("{Reference} {Kind}: {Text}", context.InstanceId, input.Kind, input.Text);
        return Task.FromResult(true);
    }
}

/// <summary>Reads the service's current setup (after an operator loaded newer bank-holiday data, say).</summary>
[DurableTask(WorkflowScope.ReadSetupActivity)]
public sealed class ReadSetup(IWorkflowSetupSource setup) : TaskActivity<string, WorkflowSetup>
{
    public override Task<WorkflowSetup> RunAsync(TaskActivityContext context, string reference) => setup.ReadAsync(CancellationToken.None);
}

/// <summary>Tells operators a deadline is held for want of calendar data, or released.</summary>
[DurableTask(WorkflowScope.CalendarHoldActivity)]
public sealed class HoldForCalendar(ICalendarAlerts alerts, ILogger<HoldForCalendar> logger) : TaskActivity<CalendarHold, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, CalendarHold input)
    {
        if (input.Date is { } date)
        {
            alerts.Held(input.Reference, input.Deadline, date);
            logger.LogCritical("{Reference}: deadline {Deadline} needs {Date}, beyond the bank-holiday data. Load a newer GOV.UK file.", input.Reference, input.Deadline, date);
        }
        else alerts.Released(input.Reference, input.Deadline);
        return Task.FromResult(true);
    }
}

/// <summary>
/// A fact for other council systems (integration events): its name (e.g. "concern.overdue"), an outcome code and times.
/// No personal data by construction; the edges add the reference and publish it with a stable idempotency key
/// (reference, name, occurrence).
/// </summary>
public sealed record IntegrationFact(string Reference, string Name, string Outcome, Instant OccurredAt, int Occurrence = 1, IReadOnlyDictionary<string, Instant>? Times = null);

/// <summary>Publishes integration facts (Service Bus in Azure; nowhere when no connection is set).</summary>
public interface IIntegrationPublisher
{
    Task PublishAsync(IntegrationFact fact, CancellationToken ct);
}

[DurableTask(WorkflowScope.PublishActivity)]
public sealed class PublishIntegrationEvent(IIntegrationPublisher publisher) : TaskActivity<IntegrationFact, bool>
{
    public override async Task<bool> RunAsync(TaskActivityContext context, IntegrationFact input)
    {
        await publisher.PublishAsync(input, CancellationToken.None);
        return true;
    }
}
