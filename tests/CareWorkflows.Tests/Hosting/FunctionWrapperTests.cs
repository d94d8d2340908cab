using System.Reflection;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.QualityConcerns;
using CareWorkflows.FunctionApp.Functions;
using CareWorkflows.FunctionApp.Hosting;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using NodaTime;
using NodaTime.Testing;
using static CareWorkflows.Definitions.QualityConcerns.QualityConcern;

namespace CareWorkflows.Tests.Hosting;

/// <summary>
/// The Functions app's wrappers against mocked Functions seams (FunctionContext, TaskOrchestrationContext,
/// DurableTaskClient): no host, no engine.
/// </summary>
public sealed class FunctionWrapperTests
{
    private static readonly Actor Qa = new("qa-1", Roles.QualityAssurance, DisplayName: "Quinn (QA)");
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    // ------------------------------------------------------------------ orchestrations

    [Fact]
    public async Task The_orchestration_function_runs_the_workflows_orchestrator_on_the_input_the_host_gives()
    {
        var h = new OrchestrationHarness("QC-ABCDE", Instant.FromUtc(2026, 11, 24, 10, 0));
        var start = new WorkflowStart<Raise>("start-1", Qa, new Raise("prov-7", "CareFirst Ltd", "quality@carefirst.example", "Late evening calls.", 3),
            WorkflowSetup.From(PolicySettings.Default, Contacts.Default, WorkingCalendar.Shipped));
        h.Context.Setup(c => c.GetInput<WorkflowStart<Raise>>()).Returns(start);

        var run = WorkflowFunctions.QualityConcernOrchestration(h.Context.Object);
        await h.SettleAsync();

        Assert.False(run.IsCompleted); // waiting for the provider, as on our server
        Assert.Equal("AwaitingResponse", h.Status.Status);
        Assert.Equal(201, Assert.Single(h.Status.Outcomes).Status);
        Assert.Equal("quality@carefirst.example", Assert.Single(h.Sent).To);
    }

    [Fact]
    public async Task An_orchestration_started_without_its_input_fails_saying_what_is_missing()
    {
        var h = new OrchestrationHarness("QC-ABCDE", Instant.FromUtc(2026, 11, 24, 10, 0));
        h.Context.Setup(c => c.GetInput<WorkflowStart<Raise>>()).Returns((WorkflowStart<Raise>?)null);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => WorkflowFunctions.QualityConcernOrchestration(h.Context.Object));
        Assert.Equal("Orchestration QC-ABCDE has no WorkflowStart<Raise> input.", e.Message);
    }

    // ------------------------------------------------------------------ activities

    private static Mock<FunctionContext> Function(string name, IServiceProvider appServices, string? instanceId = "QC-ABCDE")
    {
        var worker = new ServiceCollection().AddSingleton(AppHost.Of(new HostedApp(appServices))).BuildServiceProvider();
        var definition = new Mock<FunctionDefinition>();
        definition.SetupGet(d => d.Name).Returns(name);
        var binding = new Mock<BindingContext>();
        binding.SetupGet(b => b.BindingData).Returns(instanceId is null ? new Dictionary<string, object?>() : new Dictionary<string, object?> { ["instanceId"] = instanceId });
        var function = new Mock<FunctionContext>();
        function.SetupGet(f => f.InstanceServices).Returns(worker);
        function.SetupGet(f => f.FunctionDefinition).Returns(definition.Object);
        function.SetupGet(f => f.BindingContext).Returns(binding.Object);
        function.SetupGet(f => f.CancellationToken).Returns(CancellationToken.None);
        return function;
    }

    [Fact]
    public async Task An_activity_function_runs_the_activity_with_the_apps_services_and_returns_its_result()
    {
        var message = new MessageToSend("QC-ABCDE", Guid.NewGuid(), new OutboundMessage(MessageChannel.Email, "quality@carefirst.example", "request", "Subject", "Body"));
        var sent = new MessageResult(message.Id, "request", message.Message.To, true, "Dev", "dev-1", null);
        var sender = new Mock<IMessageSender>();
        sender.Setup(s => s.SendAsync(message, It.IsAny<CancellationToken>())).ReturnsAsync(sent);
        var app = new ServiceCollection().AddSingleton(sender.Object).BuildServiceProvider();

        var result = await WorkflowFunctions.SendMessage(message, Function(WorkflowScope.SendMessageActivity, app).Object);

        Assert.Same(sent, result);
        sender.Verify(s => s.SendAsync(message, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task An_activity_sees_its_own_name_and_its_orchestrations_instance_id()
    {
        var app = new ServiceCollection().BuildServiceProvider();
        Assert.Equal("Echo QC-7K3QX hello", await Activity.RunAsync<Echo, string, string>("hello", Function("Echo", app, "QC-7K3QX").Object));
        Assert.Equal("Echo  hello", await Activity.RunAsync<Echo, string, string>("hello", Function("Echo", app, instanceId: null).Object));
    }

    private sealed class Echo : TaskActivity<string, string>
    {
        public override Task<string> RunAsync(TaskActivityContext context, string input) => Task.FromResult($"{context.Name} {context.InstanceId} {input}");
    }

    // ------------------------------------------------------------------ the bound client

    [Fact]
    public async Task The_apps_client_refuses_until_a_trigger_binds_one_then_forwards_to_the_latest()
    {
        var bound = new BoundDurableTaskClient();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => bound.RaiseEventAsync("QC-ABCDE", "input", null, Ct));
        Assert.Contains("[DurableClient]", e.Message);

        var first = new Mock<DurableTaskClient>("first");
        var second = new Mock<DurableTaskClient>("second");
        bound.Use(first.Object);
        bound.Use(second.Object);
        await bound.RaiseEventAsync("QC-ABCDE", "input", "payload", Ct);
        await bound.ScheduleNewOrchestrationInstanceAsync("QualityConcern", "start", new StartOrchestrationOptions("QC-ABCDE") { Version = "1" }, Ct);
        await bound.GetOrchestrationHistoryAsync("QC-ABCDE", Ct);

        second.Verify(c => c.RaiseEventAsync("QC-ABCDE", "input", "payload", Ct), Times.Once);
        second.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(It.Is<TaskName>(n => n.Name == "QualityConcern"), "start",
            It.Is<StartOrchestrationOptions>(o => o.InstanceId == "QC-ABCDE" && o.Version == "1"), Ct), Times.Once);
        second.Verify(c => c.GetOrchestrationHistoryAsync("QC-ABCDE", Ct), Times.Once);
        first.VerifyNoOtherCalls();
    }

    /// <summary>
    /// DurableTaskClient's base class answers "not supported" for whatever a subclass does not override: every public
    /// member must reach the bound client (this fails when a newer SDK adds one the bound client does not forward).
    /// </summary>
    [Fact]
    public async Task Every_member_of_the_client_reaches_the_bound_client_and_none_falls_back_to_not_supported()
    {
        var bound = new BoundDurableTaskClient();
        var client = new Mock<DurableTaskClient>("bound") { DefaultValue = DefaultValue.Mock };
        var entities = new Mock<Microsoft.DurableTask.Client.Entities.DurableEntityClient>("entities").Object;
        client.SetupGet(c => c.Entities).Returns(entities);
        bound.Use(client.Object);
        Assert.Same(entities, bound.Entities);
        var methods = typeof(DurableTaskClient).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.IsVirtual && m.DeclaringType == typeof(DurableTaskClient) && m.Name != nameof(DurableTaskClient.DisposeAsync) && !m.IsSpecialName).ToList();
        Assert.True(methods.Count > 20, $"only {methods.Count} methods found");
        foreach (var m in methods)
        {
            var args = m.GetParameters().Select(Argument).ToArray();
            try
            {
                var result = m.Invoke(bound, args);
                if (result is Task t) await t;
            }
            catch (Exception ex) when ((ex as TargetInvocationException)?.InnerException is NotSupportedException or NotImplementedException || ex is NotSupportedException)
            {
                Assert.Fail($"{m} fell back to the base class: {ex.GetBaseException().Message}");
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException) { /* a mock's default answer: forwarded, which is the point */ }
        }
    }

    private static object? Argument(ParameterInfo p) =>
        p.ParameterType == typeof(string) ? "QC-ABCDE"
        : p.ParameterType == typeof(TaskName) ? new TaskName("QualityConcern")
        : p.ParameterType == typeof(PurgeInstancesFilter) ? new PurgeInstancesFilter()
        : p.ParameterType == typeof(CancellationToken) ? CancellationToken.None
        : p.HasDefaultValue ? p.DefaultValue
        : p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null;

    // ------------------------------------------------------------------ HTTP triggers

    [Fact]
    public async Task An_HTTP_trigger_binds_its_Durable_client_for_the_app_then_lets_the_app_answer()
    {
        var bound = new BoundDurableTaskClient();
        DurableTaskClient? seen = null;
        var app = new HostedApp(new ServiceCollection().BuildServiceProvider(), http =>
        {
            seen = bound.Current; // what the app's WorkflowClient would use for this request
            http.Response.StatusCode = 418;
            return Task.CompletedTask;
        });
        var functions = new HttpFunctions(AppHost.Of(app), bound);
        var client = new Mock<DurableTaskClient>("bound").Object;
        var http = new DefaultHttpContext();

        var result = await functions.Api(http.Request, client);

        Assert.Same(client, seen);
        Assert.Equal(418, http.Response.StatusCode);
        await result.ExecuteAsync(http); // what the worker does with the answer: nothing more to write
        Assert.Equal(418, http.Response.StatusCode);
    }

    // ------------------------------------------------------------------ housekeeping

    private static readonly Instant Now = Instant.FromUtc(2026, 11, 24, 2, 30);

    private static IConfiguration Settings(string? retentionDays) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["DurableTask:RetentionDays"] = retentionDays }).Build();

    [Fact]
    public async Task The_purge_timer_purges_ended_instances_created_before_the_retention_through_the_bound_client()
    {
        var client = new Mock<DurableTaskClient>("bound");
        PurgeInstancesFilter? filter = null;
        client.Setup(c => c.PurgeAllInstancesAsync(It.IsAny<PurgeInstancesFilter>(), It.IsAny<CancellationToken>()))
            .Callback<PurgeInstancesFilter, CancellationToken>((f, _) => filter = f).ReturnsAsync(new PurgeResult(3));
        var appServices = new ServiceCollection().AddSingleton(Settings("30")).AddSingleton<IClock>(new FakeClock(Now)).BuildServiceProvider();
        var bound = new BoundDurableTaskClient();
        var functions = new HousekeepingFunctions(AppHost.Of(new HostedApp(appServices)), bound, NullLogger<HousekeepingFunctions>.Instance);

        await functions.PurgeEndedInstances(new TimerInfo(), client.Object, Ct);

        Assert.NotNull(filter);
        Assert.Equal((Now - Duration.FromDays(30)).ToDateTimeOffset(), filter.CreatedTo);
        Assert.NotNull(filter.CreatedFrom);
        Assert.Equal([OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated], filter.Statuses!.Order());
        Assert.Same(client.Object, bound.Current);
    }

    [Fact]
    public async Task Without_a_retention_setting_nothing_is_purged_and_a_bad_one_is_refused()
    {
        var client = new Mock<DurableTaskClient>("bound");
        Assert.Null(await Housekeeping.PurgeEndedAsync(client.Object, Settings(null), new FakeClock(Now), NullLogger.Instance, Ct));
        client.VerifyNoOtherCalls();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Housekeeping.PurgeEndedAsync(client.Object, Settings("0"), new FakeClock(Now), NullLogger.Instance, Ct));
        Assert.Contains("DurableTask:RetentionDays", e.Message);
    }

    [Theory]
    [InlineData(30, true)]
    [InlineData(800, false)]
    public async Task The_bank_holiday_check_warns_operators_while_the_data_is_about_to_run_out(int daysLeft, bool warns)
    {
        var today = new LocalDate(2026, 11, 24);
        var calendar = new WorkingCalendar([new LocalDate(2026, 12, 25)], new LocalDate(2018, 1, 1), today.PlusDays(daysLeft));
        var environment = new RuntimeEnvironment(PolicySettings.Default, Mock.Of<ILinkIssuer>(), Contacts.Default, calendar);
        var documents = new Mock<IDocumentStore>();
        var logger = new ListLogger();

        var warnings = await Housekeeping.CheckBankHolidayDataAsync(environment, documents.Object, new FakeClock(Instant.FromUtc(2026, 11, 24, 7, 0)), logger, Ct);

        Assert.Equal(warns, warnings.Count > 0);
        Assert.Equal(warns, logger.Lines.Any(l => l.Level == LogLevel.Warning && l.Text.Contains("OPERATOR ACTION NEEDED") && l.Text.Contains(today.PlusDays(daysLeft).ToString("yyyy-MM-dd", null))));
        documents.Verify(d => d.GetDocumentAsync(CareWorkflows.Runtime.Engine.RuntimeEnvironment.BankHolidaysDocument, It.IsAny<CancellationToken>()), Times.AtLeastOnce); // newer data read first
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Text)> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
    }
}
