using CareWorkflows.Definitions;
using CareWorkflows.Definitions.Workflows;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using NodaTime;
using NodaTime.Text;

namespace CareWorkflows.Functions.Pages;

/// <summary>
/// The Appendix C figures the history can answer, for instances started in a chosen period (UK dates, inclusive):
/// D2A referrals received and accepted; serious incidents reported within 12 hours of awareness (B 12.4); quality
/// concerns answered by their due time (B 15.1); trusted-assessor sign-offs within their window (App G).
/// A figure counts only cases that have come to an end for it (answered, or past due); the rest are "pending".
/// </summary>
[Authorize(Roles = "DischargeTeam,Brokerage,CareManager,SeniorCareManager,QualityAssurance,SafeguardingLead,Admin")]
public sealed class KpisModel(Workflows.WorkflowClient workflows, IClock clock) : CareWorkflowsPage
{
    public sealed record Figure(string Name, string Measure, int Numerator, int Denominator, int Pending)
    {
        public int? Percent => Denominator == 0 ? null : (int)Math.Round(100.0 * Numerator / Denominator);
    }

    [BindProperty(SupportsGet = true)] public string? From { get; set; }
    [BindProperty(SupportsGet = true)] public string? To { get; set; }
    public LocalDate FromDate { get; private set; }
    public LocalDate ToDate { get; private set; }
    public List<Figure> Figures { get; } = [];
    public int Received { get; private set; }

    public override IReadOnlyList<FormField> FormFields { get; } = [new("From", "From"), new("To", "To")];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var now = clock.GetCurrentInstant();
        var today = now.InZone(WorkflowContext.London).Date;
        FromDate = ParseDate(From, "From", today.PlusDays(-30));
        ToDate = ParseDate(To, "To", today);
        if (ModelState.IsValid && ToDate < FromDate) ModelState.AddModelError("To", "The end of the period must be on or after its start.");
        if (!ModelState.IsValid) { Response.StatusCode = 422; return Page(); }
        var start = FromDate.AtStartOfDayInZone(WorkflowContext.London).ToInstant();
        var end = ToDate.PlusDays(1).AtStartOfDayInZone(WorkflowContext.London).ToInstant();

        async Task<List<(InstanceRow Row, object State)>> InPeriod(string type) =>
            (await workflows.ListAsync(new InstanceFilter(Type: type, Limit: 100_000), now, ct))
                .Where(r => r.CreatedAt >= start && r.CreatedAt < end).Select(r => (r, workflows.StateOf(r))).ToList();

        // D2A: received, and accepted by a provider (an award) — Appendix C "referrals received / accepted".
        var d2a = await InPeriod(D2AReferral.TypeName);
        Received = d2a.Count;
        var placed = d2a.Count(x => x.State is D2AState { Award: not null });
        var open = d2a.Count(x => x.State is D2AState { Award: null } s && s.Status is D2AStatus.New or D2AStatus.OfferedToPatch or D2AStatus.OfferedToFramework && !x.Row.Completed);
        Figures.Add(new("D2A referrals accepted", "referrals placed with a provider, of those received and no longer being offered", placed, d2a.Count - open, open));

        // Serious incidents reported within 12 hours of becoming aware (B 12.4).
        var si = (await InPeriod(Definitions.Incidents.SeriousIncident.Type)).Select(x => x.State).OfType<Definitions.Incidents.SeriousIncident.State>().ToList();
        Figures.Add(new("Incidents reported within 12 hours", "initial reports made within 12 hours of the provider becoming aware", si.Count(s => s.ReportedWithinTwelveHoursOfAwareness), si.Count, 0));

        // Quality concerns answered by their due time (B 15.1): answered, or past due without an answer.
        var qc = (await InPeriod(Definitions.QualityConcerns.QualityConcern.Type)).Select(x => x.State).OfType<Definitions.QualityConcerns.QualityConcern.State>().ToList();
        var answered = qc.Where(s => s.Investigation is not null).ToList();
        var lateUnanswered = qc.Count(s => s.Investigation is null && s.DueAt <= now);
        var qcPending = qc.Count(s => s.Investigation is null && s.DueAt > now);
        Figures.Add(new("Concerns answered on time", "provider responses received by the due time", answered.Count(s => !s.ResponseLate), answered.Count + lateUnanswered, qcPending));

        // Trusted-assessor sign-offs within the window (App G): first sign-off request's due time vs the sign-off, as the adjustment publishes them.
        int within = 0, decided = 0, taPending = 0;
        foreach (var s in (await InPeriod(Definitions.TrustedAssessor.TrustedAssessorAdjustment.Type)).Select(x => x.State).OfType<Definitions.TrustedAssessor.TrustedAssessorAdjustment.State>())
        {
            if (s.FirstSignOffDue is not { } due) continue;
            if (s.SignedOffAt is { } signed) { decided++; if (signed <= due) within++; }
            else if (due <= now) decided++;
            else taPending++;
        }
        Figures.Add(new("Sign-offs within the window", "adjustments signed off by the sign-off due time", within, decided, taPending));

        // Late or missed visits and no-replies (B 21–22, App E), from their record.
        foreach (var f in await Visits.VisitKpiReport.ComputeAsync(workflows, FromDate, ToDate, now, ct))
            Figures.Add(new(f.Name, f.Measure, f.Met, f.Of, f.Pending));
        return Page();
    }

    private LocalDate ParseDate(string? text, string field, LocalDate fallback)
    {
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (LocalDatePattern.Iso.Parse(text.Trim()) is { Success: true } r) return r.Value;
        ModelState.AddModelError(field, $"Enter the {(field == "From" ? "start" : "end")} date, e.g. 2026-11-01.");
        return fallback;
    }
}
