using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Postgres;

namespace CareWorkflows.Bench;

/// <summary>
/// Process RSS while the timer pump and outbox dispatcher loops run over a database with few vs many open instances.
/// Each size runs in a fresh child process (this executable, "memory-child"), so earlier sections do not pollute it.
/// </summary>
public static class Memory
{
    public static async Task<(double Small, double Large)> RunAsync(BenchOptions o, string largeDatabase, int largeCount)
    {
        var small = Pg.NewDatabase(o.PostgresServer, "cwbench_mem");
        await new PostgresWorkflowStore(small).MigrateAsync();
        var far = NodaTime.Instant.FromUtc(2099, 1, 1, 0, 0);
        await Seed.CopyAsync(small, "BEN", o.MemorySmall, i => far + NodaTime.Duration.FromSeconds(i));
        var seconds = o.Quick ? 10 : 20;
        var a = await ChildAsync(small, seconds, o.MemorySmall);
        var b = await ChildAsync(largeDatabase, seconds, largeCount);
        Pg.Drop(o.PostgresServer, small);
        return (a, b);
    }

    private static async Task<double> ChildAsync(string cs, int seconds, int instances)
    {
        var exe = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        foreach (var a in new[] { "memory-child", cs, seconds.ToString(CultureInfo.InvariantCulture), instances.ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("RSS ", StringComparison.Ordinal))
                   ?? throw new InvalidOperationException($"memory child failed: {output}");
        Console.WriteLine($"  {instances:N0} open instances: {line}");
        return double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
    }

    /// <summary>The child: runs the loops (and a trickle of transitions so they have work) and prints its peak RSS.</summary>
    public static async Task<int> ChildMainAsync(string cs, int seconds, int instances)
    {
        var bench = new BenchRuntime(new PostgresWorkflowStore(cs));
        using var stop = new CancellationTokenSource();
        await bench.Loops.StartAsync(stop.Token);
        var actor = new Actor("bench", Roles.System);
        var peak = 0.0;
        var sw = Stopwatch.StartNew();
        var i = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            await bench.Runtime.ApplyAsync(Seed.Ref("BEN", Random.Shared.Next(instances)), new BenchWorkflow.Poke(i++), actor);
            await Task.Delay(20);
            if (i % 25 == 0) peak = Math.Max(peak, Rss.CurrentMiB());
        }
        await bench.Loops.StopAsync(CancellationToken.None);
        peak = Math.Max(peak, Rss.CurrentMiB());
        Console.WriteLine(FormattableString.Invariant($"RSS {peak:F1} MiB peak ({i} transitions applied while the loops ran {seconds} s)"));
        return 0;
    }
}
