using System.Net;
using System.Text;
using CareWorkflows.Definitions;
using CareWorkflows.Definitions.D2A;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Extensions;
using CareWorkflows.Functions.Hosting;
using CareWorkflows.Functions.Workflows;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Links;
using CareWorkflows.Runtime.Providers;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Functions.Apis;

public sealed record PatientBody(string? Name, string? NhsNumber, LocalDate? DateOfBirth, string? Address, string? Postcode, string? NhsNumberMissingReason = null);
public sealed record ReferrerBody(string? Name, string? Email, string? Phone = null);

/// <summary>
/// A Discharge Passport / referral (App M §5–6). Times are ISO-8601: with an offset ("2026-11-24T14:00:00Z") or UK local
/// time without one ("2026-11-24T14:00").
/// </summary>
public sealed record RaiseReferralBody(PatientBody? Patient, string? Hospital, string? Ward, string? Patch, string? ExpectedDischargeAt,
    int? CallsPerDay, int? MinutesPerCall, bool? DoubleHanded, string? NeedsSummary, bool? SupportedBeforeAdmission, string? PreviousProviderId,
    ReferrerBody? Referrer);

/// <summary>A provider's answer. "accept" needs firstCall (a time such as "14:30", a UK local date-time, or an instant).</summary>
public sealed record ResponseBody(string? Action, string? FirstCall, string? Reason, string? ProviderId = null);
public sealed record AwardBody(string? ProviderId, string? Reason, string? FirstCall = null);
public sealed record DischargeBody(string? DischargedAt = null);
public sealed record DischargeTimeBody(string? NewTime, string? Reason = null);
public sealed record CarePlanBody(string? Summary);
public sealed record EndDateBody(LocalDate? EndDate, D2AOutcome? ExpectedOutcome);
public sealed record ConditionBody(string? Direction, string? Summary);
public sealed record CloseBody(D2AOutcome? Outcome, string? Notes = null);
public sealed record ReferralResult(string Reference, string Status);

/// <summary>
/// D2A referrals (docs/d2a.md), run by the D2AReferral orchestration. The API resolves eligible patch and framework
/// providers from the directory when a referral is raised and passes them in the start input; every other input is
/// checked at once with the workflow's own rules against the state the instance publishes, then sent to it.
/// </summary>
public static class D2AReferralsApi
{
    /// <summary>The demo seeder and the Service Bus intake (the orchestration is registered with Durable Task, the directory with the service data).</summary>
    public static IServiceCollection AddD2AReferrals(this IServiceCollection services)
    {
        services.AddHostedService<DemoProviderSeeder>();
        services.AddSingleton<IServiceBusReferralIntake, D2AServiceBusIntake>();
        return services;
    }

    public static WebApplication MapD2AReferralsApi(this WebApplication app)
    {
        app.MapProvidersApi();
        var api = app.MapGroup("/api/d2a/referrals").RequireAuthorization(Policies.Authenticated).WithTags("D2A referrals");
        api.MapPost("/", RaiseAsync);
        api.MapPost("/{reference}/responses", RespondAsync);
        api.MapPost("/{reference}/award", AwardAsync);
        api.MapPost("/{reference}/discharge", DischargeAsync);
        api.MapPost("/{reference}/discharge-time", ChangeDischargeTimeAsync);
        api.MapPost("/{reference}/care-plan-revision", CarePlanRevisionAsync);
        api.MapPost("/{reference}/end-date", EndDateAsync);
        api.MapPost("/{reference}/condition", ConditionAsync);
        api.MapPost("/{reference}/close", CloseAsync);
        // The winner's full details: anonymous, but only with a signed "details" link issued to the current award holder.
        app.MapGet(D2AReferral.DetailsPath + "{token}", DetailsAsync).AllowAnonymous().WithTags("D2A referrals");
        return app;
    }

    // ---------- 1. raise ----------

    private static async Task<Results<Created<ReferralResult>, ProblemHttpResult>> RaiseAsync(RaiseReferralBody? body, HttpContext http, WorkflowClient workflows,
        IProviderDirectory directory, CancellationToken ct)
    {
        var actor = http.User.ToActor();
        if (!actor.IsIn(D2AReferral.Raisers)) return Problems.Forbidden("Only the discharge team raises D2A referrals.");
        if (body is null) return Problems.BadRequest("A referral is required.");
        string? key = http.Request.Headers["Idempotency-Key"];
        if (key is { Length: > 200 }) return Problems.BadRequest("The Idempotency-Key is longer than 200 characters.");
        var (outcome, errors) = await RaiseReferralAsync(body, actor, key is { Length: > 0 } ? $"d2a:raise:{actor.Id}:{key}" : null, workflows, directory, ct);
        if (errors is not null) return Problems.Validation(errors);
        if (Problems.For(outcome!) is { } problem) return problem;
        return TypedResults.Created($"/api/d2a/referrals/{outcome!.Reference}", new ReferralResult(outcome.Reference!, outcome.Status!));
    }

    /// <summary>
    /// Raises a referral from its body (HTTP, the page form or Service Bus): checks the shape, resolves the patch and the
    /// eligible providers from the directory, runs the workflow's own validation (every field it names), starts the
    /// orchestration. Errors name fields, never personal data; nothing starts while any stands.
    /// </summary>
    public static async Task<(TransitionOutcome? Outcome, Dictionary<string, string[]>? Errors)> RaiseReferralAsync(RaiseReferralBody body, Actor actor,
        string? idempotencyKey, WorkflowClient workflows, IProviderDirectory directory, CancellationToken ct)
    {
        if (!actor.IsIn(D2AReferral.Raisers))
            return (new TransitionOutcome(OutcomeKind.Rejected, Rejection: new Rejection(RejectionKind.Forbidden, "Not allowed", "Only the discharge team raises D2A referrals.")), null);
        // A resend (same key) gets the first referral, even if the checks below would refuse it now (the discharge time passed).
        if (idempotencyKey is not null && await workflows.StartedBeforeAsync(D2AReferral.Type, idempotencyKey, ct) is { } earlier) return (earlier, null);
        var errors = new Dictionary<string, string[]>();
        void Need(bool ok, string field, string message) { if (!ok) errors[field] = [message]; }
        var p = body.Patient;
        Need(p is not null, "patient", "The patient is required.");
        Need(p?.DateOfBirth is not null, "patient.dateOfBirth", "The date of birth is required.");
        Need(body.CallsPerDay is not null, "callsPerDay", "Calls per day are required.");
        Need(body.MinutesPerCall is not null, "minutesPerCall", "Minutes per call are required.");
        Need(body.DoubleHanded is not null, "doubleHanded", "Say whether calls are double-handed.");
        Need(body.Referrer is not null, "referrer", "The referrer is required.");
        Instant? discharge = ParseTime(body.ExpectedDischargeAt);
        Need(discharge is not null, "expectedDischargeAt", "The expected discharge time is required, e.g. 2026-11-24T14:00 (UK time).");
        if (errors.Count > 0) return (null, errors);

        var patches = await directory.ListPatchesAsync(ct);
        var patch = patches.FirstOrDefault(x => string.Equals(x.Name, body.Patch?.Trim(), StringComparison.OrdinalIgnoreCase));
        if (patch is null) return (null, new() { ["patch"] = [$"Unknown patch '{body.Patch}'. Known patches: {string.Join(", ", patches.Select(x => x.Name))}."] });

        var providers = await directory.ListProvidersAsync(ct);
        ProviderContact? previous = null;
        if (body.SupportedBeforeAdmission == true && !string.IsNullOrWhiteSpace(body.PreviousProviderId))
        {
            var prev = providers.FirstOrDefault(x => x.Id == body.PreviousProviderId);
            if (prev is null) return (null, new() { ["previousProviderId"] = [$"There is no provider {body.PreviousProviderId}."] });
            previous = Contact(prev);
        }
        // Eligibility (B 14.5, M: no Inadequate / Requires Improvement; App A ii: ADASS hours cap) is decided here, from the directory.
        var hours = D2AReferralRules.HoursPerWeek(body.CallsPerDay!.Value, body.MinutesPerCall!.Value, body.DoubleHanded!.Value);
        var cap = D2AReferralRules.HoursCap(workflows.Setup.PolicySettings);
        var input = new RaiseReferral(
            new Patient(p!.Name ?? "", p.NhsNumber, p.DateOfBirth!.Value, p.Address ?? "", p.Postcode ?? "", p.NhsNumberMissingReason),
            body.Hospital ?? "", body.Ward ?? "", patch.Name, discharge!.Value, body.CallsPerDay.Value, body.MinutesPerCall.Value, body.DoubleHanded.Value,
            body.NeedsSummary ?? "", body.SupportedBeforeAdmission ?? false, previous,
            new Referrer(body.Referrer!.Name ?? "", body.Referrer.Email ?? "", body.Referrer.Phone),
            ProviderEligibility.PatchProviders(providers, patch.Name, hours, cap).Select(Contact).ToList(),
            ProviderEligibility.FrameworkProviders(providers, hours, cap).Select(Contact).ToList());
        // The workflow's own rules, here before anything starts, so the field is named at once (App A: offers are anonymised).
        if (D2AReferralRules.Validate(input, workflows.Clock.GetCurrentInstant()) is { } error) return (null, new() { [error.Field] = [error.Message] });
        return (await workflows.StartAsync(D2AReferral.Type, input, actor, idempotencyKey, ct), null);
    }

    private static ProviderContact Contact(ProviderRecord p) => new(p.Id, p.Name, p.Email, p.Mobile);

    // ---------- 3. provider responses (provider systems, or brokerage on a provider's behalf) ----------

    private static async Task<Results<Ok<ReferralResult>, ProblemHttpResult>> RespondAsync(string reference, ResponseBody? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        if (body is null) return Problems.BadRequest("A response is required.");
        var actor = http.User.ToActor();
        string providerId;
        if (actor.Role == Roles.Provider)
        {
            if (actor.ProviderId is not { Length: > 0 } own) return Problems.Forbidden("This sign-in is not linked to a provider.");
            if (body.ProviderId is not null && body.ProviderId != own) return Problems.Forbidden("A provider may only answer for itself.");
            providerId = own;
        }
        else if (actor.IsIn(D2AReferral.Brokers))
        {
            if (string.IsNullOrWhiteSpace(body.ProviderId)) return Problems.Unprocessable("Say which provider answered (providerId).");
            providerId = body.ProviderId;
        }
        else return Problems.Forbidden("Only providers (or brokerage on their behalf) answer offers.");

        WorkflowInput input;
        switch (body.Action?.Trim().ToLowerInvariant())
        {
            case D2AReferral.AcceptAction:
                if (string.IsNullOrWhiteSpace(body.FirstCall) || !D2AReferralRules.TryParseFirstCall(body.FirstCall, workflows.Clock.GetCurrentInstant(), out var at, out var time))
                    return Problems.Unprocessable("An acceptance needs firstCall: the earliest first call, e.g. \"14:30\" or \"2026-11-24T14:30\" (UK time).",
                        new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["firstCall"] = ["firstCall is required: a time such as 14:30, or a UK date and time."] } });
                input = new ProviderResponse(providerId, true, at, time, body.Reason);
                break;
            case D2AReferral.DeclineAction:
                input = new ProviderResponse(providerId, false, Reason: body.Reason);
                break;
            default:
                return Problems.Unprocessable("action must be \"accept\" or \"decline\".");
        }
        return await ApplyAsync(reference, input, http, workflows, ct);
    }

    // ---------- 3/5. award, re-award, manual placement (brokerage) ----------

    private static async Task<Results<Ok<ReferralResult>, ProblemHttpResult>> AwardAsync(string reference, AwardBody? body, HttpContext http,
        WorkflowClient workflows, IProviderDirectory directory, CancellationToken ct)
    {
        if (body is null) return Problems.BadRequest("An award is required.");
        var (input, error) = await AwardInputAsync(body, directory, workflows.Clock, ct);
        if (input is null) return Problems.Unprocessable(error!);
        return await ApplyAsync(reference, input, http, workflows, ct);
    }

    /// <summary>The award input with the API's checks (shared with the instance page); the error when it cannot be built.</summary>
    public static async Task<(AwardPackage? Input, string? Error)> AwardInputAsync(AwardBody body, IProviderDirectory directory, IClock clock, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body.ProviderId)) return (null, "providerId is required.");
        Instant? first = null;
        if (body.FirstCall is not null)
        {
            if (!D2AReferralRules.TryParseFirstCall(body.FirstCall, clock.GetCurrentInstant(), out var at, out var time))
                return (null, "firstCall is not a time, e.g. \"2026-11-24T14:30\" (UK time).");
            first = at ?? D2AReferralRules.NextOccurrence(time!.Value, clock.GetCurrentInstant());
        }
        ProviderContact? contact = null;
        if (await directory.GetProviderAsync(body.ProviderId, ct) is { } p)
        {
            // A manual placement still respects CQC (B 14.5, M): no new packages to Inadequate / Requires Improvement providers.
            if (!p.Active || p.CqcRating is CqcRating.Inadequate or CqcRating.RequiresImprovement)
                return (null, $"{p.Id} may not be given new packages (inactive, or rated {p.CqcRating}).");
            contact = Contact(p);
        }
        return (new AwardPackage(body.ProviderId, body.Reason ?? "", contact, first), null);
    }

    // ---------- 6. discharge, discharge-time changes, plan revision, end date ----------

    private static async Task<Results<Ok<ReferralResult>, ProblemHttpResult>> DischargeAsync(string reference, DischargeBody? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        Instant? at = null;
        if (body?.DischargedAt is { } text && (at = ParseTime(text)) is null) return Problems.Unprocessable("dischargedAt is not a time, e.g. 2026-11-24T14:05 (UK time).");
        return await ApplyAsync(reference, new ConfirmDischarge(at), http, workflows, ct);
    }

    private static async Task<Results<Ok<ReferralResult>, ProblemHttpResult>> ChangeDischargeTimeAsync(string reference, DischargeTimeBody? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        if (ParseTime(body?.NewTime) is not { } at) return Problems.Unprocessable("newTime is required, e.g. 2026-11-24T16:00 (UK time).");
        return await ApplyAsync(reference, new ChangeDischargeTime(at, body!.Reason), http, workflows, ct);
    }

    private static async Task<Results<Ok<ReferralResult>, ProblemHttpResult>> CarePlanRevisionAsync(string reference, CarePlanBody? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        var actor = http.User.ToActor();
        return await ApplyAsync(reference, new ReceiveCarePlanRevision(body?.Summary ?? "", actor.Role == Roles.Provider ? actor.ProviderId ?? "" : null), http, workflows, ct);
    }

    private static async Task<Results<Ok<ReferralResult>, ProblemHttpResult>> EndDateAsync(string reference, EndDateBody? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        if (body?.EndDate is not { } end || body.ExpectedOutcome is not { } outcome) return Problems.Unprocessable("endDate and expectedOutcome are required.");
        return await ApplyAsync(reference, new PlanEnd(end, outcome), http, workflows, ct);
    }

    private static async Task<Results<Ok<ReferralResult>, ProblemHttpResult>> ConditionAsync(string reference, ConditionBody? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        var improved = body?.Direction?.Trim().ToLowerInvariant() switch { "improved" => true, "deteriorated" => (bool?)false, _ => null };
        if (improved is null) return Problems.Unprocessable("direction must be \"improved\" or \"deteriorated\".");
        var actor = http.User.ToActor();
        return await ApplyAsync(reference, new ReportConditionChange(improved.Value, body!.Summary ?? "", actor.Role == Roles.Provider ? actor.ProviderId ?? "" : null), http, workflows, ct);
    }

    // ---------- 7. close ----------

    private static async Task<Results<Ok<ReferralResult>, ProblemHttpResult>> CloseAsync(string reference, CloseBody? body, HttpContext http,
        WorkflowClient workflows, CancellationToken ct)
    {
        if (body?.Outcome is not { } outcome) return Problems.Unprocessable("outcome is required: Reablement, LongTermPackage, NoOngoingNeed, Readmitted, Died or Other.");
        return await ApplyAsync(reference, new CloseReferral(outcome, body.Notes), http, workflows, ct);
    }

    // ---------- 5. the winner's details page ----------

    /// <summary>
    /// The full referral for the provider holding the award, from the orchestration's start input (the published state
    /// never carries the person). The signed "details" token names the provider; re-award or close revokes it at once.
    /// </summary>
    private static async Task<IResult> DetailsAsync(string token, HttpContext http, HmacLinkIssuer issuer, WorkflowClient workflows, DurableTaskClient client,
        CancellationToken ct)
    {
        switch (issuer.Validate(token, workflows.Clock.GetCurrentInstant(), out var claims))
        {
            case LinkValidation.Malformed: return LinksApi.Page(http, 400, "This link is not valid", "<p>The link is incomplete or damaged. Please use the link from your message.</p>");
            case LinkValidation.BadSignature: return LinksApi.Page(http, 403, "This link is not valid", "<p>The link was not issued by this service.</p>");
            case LinkValidation.Expired: return LinksApi.Page(http, 410, "This link has expired", "<p>Please ask the D2A team for the referral.</p>");
        }
        if (claims!.Action != D2AReferral.DetailsAction) return LinksApi.Page(http, 403, "This link is not valid", "<p>This link does not open referral details.</p>");
        var reference = claims.Reference;
        var instance = WorkflowClient.TypeOf(reference) == D2AReferral.Type && References.IsWellFormed(reference) ? await workflows.LoadAsync(reference, withTimeline: false, ct) : null;
        if (instance is null) return LinksApi.Page(http, 404, "Not found", "<p>There is no such referral.</p>");
        var s = (D2AReferral.State)instance.State;
        if (s.Award?.Provider.Id != claims.RecipientId || s.Status == D2AStatus.Closed || instance.Row.Completed)
            return LinksApi.Page(http, 403, "No longer available", $"<p>{H(reference)} is not (or no longer) awarded to you.</p>");
        var started = await client.GetInstanceAsync(reference, getInputsAndOutputs: true, ct);
        if (started?.ReadInputAs<WorkflowStart<RaiseReferral>>()?.Body is not { } raised) return LinksApi.Page(http, 404, "Not found", "<p>There is no such referral.</p>");
        var r = D2AReferralRules.Normalised(raised);
        var rows = new List<(string, string)>
        {
            ("Name", r.Patient.Name),
            ("NHS number", r.Patient.NhsNumber ?? $"Not known: {r.Patient.NhsNumberMissingReason}"),
            ("Date of birth", r.Patient.DateOfBirth.ToString("d MMMM yyyy", System.Globalization.CultureInfo.InvariantCulture)),
            ("Address", $"{r.Patient.Address}, {r.Patient.Postcode}"),
            ("Hospital and ward", $"{r.Hospital}, {r.Ward}"),
            (s.DischargedAt is null ? "Expected discharge" : "Discharged", WorkflowContext.Local(s.DischargedAt ?? s.ExpectedDischargeAt)),
            ("First call", WorkflowContext.Local(D2AReferralRules.Promised(s.Award.FirstCallAt, s.ExpectedDischargeAt))),
            ("Calls", $"{r.CallsPerDay} a day of {r.MinutesPerCall} minutes, {(r.DoubleHanded ? "double-handed" : "single-handed")}"),
            ("Care needs", r.NeedsSummary),
            ("Supported before admission", r.SupportedBeforeAdmission ? $"Yes, by {r.PreviousProvider?.Name}" : "No"),
            ("Referrer", $"{r.Referrer.Name}, {r.Referrer.Email}{(r.Referrer.Phone is { } ph ? ", " + ph : "")}"),
        };
        var html = new StringBuilder($"<p class=\"lead\">Full referral for {H(reference)}, awarded to {H(s.Award.Provider.Name)}.</p><dl>");
        foreach (var (k, v) in rows) html.Append($"<dt><strong>{H(k)}</strong></dt><dd>{H(v)}</dd>");
        html.Append("</dl><p>Keep this information secure and use it only to deliver this package.</p>");
        return LinksApi.Page(http, 200, $"{reference}: referral details", html.ToString());
    }

    // ---------- helpers ----------

    /// <summary>
    /// Checks at once what can be checked (the referral exists, is open, and the workflow's own rules against the state
    /// it publishes), then sends the input; the orchestration has the last word.
    /// </summary>
    private static async Task<Results<Ok<ReferralResult>, ProblemHttpResult>> ApplyAsync(string reference, WorkflowInput input, HttpContext http, WorkflowClient workflows,
        CancellationToken ct)
    {
        var actor = http.User.ToActor();
        var r = reference.Trim().ToUpperInvariant();
        if (!References.IsWellFormed(r) || WorkflowClient.TypeOf(r) != D2AReferral.Type) return Problems.NotFound(reference);
        // A resend answered before gets its first answer, whatever the checks below would say now.
        if (await workflows.AnsweredBeforeAsync(r, RequestChecks.IdempotencyKey(http, actor), ct) is { } before)
            return Problems.For(before) is { } replayed ? replayed : TypedResults.Ok(new ReferralResult(before.Reference!, before.Status ?? ""));
        var instance = await workflows.LoadAsync(r, withTimeline: false, ct);
        if (instance is null) return Problems.NotFound(reference);
        if (instance.Row.Completed) return Problems.Conflict($"{r} is {instance.Row.Status.ToLowerInvariant()}.");
        if (D2AReferralRules.Check((D2AReferral.State)instance.State, actor, input, workflows.Clock.GetCurrentInstant(), workflows.Setup.PolicySettings, r) is { } no)
            return Problems.From(no);
        var outcome = await workflows.ApplyAsync(r, input, actor, RequestChecks.IdempotencyKey(http, actor), ct: ct);
        return Problems.For(outcome) is { } problem ? problem : TypedResults.Ok(new ReferralResult(outcome.Reference!, outcome.Status ?? instance.Row.Status));
    }

    /// <summary>An instant with an offset, or a UK local date-time; null when neither.</summary>
    public static Instant? ParseTime(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64) return null;
        text = text.Trim();
        if (OffsetDateTimePattern.ExtendedIso.Parse(text) is { Success: true } o) return o.Value.ToInstant();
        if (InstantPattern.ExtendedIso.Parse(text) is { Success: true } i) return i.Value;
        foreach (var pattern in new[] { "uuuu-MM-dd'T'HH:mm", "uuuu-MM-dd'T'HH:mm:ss", "uuuu-MM-dd HH:mm" })
            if (LocalDateTimePattern.CreateWithInvariantCulture(pattern).Parse(text) is { Success: true } l)
                return l.Value.InZoneLeniently(WorkflowContext.London).ToInstant();
        return null;
    }

    private static string H(string s) => WebUtility.HtmlEncode(s);
}

/// <summary>
/// Referrals hospital systems push over Service Bus: the same body as POST /api/d2a/referrals, raised as the hospital
/// system, with the message id as the idempotency key (a redelivered message starts nothing twice). Bad content is a
/// permanent refusal (kept as a dead letter, reason without personal data); anything else throws and is redelivered.
/// </summary>
public sealed class D2AServiceBusIntake(WorkflowClient workflows, IProviderDirectory directory) : IServiceBusReferralIntake
{
    public async Task<IntakeResult> AcceptAsync(ServiceBusReferral referral, CancellationToken ct)
    {
        RaiseReferralBody? body;
        try { body = System.Text.Json.JsonSerializer.Deserialize<RaiseReferralBody>(referral.Body, WorkflowJson.Options); }
        catch (Exception e) when (e is System.Text.Json.JsonException or NodaTime.Text.UnparsableValueException or FormatException or InvalidOperationException) { return IntakeResult.Rejected("The message is not a D2A referral: a field has the wrong type."); }
        if (body is null) return IntakeResult.Rejected("The message is empty.");
        var (outcome, errors) = await D2AReferralsApi.RaiseReferralAsync(body, ServiceBusReferral.Actor, "d2a:raise:" + referral.IdempotencyKey, workflows, directory, ct);
        if (errors is not null) return IntakeResult.Rejected("The referral is not valid: " + string.Join(" ", errors.SelectMany(e => e.Value)));
        return outcome!.Kind switch
        {
            OutcomeKind.Applied or OutcomeKind.Replayed => IntakeResult.Started(outcome.Reference!),
            _ => IntakeResult.Rejected("The referral is not valid: " + (outcome.Rejection?.Detail ?? outcome.Kind.ToString())),
        };
    }
}
