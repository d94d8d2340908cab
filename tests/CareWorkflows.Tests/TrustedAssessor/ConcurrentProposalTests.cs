using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static CareWorkflows.Tests.TrustedAssessor.TrustedAssessorTestKit;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>
/// Two proposals for one package at the same instant: both pass the API's open-adjustment check (each reads the package
/// before the other has taken it), and the package's link decides — the first orchestration to claim it wins, the other
/// is refused (409) and leaves nothing behind.
/// </summary>
public sealed class ConcurrentProposalTests
{
    /// <summary>The registry, with a gate that holds the first two reads of a package until both have read it.</summary>
    public class GatedDirectory : DispatchProxy
    {
        private ITrustedAssessorDirectory _inner = null!;
        private readonly TaskCompletionSource _bothRead = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _reads;
        public string? GatedPackage { get; set; }
        public int Passed => Volatile.Read(ref _reads);

        public static GatedDirectory Wrap(ITrustedAssessorDirectory inner)
        {
            var proxy = Create<ITrustedAssessorDirectory, GatedDirectory>();
            ((GatedDirectory)(object)proxy)._inner = inner;
            return (GatedDirectory)(object)proxy;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            var result = method!.Invoke(_inner, args);
            return method.Name == nameof(ITrustedAssessorDirectory.GetPackageAsync) && GatedPackage is { } gated && (string)args![0]! == gated
                ? HoldAsync((Task<CarePackageRecord?>)result!) : result;
        }

        private async Task<CarePackageRecord?> HoldAsync(Task<CarePackageRecord?> read)
        {
            var package = await read;
            if (Interlocked.Increment(ref _reads) > 2) return package;
            if (_reads == 2) _bothRead.TrySetResult();
            await _bothRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return package;
        }
    }

    [Theory]
    [InlineData(TestDatabases.StoreSqlite)]
    [InlineData(TestDatabases.StorePostgres)]
    public async Task Two_proposals_for_one_package_at_once_start_one_adjustment_and_refuse_the_other(string store)
    {
        GatedDirectory? gate = null;
        await using var app = new CareWorkflowsApp(store, settings: new Dictionary<string, string?> { ["TrustedAssessors:SeedDemo"] = "false" },
            services: s => s.AddSingleton<ITrustedAssessorDirectory>(sp => (ITrustedAssessorDirectory)(gate = GatedDirectory.Wrap((ITrustedAssessorDirectory)sp.GetRequiredService<IWorkflowStore>()))));
        await RegisterAssessorAsync(app);
        await RegisterPackageAsync(app, "PKG-1", 10m);
        gate!.GatedPackage = "PKG-1";

        var answers = await Task.WhenAll(ProposeAsync(app, Proposal(app, 10m, 8m)), ProposeAsync(app, Proposal(app, 10m, 9m)));

        Assert.True(gate.Passed >= 2, "both proposals read the package before either took it");
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
        var won = answers.Single(a => a.StatusCode == HttpStatusCode.Created);
        var lost = answers.Single(a => a.StatusCode == HttpStatusCode.Conflict);
        var view = await won.Content.ReadFromJsonAsync<JsonElement>();
        var winner = view.GetProperty("reference").GetString();
        var problem = await lost.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("PKG-1 already has an open trusted-assessor adjustment", problem.GetProperty("detail").GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty("packageId", out _));

        // The package follows the winner only; the loser left no instance and no message.
        var package = await app.As(Roles.CareManager).GetFromJsonAsync<JsonElement>("/api/packages/PKG-1");
        Assert.Equal(winner, package.GetProperty("adjustmentReference").GetString());
        var hours = view.GetProperty("proposedHours").GetDecimal();
        Assert.Equal(hours, package.GetProperty("weeklyHours").GetDecimal());
        var instances = (await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/instances?type=TA")).EnumerateArray().ToList();
        Assert.Equal([winner], instances.Select(i => i.GetProperty("reference").GetString()));
        Assert.All(await app.OutboxAsync(), m => Assert.Equal(winner, m.Reference));
    }
}
