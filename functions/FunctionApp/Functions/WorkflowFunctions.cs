using CareWorkflows.Definitions;
using CareWorkflows.Definitions.QualityConcerns;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace CareWorkflows.FunctionApp.Functions;

/// <summary>
/// The workflows as Durable Functions: one [OrchestrationTrigger] per orchestration and one [ActivityTrigger] per
/// activity, named as <c>DurableTaskHosting.RegisterWorkflows</c> registers them on our own server (the Durable Task
/// SDK's source generator, which would write these, is not available to us). A workflow that moves onto Durable Task
/// adds its orchestrator here, its own activities below, and nothing else; FunctionMetadataTests fails until it does.
/// </summary>
public static class WorkflowFunctions
{
    // ---- orchestrations (one per workflow) ----

    [Function(QualityConcern.Orchestration)]
    public static Task<string> QualityConcernOrchestration([OrchestrationTrigger] TaskOrchestrationContext context) =>
        Orchestration.RunAsync<QualityConcernOrchestration, WorkflowStart<QualityConcern.Raise>, string>(context);

    // ---- activities shared by every workflow (Definitions/Common) ----

    [Function(WorkflowScope.SendMessageActivity)]
    public static Task<MessageResult> SendMessage([ActivityTrigger] MessageToSend input, FunctionContext context) =>
        Activity.RunAsync<SendMessage, MessageToSend, MessageResult>(input, context);

    [Function(WorkflowScope.NoteActivity)]
    public static Task<bool> Note([ActivityTrigger] TimelineNote input, FunctionContext context) =>
        Activity.RunAsync<Note, TimelineNote, bool>(input, context);

    [Function(WorkflowScope.ReadSetupActivity)]
    public static Task<WorkflowSetup> ReadSetup([ActivityTrigger] string input, FunctionContext context) =>
        Activity.RunAsync<ReadSetup, string, WorkflowSetup>(input, context);

    [Function(WorkflowScope.CalendarHoldActivity)]
    public static Task<bool> HoldForCalendar([ActivityTrigger] CalendarHold input, FunctionContext context) =>
        Activity.RunAsync<HoldForCalendar, CalendarHold, bool>(input, context);

    [Function(WorkflowScope.PublishActivity)]
    public static Task<bool> PublishIntegrationEvent([ActivityTrigger] IntegrationFact input, FunctionContext context) =>
        Activity.RunAsync<PublishIntegrationEvent, IntegrationFact, bool>(input, context);
}
