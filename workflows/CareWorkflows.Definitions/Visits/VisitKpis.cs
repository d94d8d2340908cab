using NodaTime;

namespace CareWorkflows.Definitions.Visits;

/// <summary>One figure: met of a denominator, with the cases still open for it.</summary>
public sealed record VisitFigure(string Key, string Name, string Measure, int Met, int Of, int Pending)
{
    public int? Percent => Of == 0 ? null : (int)Math.Round(100.0 * Met / Of);
}

/// <summary>
/// The visit KPIs, from the record alone (B App C; B 22.7: every alert and action time is on it), pure. A figure counts
/// a case only once it has come to an end for it; the rest are pending.
/// </summary>
public static class VisitKpis
{
    public static IReadOnlyList<VisitFigure> Compute(IReadOnlyList<VisitAlert.State> alerts, IReadOnlyList<NoReply.State> noReplies, Instant now, PolicySettings policy)
    {
        var figures = new List<VisitFigure>();

        // Visits missed, of the alerts raised (B 21.4: a missed visit is a very serious matter).
        var open = alerts.Count(a => a.Stage == AlertStage.Open);
        figures.Add(new("visits-missed", "Visits missed, of alerts", "alerts call monitoring reported as missed, of all alerts", alerts.Count(a => a.Missed), alerts.Count, open));

        // Alerts answered within 15 minutes: the first action recorded (when it reached us) by the manager's escalation time.
        // An alert whose call started before then without any action needed no answer and is left out.
        int answered = 0, needed = 0, answerPending = 0;
        foreach (var a in alerts)
        {
            var due = VisitAlertRules.ManagerAt(a, policy);
            var first = a.Steps.OrderBy(x => x.RecordedAt).FirstOrDefault();
            if (first is not null) { needed++; if (first.RecordedAt <= due) answered++; }
            else if (a.Stage == AlertStage.Ended && a.EndedAt <= due) continue;
            else if (now > due) needed++;
            else answerPending++;
        }
        figures.Add(new("alerts-answered", "Alerts answered within 15 minutes", "alerts with an action recorded within 15 minutes (policy) of the alert", answered, needed, answerPending));

        // Replacements within the hour (B 22.4), as recorded.
        var replaced = alerts.Where(a => a.Has(VisitStep.ReplacementSent)).ToList();
        figures.Add(new("replacements-in-hour", "Replacements within the hour", "alerts whose replacement carer was sent within the hour of the alert, of those with a replacement",
            replaced.Count(a => a.First(VisitStep.ReplacementSent)!.At <= VisitAlertRules.ReplacementDue(a, policy)), replaced.Count, 0));

        // No-reply outcomes: recorded within the hour, and what they were.
        int inHour = 0, decided = 0, nrPending = 0;
        foreach (var n in noReplies)
        {
            var due = NoReplyRules.OutcomeDue(n, policy);
            if (n.OutcomeRecordedAt is { } at) { decided++; if (at <= due) inHour++; }
            else if (now > due) decided++;
            else nrPending++;
        }
        figures.Add(new("no-reply-outcome-in-hour", "No-reply outcomes within the hour", "no-replies with an outcome recorded within the hour (policy), of those due", inHour, decided, nrPending));
        var closed = noReplies.Where(n => n.Outcome is not null).ToList();
        var still = noReplies.Count - closed.Count;
        foreach (var outcome in Enum.GetValues<NoReplyOutcome>())
        {
            var label = NoReplyRules.Label(outcome);
            figures.Add(new($"no-reply-{outcome}".ToLowerInvariant(), $"No replies: {label}", $"no-replies whose outcome was {label}, of those with an outcome",
                closed.Count(n => n.Outcome == outcome), closed.Count, still));
        }
        return figures;
    }
}
