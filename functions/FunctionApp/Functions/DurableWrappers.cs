using CareWorkflows.FunctionApp.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace CareWorkflows.FunctionApp.Functions;

/// <summary>Runs a class-based orchestrator (Definitions) as an orchestration function: the same class our server runs.</summary>
public static class Orchestration
{
    public static Task<TOutput> RunAsync<TOrchestrator, TInput, TOutput>(TaskOrchestrationContext context)
        where TOrchestrator : TaskOrchestrator<TInput, TOutput>, new()
    {
        // The input was written by WorkflowClient through the client's DataConverter; the Functions worker's (the same
        // JSON, FunctionsSetup) reads it back.
        var input = context.GetInput<TInput>()
            ?? throw new InvalidOperationException($"Orchestration {context.InstanceId} has no {Name(typeof(TInput))} input.");
        return new TOrchestrator().RunAsync(context, input);
    }

    private static string Name(Type t) =>
        t.IsGenericType ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(", ", t.GetGenericArguments().Select(Name))}>" : t.Name;
}

/// <summary>
/// Runs a class-based activity (Definitions) as an activity function: made with the hosted app's services (channels,
/// stores, setup), as our server's worker makes it, with the activity's name and its orchestration's instance id.
/// </summary>
public static class Activity
{
    public static async Task<TOutput> RunAsync<TActivity, TInput, TOutput>(TInput input, FunctionContext function)
        where TActivity : TaskActivity<TInput, TOutput>
    {
        var app = await function.InstanceServices.GetRequiredService<AppHost>().ReadyAsync(function.CancellationToken);
        await using var scope = app.Services.CreateAsyncScope();
        var activity = ActivatorUtilities.GetServiceOrCreateInstance<TActivity>(scope.ServiceProvider);
        return await activity.RunAsync(new Context(function.FunctionDefinition.Name, InstanceId(function)), input);
    }

    /// <summary>The Durable extension puts the orchestration's instance id in the activity trigger's binding data.</summary>
    public static string InstanceId(FunctionContext function) =>
        function.BindingContext.BindingData.TryGetValue("instanceId", out var id) && id is string s ? s : "";

    private sealed class Context(string name, string instanceId) : TaskActivityContext
    {
        public override TaskName Name { get; } = name;
        public override string InstanceId { get; } = instanceId;
    }
}
