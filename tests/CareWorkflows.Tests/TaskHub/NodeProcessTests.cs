using System.Diagnostics;
using CareWorkflows.TaskHub.Postgres;
using CareWorkflows.TaskHub.Sqlite;
using CareWorkflows.TaskHub.Store;
using CareWorkflows.Tests.Infrastructure;
using CareWorkflows.Tests.Reliability;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.Tests.TaskHub;

/// <summary>
/// Our server as separate OS processes (tests/CareWorkflows.TaskHub.Node): three nodes sharing one PostgreSQL, a node
/// killed while it holds claims, and a SQLite node restarted on its file.
/// </summary>
[Collection(AppProcessCollection.Name)]
public sealed class NodeProcessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Issue 16's reliability re-run: three nodes on one PostgreSQL fire timers that all come due at once, each exactly
    /// once and none early. 3,000 timers in the test command; <c>CW_NODE_TIMERS=50000</c> (scripts/reliability.sh) is
    /// the full run, its figures in docs/reliability-tests.md.
    /// </summary>
    [Fact]
    public async Task ThreeNodesOnOnePostgresFireTimersDueAtOnceEachOnceAndNoneEarly()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("CW_NODE_TIMERS"), out var n) && n > 0 ? n : 3000;
        var db = TestDatabases.NewPostgresDatabase();
        try
        {
            await new PostgresTaskHubStore(db).MigrateAsync(Ct);
            await using var a = await Node.StartAsync("A", "Postgres", db);
            await using var b = await Node.StartAsync("B", "Postgres", db);
            await using var c = await Node.StartAsync("C", "Postgres", db);
            // Instances are started through all three nodes' gRPC endpoints, as clients behind a load balancer would.
            var clients = new[] { NodeClient.For(a.Port), NodeClient.For(b.Port), NodeClient.For(c.Port) };

            // Due once every instance is scheduled: 10 s, plus 4 ms an instance (scheduling through the three nodes ran at
            // ≈ 340 a second on 2 idle cores while they poll).
            var dueAt = DateTime.UtcNow.AddSeconds(10 + count * 0.004);
            var scheduling = Stopwatch.StartNew();
            var ids = Enumerable.Range(0, count).Select(i => $"timer-{i:D6}").ToList();
            await Parallel.ForEachAsync(ids.Select((id, i) => (id, i)), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = Ct }, async (x, ct) =>
                await clients[x.i % 3].Client.ScheduleNewOrchestrationInstanceAsync("TimerProbe", dueAt, new StartOrchestrationOptions(x.id), ct));
            var scheduled = scheduling.Elapsed;
            foreach (var client in clients) await client.DisposeAsync();
            Assert.True(DateTime.UtcNow < dueAt, $"scheduling took {scheduled}, longer than the margin before the timers were due");

            await Task.Delay(dueAt - DateTime.UtcNow, Ct);
            await UntilAsync(async () => await CountAsync(db, "SELECT COUNT(*) FROM dt_instances WHERE status = 1") == count, TimeSpan.FromMinutes(3) + TimeSpan.FromMilliseconds(count * 10));
            var fireSeconds = (DateTime.UtcNow - dueAt).TotalSeconds;

            var fired = await TimerFiredPerInstanceAsync(db);
            Assert.Equal(count, fired.Count);
            var twice = fired.Count(kv => kv.Value != 1);
            Assert.Equal(0, twice);
            var outputs = new Dictionary<string, string>();
            await using (var conn = new NpgsqlConnection(db))
            {
                await conn.OpenAsync(Ct);
                await using var cmd = new NpgsqlCommand("SELECT instance_id, output FROM dt_instances", conn);
                await using var r = await cmd.ExecuteReaderAsync(Ct);
                while (await r.ReadAsync(Ct)) outputs[r.GetString(0)] = r.GetString(1);
            }
            Assert.Equal(ids.ToHashSet(), outputs.Keys.ToHashSet());
            var nodes = outputs.Values.Select(o => o.Trim('"').Split('@')[0]).GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
            Assert.True(nodes.Count == 3, $"work by node: {string.Join(", ", nodes)}");
            var early = outputs.Values.Select(o => DateTime.Parse(o.Trim('"').Split('@')[1], null, System.Globalization.DateTimeStyles.RoundtripKind).ToUniversalTime()).Count(t => t < dueAt);
            Assert.Equal(0, early);
            ProcessTestKit.Report($"taskhub three nodes: {count} timers due at once (scheduled in {scheduled.TotalSeconds:F1} s), all fired and completed {fireSeconds:F1} s after the due time " +
                                  $"({count / fireSeconds:F0}/s), each once (0 twice, 0 lost, 0 early); fired by node {string.Join(", ", nodes.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"))}");
        }
        finally { await ProcessTestKit.DropDatabaseAsync(db); }
    }

    [Fact]
    public async Task WorkOfANodeKilledHoldingClaimsIsTakenOverAfterTheLease()
    {
        var db = TestDatabases.NewPostgresDatabase();
        try
        {
            var store = new PostgresTaskHubStore(db);
            await store.MigrateAsync(Ct);
            var lease = TimeSpan.FromSeconds(5);
            var a = await Node.StartAsync("A", "Postgres", db, lease, holdSeconds: 600);
            await using (var client = NodeClient.For(a.Port))
                for (var i = 0; i < 20; i++)
                    await client.Client.ScheduleNewOrchestrationInstanceAsync("HoldProbe", 0, new StartOrchestrationOptions($"hold-{i:D2}"), Ct);
            // Every activity claimed by A and running (held for ten minutes).
            await UntilAsync(async () => await CountAsync(db, "SELECT COUNT(*) FROM dt_tasks WHERE lock_owner LIKE 'A:%'") == 20, TimeSpan.FromSeconds(60));
            a.Kill();
            var killedAt = Stopwatch.StartNew();
            await a.DisposeAsync();

            await using var b = await Node.StartAsync("B", "Postgres", db, lease, holdSeconds: 0);
            await UntilAsync(async () => await CountAsync(db, "SELECT COUNT(*) FROM dt_instances WHERE status = 1") == 20, TimeSpan.FromSeconds(90));
            Assert.True(killedAt.Elapsed >= lease * 0.9, $"taken over after {killedAt.Elapsed}, before the lease of {lease} ran out");
            for (var i = 0; i < 20; i++) Assert.Equal("\"B\"", (await store.GetInstanceAsync($"hold-{i:D2}", true, Ct))!.Output);
            ProcessTestKit.Report($"taskhub takeover: 20 claims of a killed node taken over {killedAt.Elapsed.TotalSeconds:F1} s after the kill (lease {lease.TotalSeconds} s)");
        }
        finally { await ProcessTestKit.DropDatabaseAsync(db); }
    }

    [Fact]
    public async Task SqliteNodeKilledAndRestartedOnItsFileFinishesEverything()
    {
        var path = TestDatabases.NewSqlitePath();
        var a = await Node.StartAsync("A", "Sqlite", path);
        var dueAt = DateTime.UtcNow.AddSeconds(8);
        await using (var client = NodeClient.For(a.Port))
            for (var i = 0; i < 30; i++)
                await client.Client.ScheduleNewOrchestrationInstanceAsync("TimerProbe", dueAt, new StartOrchestrationOptions($"restart-{i:D2}"), Ct);
        a.Kill();
        await a.DisposeAsync();

        await using var again = await Node.StartAsync("A2", "Sqlite", path);
        var store = new SqliteTaskHubStore(path);
        await UntilAsync(async () => (await store.QueryInstancesAsync(new InstanceFilter([P.OrchestrationStatus.Completed], null, null, "restart-", 100, false, null), Ct)).Instances.Count == 30,
            TimeSpan.FromSeconds(90));
        for (var i = 0; i < 30; i++)
        {
            var history = await store.GetHistoryAsync($"restart-{i:D2}", Ct);
            Assert.Single(history, e => e.TimerFired is not null);
            Assert.StartsWith("\"A2@", (await store.GetInstanceAsync($"restart-{i:D2}", true, Ct))!.Output);
        }
    }

    // ------------------------------------------------------------------------------------------------

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Condition not met in time.");
            await Task.Delay(250, Ct);
        }
    }

    private static async Task<long> CountAsync(string db, string sql)
    {
        await using var c = new NpgsqlConnection(db);
        await c.OpenAsync(Ct);
        await using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(Ct));
    }

    private static async Task<Dictionary<string, int>> TimerFiredPerInstanceAsync(string db)
    {
        var fired = new Dictionary<string, int>();
        await using var c = new NpgsqlConnection(db);
        await c.OpenAsync(Ct);
        await using var cmd = new NpgsqlCommand("SELECT instance_id, event FROM dt_history", c);
        await using var r = await cmd.ExecuteReaderAsync(Ct);
        while (await r.ReadAsync(Ct))
            if (P.HistoryEvent.Parser.ParseFrom((byte[])r.GetValue(1)).TimerFired is not null)
                fired[r.GetString(0)] = fired.GetValueOrDefault(r.GetString(0)) + 1;
        return fired;
    }

    /// <summary>A client of one node, in this test process.</summary>
    private sealed class NodeClient(ServiceProvider services) : IAsyncDisposable
    {
        public DurableTaskClient Client { get; } = services.GetRequiredService<DurableTaskClient>();

        public static NodeClient For(int port)
        {
            var s = new ServiceCollection();
            s.AddLogging();
            s.AddDurableTaskClient(b => b.UseGrpc($"http://127.0.0.1:{port}"));
            return new NodeClient(s.BuildServiceProvider());
        }

        public ValueTask DisposeAsync() => services.DisposeAsync();
    }

    /// <summary>One node process.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly List<string> _output = [];

        private Node(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static async Task<Node> StartAsync(string name, string store, string connection, TimeSpan? lease = null, int holdSeconds = 0)
        {
            var dll = Path.Combine(AppContext.BaseDirectory.Replace(Path.Combine("CareWorkflows.Tests", "bin"), Path.Combine("CareWorkflows.TaskHub.Node", "bin")),
                "CareWorkflows.TaskHub.Node.dll");
            if (!File.Exists(dll)) throw new FileNotFoundException("Build tests/CareWorkflows.TaskHub.Node first.", dll);
            var port = Ports.Free();
            var psi = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.Environment["CW_NODE_NAME"] = name;
            psi.Environment["CW_NODE_STORE"] = store;
            psi.Environment["CW_NODE_CONNECTION"] = connection;
            psi.Environment["CW_NODE_PORT"] = port.ToString();
            psi.Environment["CW_NODE_LEASE_SECONDS"] = (lease ?? TimeSpan.FromSeconds(30)).TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            psi.Environment["CW_NODE_HOLD_SECONDS"] = holdSeconds.ToString();
            var node = new Node(Process.Start(psi)!, port);
            var ready = new TaskCompletionSource();
            node._process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (node._output) node._output.Add(e.Data);
                if (e.Data.StartsWith("ready", StringComparison.Ordinal)) ready.TrySetResult();
            };
            node._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (node._output) node._output.Add(e.Data); };
            node._process.BeginOutputReadLine();
            node._process.BeginErrorReadLine();
            var started = await Task.WhenAny(ready.Task, node._process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
            if (started != ready.Task)
            {
                string output;
                lock (node._output) output = string.Join("\n", node._output);
                throw new InvalidOperationException($"Node {name} did not start:\n{output}");
            }
            return node;
        }

        public void Kill() => _process.Kill(entireProcessTree: true);

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
    }
}
