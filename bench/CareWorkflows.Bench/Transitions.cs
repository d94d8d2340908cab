using System.Data.Common;
using System.Diagnostics;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Postgres;
using CareWorkflows.Runtime.Sqlite;
using CareWorkflows.Runtime.Store;
using Microsoft.Data.Sqlite;
using Npgsql;
using NodaTime;

namespace CareWorkflows.Bench;

/// <summary>
/// Transitions/s through <see cref="WorkflowRuntime.ApplyAsync"/> against the raw driver rate of the same-shape
/// transaction (read the row, insert a history row, update the row, upsert a timer), same store, same concurrency,
/// same run. Each worker owns its own instances, so the figures measure throughput, not conflicts.
/// </summary>
public static class Transitions
{
    private const int PerWorker = 64;

    public static async Task RunAsync(BenchOptions o, List<ResultRow> results, string storeKind)
    {
        var maxWorkers = o.Concurrency.Max();
        var count = maxWorkers * PerWorker;
        IWorkflowStore store;
        Func<Task<DbConnection>> open;
        string? pgDb = null;
        if (storeKind == "Sqlite")
        {
            var path = Path.Combine(Path.GetTempPath(), "cw-bench", Guid.NewGuid().ToString("N"), "cw.db");
            store = new SqliteWorkflowStore(path);
            var cs = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
            open = async () =>
            {
                var c = new SqliteConnection(cs);
                await c.OpenAsync();
                await using var p = c.CreateCommand();
                p.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;";
                await p.ExecuteNonQueryAsync();
                return c;
            };
        }
        else
        {
            pgDb = Pg.NewDatabase(o.PostgresServer, "cwbench_tr");
            store = new PostgresWorkflowStore(pgDb);
            // The raw loop gets the same connection settings as the store (auto-prepare, no reset on close): the limit is the driver at its best.
            var rawCs = PostgresWorkflowStore.Tune(pgDb);
            open = async () => { var c = new NpgsqlConnection(rawCs); await c.OpenAsync(); return c; };
        }
        await store.MigrateAsync();
        await using (var c = await open())
        {
            await Seed.InsertAsync(c, BenchWorkflow.TypeName, count);
            await Seed.InsertAsync(c, "RAW", count);
        }
        var opened = new List<DbConnection>();
        var baseOpen = open;
        open = async () => { var c = await baseOpen(); lock (opened) opened.Add(c); return c; };
        async Task CloseRawAsync() { foreach (var c in opened) await c.DisposeAsync(); opened.Clear(); }
        var bench = new BenchRuntime(store);
        var sqliteWriter = new SemaphoreSlim(1, 1);

        // Warm-up: JIT, pools, caches.
        await MeasureAsync(4, TimeSpan.FromSeconds(1), w => RuntimeWorker(bench.Runtime, w));
        await MeasureAsync(4, TimeSpan.FromSeconds(1), w => RawWorker(open, storeKind, sqliteWriter, w));
        await CloseRawAsync();

        Console.WriteLine($"  {storeKind}: workers | runtime tr/s | raw tr/s | ratio");
        foreach (var n in o.Concurrency)
        {
            // Alternate short slices of raw and runtime so load from elsewhere on the machine hits both alike.
            double rawSum = 0, rtSum = 0;
            const int slices = 4;
            for (var k = 0; k < slices; k++)
            {
                rawSum += await MeasureAsync(n, o.TransitionWindow / slices, w => RawWorker(open, storeKind, sqliteWriter, w));
                await CloseRawAsync();
                rtSum += await MeasureAsync(n, o.TransitionWindow / slices, w => RuntimeWorker(bench.Runtime, w));
            }
            var raw = rawSum / slices;
            var rt = rtSum / slices;
            var ratio = rt / raw;
            Console.WriteLine($"  {storeKind}: {n,7} | {rt,12:F0} | {raw,8:F0} | {ratio:F2}");
            var target = storeKind == "Postgres" ? "≥ 0.50 of raw; ≥ 2,000 tr/s" : "≥ 0.50 of raw";
            var met = ratio >= 0.5 && (storeKind != "Postgres" || rt >= 2000);
            results.Add(new ResultRow($"Transitions ({storeKind})", $"{n} worker{(n == 1 ? "" : "s")}: runtime / raw",
                $"{rt:F0} / {raw:F0} tr/s", $"{ratio:F2}", target, met));
        }
        if (pgDb is not null) Pg.Drop(o.PostgresServer, pgDb);
    }

    /// <summary>Runs <paramref name="workers"/> loops for <paramref name="window"/>; returns completed transactions per second.</summary>
    private static async Task<double> MeasureAsync(int workers, TimeSpan window, Func<int, Func<int, CancellationToken, Task>> makeWorker)
    {
        using var cts = new CancellationTokenSource();
        var counts = new long[workers];
        var sw = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var step = makeWorker(w);
            var i = 0;
            while (!cts.IsCancellationRequested)
            {
                await step(i++, CancellationToken.None);
                counts[w]++;
            }
        })).ToArray();
        await Task.Delay(window);
        cts.Cancel();
        var done = counts.Sum();
        var elapsed = sw.Elapsed.TotalSeconds;
        await Task.WhenAll(tasks);
        return done / elapsed;
    }

    private static readonly Actor Worker = new("bench", Roles.System);

    private static Func<int, CancellationToken, Task> RuntimeWorker(WorkflowRuntime runtime, int w) => async (i, ct) =>
    {
        var reference = Seed.Ref(BenchWorkflow.TypeName, w * PerWorker + i % PerWorker);
        var outcome = await runtime.ApplyAsync(reference, new BenchWorkflow.Poke(i), Worker, ct: ct);
        if (outcome.Kind != OutcomeKind.Applied) throw new InvalidOperationException($"{reference}: {outcome.Kind}");
    };

    /// <summary>The same-shape transaction straight through the driver: one connection per worker, no JSON, no framework.</summary>
    private static Func<int, CancellationToken, Task> RawWorker(Func<Task<DbConnection>> open, string kind, SemaphoreSlim writer, int w)
    {
        DbConnection? c = null;
        return async (i, ct) =>
        {
            c ??= await open(); // kept open for the slice (not closed: the slice's worker ends with the slice)
            var reference = Seed.Ref("RAW", w * PerWorker + i % PerWorker);
            var now = SystemClock.Instance.GetCurrentInstant().ToUnixTimeTicks();
            if (kind == "Sqlite") await writer.WaitAsync(ct);
            try
            {
                await using var tx = kind == "Sqlite" ? ((SqliteConnection)c).BeginTransaction(deferred: false) : await c.BeginTransactionAsync(ct);
                string state; long version, seq;
                await using (var read = c.CreateCommand())
                {
                    read.Transaction = tx;
                    read.CommandText = "SELECT state, version, last_seq FROM instances WHERE reference = @r";
                    Seed.P(read, "r", reference);
                    await using var r = await read.ExecuteReaderAsync(ct);
                    if (!await r.ReadAsync(ct)) throw new InvalidOperationException(reference);
                    state = r.GetString(0); version = r.GetInt64(1); seq = r.GetInt64(2);
                }
                var writes = new (string Sql, (string, object)[] Ps)[]
                {
                    ("INSERT INTO events (reference, seq, type, data, actor_id, actor_role, at) VALUES (@r, @seq, 'Poked', @d, 'bench', 'System', @n)",
                        [("r", reference), ("seq", seq + 1), ("d", "{\"n\":" + i + "}"), ("n", now)]),
                    ("UPDATE instances SET state = @s, version = version + 1, last_seq = @seq, updated_at = @n WHERE reference = @r AND version = @v",
                        [("s", state), ("seq", seq + 1), ("n", now), ("r", reference), ("v", version)]),
                    ("INSERT INTO timers (id, reference, name, due_at, lease_owner, lease_until) VALUES (@id, @r, 'reminder', @due, NULL, NULL) " +
                     "ON CONFLICT (reference, name) DO UPDATE SET id = excluded.id, due_at = excluded.due_at, lease_owner = NULL, lease_until = NULL",
                        [("id", Guid.NewGuid().ToString()), ("r", reference), ("due", now + TimeSpan.TicksPerDay)]),
                };
                if (c is NpgsqlConnection pc)
                {
                    // The driver at its best on PostgreSQL: the three writes in one round trip.
                    await using var batch = new NpgsqlBatch(pc, (NpgsqlTransaction)tx);
                    foreach (var (sql, ps) in writes)
                    {
                        var bc = new NpgsqlBatchCommand(sql);
                        foreach (var (n, v) in ps) bc.Parameters.AddWithValue(n, v);
                        batch.BatchCommands.Add(bc);
                    }
                    await batch.ExecuteNonQueryAsync(ct);
                    if (batch.BatchCommands[1].RecordsAffected != 1) throw new InvalidOperationException("version");
                }
                else
                {
                    foreach (var (sql, ps) in writes)
                    {
                        await using var cmd = c.CreateCommand();
                        cmd.Transaction = tx;
                        cmd.CommandText = sql;
                        foreach (var (n, v) in ps) Seed.P(cmd, n, v);
                        await cmd.ExecuteNonQueryAsync(ct);
                    }
                }
                await tx.CommitAsync(ct);
            }
            finally
            {
                if (kind == "Sqlite") writer.Release();
            }
        };
    }
}
