using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace CareWorkflows.Bench;

/// <summary>The Markdown table of a run (median and range over repeats, targets met or missed) and the README's table.</summary>
public static class Report
{
    private sealed record Group(string Section, string System, string PgMode, string Load, List<JsonObject> Runs)
    {
        public List<double> Values(string key) => Runs.Where(r => r[key] is not null).Select(r => (double)r[key]!).ToList();
        public double Median(string key) => Stats.Median(Values(key));
        public string Range(string key, Func<double, string> f)
        {
            var v = Values(key);
            if (v.Count == 0) return "–";
            var m = f(Stats.Median(v));
            return v.Count == 1 ? $"{m} (n=1)" : $"{m} ({f(v.Min())}–{f(v.Max())}, n={v.Count})";
        }
        public string Notes => string.Join("; ", Runs.Select(r => (string?)r["note"] ?? (string?)r["error"]).Where(n => !string.IsNullOrEmpty(n)).Distinct());
        public string Errors => string.Join("; ", Runs.Select(r => (string?)r["error"]).Where(n => !string.IsNullOrEmpty(n)).Distinct());
    }

    public static string Label(string system, string pgMode) => system switch
    {
        "ours-pg" => $"our server, PostgreSQL ({(pgMode == "durable" ? "durable: fsync, synchronous_commit, full_page_writes on" : "throwaway: fsync/synchronous_commit/full_page_writes off")})",
        "ours-sqlite" => "our server, SQLite (WAL, synchronous=NORMAL)",
        "inproc" => "Microsoft InProcessTestHost (in memory, DOTNET_PROCESSOR_COUNT=64)",
        "azure-storage" => "DurableTask.AzureStorage 2.11.2 on Azurite",
        "hangfire-8" => $"Hangfire 1.8.25 + PostgreSql 1.21.1, 20 workers, 8 schedulers ({pgMode})",
        "hangfire-16" => $"Hangfire 1.8.25 + PostgreSql 1.21.1, 20 workers, 16 schedulers ({pgMode})",
        "raw-pg" => $"raw PostgreSQL SKIP LOCKED loop, 8 loops ({pgMode})",
        "quartz" => $"Quartz.NET 4.7.3, AdoJobStore on PostgreSQL (clustered, {QuartzTimers.Threads} threads, batches of {QuartzTimers.BatchAcquisition}, misfire threshold {QuartzTimers.MisfireThresholdMs / 1000} s) ({pgMode})",
        "app-qc" => "the app: POST /api/quality-concerns (PostgreSQL, throwaway)",
        "app-d2a" => "the app: POST /api/d2a/referrals (PostgreSQL, throwaway)",
        _ => system,
    };

    private static List<Group> Groups(JsonObject doc) =>
        doc["runs"]!.AsArray().Select(n => n!.AsObject())
            .GroupBy(r => ((string)r["section"]!, (string)r["system"]!, (string?)r["pgMode"] ?? "", (string?)r["loadPlanned"] ?? ""))
            .Select(g => new Group(g.Key.Item1, g.Key.Item2, g.Key.Item3, g.Key.Item4, g.ToList())).ToList();

    private static string F0(double v) => double.IsNaN(v) ? "–" : v.ToString("N0", CultureInfo.InvariantCulture);
    private static string Yes(bool? met) => met is null ? "" : met.Value ? "yes" : "**no**";

    public static string Markdown(JsonObject doc, bool compact = false)
    {
        var m = doc["machine"]!.AsObject();
        var groups = Groups(doc);
        var md = new StringBuilder();
        md.AppendLine($"Run {m["started"]} ({m["mode"]}, {m["repeats"]} repeat(s), took {m["duration"]}): `{m["command"]}`; {m["cpu"]}, {m["memory"]}, .NET {m["dotnet"]}{(m["gc"] is { } gc ? $", {gc}" : "")}.");
        md.AppendLine($"Load average at start **{m["loadAverageAtStart"]}**, at end {m["loadAverageAtEnd"]} (figures taken under load are depressed).");
        md.AppendLine($"PostgreSQL throwaway: {m["postgresThrowaway"]}. PostgreSQL durable: {m["postgresDurable"]}.");
        md.AppendLine();
        md.AppendLine("| Section | System | Result: median (range, repeats) | Target | Met |");
        md.AppendLine("|---|---|---|---|---|");
        double Wi(string section, string system, string mode = "") => groups.FirstOrDefault(g => g.Section == section && g.System == system && (mode == "" || g.PgMode == mode))?.Median("workItemsPerSecond") ?? double.NaN;
        foreach (var g in groups.Where(g => g.Section is "chain" or "fanout"))
        {
            string? target = null, metText = "";
            var azure = Wi(g.Section, "azure-storage");
            if (g.System == "ours-pg" && g.Section == "chain")
            {
                // Two targets, each met or missed on its own.
                var v = g.Median("workItemsPerSecond");
                target = "≥ 1,000 work items/s; ≥ 20× AzureStorage";
                metText = $"1,000/s: {Yes(v >= 1000)}; 20×: {(double.IsNaN(azure) ? "not run" : Yes(v >= 20 * azure))}";
            }
            var ratio = g.System != "azure-storage" && !double.IsNaN(azure) && azure > 0 ? $"; {g.Median("workItemsPerSecond") / azure:F1}× AzureStorage" : "";
            md.AppendLine($"| {g.Section} ({(g.Section == "chain" ? "5 activities in sequence" : "fan-out/fan-in of 100")}) | {Label(g.System, g.PgMode)} | " +
                          $"{g.Range("workItemsPerSecond", F0)} work items/s{ratio}; peak RSS {F0(g.Median("peakRssMiB"))} MiB{Note(g, compact)} | {target} | {metText} |");
        }
        var timers = groups.Where(g => g.Section == "timers").ToList();
        foreach (var g in timers)
        {
            string? target = null; bool? met = null;
            if (g.System == "ours-pg")
            {
                var peers = timers.Where(t => t.PgMode == g.PgMode && t.System.StartsWith("hangfire", StringComparison.Ordinal)).ToList();
                target = "p99 ≤ 1 s; ahead of every tuned peer (p99 and fired/s)";
                met = g.Median("p99Ms") <= 1000 && peers.All(p => g.Median("p99Ms") < p.Median("p99Ms") && g.Median("firedPerSecond") >= p.Median("firedPerSecond"));
            }
            var r = g.Runs[0];
            md.AppendLine($"| timers ({r["pendingPlanned"]} pending, {r["duePlanned"]} due over {r["windowSecondsPlanned"]} s) | {Label(g.System, g.PgMode)} | " +
                          $"lateness p50 {g.Range("p50Ms", Stats.Ms)}, p99 {g.Range("p99Ms", Stats.Ms)}; fired {F0(g.Median("fired"))}/{r["duePlanned"]} at {g.Range("firedPerSecond", F0)}/s{Note(g, compact)} | {target} | {Yes(met)} |");
        }
        // Timers seeded in bulk: per load (or pending size), every system; ours against the tuned peers (Hangfire, Quartz).
        var bulk = groups.Where(g => g.Section is "timer-load" or "timer-burst" or "timers-1m").ToList();
        foreach (var g in bulk)
        {
            string? target = null, metText = "";
            if (g.System == "ours-pg")
            {
                // Issue 16's targets, each met or missed on its own: p99 ≤ 1 s at 1,667/s and among 1,000,000 pending (the
                // steady loads; a burst is judged by its drain rate), and ahead of every tuned peer everywhere.
                var peers = bulk.Where(t => t.Section == g.Section && t.Load == g.Load && t.PgMode == g.PgMode && (t.System.StartsWith("hangfire", StringComparison.Ordinal) || t.System == "quartz")).ToList();
                // In a burst every system but the raw loop is still firing at the cap, so the p99s are the same lower bound:
                // there the drain rate decides, with a p99 no worse.
                var ahead = peers.All(p => (g.Load == "burst" ? g.Median("p99Ms") <= p.Median("p99Ms") : g.Median("p99Ms") < p.Median("p99Ms"))
                                           && g.Median("firedPerSecond") >= p.Median("firedPerSecond"));
                var p99Applies = g.Load == "1,667/s" || (g.Section == "timers-1m" && g.Load != "burst");
                target = (p99Applies ? "p99 ≤ 1 s; " : "") + (peers.Count > 0 ? "ahead of every tuned peer (p99 and fired/s)" : "");
                metText = (p99Applies ? $"p99: {Yes(g.Median("p99Ms") <= 1000)}" : "") + (p99Applies && peers.Count > 0 ? "; " : "") + (peers.Count > 0 ? $"peers: {Yes(ahead)}" : "");
            }
            if (g.Runs.FirstOrDefault(x => x["duePlanned"] is not null) is not { } r)
            {
                md.AppendLine($"| {g.Section} ({g.Load}) | {Label(g.System, g.PgMode)} | failed: {g.Errors.Replace("|", "/").ReplaceLineEndings(" ")} | {target} | {metText} |");
                continue;
            }
            var burst = (string?)r["windowSecondsPlanned"] is "0" or "0.0";
            var what = burst
                ? $"{g.Section} (burst: {F0(double.Parse((string)r["duePlanned"]!, CultureInfo.InvariantCulture))} due at once; {F0(double.Parse((string)r["pendingPlanned"]!, CultureInfo.InvariantCulture))} pending)"
                : $"{g.Section} ({g.Load}: {F0(double.Parse((string)r["duePlanned"]!, CultureInfo.InvariantCulture))} due over {r["windowSecondsPlanned"]} s; {F0(double.Parse((string)r["pendingPlanned"]!, CultureInfo.InvariantCulture))} pending)";
            var drain = !burst ? "" : g.Values("drainSeconds").Count == g.Runs.Count
                ? $"; drained in {g.Range("drainSeconds", v => $"{v:F1} s")}"
                : $"; not drained by the cap in {g.Runs.Count - g.Values("drainSeconds").Count} of {g.Runs.Count} (at that rate ≈ {g.Range("drainEstimateSeconds", v => $"{v:F0} s")})";
            var misfires = g.System == "quartz" ? $"; misfires {g.Range("misfires", F0)}" : "";
            var seed = g.Section is "timers-1m" or "timer-burst" ? $"; seeded once in {g.Range("templateSeedSeconds", v => $"{v:F0} s")}, copied per repeat in {g.Range("cloneSeconds", v => $"{v:F1} s")}" : "";
            // Timers left at the cap count at the cap: the percentiles they reach are lower bounds, marked ≥.
            var capped = g.Runs.Any(x => (double?)x["fired"] < (double?)x["due"]);
            var atLeast = capped ? "≥ " : "";
            md.AppendLine($"| {what} | {Label(g.System, g.PgMode)} | lateness p50 {atLeast}{g.Range("p50Ms", Stats.Ms)}, p99 {atLeast}{g.Range("p99Ms", Stats.Ms)}; fired {F0(g.Median("fired"))}/{r["duePlanned"]} " +
                          $"at {g.Range("firedPerSecond", F0)}/s{drain}{misfires}; peak RSS {g.Range("peakRssMiB", F0)} MiB{seed}{Note(g, compact)} | {target} | {metText} |");
        }
        foreach (var g in groups.Where(g => g.Section == "start"))
            md.AppendLine($"| start (real app, HTTP) | {Label(g.System, g.PgMode)} | POST → 201 p50 {g.Range("acceptedP50Ms", Stats.Ms)}, p99 {g.Range("acceptedP99Ms", Stats.Ms)}; " +
                          (g.System == "app-d2a"
                              ? $"POST → first offer logged p50 {g.Range("firstMessageP50Ms", Stats.Ms)}, p99 {g.Range("firstMessageP99Ms", Stats.Ms)}; POST → all offers logged p50 {g.Range("allOffersP50Ms", Stats.Ms)}, p99 {g.Range("allOffersP99Ms", Stats.Ms)}"
                              : $"POST → first message logged p50 {g.Range("firstMessageP50Ms", Stats.Ms)}, p99 {g.Range("firstMessageP99Ms", Stats.Ms)}") +
                          $"{Note(g, compact)} |  |  |");
        return md.ToString();
    }

    private static string Note(Group g, bool compact) => g.Notes.Length == 0 ? "" : compact ? (g.Errors.Length > 0 ? " (failed)" : " (see notes)") : $" — {g.Notes.Replace("|", "/").ReplaceLineEndings(" ")}";
}

/// <summary>
/// Regenerates README.md's Performance table (between the perf markers) from bench/results: for each section, the latest
/// full-mode run that measured it (a whole run or an --only run; quick runs only where no full run has the section; never a
/// --systems smoke check), so a section re-run on its own replaces only its own rows.
/// </summary>
public static class Readme
{
    public const string Begin = "<!-- performance:begin (generated by scripts/bench.sh --readme from bench/results) -->";
    public const string End = "<!-- performance:end -->";

    private static readonly string[] Sections = ["chain", "fanout", "timer-load", "timer-burst", "timers-1m", "start"];

    public static int Update(string outDir, string readme)
    {
        var docs = Directory.GetFiles(outDir, "*.json")
            .Select(f => (Name: Path.GetFileNameWithoutExtension(f), Path: f))
            .Where(n => n.Name.Length > 11 && char.IsDigit(n.Name[0]) && !n.Name.Contains("-systems-", StringComparison.Ordinal))
            .Select(n => (n.Name, Doc: JsonNode.Parse(File.ReadAllText(n.Path))!.AsObject()))
            .ToList();
        // Full before quick; then the latest start.
        var ranked = docs.OrderBy(d => (string?)d.Doc["machine"]!["mode"] == "full" ? 0 : 1)
            .ThenByDescending(d => (string?)d.Doc["machine"]!["started"], StringComparer.Ordinal).ToList();
        var chosen = new List<(string Name, JsonObject Doc, List<string> Sections)>();
        foreach (var section in Sections)
        {
            var source = ranked.FirstOrDefault(d => d.Doc["runs"]!.AsArray().Any(r => (string?)r!["section"] == section));
            if (source.Doc is null) continue;
            var entry = chosen.FirstOrDefault(c => c.Name == source.Name);
            if (entry.Doc is null) chosen.Add((source.Name, source.Doc, [section]));
            else entry.Sections.Add(section);
        }
        if (chosen.Count == 0) { Console.Error.WriteLine($"no results in {outDir}"); return 1; }
        var text = File.ReadAllText(readme);
        var b = text.IndexOf(Begin, StringComparison.Ordinal);
        var e = text.IndexOf(End, StringComparison.Ordinal);
        if (b < 0 || e < b) { Console.Error.WriteLine($"{readme}: the performance markers are missing"); return 1; }
        var table = new StringBuilder();
        foreach (var (name, doc, sections) in chosen)
        {
            var runs = new JsonArray(doc["runs"]!.AsArray().Where(r => sections.Contains((string)r!["section"]!)).Select(r => r!.DeepClone()).ToArray());
            var part = new JsonObject { ["machine"] = doc["machine"]!.DeepClone(), ["runs"] = runs };
            table.Append($"{string.Join(", ", sections)} — from [bench/results/{name}.md](bench/results/{name}.md):\n\n").Append(Report.Markdown(part, compact: true)).Append('\n');
        }
        File.WriteAllText(readme, text[..(b + Begin.Length)] + "\n" + table.ToString().TrimEnd('\n') + "\n" + text[e..]);
        Console.WriteLine($"{readme}: Performance table regenerated from {string.Join(", ", chosen.Select(c => $"{c.Name} ({string.Join(", ", c.Sections)})"))}");
        return 0;
    }
}
