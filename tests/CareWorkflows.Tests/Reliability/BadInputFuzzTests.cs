using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.Channels;
using CareWorkflows.Runtime.Links;
using CareWorkflows.Tests.D2A;
using Microsoft.Data.Sqlite;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace CareWorkflows.Tests.Reliability;

/// <summary>
/// At least 10,000 malformed, oversized, wrongly typed and wrongly encoded requests to every endpoint the app maps
/// (found from its endpoint data source, so new endpoints are covered automatically): no response is a 5xx, and the
/// database is exactly as it was (every row of every table). To reach past the first checks, route values are often
/// real: references of live instances (a raised D2A referral among them), signed links that validate (an open D2A
/// accept, a details link, and expired, tampered and foreign ones), the real SendGrid inbound secret; and webhook calls
/// often carry valid proof (Twilio signature, SendGrid event signature, Notify bearer token) around bad content.
/// </summary>
public sealed class BadInputFuzzTests
{
    private const int Requests = 10_000;

    [Fact]
    public async Task Ten_thousand_bad_requests_get_no_5xx_and_change_nothing()
    {
        using var sendGridKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var proof = new WebhookProof("fuzz-twilio-auth-token", sendGridKey, "fuzz-inbound-secret-0123", "fuzz-notify-bearer-token");
        await using var app = new CareWorkflowsApp(settings: new Dictionary<string, string?>
        {
            ["Twilio:AuthToken"] = proof.TwilioAuthToken,
            ["SendGrid:WebhookPublicKey"] = Convert.ToBase64String(sendGridKey.ExportSubjectPublicKeyInfo()),
            ["SendGrid:InboundSecret"] = proof.InboundSecret,
            ["Notify:CallbackBearerToken"] = proof.NotifyToken,
        });
        var references = new List<string>();
        for (var i = 0; i < 3; i++)
            references.Add((await app.As(Roles.QualityAssurance).PostJsonAsync("/api/quality-concerns",
                new { providerId = "east-kestrel", concern = $"Concern {i}: late evening calls.", responseWorkingDays = 3 })).Str("reference"));
        // A live D2A referral offered to the East patch: its accept asks are open, so its signed accept links validate.
        var d2a = await D2ATestKit.RaiseAsync(app);
        await app.SettleAsync(); // its offers and notes go out in the background: the snapshot is taken once they are done
        references.Add(d2a);
        references.Add(d2a.ToLowerInvariant());
        var issuer = app.Services.GetRequiredService<HmacLinkIssuer>();
        var deadline = app.Now + Duration.FromHours(1);
        string[] tokens =
        [
            // Valid and open: only a body that is not an acceptance (no readable firstCall) reaches these.
            issuer.CreateToken(d2a, "east-orchard-lane", "accept", deadline),
            issuer.CreateToken(d2a, "east-kestrel", "accept", deadline),
            // Valid signature, but not the award holder / not an open ask / expired / another instance / tampered.
            issuer.CreateToken(d2a, "east-orchard-lane", "details", deadline),
            issuer.CreateToken(d2a, "fw-northgate", "accept", deadline),
            issuer.CreateToken(d2a, "east-orchard-lane", "accept", app.Now - Duration.FromMinutes(1)),
            issuer.CreateToken(references[0], "someone", "accept", deadline),
            issuer.CreateToken("D2A-ZZZZZ", "east-orchard-lane", "accept", deadline),
            Tamper(issuer.CreateToken(d2a, "east-meadowbank", "accept", deadline)),
            issuer.CreateToken(d2a, "east-orchard-lane", "accept", deadline)[..20],
        ];
        var routeValues = new RouteValues(references, tokens, proof.InboundSecret);
        var before = await SnapshotAsync(app);

        var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m, Pattern: e.RoutePattern.RawText ?? "")))
            .Where(r => r.Pattern.Length > 0)
            .Distinct()
            .ToList();
        Assert.NotEmpty(routes);
        var rng = new Random(20261124);
        var clients = new[]
        {
            app.As(Roles.Admin), app.As(Roles.Brokerage), app.As(Roles.Provider, "P-FUZZ"), app.As(Roles.QualityAssurance), app.Anonymous(),
        };
        var failures = new List<string>();
        var statusCounts = new Dictionary<int, int>();

        for (var i = 0; i < Requests; i++)
        {
            var (method, pattern) = routes[i % routes.Count];
            var path = FillRoute(pattern, rng, routeValues);
            var pathAndQuery = path + RandomQuery(rng);
            var request = new HttpRequestMessage(new HttpMethod(method), pathAndQuery);
            if (method is "POST" or "PUT" or "PATCH") request.Content = BadBody(rng);
            if (pattern.StartsWith("/webhooks/", StringComparison.Ordinal) && rng.Next(3) > 0)
                await proof.SignAsync(request, pathAndQuery, rng);
            var client = clients[rng.Next(clients.Length)];
            HttpResponseMessage response;
            try { response = await client.SendAsync(request, TestContext.Current.CancellationToken); }
            catch (Exception e) { failures.Add($"{method} {path}: threw {e.GetType().Name}: {e.Message}"); continue; }
            var code = (int)response.StatusCode;
            statusCounts[code] = statusCounts.GetValueOrDefault(code) + 1;
            if (code >= 500) failures.Add($"{method} {pattern} ({request.Content?.Headers.ContentType?.MediaType}): {code}");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n{string.Join("\n", failures.GroupBy(f => f).Select(g => $"{g.Count()} × {g.Key}"))}");
        Assert.Equal(before, await SnapshotAsync(app));
        Assert.Equal(CareWorkflowsApp.DefaultStart, app.Now);
        if (Environment.GetEnvironmentVariable("CW_FUZZ_REPORT") == "1") Assert.Fail($"{Requests} requests over {routes.Count} routes: " +
            string.Join(", ", statusCounts.OrderBy(k => k.Key).Select(k => $"{k.Key}×{k.Value}")));
    }

    /// <summary>Every row of every table of the app's SQLite database, in a stable order.</summary>
    private static async Task<string> SnapshotAsync(CareWorkflowsApp app)
    {
        await using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = app.DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await c.OpenAsync();
        var tables = new List<string>();
        await using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) tables.Add(r.GetString(0));
        }
        Assert.Contains("dt_instances", tables); // the Durable Task server's tables are in the snapshot too
        Assert.Contains("outbox", tables);
        var sb = new StringBuilder();
        foreach (var table in tables)
        {
            var rows = new List<string>();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT * FROM \"{table}\"";
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
                rows.Add(string.Join("|", Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? "∅" : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            rows.Sort(StringComparer.Ordinal);
            sb.Append($"{table}: {rows.Count} rows\n");
            foreach (var row in rows) sb.Append("  ").Append(row).Append('\n');
        }
        return sb.ToString();
    }

    private sealed record RouteValues(IReadOnlyList<string> References, IReadOnlyList<string> Tokens, string InboundSecret);

    private static string Tamper(string token)
    {
        var chars = token.ToCharArray();
        var i = chars.Length / 2;
        chars[i] = chars[i] == 'A' ? 'B' : 'A';
        return new string(chars);
    }

    /// <summary>Valid proof for the provider webhooks, put around whatever bad content the request carries.</summary>
    private sealed record WebhookProof(string TwilioAuthToken, ECDsa SendGridKey, string InboundSecret, string NotifyToken)
    {
        public async Task SignAsync(HttpRequestMessage request, string pathAndQuery, Random rng)
        {
            var path = pathAndQuery.Split('?')[0];
            if (path.StartsWith("/webhooks/twilio/", StringComparison.Ordinal))
            {
                // A correctly signed form whose fields are wrong: no sender on inbound, an unknown message and status on status.
                var form = new List<KeyValuePair<string, string>> { new("Body", Garbage[rng.Next(Garbage.Length)]), new("AccountSid", Garbage[rng.Next(Garbage.Length)]) };
                if (path.EndsWith("/status", StringComparison.Ordinal))
                {
                    if (rng.Next(2) == 0) form.Add(new("MessageSid", "SM" + Garbage[rng.Next(Garbage.Length)]));
                    if (rng.Next(2) == 0) form.Add(new("MessageStatus", Garbage[rng.Next(Garbage.Length)]));
                }
                else if (rng.Next(2) == 0) form.Add(new("MessageSid", "SM" + Garbage[rng.Next(Garbage.Length)]));
                request.Content = new FormUrlEncodedContent(form);
                request.Headers.TryAddWithoutValidation("X-Twilio-Signature", CareWorkflows.Tests.Channels.ChannelFakes.TwilioSignature(TwilioAuthToken, "http://localhost" + pathAndQuery, form));
            }
            else if (path == "/webhooks/sendgrid/events")
            {
                var raw = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync();
                var timestamp = rng.Next(2) == 0 ? "1700000000" : Garbage[rng.Next(Garbage.Length)];
                var signature = SendGridKey.SignData(Encoding.UTF8.GetBytes(timestamp).Concat(raw).ToArray(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                var content = new ByteArrayContent(raw);
                if (request.Content?.Headers.ContentType is { } type) content.Headers.ContentType = type;
                request.Content = content;
                request.Headers.TryAddWithoutValidation("X-Twilio-Email-Event-Webhook-Signature", Convert.ToBase64String(signature));
                request.Headers.TryAddWithoutValidation("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
            }
            else if (path.StartsWith("/webhooks/sendgrid/inbound", StringComparison.Ordinal))
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("inbound:" + InboundSecret)));
            else if (path.StartsWith("/webhooks/notify/", StringComparison.Ordinal))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", NotifyToken);
        }
    }

    private static readonly string[] Garbage =
    [
        "", " ", "null", "%00", "..%2F..%2Fetc%2Fpasswd", "D2A-00000", "TST-IIIII", "<script>alert(1)</script>", "' OR 1=1 --", "ÿþ", "\u202e",
        new string('A', 5000), "%FF%FE", "😀", "-1", "9999999999999999999999", "TST-", "-", "%20",
    ];

    private static string FillRoute(string pattern, Random rng, RouteValues values)
    {
        var parts = pattern.Split('/');
        for (var i = 0; i < parts.Length; i++)
            if (parts[i].StartsWith('{'))
            {
                var name = parts[i].Trim('{', '}').Split(':')[0];
                var real = rng.Next(2) == 0;
                parts[i] = Uri.EscapeDataString(name switch
                {
                    "reference" when real => values.References[rng.Next(values.References.Count)],
                    "token" when real => values.Tokens[rng.Next(values.Tokens.Count)],
                    "secret" when real => values.InboundSecret,
                    "id" when real => rng.Next(2) == 0 ? "east-orchard-lane" : values.References[rng.Next(values.References.Count)],
                    _ => Garbage[rng.Next(Garbage.Length)],
                });
            }
        var path = string.Join('/', parts);
        return path.StartsWith('/') ? path : "/" + path;
    }

    private static string RandomQuery(Random rng) => rng.Next(4) switch
    {
        0 => "",
        1 => "?type=" + Uri.EscapeDataString(Garbage[rng.Next(Garbage.Length)]) + "&overdue=" + Uri.EscapeDataString(Garbage[rng.Next(Garbage.Length)]),
        2 => "?status=%ZZ&reference=" + new string('x', rng.Next(1, 3000)),
        _ => "?" + string.Join("&", Enumerable.Range(0, rng.Next(1, 50)).Select(k => $"k{k}={rng.Next()}")),
    };

    /// <summary>Bodies that must never be accepted: broken JSON, wrong types, wrong encodings, oversized, wrong media types.</summary>
    private static HttpContent BadBody(Random rng)
    {
        switch (rng.Next(12))
        {
            case 0: return Json("{\"by\": ");
            case 1: return Json("[1,2,3]");
            case 2: return Json("{\"reason\": 42, \"now\": [], \"by\": {}, \"patient\": \"x\", \"nhsNumber\": true, \"hours\": \"lots\"}");
            case 3: return Json(new string('[', 5000) + new string(']', 5000));
            case 4: return Json("{\"a\":\"" + new string('x', 2_000_000) + "\"}");
            case 5:
            {
                var bytes = new byte[rng.Next(1, 4096)];
                rng.NextBytes(bytes);
                var c = new ByteArrayContent(bytes);
                c.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                return c;
            }
            case 6:
            {
                var c = new ByteArrayContent([0xC3, 0x28, 0xA0, 0xA1, 0xE2, 0x28, 0xA1]); // invalid UTF-8
                c.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                return c;
            }
            case 7: return new StringContent("reason=%ZZ%&now=\u0000", Encoding.UTF8, "application/x-www-form-urlencoded");
            case 8: return new StringContent("<xml>nope</xml>", Encoding.UTF8, "application/xml");
            case 9:
            {
                var c = new StringContent("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n" + new string('y', 1000), Encoding.UTF8);
                c.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
                return c;
            }
            case 10: return Json("\"just a string\"");
            default: return Json("{\"reason\": null, \"now\": \"2020-13-45T99:99:99Z\", \"by\": \"P-1D\", \"firstCall\": 17}");
        }
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
