namespace CareWorkflows.FunctionApp.Functions;

/// <summary>
/// The workflows as Durable Functions: one [OrchestrationTrigger] function per orchestrator and one [ActivityTrigger]
/// function per activity, named as <c>DurableTaskHosting.RegisterWorkflows</c> registers them on our own server, each
/// running the same class (<see cref="Orchestration"/>, <see cref="Activity"/>). The Durable Task SDK's source generator,
/// which would write them, is not served here, so <c>WorkflowFunctions.Generated.cs</c> is written from the registered
/// classes by <c>scripts/generate-functions.sh</c>: a workflow registers its orchestrator and activities in
/// RegisterWorkflows, runs the script and commits the file. FunctionsCodegenTests fails while the file is out of date and
/// FunctionMetadataTests while a registered orchestrator or activity has no trigger in the built app.
/// </summary>
public static partial class WorkflowFunctions;
