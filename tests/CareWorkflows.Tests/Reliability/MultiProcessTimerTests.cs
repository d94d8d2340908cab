using CareWorkflows.Definitions;
using System.Diagnostics;
using System.Text.Json;
using CareWorkflows.Definitions.Workflows;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Postgres;
using CareWorkflows.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace CareWorkflows.Tests.Reliability;

/// <summary>
/// Issue 9, "Multi-worker": three app processes (the real app, its own timer pump each) on one PostgreSQL database with
/// 50,000 due timers. No timer fires twice, none is lost, and every process does a share of the work. The in-process
/// version with two pumps is Runtime/MultiWorkerTests; this one has real processes, connection pools and SKIP LOCKED
/// claims racing across them.
/// </summary>
[Collection(AppProcessCollection.Name)]
public sealed class MultiProcessTimerTests
{
    private static readonly int Timers = int.TryParse(Environment.GetEnvironmentVariable("CW_MULTIWORKER_TIMERS"), out var n) && n > 0 ? n : 50_000;
    private const int Processes = 3;

    [Fact]
    public async Task Three_app_processes_fire_50000_due_timers_each_exactly_once_and_share_the_work()
    {
        var db = TestDatabases.NewPostgresDatabase();
        var apps = new List<AppProcess>();
        try
        {
            await new PostgresWorkflowStore(db).MigrateAsync();
            await ProcessTestKit.InstallTimerAuditAsync(db, firingsOnly: true);
            for (var i = 0; i < Processes; i++)
                apps.Add(new AppProcess(new Dictionary<string, string>
                {
                    ["Storage__Provider"] = "Postgres",
                    ["ConnectionStrings__Postgres"] = db,
                    ["Providers__SeedDemo"] = "false",
                    ["Runtime__WorkerId"] = $"proc-{i}",
                }));
            await Task.WhenAll(apps.Select(a => a.StartAsync(TimeSpan.FromSeconds(90))));

            // 50,000 instances of a workflow the previous runtime still runs (trusted-assessor adjustments), not yet proposed, each with one timer due now, written in one transaction while the three
            // processes are running, so they all see the work within one cross-node check (500 ms). An adjustment that was
            // never proposed has no use for a timer: the runtime records TimerIgnored(name) in its timeline and drops the timer,
            // which gives one countable event per firing.
            var state = JsonSerializer.Serialize(new TrustedAssessorAdjustment().Initial, WorkflowJson.Options);
            await using var c = new NpgsqlConnection(db);
            await c.OpenAsync();
            var now = ProcessTestKit.NowTicks;
            await using (var tx = await c.BeginTransactionAsync())
            {
                await c.ExecuteAsync(
                    "INSERT INTO instances (reference, type, status, completed, summary, state, version, last_seq, next_due_at, created_at, updated_at) " +
                    "SELECT 'TA-M' || lpad(g::text, 6, '0'), 'TA', 'New', FALSE, '', @state, 1, 0, @now, @now, @now FROM generate_series(1, @n) g",
                    new { state, now, n = Timers }, tx, commandTimeout: 120);
                await c.ExecuteAsync(
                    "INSERT INTO timers (id, reference, name, due_at) SELECT gen_random_uuid()::text, 'TA-M' || lpad(g::text, 6, '0'), 'bulk', @now - g FROM generate_series(1, @n) g",
                    new { now, n = Timers }, tx, commandTimeout: 120);
                await tx.CommitAsync();
            }
            var clock = Stopwatch.StartNew();

            while (await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM timers") > 0)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), $"timers left after 5 minutes: {await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM timers")}");
                await Task.Delay(200);
            }
            var elapsed = clock.Elapsed;

            // Exactly one firing per timer: the audit (deletes by the runtime's consume) and the timelines agree.
            var fired = (await c.QueryAsync<(string Reference, string? Owner)>("SELECT reference, lease_owner FROM timer_audit WHERE op = 'fired'")).ToList();
            var cancelled = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM timer_audit WHERE op IN ('cancelled', 'replaced')");
            Assert.Equal(0, cancelled);
            Assert.Equal(Timers, fired.Count);
            Assert.Equal(Timers, fired.Select(f => f.Reference).Distinct().Count());
            var perInstance = (await c.QueryAsync<(string Reference, long N)>(
                "SELECT reference, COUNT(*) FROM events WHERE type = 'TimerIgnored' AND data LIKE '%\"bulk\"%' GROUP BY reference")).ToList();
            Assert.Equal(Timers, perInstance.Count);
            Assert.All(perInstance, p => Assert.Equal(1, p.N));
            Assert.Equal(Timers, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM events"));
            Assert.Equal(Timers, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM instances WHERE version = 2"));

            // Every process did a share (a fair share is a third; each must do at least a tenth).
            var shares = Enumerable.Range(0, Processes).Select(i => fired.Count(f => f.Owner == $"proc-{i}")).ToArray();
            Assert.Equal(Timers, shares.Sum());
            Assert.True(shares.All(s => s >= Timers / 10), $"work not shared: {string.Join(" / ", shares)}");
            ProcessTestKit.Report($"multi-worker: {Timers} timers fired by {Processes} processes in {elapsed.TotalSeconds:0.0} s " +
                $"({Timers / elapsed.TotalSeconds:0} /s); shares {string.Join(" / ", shares)}; 0 fired twice, 0 lost");
        }
        finally
        {
            foreach (var a in apps) await a.DisposeAsync();
            await ProcessTestKit.DropDatabaseAsync(db);
        }
    }
}
