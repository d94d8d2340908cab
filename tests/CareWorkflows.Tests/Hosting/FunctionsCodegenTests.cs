using static CareWorkflows.Tests.Hosting.FunctionsApp;

namespace CareWorkflows.Tests.Hosting;

/// <summary>
/// The Functions wrappers are written from the one list of workflows (DurableTaskHosting.RegisterWorkflows and the
/// [DurableTask] classes it registers): a workflow that moves onto Durable Task adds its registrations there, runs
/// scripts/generate-functions.sh, and commits the regenerated file. FunctionMetadataTests then checks the built app.
/// </summary>
public sealed class FunctionsCodegenTests
{
    [Fact]
    public void The_checked_in_Functions_wrappers_are_those_generated_from_the_registered_orchestrators_and_activities()
    {
        var expected = GenerateWrappers();
        if (Environment.GetEnvironmentVariable("CW_WRITE_GENERATED") == "1")
        {
            File.WriteAllText(GeneratedWrappersPath, expected);
            return;
        }
        var actual = File.Exists(GeneratedWrappersPath) ? File.ReadAllText(GeneratedWrappersPath).ReplaceLineEndings("\n") : "";
        Assert.True(expected == actual,
            $"{GeneratedWrappersPath} is out of date with the registered orchestrators and activities: run scripts/generate-functions.sh and commit it.");
    }

    [Fact]
    public void Every_orchestrator_and_activity_gets_a_wrapper_with_its_own_input_and_output()
    {
        var code = GenerateWrappers();
        var declared = DeclaredTypes();
        Assert.Contains(declared, t => t.Orchestrator);
        Assert.Contains(declared, t => !t.Orchestrator);
        foreach (var t in declared)
        {
            Assert.Contains($"[Function(\"{t.Name}\")]", code);
            Assert.Contains(t.Orchestrator ? $"{t.Type.Name}([OrchestrationTrigger]" : $"{t.Type.Name}([ActivityTrigger]", code);
        }
        Assert.Contains("Orchestration.RunAsync<global::CareWorkflows.Definitions.QualityConcerns.QualityConcernOrchestration, " +
                        "global::CareWorkflows.Definitions.WorkflowStart<global::CareWorkflows.Definitions.QualityConcerns.QualityConcern.Raise>, string>(context)", code);
        Assert.Contains("SendMessage([ActivityTrigger] global::CareWorkflows.Definitions.MessageToSend input, FunctionContext context)", code);
    }
}
