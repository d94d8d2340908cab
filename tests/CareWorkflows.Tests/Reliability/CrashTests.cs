using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Extensions;
using CareWorkflows.Runtime.Postgres;
using CareWorkflows.Runtime.Providers;
using CareWorkflows.Tests.Infrastructure;
using Dapper;
using Npgsql;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Tests.Reliability;

/// <summary>
/// Issue 9, "Crash": the real app as a process on PostgreSQL, a stream of D2A referrals, provider responses,
/// discharges and closes over HTTP (each with an Idempotency-Key, sent again until it gets a definite answer), and the
/// app killed with SIGKILL at random points and restarted, 20 times (CW_CRASH_CYCLES for more). Policy windows are
/// seconds long, so reminders, round windows, discharge checks and plan-revision deadlines come due and fire during the
/// run. D2A referrals run on Durable Task (our server's dt_* tables). At the end: every accepted input is in exactly one
/// instance, every deadline's decision is on its timeline once, every message is sent and recorded once, nothing is
/// stuck (no due timer or activity left, nothing overdue).
/// Issue 16: the app runs on a PostgreSQL server of the test's own with durable settings, and once per run PostgreSQL
/// itself is killed with SIGKILL instead of the app, kept down for a few seconds and started again (crash recovery): the
/// app, not restarted, must come back by itself, answering 503 meanwhile (never 500), and nothing may be lost or doubled.
/// </summary>
[Collection(AppProcessCollection.Name)]
public sealed class CrashTests
{
    private const int Drivers = 4;
    private static readonly string[] PatchNames = ["East", "West", "Central", "South"];

    [Fact]
    public async Task Killing_the_app_at_random_points_loses_no_input_and_repeats_no_timer_or_message()
    {
        var cycles = int.TryParse(Environment.GetEnvironmentVariable("CW_CRASH_CYCLES"), out var n) && n > 0 ? n : 20;
        var total = Stopwatch.StartNew();
        await using var server = await OwnPostgres.StartAsync();
        var db = await server.NewDatabaseAsync("crash_" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var store = new PostgresWorkflowStore(db);
            await store.MigrateAsync();
            await DemoProviders.SeedIfEmptyAsync((IProviderDirectory)store, SystemClock.Instance.GetCurrentInstant());

            await using var app = new AppProcess(new Dictionary<string, string>
            {
                ["Storage__Provider"] = "Postgres",
                ["ConnectionStrings__Postgres"] = db,
                ["Providers__SeedDemo"] = "false",
                ["Channels__Email"] = "Dev",
                ["Channels__Sms"] = "Dev",
                // Short leases: a killed process's claims are taken over within seconds.
                ["DurableTask__LeaseSeconds"] = "3",
                // Seconds-long policy windows so timers come due and fire while the app is being killed (App M §4, §6 in real life).
                ["Policy__D2A:AcceptanceWindow"] = "PT3S",
                ["Policy__D2A:ReminderAfter"] = "PT1S",
                ["Policy__D2A:FrameworkWindow"] = "PT3S",
                ["Policy__D2A:DischargeCheckAfter"] = "PT1S",
                ["Policy__D2A:CarePlanRevisionWithin"] = "PT2S",
            });
            await app.StartAsync();

            var log = new Run();
            using var stop = new CancellationTokenSource();
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(cycles > 20 ? 30 : 5);
            var drivers = Enumerable.Range(0, Drivers).Select(d => Task.Run(() => DriveAsync(app, d, log, deadline, stop.Token))).ToArray();

            var rng = new Random(2026_11_28);
            var restarts = new List<double>();
            var databaseCycle = cycles / 2;
            var databaseFigures = "";
            for (var cycle = 0; cycle < cycles; cycle++)
            {
                await Task.Delay(rng.Next(100, 1000));
                if (cycle == databaseCycle)
                {
                    databaseFigures = await KillPostgresAsync(server, app, log, TimeSpan.FromMilliseconds(rng.Next(1000, 3000)));
                    continue;
                }
                app.Kill();
                var restart = Stopwatch.StartNew();
                await app.StartAsync();
                restarts.Add(restart.Elapsed.TotalSeconds);
            }
            var killsDone = total.Elapsed;
            ProcessTestKit.Report($"crash: {cycles} kills done in {killsDone.TotalSeconds:0.0} s (restart to ready avg {restarts.Average():0.00} s, max {restarts.Max():0.00} s); {databaseFigures}");
            await stop.CancelAsync();
            await Task.WhenAll(drivers).WaitAsync(TimeSpan.FromMinutes(2));
            var driversDone = total.Elapsed;

            // Settle: every short timer (all but the week-5 and 6-week ones) has come due and fired (no inbox message due
            // within the hour), every activity has run, every message is sent.
            await using var c = new NpgsqlConnection(db);
            await c.OpenAsync();
            var settle = Stopwatch.StartNew();
            while (true)
            {
                var shortTimers = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM dt_inbox WHERE visible_at < @soon", new { soon = ProcessTestKit.NowTicks + TimeSpan.TicksPerHour });
                var tasks = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM dt_tasks");
                var unsent = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM outbox WHERE status IN (0, 1)");
                if (shortTimers == 0 && tasks == 0 && unsent == 0) break;
                Assert.True(settle.Elapsed < TimeSpan.FromSeconds(90), $"not settled after 90 s: {shortTimers} inbox messages due, {tasks} activities, {unsent} messages unsent");
                await Task.Delay(250);
            }

            var fired = await AssertConsistentAsync(c, app, log);
            var instances = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM dt_instances WHERE instance_id LIKE 'D2A-%'");
            var messages = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM outbox");
            ProcessTestKit.Report(
                $"crash: {cycles} kills ({cycles - 1} of the app, 1 of PostgreSQL) in {killsDone.TotalSeconds:0.0} s (app restart to ready avg {restarts.Average():0.00} s, max {restarts.Max():0.00} s; {databaseFigures}), " +
                $"drivers done {(driversDone - killsDone).TotalSeconds:0.0} s later, settled in {settle.Elapsed.TotalSeconds:0.0} s, total {total.Elapsed.TotalSeconds:0.0} s; {log.Requests} requests ({log.Retried} retried after a kill), " +
                $"{log.Accepted.Count} accepted inputs, {instances} instances, {fired} deadline decisions, {messages} messages sent; " +
                $"answers during the PostgreSQL outage: {(log.OutageAnswers.IsEmpty ? "no 5xx" : string.Join(", ", log.OutageAnswers.Select(kv => $"{kv.Value}× {kv.Key}")))}");
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
        }
    }

    /// <summary>
    /// Kills PostgreSQL (postmaster and backends, SIGKILL), keeps it down for <paramref name="down"/>, starts it again and
    /// waits for the app — not restarted — to report ready. 5xx answers meanwhile are counted, and must be 503.
    /// </summary>
    private static async Task<string> KillPostgresAsync(OwnPostgres server, AppProcess app, Run log, TimeSpan down)
    {
        log.BeginOutage();
        var outage = Stopwatch.StartNew();
        await server.KillAsync();
        await Task.Delay(down);
        var restart = Stopwatch.StartNew();
        await server.RestartAsync();
        var restartSeconds = restart.Elapsed.TotalSeconds;
        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var recovered = Stopwatch.StartNew();
        while (true)
        {
            try { if ((await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK) break; }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            Assert.True(recovered.Elapsed < TimeSpan.FromSeconds(60), $"the app did not report ready within 60 s of PostgreSQL restarting:\n{string.Join("\n", app.Output.TakeLast(30))}");
            await Task.Delay(100);
        }
        Assert.True(app.IsRunning, "the app exited while PostgreSQL was down");
        var readySeconds = recovered.Elapsed.TotalSeconds;
        log.EndOutage(TimeSpan.FromSeconds(5));
        return $"PostgreSQL killed once: down {down.TotalSeconds:0.0} s, recovery and start {restartSeconds:0.0} s, app ready again {readySeconds:0.0} s later without a restart, " +
               $"{outage.Elapsed.TotalSeconds:0.0} s in all";
    }

    private sealed record Accepted(string Kind, string StoredKey, string Reference, string? ProviderId);

    private sealed class Run
    {
        public readonly ConcurrentBag<Accepted> Accepted = [];
        public readonly ConcurrentBag<string> RefusedKeys = [];
        public readonly ConcurrentBag<string> Unexpected = [];
        private int _requests, _retried;
        private long _outageUntil; // ticks; 5xx answers before it are the database outage's, counted, not problems
        public readonly ConcurrentDictionary<int, int> OutageAnswers = new();
        public void BeginOutage() => Interlocked.Exchange(ref _outageUntil, long.MaxValue);
        public void EndOutage(TimeSpan grace) => Interlocked.Exchange(ref _outageUntil, DateTime.UtcNow.Add(grace).Ticks);

        /// <summary>A 5xx answer: during the database outage a 503 is expected and counted; anything else is a problem.</summary>
        public void ServerError(string what, int status, string body)
        {
            if (DateTime.UtcNow.Ticks < Interlocked.Read(ref _outageUntil)) OutageAnswers.AddOrUpdate(status, 1, (_, k) => k + 1);
            // The 503 is the API's problem for an unreachable database (it tells the client to send again with its key).
            if (DateTime.UtcNow.Ticks >= Interlocked.Read(ref _outageUntil) || status != 503 || !body.Contains("Idempotency-Key", StringComparison.Ordinal))
                Unexpected.Add($"{what}: {status}: {body}");
        }

        public int Requests => _requests;
        public int Retried => _retried;
        public void Counted(int attempts) { Interlocked.Increment(ref _requests); if (attempts > 1) Interlocked.Increment(ref _retried); }
    }

    /// <summary>One driver: raises referrals one after another and answers them as providers would, until told to stop.</summary>
    private static async Task DriveAsync(AppProcess app, int driver, Run log, DateTime deadline, CancellationToken stop)
    {
        // A request with no definite answer by the deadline is a problem of the run, reported with all the others.
        try { await DriveUntilStoppedAsync(app, driver, log, deadline, stop); }
        catch (TimeoutException e) { log.Unexpected.Add($"driver {driver}: {e.Message}"); }
    }

    private static async Task DriveUntilStoppedAsync(AppProcess app, int driver, Run log, DateTime deadline, CancellationToken stop)
    {
        var rng = new Random(driver * 7919 + 1);
        var user = $"dt-{driver}";
        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        for (var seq = 0; !stop.IsCancellationRequested; seq++)
        {
            var patch = PatchNames[rng.Next(PatchNames.Length)];
            var carePlan = rng.Next(3) == 0;
            var raiseKey = $"raise-{driver}-{seq}";
            var now = SystemClock.Instance.GetCurrentInstant();
            var body = new
            {
                patient = new { name = $"Crash Test {driver}-{seq}", nhsNumber = "9434765919", dateOfBirth = "1941-03-02", address = "1 High Street", postcode = "BR6 0AA" },
                hospital = "Princess Royal University Hospital", ward = "Ward 5", patch,
                expectedDischargeAt = InstantPattern.ExtendedIso.Format(now + Duration.FromSeconds(6)),
                callsPerDay = 2, minutesPerCall = 30, doubleHanded = false, needsSummary = "Help with washing and dressing.",
                supportedBeforeAdmission = carePlan, previousProviderId = carePlan ? "fw-riverside" : null,
                referrer = new { name = "Ward Nurse", email = "ward5@example.org" },
            };
            var (status, text, attempts) = await ProcessTestKit.SendUntilDefiniteAsync(http, () => Post("/api/d2a/referrals", body, Roles.DischargeTeam, user, null, raiseKey),
                deadline, (st, body) => log.ServerError("raise", st, body));
            log.Counted(attempts);
            if (status != HttpStatusCode.Created)
            {
                // Refused (e.g. the expected discharge time passed while the app was down): nothing may have been written.
                if (status != HttpStatusCode.UnprocessableEntity) log.Unexpected.Add($"raise {raiseKey}: {(int)status} {text}");
                log.RefusedKeys.Add($"d2a:raise:{user}:{raiseKey}");
                continue;
            }
            var reference = JsonDocument.Parse(text).RootElement.GetProperty("reference").GetString()!;
            log.Accepted.Add(new("raise", $"d2a:raise:{user}:{raiseKey}", reference, null));

            // Patch providers answer (or not) at random moments; some framework providers try their luck after the patch window.
            var patchProviders = DemoProviders.Providers.Where(p => p.Patches.Contains(patch)).Select(p => p.Id).ToList();
            var awarded = false;
            foreach (var provider in patchProviders.Concat(rng.Next(2) == 0 ? ["fw-northgate"] : Array.Empty<string>()))
            {
                await Task.Delay(rng.Next(0, provider.StartsWith("fw-", StringComparison.Ordinal) ? 4000 : 1200));
                var choice = rng.Next(10);
                if (choice >= 8) continue; // no answer: the reminder and the window timers do their work
                var answer = choice < 4
                    ? (object)new { action = "accept", firstCall = InstantPattern.ExtendedIso.Format(SystemClock.Instance.GetCurrentInstant() + Duration.FromHours(1)) }
                    : new { action = "decline", reason = "No capacity" };
                var key = $"resp-{reference}-{provider}";
                var r = await ProcessTestKit.SendUntilDefiniteAsync(http, () => Post($"/api/d2a/referrals/{reference}/responses", answer, Roles.Provider, $"prov-{provider}", provider, key),
                    deadline, (st, body) => log.ServerError("response", st, body));
                log.Counted(r.Attempts);
                if (r.Status == HttpStatusCode.OK)
                {
                    log.Accepted.Add(new("response", $"prov-{provider}:{key}", reference, provider));
                    awarded |= JsonDocument.Parse(r.Body).RootElement.GetProperty("status").GetString() == "Awarded";
                }
                else if (r.Status is HttpStatusCode.Conflict or HttpStatusCode.Forbidden) log.RefusedKeys.Add($"prov-{provider}:{key}");
                else log.Unexpected.Add($"response {key}: {(int)r.Status} {r.Body}");
                if (awarded) break;
            }

            // Some awarded packages start (discharge confirmed), some referrals are closed.
            var next = rng.Next(4);
            if (awarded && next < 2) await StepAsync(http, log, deadline, reference, "discharge", new { }, user, "discharge");
            else if (next == 3) await StepAsync(http, log, deadline, reference, "close", new { outcome = "NoOngoingNeed" }, user, "close");
        }
    }

    private static async Task StepAsync(HttpClient http, Run log, DateTime deadline, string reference, string path, object body, string user, string kind)
    {
        var key = $"{kind}-{reference}";
        var r = await ProcessTestKit.SendUntilDefiniteAsync(http, () => Post($"/api/d2a/referrals/{reference}/{path}", body, Roles.DischargeTeam, user, null, key),
            deadline, (st, body) => log.ServerError(kind, st, body));
        log.Counted(r.Attempts);
        if (r.Status == HttpStatusCode.OK) log.Accepted.Add(new(kind, $"{user}:{key}", reference, null));
        else if (r.Status == HttpStatusCode.Conflict) log.RefusedKeys.Add($"{user}:{key}");
        else log.Unexpected.Add($"{kind} {reference}: {(int)r.Status} {r.Body}");
    }

    private static HttpRequestMessage Post(string path, object body, string role, string user, string? provider, string key)
    {
        var m = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        m.Headers.Add("X-Demo-Role", role);
        m.Headers.Add("X-Demo-User", user);
        if (provider is not null) m.Headers.Add("X-Demo-Provider", provider);
        m.Headers.Add("Idempotency-Key", key);
        return m;
    }

    /// <summary>Checks the run; returns how many decisions deadlines made (reminders, round ends, discharge checks, plan revisions).</summary>
    private static async Task<int> AssertConsistentAsync(NpgsqlConnection c, AppProcess app, Run log)
    {
        var problems = new List<string>(log.Unexpected.Take(10));

        // 1. Every accepted input is in exactly one instance: its key is stored once, for the instance the client was told.
        //    A refusal the orchestration gave (a race the API's checks could not see) is kept too, so a resend gets it again.
        var commands = (await c.QueryAsync<(string Key, string Reference, string Result)>("SELECT idempotency_key, reference, result FROM commands"))
            .ToDictionary(x => x.Key, x => (x.Reference, x.Result));
        foreach (var a in log.Accepted)
            if (!commands.TryGetValue(a.StoredKey, out var stored)) problems.Add($"accepted {a.Kind} {a.StoredKey} has no stored command");
            else if (stored.Reference != a.Reference) problems.Add($"accepted {a.Kind} {a.StoredKey} is stored for {stored.Reference}, not {a.Reference}");
        foreach (var key in log.RefusedKeys)
            if (commands.TryGetValue(key, out var stored) && !stored.Result.Contains("\"Rejected\"", StringComparison.Ordinal)) problems.Add($"refused {key} was stored as {stored.Result}");
        var raised = log.Accepted.Where(a => a.Kind == "raise").ToList();
        var instances = (await c.QueryAsync<string>("SELECT instance_id FROM dt_instances WHERE instance_id LIKE 'D2A-%'")).ToHashSet();
        if (raised.Select(a => a.Reference).Distinct().Count() != raised.Count) problems.Add("two accepted referrals were told the same reference");
        if (instances.Count != raised.Count) problems.Add($"{instances.Count} instances for {raised.Count} accepted referrals");
        foreach (var a in raised) if (!instances.Contains(a.Reference)) problems.Add($"accepted referral {a.Reference} is missing");
        var failed = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM dt_instances WHERE status = 3");
        if (failed > 0) problems.Add($"{failed} orchestrations failed");

        // 2. The timeline repeats no decision a deadline or an input makes once (the orchestration's noted decisions).
        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Demo-Role", Roles.Admin);
        http.DefaultRequestHeaders.Add("X-Demo-User", "crash-test-admin");
        var names = DemoProviders.Providers.ToDictionary(p => p.Id, p => p.Name);
        var deadlineDecisions = 0;
        foreach (var reference in instances)
        {
            var timeline = (await http.GetFromJsonAsync<JsonElement>($"/api/instances/{reference}")).GetProperty("timeline").EnumerateArray()
                .Where(e => e.GetProperty("actorRole").GetString() == Roles.System)
                .Select(e => (Type: e.GetProperty("type").GetString()!, Text: e.GetProperty("data").GetProperty("text").GetString()!)).ToList();
            void AtMost(string type, int n)
            {
                if (timeline.Count(e => e.Type == type) is var count && count > n) problems.Add($"{reference}: {type} recorded {count} times");
            }
            AtMost("ReferralRaised", 1);
            // One offer round per kind ("Offered to 3 patch provider(s)…", "…framework…"); at most one reminder per round.
            foreach (var dup in timeline.Where(e => e.Type == "OffersSent").GroupBy(e => e.Text.Split(' ')[3]).Where(d => d.Count() > 1))
                problems.Add($"{reference}: {dup.Key} offers sent {dup.Count()} times");
            AtMost("RemindersSent", timeline.Count(e => e.Type == "OffersSent"));
            AtMost("BrokerageAlerted", 1);
            AtMost("NoProviderFound", 1);
            AtMost("PackageAwarded", 1);
            AtMost("DischargeOverdue", 1);
            AtMost("Discharged", 1);
            AtMost("CarePlanRevisionOverdue", 1);
            AtMost("ReferralClosed", 1);
            foreach (var dup in timeline.Where(e => e.Type is "OfferAccepted" or "OfferDeclined")
                         .GroupBy(e => names.Values.FirstOrDefault(n => e.Text.StartsWith(n + " ", StringComparison.Ordinal)) ?? e.Text).Where(d => d.Count() > 1))
                problems.Add($"{reference}: {dup.Key} answered {dup.Count()} times");
            foreach (var a in log.Accepted.Where(a => a.Kind == "response" && a.Reference == reference))
                if (!timeline.Any(e => e.Type is "OfferAccepted" or "OfferDeclined" && e.Text.StartsWith(names[a.ProviderId!], StringComparison.Ordinal)))
                    problems.Add($"accepted response of {a.ProviderId} to {reference} is not in its timeline");
            deadlineDecisions += timeline.Count(e => e.Type is "RemindersSent" or "BrokerageAlerted" or "NoProviderFound" or "DischargeOverdue" or "CarePlanRevisionOverdue");
        }

        // 3. Deadlines came due and fired: none is left due, and their decisions are on the timelines (once, above).
        if (deadlineDecisions == 0) problems.Add("no deadline fired: the policy windows did not come due");
        var due = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM dt_inbox WHERE visible_at <= @now", new { now = ProcessTestKit.NowTicks });
        if (due > 0) problems.Add($"{due} inbox messages (timers, events) due but not taken");

        // 4. Every message is sent and recorded once; nothing is stuck.
        var outbox = (await c.QueryAsync<(string Id, int Status, int Attempts, string? Provider)>("SELECT id, status, attempts, provider FROM outbox")).ToList();
        if (outbox.Count == 0) problems.Add("no messages");
        if (outbox.Select(o => o.Id).Distinct().Count() != outbox.Count) problems.Add("an outbox id is recorded twice");
        foreach (var o in outbox.Where(o => o.Status != 2 || o.Attempts < 1 || o.Provider is null)) problems.Add($"message {o.Id}: status {o.Status}, attempts {o.Attempts}");
        var overdue = (await http.GetFromJsonAsync<JsonElement>("/api/instances?type=D2A&overdue=true")).GetArrayLength();
        if (overdue > 0) problems.Add($"{overdue} instances overdue after settling");

        Assert.True(problems.Count == 0, $"{problems.Count} problems:\n{string.Join("\n", problems.Take(30))}");
        return deadlineDecisions;
    }
}
