using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

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
}

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
    public override Task<WorkflowSetup> RunAsync(TaskActivityContext context, string reference) => Task.FromResult(setup.Current);
}
