using CareWorkflows.Functions.Apis;
using CareWorkflows.Functions.Extensions;
using CareWorkflows.Functions.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddCareWorkflows();

var app = builder.Build();
await app.UseCareWorkflowsAsync();

app.MapHealthApi();
app.MapInstancesApi();
app.MapMessagesApi();
app.MapSimulationApi();
app.MapDevOutboxApi();
app.MapLinksApi();
app.MapCalendarApi();
app.MapWebhooksApi();
app.MapWorkflowApis();
app.MapFunctionsHosting();

app.Run();

public partial class Program;
