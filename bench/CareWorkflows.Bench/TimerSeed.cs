using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.States;
using Npgsql;
using Quartz;
using P = Microsoft.DurableTask.Protobuf;

namespace CareWorkflows.Bench;

/// <summary>
/// Bulk seeding of timers for the timer-load and timers-1m sections (issue 16). Creating a million timers through each
/// system's API takes far longer than the measurement, so every system gets ONE real timer through its own API, the rows
/// that produced are read back, and clones of them (new ids, new due times) are written with binary COPY. The clones are
/// what the system itself would have written for that id and due time: for our server the protobuf history and inbox
/// events are parsed and re-serialised with the clone's instance id, execution id, input and fire time, not copied
/// with the sample's time in them.
/// Every timer has an index; its due time is the caller's; the work that fires it reports its index or due time.
/// </summary>
public static class TimerSeed
{
    /// <summary>The sample timer's index, so that it can be told apart in the sample's text (ids, arguments).</summary>
    public const int SampleIndex = 987_654_321;

    public static readonly string[] Systems = ["ours-pg", "hangfire", "quartz", "raw-pg"];

    /// <summary>Rows of one table, as read back (column names and PostgreSQL type names kept for COPY).</summary>
    public sealed record Rows(string Table, string[] Columns, string[] Types, List<object?[]> Values)
    {
        public int Col(string name) => Array.IndexOf(Columns, name) is var i and >= 0 ? i : throw new InvalidOperationException($"{Table}: no column {name}");
    }

    public static async Task<Rows> ReadAsync(NpgsqlConnection c, string table, string where, params (string Name, object Value)[] ps)
    {
        await using var cmd = new NpgsqlCommand($"SELECT * FROM {table} WHERE {where}", c);
        foreach (var (n, v) in ps) cmd.Parameters.AddWithValue(n, v);
        await using var r = await cmd.ExecuteReaderAsync();
        var cols = Enumerable.Range(0, r.FieldCount).Select(r.GetName).ToArray();
        var types = Enumerable.Range(0, r.FieldCount).Select(i => r.GetPostgresType(i).Name).ToArray();
        var rows = new List<object?[]>();
        while (await r.ReadAsync())
        {
            var v = new object?[r.FieldCount];
            for (var i = 0; i < v.Length; i++) v[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            rows.Add(v);
        }
        if (rows.Count == 0) throw new InvalidOperationException($"{table}: the sample has no rows where {where}");
        return new Rows(table, cols, types, rows);
    }

    /// <summary>A binary COPY writer for some columns of a table; identity columns are left out by the caller.</summary>
    public sealed class Copy : IAsyncDisposable
    {
        private readonly NpgsqlBinaryImporter _w;
        private readonly string[] _types;
        private readonly int[] _from;
        public long Count { get; private set; }

        private Copy(NpgsqlBinaryImporter w, string[] types, int[] from) { _w = w; _types = types; _from = from; }

        public static async Task<Copy> StartAsync(NpgsqlConnection c, Rows shape, params string[] skip)
        {
            var from = Enumerable.Range(0, shape.Columns.Length).Where(i => !skip.Contains(shape.Columns[i])).ToArray();
            var w = await c.BeginBinaryImportAsync($"COPY {shape.Table} ({string.Join(", ", from.Select(i => shape.Columns[i]))}) FROM STDIN (FORMAT BINARY)");
            w.Timeout = TimeSpan.FromMinutes(30);
            return new Copy(w, from.Select(i => shape.Types[i]).ToArray(), from);
        }

        public async Task WriteAsync(object?[] row)
        {
            await _w.StartRowAsync();
            for (var k = 0; k < _from.Length; k++)
                if (row[_from[k]] is { } v) await _w.WriteAsync(v, _types[k]); else await _w.WriteNullAsync();
            Count++;
        }

        public async Task CompleteAsync() => await _w.CompleteAsync();
        public ValueTask DisposeAsync() => _w.DisposeAsync();
    }

    public static async Task ExecAsync(string cs, string sql)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 1800 };
        await cmd.ExecuteNonQueryAsync();
    }

    private static string S(long v) => v.ToString(CultureInfo.InvariantCulture);

    // ---------------------------------------------------------------- our server

    /// <summary>The sample: one Timer orchestration scheduled through Microsoft's client on our server, its timer created.</summary>
    public sealed record OursSample(Rows Instance, Rows History, Rows Inbox, long SampleDueMs);

    /// <summary>
    /// Runs our server on <paramref name="cs"/> (so it migrates the schema), schedules the sample through the client and
    /// waits for its first episode (the timer created); the sample's id is kept in bench_sample.
    /// </summary>
    public static async Task OursCreateSampleAsync(ChildContext x, string cs)
    {
        var dueMs = DateTimeOffset.UtcNow.AddDays(3650).ToUnixTimeMilliseconds();
        await using (var e = await Engine.StartAsync("ours-pg", x, Workloads.Register, cs))
        {
            var id = await e.Client.ScheduleNewOrchestrationInstanceAsync("Timer", dueMs);
            await WaitTimerCreatedAsync(cs, id);
            await KeepSampleAsync(cs, id, dueMs);
        }
    }

    /// <summary>The sample's id and due time, in a table of the bench's own (so a copy of the database has them).</summary>
    private static async Task KeepSampleAsync(string cs, string id, long dueMs) =>
        await ExecAsync(cs, $"CREATE TABLE bench_sample (id TEXT NOT NULL, due_ms BIGINT NOT NULL); INSERT INTO bench_sample VALUES ('{id}', {dueMs})");

    private static async Task<(string Id, long DueMs)> SampleIdAsync(NpgsqlConnection c)
    {
        await using var cmd = new NpgsqlCommand("SELECT id, due_ms FROM bench_sample", c);
        await using var r = await cmd.ExecuteReaderAsync();
        if (!await r.ReadAsync()) throw new InvalidOperationException("no bench_sample row");
        return (r.GetString(0), r.GetInt64(1));
    }

    public static async Task<OursSample> OursReadSampleAsync(string cs)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        var (id, dueMs) = await SampleIdAsync(conn);
        var sample = new OursSample(
            await ReadAsync(conn, "dt_instances", "instance_id = @id", ("id", id)),
            await ReadAsync(conn, "dt_history", "instance_id = @id ORDER BY seq", ("id", id)),
            await ReadAsync(conn, "dt_inbox", "instance_id = @id ORDER BY id", ("id", id)),
            dueMs);
        if ((string?)sample.Instance.Values[0][sample.Instance.Col("input")] != S(dueMs))
            throw new InvalidOperationException($"unexpected sample input {sample.Instance.Values[0][sample.Instance.Col("input")]}");
        if (sample.Inbox.Values.Count != 1) throw new InvalidOperationException($"the sample has {sample.Inbox.Values.Count} inbox rows, expected its one timer");
        return sample;
    }

    public static string OursInstanceId(int index) => $"bench-timer-{index:D9}";

    /// <summary>One clone's rows: its dt_instances row, dt_history rows and dt_inbox row (values in the sample's columns).</summary>
    public sealed record OursRows(object?[] Instance, List<object?[]> History, object?[] Inbox);

    /// <summary>
    /// What our server writes for a Timer orchestration with this instance id, execution id and due time, made from the
    /// sample: ExecutionStarted's instance, execution and input, TimerCreated's and TimerFired's fire time and the inbox
    /// row's visible_at replaced (re-serialised protobuf); every other byte is the sample's.
    /// </summary>
    public static OursRows OursClone(OursSample s, string id, string exec, long dueMs)
    {
        // Microsoft's worker splits a timer longer than its MaximumTimerInterval (3 days) into legs: the stored timer
        // fires at the episode's time + that interval, the orchestration's own due time stays in its input. The sample
        // (10 years ahead) shows both: its episode's time and its first leg's fire time.
        var events = s.History.Values.Select(v => P.HistoryEvent.Parser.ParseFrom((byte[])v[s.History.Col("event")]!)).ToList();
        var sampleLeg = events.Single(e => e.EventTypeCase == P.HistoryEvent.EventTypeOneofCase.TimerCreated).TimerCreated.FireAt.ToDateTimeOffset();
        var firstLegMs = sampleLeg.ToUnixTimeMilliseconds() < s.SampleDueMs ? Math.Min(dueMs, sampleLeg.ToUnixTimeMilliseconds()) : dueMs;
        var fireAt = firstLegMs == dueMs ? Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(dueMs)) : Timestamp.FromDateTimeOffset(sampleLeg);
        var input = S(dueMs);
        var row = (object?[])s.Instance.Values[0].Clone();
        row[s.Instance.Col("instance_id")] = id; row[s.Instance.Col("execution_id")] = exec; row[s.Instance.Col("input")] = input;
        var history = new List<object?[]>();
        foreach (var v in s.History.Values)
        {
            var e = P.HistoryEvent.Parser.ParseFrom((byte[])v[s.History.Col("event")]!);
            switch (e.EventTypeCase)
            {
                case P.HistoryEvent.EventTypeOneofCase.ExecutionStarted:
                    e.ExecutionStarted.OrchestrationInstance.InstanceId = id;
                    e.ExecutionStarted.OrchestrationInstance.ExecutionId = exec;
                    e.ExecutionStarted.Input = input;
                    break;
                case P.HistoryEvent.EventTypeOneofCase.TimerCreated:
                    e.TimerCreated.FireAt = fireAt;
                    break;
            }
            var h = (object?[])v.Clone();
            h[s.History.Col("instance_id")] = id; h[s.History.Col("execution_id")] = exec; h[s.History.Col("event")] = e.ToByteArray();
            history.Add(h);
        }
        var f = P.HistoryEvent.Parser.ParseFrom((byte[])s.Inbox.Values[0][s.Inbox.Col("event")]!);
        if (f.EventTypeCase != P.HistoryEvent.EventTypeOneofCase.TimerFired) throw new InvalidOperationException($"sample inbox event is {f.EventTypeCase}");
        f.TimerFired.FireAt = fireAt;
        var m = (object?[])s.Inbox.Values[0].Clone();
        m[s.Inbox.Col("instance_id")] = id; m[s.Inbox.Col("execution_id")] = exec;
        m[s.Inbox.Col("visible_at")] = fireAt.ToDateTimeOffset().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        m[s.Inbox.Col("event")] = f.ToByteArray();
        return new OursRows(row, history, m);
    }

    /// <summary>
    /// Checks the cloning against the server itself: a second real Timer orchestration (due in an hour) is scheduled
    /// through the client, and the clone of the sample for its id, execution id and due time must equal its rows in every
    /// column and every protobuf field but the times the server stamps (created/updated/step times, event timestamps).
    /// </summary>
    public static async Task OursVerifyCloneAsync(ChildContext x, string cs)
    {
        var sample = await OursReadSampleAsync(cs);
        var dueMs = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds(); // one leg: fires at its due time
        string id;
        await using (var e = await Engine.StartAsync("ours-pg", x, Workloads.Register, cs))
        {
            id = await e.Client.ScheduleNewOrchestrationInstanceAsync("Timer", dueMs);
            await WaitTimerCreatedAsync(cs, id);
        }
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        var real = new OursSample(
            await ReadAsync(c, "dt_instances", "instance_id = @id", ("id", id)),
            await ReadAsync(c, "dt_history", "instance_id = @id ORDER BY seq", ("id", id)),
            await ReadAsync(c, "dt_inbox", "instance_id = @id ORDER BY id", ("id", id)),
            dueMs);
        var exec = (string)real.Instance.Values[0][real.Instance.Col("execution_id")]!;
        var clone = OursClone(sample, id, exec, dueMs);
        static string Norm(string table, string column, object? v)
        {
            if (column is "created_at" or "updated_at" or "last_step_at" or "id") return "(stamped)";
            if (column == "event" && v is byte[] b)
            {
                var e = P.HistoryEvent.Parser.ParseFrom(b);
                e.Timestamp = null;
                if (e.ExecutionStarted is { } st) st.ParentTraceContext = null; // a trace of the scheduling call
                return e.ToString();
            }
            return v is byte[] bytes ? Convert.ToHexString(bytes) : v?.ToString() ?? "null";
        }
        void Same(Rows shape, object?[] mine, object?[] theirs, string what)
        {
            for (var i = 0; i < shape.Columns.Length; i++)
                if (Norm(shape.Table, shape.Columns[i], mine[i]) is var a && Norm(shape.Table, shape.Columns[i], theirs[i]) is var b && a != b)
                    throw new InvalidOperationException($"bulk clone differs from the server's own rows in {what}.{shape.Columns[i]}: {a} vs {b}");
        }
        Same(real.Instance, clone.Instance, real.Instance.Values[0], "dt_instances");
        if (clone.History.Count != real.History.Values.Count) throw new InvalidOperationException($"bulk clone has {clone.History.Count} history rows, the server wrote {real.History.Values.Count}");
        for (var n = 0; n < clone.History.Count; n++) Same(real.History, clone.History[n], real.History.Values[n], $"dt_history[{n}]");
        Same(real.Inbox, clone.Inbox, real.Inbox.Values[0], "dt_inbox");
        await using var del = new NpgsqlCommand("DELETE FROM dt_inbox WHERE instance_id = @id; DELETE FROM dt_history WHERE instance_id = @id; DELETE FROM dt_instances WHERE instance_id = @id", c);
        del.Parameters.AddWithValue("id", id);
        await del.ExecuteNonQueryAsync();
    }

    private static async Task WaitTimerCreatedAsync(string cs, string id)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            // Its first episode has run: the timer's message is in the inbox and the instance is unlocked.
            await using var cmd = new NpgsqlCommand("SELECT (SELECT COUNT(*) FROM dt_inbox WHERE instance_id = @id AND execution_id IS NOT NULL) + " +
                                                    "(SELECT COUNT(*) FROM dt_instances WHERE instance_id = @id AND lock_owner IS NULL)", c);
            cmd.Parameters.AddWithValue("id", id);
            if ((long)(await cmd.ExecuteScalarAsync())! == 2) return;
            if (DateTime.UtcNow > until) throw new TimeoutException("the sample timer was not created within 60 s");
            await Task.Delay(100);
        }
    }

    /// <summary>Writes one Timer instance per (index, due) — instance, history and inbox rows on three connections at once.</summary>
    public static async Task<long> OursCopyAsync(string cs, OursSample s, IEnumerable<(int Index, long DueMs)> timers)
    {
        await using var c1 = new NpgsqlConnection(cs);
        await using var c2 = new NpgsqlConnection(cs);
        await using var c3 = new NpgsqlConnection(cs);
        await c1.OpenAsync(); await c2.OpenAsync(); await c3.OpenAsync();
        await using var instances = await Copy.StartAsync(c1, s.Instance);
        await using var histories = await Copy.StartAsync(c2, s.History);
        await using var inbox = await Copy.StartAsync(c3, s.Inbox, "id");
        foreach (var (index, dueMs) in timers)
        {
            var rows = OursClone(s, OursInstanceId(index), new Guid(index, 0x5eed, 0x7133, 0, 0, 0, 0, 0, 0, 0, 1).ToString("N"), dueMs);
            await instances.WriteAsync(rows.Instance);
            foreach (var h in rows.History) await histories.WriteAsync(h);
            await inbox.WriteAsync(rows.Inbox);
        }
        await instances.CompleteAsync(); await histories.CompleteAsync(); await inbox.CompleteAsync();
        return instances.Count;
    }

    // ---------------------------------------------------------------- Hangfire

    public static PostgreSqlStorage HangfireStorage(string cs)
    {
        var o = new PostgreSqlStorageOptions { PrepareSchemaIfNecessary = true, QueuePollInterval = TimeSpan.FromMilliseconds(100), EnableLongPolling = true };
        return new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(cs, o), o);
    }

    /// <summary>The sample: one job created through Hangfire's client in the Scheduled state (its job, state, parameter and schedule rows).</summary>
    public sealed record HangfireSample(Rows Job, Rows State, Rows Parameters, Rows Schedule, DateTime SampleDue);

    private static readonly DateTime SampleDue = new(2099, 12, 31, 23, 59, 58, 765, DateTimeKind.Utc);

    public static async Task HangfireCreateSampleAsync(string cs)
    {
        var id = new BackgroundJobClient(HangfireStorage(cs)).Create(() => HangfireJob.Run(SampleIndex), new ScheduledState(SampleDue));
        await KeepSampleAsync(cs, id, new DateTimeOffset(SampleDue).ToUnixTimeMilliseconds());
    }

    public static async Task<HangfireSample> HangfireReadSampleAsync(string cs)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        var (id, _) = await SampleIdAsync(c);
        var jobId = long.Parse(id, CultureInfo.InvariantCulture);
        return new HangfireSample(
            await ReadAsync(c, "hangfire.job", "id = @id", ("id", jobId)),
            await ReadAsync(c, "hangfire.state", "jobid = @id ORDER BY id", ("id", jobId)),
            await ReadAsync(c, "hangfire.jobparameter", "jobid = @id ORDER BY id", ("id", jobId)),
            await ReadAsync(c, "hangfire.set", "key = 'schedule' AND value = @id", ("id", id)),
            SampleDue);
    }

    /// <summary>Job, state, parameter and schedule-set rows per (index, due), ids taken past the sequences' ends.</summary>
    public static async Task<long> HangfireCopyAsync(string cs, HangfireSample s, IReadOnlyList<(int Index, long DueMs)> timers)
    {
        await using var c0 = new NpgsqlConnection(cs);
        await c0.OpenAsync();
        async Task<long> Reserve(string seq, long n)
        {
            // A block of ids 100,000 past the sequence (a running Hangfire server takes ids meanwhile: sequences are not
            // transactional), then setval past the block, so later inserts through Hangfire never collide.
            await using var cmd = new NpgsqlCommand($"SELECT nextval('{seq}') + 100000", c0);
            var first = (long)(await cmd.ExecuteScalarAsync())!;
            await using var set = new NpgsqlCommand($"SELECT setval('{seq}', {first + n})", c0);
            await set.ExecuteScalarAsync();
            return first;
        }
        var n = timers.Count;
        var jobBase = await Reserve("hangfire.job_id_seq", n);
        var stateBase = await Reserve("hangfire.state_id_seq", (long)n * s.State.Values.Count);
        var paramBase = await Reserve("hangfire.jobparameter_id_seq", (long)n * s.Parameters.Values.Count);
        var setBase = await Reserve("hangfire.set_id_seq", n);
        var sampleId = S((long)s.Job.Values[0][s.Job.Col("id")]!);
        var sampleIndex = S(SampleIndex);
        var sampleDueMs = S(new DateTimeOffset(s.SampleDue).ToUnixTimeMilliseconds());
        var sampleDueIso = s.SampleDue.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
        var sampleStateId = (long)s.Job.Values[0][s.Job.Col("stateid")]!;
        var states = s.State.Values.Select(v => (long)v[s.State.Col("id")]!).ToList();

        object? Text(object? v, int index, long jobId, long dueMs) => v is string t
            // Text carries the job id, the argument (index) and the due time (Unix ms or ISO): those replaced, nothing else.
            ? t.Replace(sampleDueMs, S(dueMs), StringComparison.Ordinal)
               .Replace(sampleDueIso, DateTimeOffset.FromUnixTimeMilliseconds(dueMs).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture), StringComparison.Ordinal)
               .Replace(sampleIndex, S(index), StringComparison.Ordinal).Replace($"\"{sampleId}\"", $"\"{jobId}\"", StringComparison.Ordinal)
            : v;
        // One COPY per table in turn (states and parameters reference jobs).
        await using (var jobs = await Copy.StartAsync(c0, s.Job))
        {
            for (var k = 0; k < n; k++)
            {
                var job = s.Job.Values[0].Select(v => Text(v, timers[k].Index, jobBase + k, timers[k].DueMs)).ToArray();
                job[s.Job.Col("id")] = jobBase + k;
                job[s.Job.Col("stateid")] = stateBase + (long)k * states.Count + states.IndexOf(sampleStateId);
                await jobs.WriteAsync(job);
            }
            await jobs.CompleteAsync();
        }
        await using (var stateRows = await Copy.StartAsync(c0, s.State))
        {
            for (var k = 0; k < n; k++)
                for (var q = 0; q < states.Count; q++)
                {
                    var st = s.State.Values[q].Select(v => Text(v, timers[k].Index, jobBase + k, timers[k].DueMs)).ToArray();
                    st[s.State.Col("id")] = stateBase + (long)k * states.Count + q;
                    st[s.State.Col("jobid")] = jobBase + k;
                    await stateRows.WriteAsync(st);
                }
            await stateRows.CompleteAsync();
        }
        await using (var paramRows = await Copy.StartAsync(c0, s.Parameters))
        {
            for (var k = 0; k < n; k++)
                for (var q = 0; q < s.Parameters.Values.Count; q++)
                {
                    var p = s.Parameters.Values[q].Select(v => Text(v, timers[k].Index, jobBase + k, timers[k].DueMs)).ToArray();
                    p[s.Parameters.Col("id")] = paramBase + (long)k * s.Parameters.Values.Count + q;
                    p[s.Parameters.Col("jobid")] = jobBase + k;
                    await paramRows.WriteAsync(p);
                }
            await paramRows.CompleteAsync();
        }
        await using (var setRows = await Copy.StartAsync(c0, s.Schedule))
        {
            for (var k = 0; k < n; k++)
            {
                var set = (object?[])s.Schedule.Values[0].Clone();
                set[s.Schedule.Col("id")] = setBase + k;
                set[s.Schedule.Col("value")] = S(jobBase + k);
                set[s.Schedule.Col("score")] = timers[k].DueMs / 1000.0;
                await setRows.WriteAsync(set);
            }
            await setRows.CompleteAsync();
        }
        return n;
    }

    // ---------------------------------------------------------------- Quartz

    /// <summary>The sample: one job with one simple trigger scheduled through a (not started) Quartz scheduler.</summary>
    public sealed record QuartzSample(Rows Job, Rows Trigger, Rows Simple, DateTimeOffset SampleDue);

    public static async Task QuartzCreateSampleAsync(string cs)
    {
        await ExecAsync(cs, QuartzTimers.Schema());
        var scheduler = await QuartzTimers.SchedulerAsync(cs, "sample");
        await scheduler.ScheduleJob(QuartzTimers.Job(SampleIndex), QuartzTimers.Trigger(SampleIndex, new DateTimeOffset(SampleDue)));
        await scheduler.Shutdown(false);
        await KeepSampleAsync(cs, QuartzTimers.Name(SampleIndex), new DateTimeOffset(SampleDue).ToUnixTimeMilliseconds());
    }

    public static async Task<QuartzSample> QuartzReadSampleAsync(string cs)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        var (name, _) = await SampleIdAsync(c);
        var sample = new QuartzSample(
            await ReadAsync(c, "qrtz_job_details", "job_name = @n", ("n", name)),
            await ReadAsync(c, "qrtz_triggers", "trigger_name = @n", ("n", name)),
            await ReadAsync(c, "qrtz_simple_triggers", "trigger_name = @n", ("n", name)),
            new DateTimeOffset(SampleDue));
        if ((long)sample.Trigger.Values[0][sample.Trigger.Col("next_fire_time")]! != new DateTimeOffset(SampleDue).UtcTicks)
            throw new InvalidOperationException("Quartz stores next_fire_time other than as UTC ticks");
        return sample;
    }

    /// <summary>Job, trigger and simple-trigger rows per (index, due): one COPY per table in turn (triggers reference jobs).</summary>
    public static async Task<long> QuartzCopyAsync(string cs, QuartzSample s, IEnumerable<(int Index, long DueMs)> timers)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        var jName = s.Job.Col("job_name"); var tName = s.Trigger.Col("trigger_name"); var tJob = s.Trigger.Col("job_name");
        var tNext = s.Trigger.Col("next_fire_time"); var tStart = s.Trigger.Col("start_time"); var sName = s.Simple.Col("trigger_name");
        await using (var jobs = await Copy.StartAsync(c, s.Job))
        {
            foreach (var (index, _) in timers) { var j = (object?[])s.Job.Values[0].Clone(); j[jName] = QuartzTimers.Name(index); await jobs.WriteAsync(j); }
            await jobs.CompleteAsync();
        }
        long n = 0;
        await using (var triggers = await Copy.StartAsync(c, s.Trigger))
        {
            foreach (var (index, dueMs) in timers)
            {
                var ticks = DateTimeOffset.FromUnixTimeMilliseconds(dueMs).UtcTicks;
                var t = (object?[])s.Trigger.Values[0].Clone(); t[tName] = QuartzTimers.Name(index); t[tJob] = QuartzTimers.Name(index); t[tNext] = ticks; t[tStart] = ticks;
                await triggers.WriteAsync(t);
                n++;
            }
            await triggers.CompleteAsync();
        }
        await using (var simple = await Copy.StartAsync(c, s.Simple))
        {
            foreach (var (index, _) in timers) { var st = (object?[])s.Simple.Values[0].Clone(); st[sName] = QuartzTimers.Name(index); await simple.WriteAsync(st); }
            await simple.CompleteAsync();
        }
        return n;
    }

    // ---------------------------------------------------------------- raw

    public const string RawSchema =
        "CREATE TABLE timers (id BIGINT PRIMARY KEY, due_ms BIGINT NOT NULL, payload TEXT NOT NULL); CREATE INDEX ix_timers_due ON timers (due_ms, id);" +
        "CREATE TABLE fired (id BIGINT PRIMARY KEY, due_ms BIGINT NOT NULL, fired_ms BIGINT NOT NULL);";

    public static async Task<long> RawCopyAsync(string cs, IEnumerable<(int Index, long DueMs)> timers)
    {
        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        await using var w = await c.BeginBinaryImportAsync("COPY timers (id, due_ms, payload) FROM STDIN (FORMAT BINARY)");
        w.Timeout = TimeSpan.FromMinutes(30);
        long n = 0;
        foreach (var (index, dueMs) in timers)
        {
            await w.StartRowAsync();
            await w.WriteAsync((long)index, NpgsqlTypes.NpgsqlDbType.Bigint);
            await w.WriteAsync(dueMs, NpgsqlTypes.NpgsqlDbType.Bigint);
            await w.WriteAsync("timer", NpgsqlTypes.NpgsqlDbType.Text);
            n++;
        }
        await w.CompleteAsync();
        return n;
    }
}
