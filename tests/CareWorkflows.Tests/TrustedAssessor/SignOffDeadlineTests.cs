using System.Net;
using CareWorkflows.Definitions;
using NodaTime;
using static CareWorkflows.Tests.TrustedAssessor.TrustedAssessorTestKit;

namespace CareWorkflows.Tests.TrustedAssessor;

/// <summary>
/// The sign-off window (policy, default 5 working days; App G sets none) counts England and Wales working days in
/// Europe/London, so a bank holiday moves the reminder and the escalation to the care-management team lead.
/// </summary>
public sealed class SignOffDeadlineTests
{
    private static readonly DateTimeZone London = DateTimeZoneProviders.Tzdb["Europe/London"];

    private static Instant Local(int y, int m, int d, int h, int min = 0) => new LocalDateTime(y, m, d, h, min).InZoneStrictly(London).ToInstant();

    [Fact]
    public async Task Sign_off_reminder_and_escalation_skip_the_spring_bank_holiday()
    {
        // Thu 21 May 2026; Mon 25 May is the spring bank holiday. Working days: Fri 22, Tue 26, Wed 27, Thu 28, Fri 29.
        await using var app = await ReadyAsync(start: Local(2026, 5, 21, 10));
        var reference = await ProposeOkAsync(app, 10m, 9m);

        var timers = (await app.InstanceAsync(reference)).GetProperty("timers").EnumerateArray()
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("dueLocal").GetString());
        Assert.Equal("09:00 on Fri 29 May 2026", timers["signoff-reminder"]);
        Assert.Equal("23:59 on Fri 29 May 2026", timers["signoff-escalation"]);

        // Without the bank holiday the window would have ended on Thu 28 May: nothing happens then.
        await app.AdvanceToAsync(Local(2026, 5, 28, 23, 59));
        Assert.DoesNotContain(await app.OutboxAsync(reference, "senior-care-manager@council.example"), m => m.Purpose == "signoff-reminder");
        Assert.Empty(await app.OutboxAsync(reference, "care-management-team-lead@council.example"));

        await app.AdvanceToAsync(Local(2026, 5, 29, 9));
        Assert.Single(await app.OutboxAsync(reference, "senior-care-manager@council.example"), m => m.Purpose == "signoff-reminder");
        Assert.Empty(await app.OutboxAsync(reference, "care-management-team-lead@council.example"));

        await app.AdvanceToAsync(Local(2026, 5, 30, 0));
        var escalation = Assert.Single(await app.OutboxAsync(reference, "care-management-team-lead@council.example"));
        Assert.Equal("signoff-escalation", escalation.Purpose);
        Assert.Contains("23:59 on Fri 29 May 2026", escalation.Body);
        var timeline = await TimelineAsync(app, reference);
        Assert.Equal(Roles.System, Event(timeline, "ReminderSent").GetProperty("actorRole").GetString());
        Assert.Contains("(sign-off)", Text(timeline, "Escalated"));
        // Escalation does not close it: the senior care manager can still sign off.
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(app, Roles.SeniorCareManager, reference, "sign-off")).StatusCode);
    }

    [Fact]
    public async Task Approval_window_skips_the_summer_bank_holiday_and_escalates_to_the_team_lead()
    {
        // Thu 27 Aug 2026; Mon 31 Aug is the summer bank holiday: Fri 28, Tue 1, Wed 2, Thu 3, Fri 4 Sep.
        await using var app = await ReadyAsync(start: Local(2026, 8, 27, 15));
        var reference = await ProposeOkAsync(app, 10m, 5m);

        await app.AdvanceToAsync(Local(2026, 9, 3, 23, 59));
        Assert.Empty(await app.OutboxAsync(reference, "care-management-team-lead@council.example"));
        await app.AdvanceToAsync(Local(2026, 9, 4, 9));
        Assert.Contains(await app.OutboxAsync(reference, "care-management@council.example"), m => m.Purpose == "approval-reminder");
        await app.AdvanceToAsync(Local(2026, 9, 5, 0));
        Assert.Equal("approval-escalation", Assert.Single(await app.OutboxAsync(reference, "care-management-team-lead@council.example")).Purpose);
        Assert.Equal("AwaitingApproval", await StatusAsync(app, reference));
        Assert.Equal(10m, await PackageHoursAsync(app));
    }

    [Fact]
    public async Task Sign_off_window_is_a_policy_setting()
    {
        await using var app = NewApp(Local(2026, 5, 21, 10), settings: new Dictionary<string, string?> { ["Policy:TA:SignOffWorkingDays"] = "2" });
        await RegisterAssessorAsync(app);
        await RegisterPackageAsync(app, "PKG-1", 10m);
        var reference = await ProposeOkAsync(app, 10m, 9m);
        var escalation = (await app.InstanceAsync(reference)).GetProperty("timers").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "signoff-escalation");
        Assert.Equal("23:59 on Tue 26 May 2026", escalation.GetProperty("dueLocal").GetString());
    }
}
