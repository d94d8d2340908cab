using System.Net;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.ServiceBus;
using CareWorkflows.Functions.Visits;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using static CareWorkflows.Tests.Channels.ChannelFakes;
using static CareWorkflows.Tests.Visits.VisitsTestKit;

namespace CareWorkflows.Tests.Visits;

/// <summary>Late and missed visit alerts end to end: through HTTP, signed by call monitoring, with the simulation clock.</summary>
public sealed class VisitAlertTests
{
    private static int _sid;

    private static Task<HttpResponseMessage> SmsAsync(CareWorkflowsApp app, string from, string body) =>
        app.Anonymous().SendAsync(TwilioPost("/webhooks/twilio/inbound",
            new() { ["MessageSid"] = $"SM{Interlocked.Increment(ref _sid):D32}", ["From"] = from, ["To"] = "+447700900000", ["Body"] = body }), TestContext.Current.CancellationToken);

    [Fact]
    public async Task Forged_replayed_unsigned_and_bad_alerts_are_refused_and_nothing_is_written()
    {
        await using var app = new CareWorkflowsApp(settings: Settings());
        var planned = app.Now - Duration.FromMinutes(30);
        var alert = Alert("A-1", "V-1", planned);

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAlertAsync(app, alert, secret: null)).Status);                                   // unsigned
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAlertAsync(app, alert, secret: "not-the-secret-not-the-secret")).Status);          // forged
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAlertAsync(app, alert, system: "ecm-unknown")).Status);                           // unknown system
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAlertAsync(app, alert, tamper: j => j.Replace("V-1", "V-2"))).Status);            // body changed after signing
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAlertAsync(app, alert, signedAt: app.Now - Duration.FromMinutes(6))).Status);     // replayed later
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAlertAsync(app, alert, signedAt: app.Now + Duration.FromMinutes(6))).Status);

        var badPerson = await PostAlertAsync(app, Alert("A-1", "V-1", planned, person: "Mary Smith"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badPerson.Status);
        Assert.True(badPerson.Body.GetProperty("errors").TryGetProperty("personId", out _), badPerson.ToString());
        var badKind = await PostAlertAsync(app, Alert("A-1", "V-1", planned, kind: "Sideways"));
        Assert.True(badKind.Body.GetProperty("errors").TryGetProperty("kind", out _), badKind.ToString());
        var future = await PostAlertAsync(app, Alert("A-1", "V-1", app.Now + Duration.FromHours(2)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, future.Status);
        Assert.True(future.Body.GetProperty("errors").TryGetProperty("plannedStart", out _), future.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAlertAsync(app, "{not json")).Status); // signed, but not JSON
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAlertAsync(app, Alert("A-1", "V-1", planned, provider: "west-wren"))).Status); // not this system's provider
        var nothing = await PostAlertAsync(app, Alert("A-2", "V-9", planned, kind: "Started"));
        Assert.Equal(HttpStatusCode.OK, nothing.Status);
        Assert.Equal("NoAlert", nothing.Str("outcome"));

        Assert.Equal(0, await InstanceCountAsync(app, "VA"));
        Assert.Empty(await app.SentAsync());
    }

    [Fact]
    public async Task A_signed_alert_is_raised_once_however_often_it_is_sent_and_ends_when_the_call_starts()
    {
        await using var app = new CareWorkflowsApp(settings: Settings());
        var planned = app.Now - Duration.FromMinutes(31);
        var first = await PostAlertAsync(app, Alert("A-7", "V-7", planned));
        Assert.Equal(HttpStatusCode.Created, first.Status);
        var reference = first.Str("reference");
        // The same alert again, and concurrently: one alert.
        var again = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PostAlertAsync(app, Alert("A-7", "V-7", planned))));
        Assert.All(again, r => Assert.Equal((HttpStatusCode.OK, reference), (r.Status, r.Str("reference"))));
        Assert.Equal(1, await InstanceCountAsync(app, "VA"));

        var sent = await app.SentAsync(reference);
        var sms = Assert.Single(sent, m => m.Channel == "sms");
        Assert.Equal(ProviderMobile, sms.To);
        Assert.DoesNotContain("LBB-104233", sms.Body);
        Assert.Contains($"/instances/{reference}", sms.Body); // a reference and a link
        Assert.Single(sent, m => m.Channel == "email" && m.To == ProviderEmail);

        var started = await PostAlertAsync(app, Alert("A-8", "V-7", planned, kind: "Started"));
        Assert.Equal((HttpStatusCode.OK, reference), (started.Status, started.Str("reference")));
        var instance = await app.InstanceAsync(reference);
        Assert.Equal("CallStarted", instance.GetProperty("status").GetString());
        Assert.Equal(["AlertRaised", "AlertEnded"], (await app.DecisionsAsync(reference)).Where(k => k != "Monitoring")); // call monitoring's own reports are inputs
    }

    [Fact]
    public async Task The_same_alert_from_the_Service_Bus_queue_is_the_same_one_alert_and_a_refused_one_is_a_dead_letter_with_nothing_written()
    {
        await using var app = new CareWorkflowsApp(settings: Settings());
        var queue = app.Services.GetRequiredService<VisitAlertQueueHandler>();
        var ct = TestContext.Current.CancellationToken;
        string Body(object alert, string? system = VisitsTestKit.System)
        {
            var json = global::System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(alert, CareWorkflowsApp.Json))!.AsObject();
            if (system is not null) json["systemId"] = system;
            return json.ToJsonString();
        }
        var planned = app.Now - Duration.FromMinutes(30);

        // Raised from the queue, then the same alert by HTTP and redelivered on the queue: one alert.
        var queued = await queue.HandleAsync(new ReferralDelivery("m-1", Body(Alert("A-50", "V-50", planned)), 1, null), ct);
        Assert.Equal(ReferralSettlementAction.Complete, queued.Action);
        Assert.Equal(1, await InstanceCountAsync(app, "VA"));
        var reference = (await PostAlertAsync(app, Alert("A-50", "V-50", planned))).Str("reference");
        Assert.Contains(reference, queued.Detail);
        Assert.Equal(ReferralSettlementAction.Complete, (await queue.HandleAsync(new ReferralDelivery("m-1", Body(Alert("A-50", "V-50", planned)), 2, null), ct)).Action);
        Assert.Equal(1, await InstanceCountAsync(app, "VA"));

        // A name for the person, an unknown system, another system's provider, not JSON: dead letters, nothing written.
        foreach (var (id, body) in new[]
        {
            ("m-2", Body(Alert("A-51", "V-51", planned, person: "Mary Smith"))),
            ("m-3", Body(Alert("A-52", "V-52", planned), system: "ecm-unknown")),
            ("m-4", Body(Alert("A-53", "V-53", planned, provider: "west-wren"))),
            ("m-5", "{not json"),
        })
            Assert.Equal(ReferralSettlementAction.DeadLetter, (await queue.HandleAsync(new ReferralDelivery(id, body, 1, null), ct)).Action);
        Assert.Equal(1, await InstanceCountAsync(app, "VA"));
        var letters = await app.Services.GetRequiredService<CareWorkflows.Functions.Hosting.IntakeDeadLetters>().ListAsync(ct);
        Assert.Equal(["m-2", "m-3", "m-4", "m-5"], letters.Select(l => l.MessageId).Order());
        Assert.All(letters, l => Assert.DoesNotContain("Mary Smith", l.Reason));
    }

    [Fact]
    public async Task Escalations_follow_the_clock_manager_at_15_minutes_then_Social_Services_Direct_and_the_safeguarding_lead_at_17_05()
    {
        // Tuesday 24 Nov 2026, 16:05 GMT: the hour runs out at 17:05, inside the 17:00–17:30 Social Services Direct slot (App E).
        await using var app = new CareWorkflowsApp(start: London(2026, 11, 24, 16, 5), settings: Settings());
        var reference = await RaiseAsync(app, "V-20", London(2026, 11, 24, 15, 35));
        await app.AdvanceToAsync(London(2026, 11, 24, 16, 19));
        Assert.DoesNotContain(await app.SentAsync(reference), m => m.Purpose == "manager-escalation");
        await app.AdvanceToAsync(London(2026, 11, 24, 16, 21));
        Assert.Single(await app.SentAsync(reference, ProviderEmail), m => m.Purpose == "manager-escalation");

        await app.AdvanceToAsync(London(2026, 11, 24, 17, 6));
        var sent = await app.SentAsync(reference);
        Assert.Single(sent, m => m.Purpose == "council-escalation" && m.To == Ssd);
        Assert.DoesNotContain(sent, m => m.To == Duty || m.To == Edt);
        var safeguarding = Assert.Single(sent, m => m.Purpose == "safeguarding-escalation" && m.To == Safeguarding);
        Assert.Contains("LBB-104233", safeguarding.Body); // council staff get the council's person id...
        Assert.All(sent.Where(m => m.Channel == "sms"), m => Assert.DoesNotContain("LBB-104233", m.Body)); // ...SMS never
        Assert.Equal(["AlertRaised", "ManagerEscalation", "DelayPrompt", "CouncilEscalation"], await app.DecisionsAsync(reference));
    }

    [Fact]
    public async Task The_desk_records_each_step_with_its_time_by_API_and_SMS_and_no_reply_hands_over_to_the_no_reply_procedure()
    {
        await using var app = new CareWorkflowsApp(start: London(2026, 11, 24, 10, 0), settings: Settings());
        var reference = await RaiseAsync(app, "V-30", London(2026, 11, 24, 9, 30));
        var desk = Desk(app);

        var bad = await desk.PostJsonAsync($"/api/visit-alerts/{reference}/steps", new { step = "ReplacementSent", at = "09:58" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.Status);
        Assert.True(bad.Body.GetProperty("errors").TryGetProperty("carerName", out _), bad.ToString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await desk.PostJsonAsync($"/api/visit-alerts/{reference}/steps", new { step = "Reassured", at = "10:30" })).Status); // future
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(Roles.Provider, "west-wren").PostJsonAsync($"/api/visit-alerts/{reference}/steps", new { step = "Reassured" })).Status);

        Assert.Equal(HttpStatusCode.OK, (await desk.PostJsonAsync($"/api/visit-alerts/{reference}/steps", new { step = "Reassured", at = "09:58" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await SmsAsync(app, "07700 900002", $"REPLACEMENT {reference} Sam Jones 10:00")).StatusCode);
        var state = (await app.InstanceAsync(reference)).GetProperty("state");
        var steps = state.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["Reassured", "ReplacementSent"], steps.Select(s => s.GetProperty("step").GetString()));
        Assert.Equal("2026-11-24T09:58:00Z", steps[0].GetProperty("at").GetString());
        Assert.Equal(("sms", "Sam Jones"), (steps[1].GetProperty("via").GetString(), steps[1].GetProperty("carerName").GetString()));

        Assert.Equal(HttpStatusCode.OK, (await SmsAsync(app, "+447700900002", $"NO REPLY {reference}")).StatusCode);
        var instance = await app.InstanceAsync(reference);
        Assert.Equal("NoReply", instance.GetProperty("status").GetString());
        var noReply = instance.GetProperty("state").GetProperty("noReplyReference").GetString()!;
        Assert.StartsWith("NR-", noReply);
        Assert.Single(await app.SentAsync(noReply, Duty), m => m.Purpose == "no-reply"); // 10:00 on a working day
        Assert.Single(await app.SentAsync(noReply, CareManager));
        Assert.Equal(reference, (await app.InstanceAsync(noReply)).GetProperty("state").GetProperty("alertReference").GetString());
    }

    [Fact]
    public async Task The_desk_can_record_a_step_by_replying_to_the_alert_email()
    {
        await using var app = new CareWorkflowsApp(start: London(2026, 11, 24, 10, 0), settings: Settings());
        var reference = await RaiseAsync(app, "V-60", London(2026, 11, 24, 9, 30));
        using var reply = await app.Anonymous().SendAsync(SendGridInbound(ProviderEmail, $"RE: {reference}", $"CARER-CONTACTED {reference} on the way 09:59", "m-va-60@x.example"),
            TestContext.Current.CancellationToken);
        Assert.True(reply.IsSuccessStatusCode, reply.ToString());
        await app.SettleAsync();
        var step = Assert.Single((await app.InstanceAsync(reference)).GetProperty("state").GetProperty("steps").EnumerateArray());
        Assert.Equal(("CarerContacted", "email", "2026-11-24T09:59:00Z"),
            (step.GetProperty("step").GetString(), step.GetProperty("via").GetString(), step.GetProperty("at").GetString()));
    }

    [Fact]
    public async Task A_cancellation_needs_a_senior_confirmation_and_ends_the_alert_and_the_KPIs_come_from_the_record()
    {
        await using var app = new CareWorkflowsApp(start: London(2026, 11, 24, 10, 0), settings: Settings());
        var cancelled = await RaiseAsync(app, "V-40", London(2026, 11, 24, 9, 30));
        var missed = await RaiseAsync(app, "V-41", London(2026, 11, 24, 9, 30), kind: "Missed");
        var desk = Desk(app);
        var unconfirmed = await desk.PostJsonAsync($"/api/visit-alerts/{cancelled}/cancellation", new { confirmedWith = "NextOfKin" });
        Assert.True(unconfirmed.Body.GetProperty("errors").TryGetProperty("confirmedBy", out _), unconfirmed.ToString());
        Assert.Equal(HttpStatusCode.OK, (await desk.PostJsonAsync($"/api/visit-alerts/{cancelled}/cancellation",
            new { confirmedWith = "NextOfKin", confirmedBy = "Pat Lee, care coordinator", at = "10:00" })).Status);
        Assert.Equal("Cancelled", (await app.InstanceAsync(cancelled)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await desk.PostJsonAsync($"/api/visit-alerts/{cancelled}/steps", new { step = "Reassured" })).Status);

        await app.AdvanceToAsync(London(2026, 11, 24, 10, 5));
        await desk.PostJsonAsync($"/api/visit-alerts/{missed}/steps", new { step = "Reassured" }); // 5 minutes: answered in time
        await desk.PostJsonAsync($"/api/visit-alerts/{missed}/steps", new { step = "ReplacementSent", carerName = "Sam Jones" });

        var kpis = await app.As(Roles.QualityAssurance).GetJsonAsync("/api/kpis/visits?from=2026-11-24&to=2026-11-24");
        Assert.Equal(HttpStatusCode.OK, kpis.Status);
        var figures = kpis.Body.GetProperty("figures").EnumerateArray().ToDictionary(f => f.GetProperty("key").GetString()!, f => (f.GetProperty("met").GetInt32(), f.GetProperty("of").GetInt32()));
        Assert.Equal((1, 2), figures["visits-missed"]);
        Assert.Equal((1, 1), figures["alerts-answered"]);        // the cancelled one ended before 15 minutes without needing an answer
        Assert.Equal((1, 1), figures["replacements-in-hour"]);
        // The same figures on the KPIs page.
        var page = await app.As(Roles.QualityAssurance).GetStringAsync("/kpis?from=2026-11-24&to=2026-11-24", TestContext.Current.CancellationToken);
        foreach (var row in new[] { "Visits missed, of alerts", "Alerts answered within 15 minutes", "Replacements within the hour", "No-reply outcomes within the hour" })
            Assert.Contains(row, page);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.As(Roles.QualityAssurance).GetJsonAsync("/api/kpis/visits?from=2026-11-30&to=2026-11-01")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Desk(app).GetJsonAsync("/api/kpis/visits")).Status);
    }
}
