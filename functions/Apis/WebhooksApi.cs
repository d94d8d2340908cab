using System.Text;
using System.Text.Json;
using CareWorkflows.Functions.Channels;

namespace CareWorkflows.Functions.Apis;

/// <summary>
/// Provider webhooks: delivery status and inbound replies. Anonymous at the HTTP level; each route checks the provider's
/// own proof (signature, bearer token or secret) before anything is read into the store. Missing proof → 401, wrong
/// proof → 403, provider not configured → 404. See docs/channels.md for the URLs to give each provider.
/// </summary>
public static class WebhooksApi
{
    public static WebApplication MapWebhooksApi(this WebApplication app)
    {
        var hooks = app.MapGroup("/webhooks").AllowAnonymous().DisableAntiforgery().WithTags("Webhooks").ExcludeFromDescription();
        hooks.MapPost("/twilio/status", TwilioStatusAsync);
        hooks.MapPost("/twilio/inbound", TwilioInboundAsync);
        hooks.MapPost("/sendgrid/events", SendGridEventsAsync);
        hooks.MapPost("/sendgrid/inbound", SendGridInboundAsync);
        hooks.MapPost("/sendgrid/inbound/{secret}", SendGridInboundAsync);
        hooks.MapPost("/notify/status", NotifyStatusAsync);
        hooks.MapPost("/notify/inbound", NotifyInboundAsync);
        return app;
    }

    private const string EmptyTwiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

    // ---------- Twilio ----------

    private static async Task<(IResult? Refused, Dictionary<string, string> Form)> TwilioFormAsync(HttpContext http, IConfiguration config, CancellationToken ct)
    {
        var settings = TwilioSettings.Read(config, required: false);
        if (string.IsNullOrEmpty(settings.AuthToken)) return (Results.NotFound(), []);
        if (!http.Request.HasFormContentType) return (Results.BadRequest(), []);
        if (await RequestChecks.TryReadFormAsync(http.Request, ct) is not { } read) return (Results.BadRequest(), []);
        var form = read.ToDictionary(p => p.Key, p => p.Value.ToString());
        var signature = http.Request.Headers["X-Twilio-Signature"].ToString();
        if (string.IsNullOrEmpty(signature)) return (Results.Unauthorized(), form);
        // Twilio signs the URL it called: behind a proxy that is the public URL (Twilio:WebhookBaseUrl), not the one we see.
        var baseUrl = settings.WebhookBaseUrl ?? $"{http.Request.Scheme}://{http.Request.Host}";
        var url = baseUrl + http.Request.PathBase + http.Request.Path + http.Request.QueryString;
        if (!WebhookSignatures.IsValidTwilio(settings.AuthToken, url, form, signature)) return (Results.StatusCode(403), form);
        return (null, form);
    }

    private static async Task<IResult> TwilioStatusAsync(HttpContext http, IConfiguration config, DeliveryReports reports, CancellationToken ct)
    {
        var (refused, form) = await TwilioFormAsync(http, config, ct);
        if (refused is not null) return refused;
        var sid = form.GetValueOrDefault("MessageSid") ?? form.GetValueOrDefault("SmsSid");
        var status = form.GetValueOrDefault("MessageStatus") ?? form.GetValueOrDefault("SmsStatus") ?? "";
        if (string.IsNullOrEmpty(sid) || status.Length == 0) return Results.BadRequest();
        // failed / undelivered are final: Twilio will not try again.
        var failed = status is "failed" or "undelivered";
        await reports.RecordAsync("Twilio", sid, null, status, failed, form.GetValueOrDefault("ErrorCode") is { Length: > 0 } code ? $"error {code}" : null, ct);
        return Results.Content(EmptyTwiml, "text/xml");
    }

    private static async Task<IResult> TwilioInboundAsync(HttpContext http, IConfiguration config, InboundReplies replies, CancellationToken ct)
    {
        var (refused, form) = await TwilioFormAsync(http, config, ct);
        if (refused is not null) return refused;
        var sid = form.GetValueOrDefault("MessageSid") ?? form.GetValueOrDefault("SmsSid");
        var from = form.GetValueOrDefault("From");
        if (string.IsNullOrEmpty(sid) || string.IsNullOrEmpty(from)) return Results.BadRequest();
        var handled = await replies.HandleSmsAsync("Twilio", sid, from, form.GetValueOrDefault("Body") ?? "", ct);
        return handled.Status == 200 ? Results.Content(EmptyTwiml, "text/xml") : Results.StatusCode(handled.Status);
    }

    // ---------- SendGrid ----------

    private static async Task<IResult> SendGridEventsAsync(HttpContext http, IConfiguration config, DeliveryReports reports, CancellationToken ct)
    {
        var settings = SendGridSettings.Read(config, required: false);
        if (string.IsNullOrEmpty(settings.WebhookPublicKey)) return Results.NotFound();
        var raw = await ReadBodyAsync(http, ct);
        var signature = http.Request.Headers["X-Twilio-Email-Event-Webhook-Signature"].ToString();
        var timestamp = http.Request.Headers["X-Twilio-Email-Event-Webhook-Timestamp"].ToString();
        if (signature.Length == 0 || timestamp.Length == 0) return Results.Unauthorized();
        if (!WebhookSignatures.IsValidSendGrid(settings.WebhookPublicKey, timestamp, signature, raw)) return Results.StatusCode(403);

        JsonElement events;
        try { events = JsonDocument.Parse(raw).RootElement; }
        catch (JsonException) { return Results.BadRequest(); }
        if (events.ValueKind != JsonValueKind.Array || events.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Object)) return Results.BadRequest();
        foreach (var e in events.EnumerateArray())
        {
            var kind = Str(e, "event");
            if (kind is null) continue;
            // sg_message_id is the X-Message-Id we recorded plus ".filter…"; outbox_id is our custom arg.
            var sgId = Str(e, "sg_message_id") is { } s ? s.Split('.')[0] : null;
            Guid? outboxId = Guid.TryParse(Str(e, "outbox_id"), out var g) ? g : null;
            // bounce and dropped are final; deferred is SendGrid still trying.
            var failed = kind is "bounce" or "dropped";
            await reports.RecordAsync("SendGrid", sgId, outboxId, kind, failed, Str(e, "reason"), ct);
        }
        return Results.Ok();
    }

    /// <summary>
    /// Inbound Parse posts multipart form data. Authenticated by a secret: in the URL path (/webhooks/sendgrid/inbound/{secret})
    /// or as the basic-auth password (https://inbound:{secret}@host/webhooks/sendgrid/inbound).
    /// </summary>
    private static async Task<IResult> SendGridInboundAsync(HttpContext http, IConfiguration config, InboundReplies replies, CancellationToken ct, string? secret = null)
    {
        var settings = SendGridSettings.Read(config, required: false);
        if (string.IsNullOrEmpty(settings.InboundSecret)) return Results.NotFound();
        var given = secret ?? BasicAuthPassword(http);
        if (given is null) return Results.Unauthorized();
        if (!WebhookSignatures.SameText(settings.InboundSecret, given)) return Results.StatusCode(403);
        if (!http.Request.HasFormContentType) return Results.BadRequest();
        if (await RequestChecks.TryReadFormAsync(http.Request, ct) is not { } form) return Results.BadRequest();
        var from = EnvelopeFrom(form["envelope"].ToString()) ?? (MimeKit.MailboxAddress.TryParse(form["from"].ToString(), out var mb) ? mb.Address : null);
        if (string.IsNullOrEmpty(from)) return Results.BadRequest();
        var subject = form["subject"].ToString();
        var text = form["text"].ToString();
        if (text.Length == 0 && form["html"].ToString() is { Length: > 0 } html)
            text = System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Replace(html.Replace("<br", "\n<br").Replace("<p", "\n<p").Replace("<div", "\n<div"), "<[^>]+>", ""));
        var messageId = MessageIdOf(form["headers"].ToString())
            ?? "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{from}\n{subject}\n{text}")));
        var handled = await replies.HandleEmailAsync("SendGrid", messageId, from, subject, text, ct);
        return handled.Status == 200 ? Results.Ok() : Results.StatusCode(handled.Status);
    }

    private static string? BasicAuthPassword(HttpContext http)
    {
        var h = http.Request.Headers.Authorization.ToString();
        if (!h.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(h[6..].Trim()));
            var colon = decoded.IndexOf(':');
            return colon < 0 ? null : decoded[(colon + 1)..];
        }
        catch (FormatException) { return null; }
    }

    private static string? EnvelopeFrom(string envelope)
    {
        if (envelope.Length == 0) return null;
        try { return JsonDocument.Parse(envelope).RootElement is { ValueKind: JsonValueKind.Object } o ? Str(o, "from") : null; }
        catch (JsonException) { return null; }
    }

    private static string? MessageIdOf(string headers)
    {
        foreach (var line in headers.Replace("\r\n", "\n").Split('\n'))
            if (line.StartsWith("Message-ID:", StringComparison.OrdinalIgnoreCase) && line[11..].Trim() is { Length: > 0 } id) return id;
        return null;
    }

    // ---------- GOV.UK Notify ----------

    private static IResult? NotifyRefusal(HttpContext http, IConfiguration config)
    {
        var token = config["Notify:CallbackBearerToken"];
        if (string.IsNullOrEmpty(token)) return Results.NotFound();
        var h = http.Request.Headers.Authorization.ToString();
        if (!h.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return Results.Unauthorized();
        return WebhookSignatures.SameText(token, h[7..].Trim()) ? null : Results.StatusCode(403);
    }

    private static async Task<IResult> NotifyStatusAsync(HttpContext http, IConfiguration config, DeliveryReports reports, CancellationToken ct)
    {
        if (NotifyRefusal(http, config) is { } refused) return refused;
        JsonElement e;
        try { e = JsonDocument.Parse(await ReadBodyAsync(http, ct)).RootElement; }
        catch (JsonException) { return Results.BadRequest(); }
        if (e.ValueKind != JsonValueKind.Object || Str(e, "id") is not { } id || Str(e, "status") is not { } status) return Results.BadRequest();
        Guid? outboxId = Guid.TryParse(Str(e, "reference"), out var g) ? g : null;
        // Notify's failure statuses are final (it does not retry after reporting them).
        var failed = status is "permanent-failure" or "temporary-failure" or "technical-failure";
        await reports.RecordAsync("Notify", id, outboxId, status, failed, null, ct);
        return Results.Ok();
    }

    private static async Task<IResult> NotifyInboundAsync(HttpContext http, IConfiguration config, InboundReplies replies, CancellationToken ct)
    {
        if (NotifyRefusal(http, config) is { } refused) return refused;
        JsonElement e;
        try { e = JsonDocument.Parse(await ReadBodyAsync(http, ct)).RootElement; }
        catch (JsonException) { return Results.BadRequest(); }
        if (e.ValueKind != JsonValueKind.Object || Str(e, "id") is not { } id || Str(e, "source_number") is not { } from) return Results.BadRequest();
        var handled = await replies.HandleSmsAsync("Notify", id, from, Str(e, "message") ?? "", ct);
        return handled.Status == 200 ? Results.Ok() : Results.StatusCode(handled.Status);
    }

    // ---------- helpers ----------

    private static async Task<byte[]> ReadBodyAsync(HttpContext http, CancellationToken ct)
    {
        using var ms = new MemoryStream();
        await http.Request.Body.CopyToAsync(ms, ct);
        return ms.ToArray();
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
