using CareWorkflows.Definitions;
using CareWorkflows.Definitions.D2A;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Runtime.Engine;
using CareWorkflows.Runtime.Store;
using Microsoft.AspNetCore.Mvc;
using NodaTime;

namespace CareWorkflows.Functions.Pages;

/// <summary>
/// The dashboard. Staff: open instances, overdue first, then by next deadline, with filters and counts by state.
/// Providers: what is awaited from their own provider (open asks addressed to it) and nothing else.
/// </summary>
public sealed class IndexModel(Workflows.WorkflowClient workflows, IClock clock) : CareWorkflowsPage
{
    public sealed record Row(string Reference, string Type, string Status, string Summary, string? Patch, IReadOnlySet<string> Providers,
        Instant? NextDueAt, bool Overdue);
    public sealed record AskItem(string Reference, string Type, string Status, OpenAsk Ask);

    [BindProperty(SupportsGet = true)] public string? Type { get; set; }
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true)] public string? Provider { get; set; }
    [BindProperty(SupportsGet = true)] public string? Patch { get; set; }

    public Instant Now { get; private set; }
    public List<Row> Rows { get; } = [];
    public List<AskItem> Asks { get; } = [];
    public IReadOnlyList<StatusCount> Counts { get; private set; } = [];
    public IReadOnlyList<string> Types => workflows.Types;
    public IReadOnlyList<string> Statuses { get; private set; } = [];
    public IReadOnlyList<string> Patches { get; private set; } = [];
    public IReadOnlyList<string> ProviderIds { get; private set; } = [];
    public bool IsProvider => Actor.Role == Roles.Provider;

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = clock.GetCurrentInstant();
        if (IsProvider)
        {
            if (Actor.ProviderId is not { Length: > 0 } own) return;
            foreach (var a in (await workflows.FindAsksAsync(recipientId: own, ct: ct)).Where(a => a.Ask.RecipientRole == Roles.Provider))
            {
                var row = (await workflows.LoadAsync(a.Reference, withTimeline: false, ct))?.Row;
                if (row is null || row.Completed) continue;
                Asks.Add(new AskItem(row.Reference, row.Type, row.Status, a.Ask));
            }
            Asks.Sort((x, y) => (x.Ask.Deadline ?? Instant.MaxValue).CompareTo(y.Ask.Deadline ?? Instant.MaxValue));
            return;
        }

        if (Type is { Length: > 0 } && !workflows.Types.Contains(Type)) Type = null;
        var rows = await workflows.ListAsync(new InstanceFilter(Type: Type is { Length: > 0 } ? Type : null,
            Status: Status is { Length: > 0 } ? Status : null, Completed: false, Limit: 1000), Now, ct);
        var asks = await Deadlines.EarliestAskDeadlinesAsync(workflows, ct);
        var all = rows.Select(r =>
        {
            var due = Deadlines.Next(r, asks);
            var state = workflows.StateOf(r);
            var patch = state is D2AReferral.State d ? d.Package?.Patch : null;
            return new Row(r.Reference, r.Type, r.Status, r.Summary, patch, ProviderScope.ProvidersOf(r, workflows), due, due <= Now);
        }).ToList();
        Patches = all.Select(r => r.Patch).OfType<string>().Distinct().Order().ToList();
        ProviderIds = all.SelectMany(r => r.Providers).Distinct().Order().ToList();
        Rows.AddRange(all
            .Where(r => Provider is not { Length: > 0 } || r.Providers.Contains(Provider))
            .Where(r => Patch is not { Length: > 0 } || string.Equals(r.Patch, Patch, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(r => r.Overdue).ThenBy(r => r.NextDueAt ?? Instant.MaxValue));
        Counts = await workflows.CountByStatusAsync(ct);
        Statuses = Counts.Select(c => c.Status).Distinct().Order().ToList();
    }
}
