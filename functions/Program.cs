using CareWorkflows.Functions.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddCareWorkflows();

var app = builder.Build();
await app.UseCareWorkflowsAsync();
app.MapCareWorkflowsEndpoints();

app.Run();

public partial class Program;
