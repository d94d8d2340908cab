using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CareWorkflows.Bench;

/// <summary>
/// Benchmark harness for issue 9. Usage: CareWorkflows.Bench [--quick] --pg "Host=...;Port=...;Username=..." [--out bench/results]
/// [--only transitions,timers,hangfire,start,memory]. Run it through scripts/bench.sh, which starts PostgreSQL.
/// </summary>
public static class BenchMain
{
    public static async Task<int> Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Length > 0 && args[0] == "memory-child")
            return await Memory.ChildMainAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));

        var quick = args.Contains("--quick");
        string? Arg(string name) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
        var pg = Arg("--pg") ?? Environment.GetEnvironmentVariable("CW_BENCH_POSTGRES") ?? throw new ArgumentException("--pg <connection string> is required");
        var only = Arg("--only")?.Split(',').ToHashSet() ?? ["transitions", "timers", "hangfire", "start", "memory"];
        var o = new BenchOptions(quick, pg, Arg("--out") ?? "bench/results");
        Directory.CreateDirectory(o.OutDir);
        ThreadPool.SetMinThreads(64, 64);

        var results = new List<ResultRow>();
        var total = Stopwatch.StartNew();
        var machine = new Dictionary<string, string>
        {
            ["mode"] = quick ? "quick" : "full",
            ["cpus"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["memory"] = MemTotal(),
            ["postgres"] = Pg.Version(pg),
            ["dotnet"] = Environment.Version.ToString(),
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["started"] = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
        };
        Console.WriteLine($"CareWorkflows benchmarks ({machine["mode"]}): {machine["cpus"]} CPUs, {machine["memory"]}, PostgreSQL {machine["postgres"]}");

        if (only.Contains("transitions"))
            foreach (var store in new[] { "Sqlite", "Postgres" })
            {
                Console.WriteLine($"== Transitions ({store})");
                await Transitions.RunAsync(o, results, store);
            }

        string? timerDb = null;
        if (only.Contains("timers") || only.Contains("memory"))
        {
            Console.WriteLine("== Timers (CareWorkflows TimerPump)");
            var (ours, db) = await Timers.RunOursAsync(o);
            timerDb = db;
            FireRows(results, ours, o, null);
            FireResult? peer = null;
            if (only.Contains("hangfire"))
            {
                Console.WriteLine("== Peer (Hangfire)");
                peer = await Timers.RunHangfireAsync(o);
                FireRows(results, peer, o, ours);
                results.Add(new ResultRow("Timers vs peer", "throughput ours / Hangfire", $"{ours.Throughput:F0} / {peer.Throughput:F0} per s",
                    $"{ours.Throughput / peer.Throughput:F2}", "ahead (≥ 1.0)", ours.Throughput >= peer.Throughput * 0.99 && ours.Fired >= peer.Fired));
                results.Add(new ResultRow("Timers vs peer", "lateness p99 Hangfire / ours", $"{Stats.Ms(peer.P99)} / {Stats.Ms(ours.P99)}",
                    $"{peer.P99 / Math.Max(ours.P99, 0.001):F1}", "ahead (> 1.0)", peer.P99 > ours.P99));
            }
        }

        if (only.Contains("start"))
        {
            Console.WriteLine("== Start latency");
            await StartLatency.RunAsync(o, results);
        }

        if (only.Contains("memory") && timerDb is not null)
        {
            Console.WriteLine("== Memory");
            var (small, large) = await Memory.RunAsync(o, timerDb, o.PendingTimers);
            var ratio = large / small;
            results.Add(new ResultRow("Memory (RSS, loops running)", $"{o.MemorySmall:N0} vs {o.PendingTimers:N0} open instances",
                $"{small:F0} MiB vs {large:F0} MiB", $"{ratio:F2}", "flat (≤ 1.10)", ratio <= 1.10));
        }
        if (timerDb is not null) Pg.Drop(pg, timerDb);

        machine["duration"] = $"{total.Elapsed.TotalMinutes:F1} min";
        Write(o, machine, results);
        return 0;
    }

    private static void FireRows(List<ResultRow> results, FireResult r, BenchOptions o, FireResult? ours)
    {
        var section = $"Timers ({r.Name})";
        results.Add(new ResultRow(section, $"{r.Scheduled:N0} due over {o.DueSpread.TotalSeconds:F0} s" + (ours is null ? $", {o.PendingTimers:N0} pending" : ""),
            $"{r.Fired:N0} fired in {r.Seconds:F0} s = {r.Throughput:F0}/s" + (r.Note.Length > 0 ? $" ({r.Note})" : "")));
        results.Add(new ResultRow(section, "lateness p50 / p99 / max", $"{Stats.Ms(r.P50)} / {Stats.Ms(r.P99)} / {Stats.Ms(r.Max)}", null,
            ours is null ? "p99 ≤ 1 s" : null, ours is null ? r.P99 <= 1000 && r.Fired == r.Scheduled : null));
    }

    private static string MemTotal()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1048576.0:F0} GiB RAM";
    }

    private static void Write(BenchOptions o, Dictionary<string, string> machine, List<ResultRow> results)
    {
        var md = new StringBuilder();
        md.AppendLine($"Machine: {machine["cpus"]} CPUs, {machine["memory"]}, PostgreSQL {machine["postgres"]}, .NET {machine["dotnet"]}; mode {machine["mode"]}; {machine["started"]}; took {machine["duration"]}.");
        md.AppendLine();
        md.AppendLine("| Benchmark | Measure | Result | Ratio | Target | Met |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in results)
            md.AppendLine($"| {r.Section} | {r.Metric} | {r.Value} | {r.Ratio ?? ""} | {r.Target ?? ""} | {(r.Met is null ? "" : r.Met.Value ? "yes" : "**no**")} |");
        File.WriteAllText(Path.Combine(o.OutDir, "latest.md"), md.ToString());
        File.WriteAllText(Path.Combine(o.OutDir, "latest.json"), JsonSerializer.Serialize(new { machine, results }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine();
        Console.WriteLine(md.ToString());
    }
}
