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
