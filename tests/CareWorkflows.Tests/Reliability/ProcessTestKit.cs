using System.Net;
using Dapper;
using Npgsql;
using NodaTime;

namespace CareWorkflows.Tests.Reliability;

/// <summary>The tests that run the app as OS processes take turns: on 2 cores, two of them together would starve each other.</summary>
[CollectionDefinition(Name, DisableParallelization = false)]
public sealed class AppProcessCollection
{
    public const string Name = "App processes";
}

/// <summary>Helpers for the process-level reliability tests: database lifetime, a timer audit, HTTP with retries.</summary>
public static class ProcessTestKit
{
    /// <summary>Figures for docs/reliability-tests.md: test output, and appended to $TMPDIR/cw-reliability.log.</summary>
    public static void Report(string line)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        try { File.AppendAllText(Path.Combine(Path.GetTempPath(), "cw-reliability.log"), $"{DateTime.UtcNow:u} {line}\n"); } catch (IOException) { }
    }

    public static long NowTicks => SystemClock.Instance.GetCurrentInstant().ToUnixTimeTicks();

    /// <summary>Drops a test database made by TestDatabases.NewPostgresDatabase (whatever still holds connections).</summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        var server = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        await using var c = new NpgsqlConnection(server.ToString());
        await c.OpenAsync();
        await c.ExecuteAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    /// <summary>
    /// Test instrumentation only: a trigger that writes every timer set, replaced, cancelled and fired (the runtime's
    /// consume, <c>DELETE FROM timers WHERE id = …</c>) to timer_audit, in the same transaction. Fired rows carry the
    /// database clock (same host clock as the app) so early firing is visible too.
    /// </summary>
    public static async Task InstallTimerAuditAsync(string connectionString, bool firingsOnly = false)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await c.ExecuteAsync("""
            CREATE TABLE timer_audit (seq BIGSERIAL PRIMARY KEY, op TEXT NOT NULL, id TEXT NOT NULL, reference TEXT NOT NULL, name TEXT NOT NULL,
                due_at BIGINT NOT NULL, at_ticks BIGINT NOT NULL, lease_owner TEXT NULL);
            CREATE FUNCTION timer_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE t BIGINT := (EXTRACT(EPOCH FROM clock_timestamp()) * 10000000)::BIGINT;
            BEGIN
              IF TG_OP = 'INSERT' THEN
                INSERT INTO timer_audit (op, id, reference, name, due_at, at_ticks) VALUES ('set', NEW.id, NEW.reference, NEW.name, NEW.due_at, t);
              ELSIF TG_OP = 'UPDATE' THEN
                IF NEW.id <> OLD.id THEN
                  INSERT INTO timer_audit (op, id, reference, name, due_at, at_ticks) VALUES ('replaced', OLD.id, OLD.reference, OLD.name, OLD.due_at, t);
                  INSERT INTO timer_audit (op, id, reference, name, due_at, at_ticks) VALUES ('set', NEW.id, NEW.reference, NEW.name, NEW.due_at, t);
                END IF;
              ELSE
                INSERT INTO timer_audit (op, id, reference, name, due_at, at_ticks, lease_owner) VALUES (
                  CASE WHEN current_query() ILIKE 'DELETE FROM timers WHERE id =%' THEN 'fired' ELSE 'cancelled' END,
                  OLD.id, OLD.reference, OLD.name, OLD.due_at, t, OLD.lease_owner);
              END IF;
              RETURN NULL;
            END $$;
            """);
        // Firings only (a delete trigger) keeps the instrumentation off the claim path when only firings are counted.
        await c.ExecuteAsync(firingsOnly
            ? "CREATE TRIGGER timer_audit AFTER DELETE ON timers FOR EACH ROW EXECUTE FUNCTION timer_audit_fn()"
            : "CREATE TRIGGER timer_audit AFTER INSERT OR UPDATE OR DELETE ON timers FOR EACH ROW EXECUTE FUNCTION timer_audit_fn()");
    }

    /// <summary>One audit row; <paramref name="LeaseOwner"/> is the worker that held the claim when the timer fired.</summary>
    public sealed record AuditRow(string Op, string Id, string Reference, string Name, long DueAt, long AtTicks, string? LeaseOwner);

    public static async Task<List<AuditRow>> TimerAuditAsync(NpgsqlConnection c) =>
        (await c.QueryAsync<AuditRow>("SELECT op AS Op, id AS Id, reference AS Reference, name AS Name, due_at AS DueAt, at_ticks AS AtTicks, lease_owner AS LeaseOwner FROM timer_audit ORDER BY seq")).ToList();

    /// <summary>
    /// Checks the timer audit: every timer id was set once and ended at most once (fired, cancelled or replaced); none fired
    /// before its due time (small tolerance for the two clock readings); every timer still pending is not due yet.
    /// Returns the problems found (empty when all is well) and the number of firings.
    /// </summary>
    public static (List<string> Problems, int Fired) CheckTimerAudit(IReadOnlyList<AuditRow> audit, IReadOnlyCollection<string> pendingIds, long nowTicks)
    {
        var problems = new List<string>();
        var fired = 0;
        foreach (var g in audit.GroupBy(a => a.Id))
        {
            var sets = g.Count(a => a.Op == "set");
            var ends = g.Where(a => a.Op != "set").ToList();
            var key = $"{g.First().Reference}/{g.First().Name} ({g.Key})";
            if (sets != 1) problems.Add($"{key} was set {sets} times");
            if (ends.Count > 1) problems.Add($"{key} ended {ends.Count} times: {string.Join(", ", ends.Select(e => e.Op))}");
            foreach (var f in ends.Where(e => e.Op == "fired"))
            {
                fired++;
                if (f.AtTicks + TimeSpan.TicksPerMillisecond * 50 < f.DueAt)
                    problems.Add($"{key} fired {(f.DueAt - f.AtTicks) / TimeSpan.TicksPerMillisecond} ms early");
            }
            if (ends.Count == 0 && !pendingIds.Contains(g.Key)) problems.Add($"{key} disappeared without an audit record");
            if (ends.Count == 0 && g.First().DueAt <= nowTicks) problems.Add($"{key} is due but never fired");
            if (ends.Count == 1 && pendingIds.Contains(g.Key)) problems.Add($"{key} ended but is still pending");
        }
        // Two firings of one timer name on one instance for the same due time would be a repeat under a new id.
        foreach (var g in audit.Where(a => a.Op == "fired").GroupBy(a => (a.Reference, a.Name, a.DueAt)).Where(g => g.Count() > 1))
            problems.Add($"{g.Key.Reference}/{g.Key.Name} due {g.Key.DueAt} fired {g.Count()} times");
        return (problems, fired);
    }

    /// <summary>
    /// Sends a request until it gets a definite answer (any HTTP status below 500): a request in flight when the app is
    /// killed may or may not have committed, so it is sent again with the same Idempotency-Key. 5xx answers are counted.
    /// </summary>
    public static async Task<(HttpStatusCode Status, string Body, int Attempts)> SendUntilDefiniteAsync(
        HttpClient client, Func<HttpRequestMessage> request, DateTime deadline, Action<string>? onServerError = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("No definite answer before the deadline.");
            try
            {
                using var response = await client.SendAsync(request());
                var body = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode < 500) return (response.StatusCode, body, attempt);
                onServerError?.Invoke($"{(int)response.StatusCode}: {body}");
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            catch (IOException) { }
            await Task.Delay(100);
        }
    }
}
