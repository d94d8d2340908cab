using CareWorkflows.FunctionApp.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

namespace CareWorkflows.FunctionApp;

/// <summary>The isolated worker process the Functions host starts (functions.metadata lists its functions).</summary>
public static class FunctionsWorker
{
    public static async Task Main(string[] args)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication(); // HTTP triggers get ASP.NET Core's HttpContext
        builder.AddCareWorkflowsFunctions();
        await builder.Build().RunAsync();
    }
}
