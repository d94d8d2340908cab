using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Functions.ServiceBus;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static CareWorkflows.Tests.D2A.D2ATestKit;

namespace CareWorkflows.Tests.D2A;

/// <summary>Hospital systems push referrals over Service Bus; every receiver hands them to the shared handler and the D2A intake.</summary>
public sealed class D2AServiceBusIntakeTests
{
    [Fact]
    public async Task A_queued_referral_is_raised_once_even_when_redelivered_and_a_bad_one_is_a_dead_letter_without_personal_data()
    {
        await using var app = new CareWorkflowsApp();
        var handler = app.Services.GetRequiredService<ReferralQueueHandler>();
        var json = JsonSerializer.Serialize(Referral());

        var settled = await handler.HandleAsync(new ReferralDelivery("msg-1", json, 1, null), CancellationToken.None);
        Assert.Equal(ReferralSettlementAction.Complete, settled.Action);
        settled = await handler.HandleAsync(new ReferralDelivery("msg-1", json, 2, null), CancellationToken.None);
        Assert.Equal(ReferralSettlementAction.Complete, settled.Action);

        var list = await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/instances?type=D2A");
        var referral = Assert.Single(list.EnumerateArray());
        Assert.Equal("OfferedToPatch", referral.GetProperty("status").GetString());

        var bad = JsonSerializer.Serialize(Referral(nhs: "943 476 5918"));
        settled = await handler.HandleAsync(new ReferralDelivery("msg-2", bad, 1, null), CancellationToken.None);
        Assert.Equal(ReferralSettlementAction.DeadLetter, settled.Action); // retrying cannot help
        var letter = Assert.Single((await app.As(Roles.Admin).GetFromJsonAsync<List<JsonElement>>("/api/intake/dead-letters"))!);
        var reason = letter.GetProperty("reason").GetString()!;
        Assert.Contains("NHS number is not valid", reason);
        foreach (var secret in PersonalData) Assert.DoesNotContain(secret, reason);
        Assert.Single((await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/instances?type=D2A")).EnumerateArray());
    }
}
