using CareWorkflows.Functions.Apis;
using CareWorkflows.Functions.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddCareWorkflows();

var app = builder.Build();
await app.UseCareWorkflowsAsync();

app.MapHealthApi();
app.MapInstancesApi();
app.MapSimulationApi();
app.MapDevOutboxApi();
app.MapLinksApi();
app.MapWebhooksApi();
app.MapWorkflowApis();

app.Run();

public partial class Program;
