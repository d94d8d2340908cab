using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CareWorkflows.Definitions;
using CareWorkflows.Runtime.Store;
using CareWorkflows.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CareWorkflows.Tests.D2A;

/// <summary>Shared steps for D2A tests: a referral body with recognisable personal data, raising, answering, reading messages.</summary>
public static class D2ATestKit
{
    public const string Name = "Edith Cavendish-Roe";
    public const string NhsNumber = "943 476 5919"; // a valid modulus-11 test number
    public const string Street = "14 Acacia Avenue";
    public const string Referrer = "sam.discharge@nhs.example.org";

    /// <summary>Strings that must never appear in an offer, reminder or SMS (name, NHS number, date of birth, street address).</summary>
    public static readonly string[] PersonalData =
        [Name, "Cavendish", NhsNumber, NhsNumber.Replace(" ", ""), "1938-04-12", "12/04/1938", "12 Apr 1938", "12 April 1938", Street, "Acacia"];

    public static Dictionary<string, object?> Referral(string discharge = "2026-11-24T14:00", string patch = "East", string nhs = NhsNumber,
        bool supportedBefore = false, string? previousProvider = null) => new()
    {
        ["patient"] = new Dictionary<string, object?>
        {
            ["name"] = Name, ["nhsNumber"] = nhs, ["dateOfBirth"] = "1938-04-12", ["address"] = Street + ", Orpington", ["postcode"] = "br6 7jh",
        },
        ["hospital"] = "Princess Royal University Hospital",
        ["ward"] = "Ward 4",
        ["patch"] = patch,
        ["expectedDischargeAt"] = discharge,
        ["callsPerDay"] = 4,
        ["minutesPerCall"] = 30,
        ["doubleHanded"] = false,
        ["needsSummary"] = "Help with washing, dressing and meals; walks with a frame.",
        ["supportedBeforeAdmission"] = supportedBefore,
        ["previousProviderId"] = previousProvider,
        ["referrer"] = new Dictionary<string, object?> { ["name"] = "Sam Discharge", ["email"] = Referrer, ["phone"] = "+447700900999" },
    };

    public static async Task<string> RaiseAsync(CareWorkflowsApp app, Dictionary<string, object?>? body = null)
    {
        var r = await app.As(Roles.DischargeTeam).PostAsJsonAsync("/api/d2a/referrals", body ?? Referral());
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reference").GetString()!;
    }

    public static Task<HttpResponseMessage> RespondAsync(CareWorkflowsApp app, string reference, string providerId, string action, string? firstCall = null) =>
        app.As(Roles.Provider, providerId).PostAsJsonAsync($"/api/d2a/referrals/{reference}/responses", new { action, firstCall });

    public static async Task<string> RaiseAndAwardAsync(CareWorkflowsApp app, Dictionary<string, object?>? body = null, string winner = "east-kestrel", string firstCall = "2026-11-24T14:30")
    {
        var reference = await RaiseAsync(app, body);
        var r = await RespondAsync(app, reference, winner, "accept", firstCall);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("Awarded", await StatusAsync(app, reference));
        return reference;
    }

    public static async Task<string> StatusAsync(CareWorkflowsApp app, string reference) =>
        (await app.InstanceAsync(reference)).GetProperty("status").GetString()!;

    /// <summary>Every stored outbox message (any status), with HTML bodies.</summary>
    public static async Task<IReadOnlyList<OutboxMessage>> MessagesAsync(CareWorkflowsApp app, string? reference = null)
    {
        await app.SettleAsync(); // orchestrations send in the background: let them finish what is due
        return await app.Services.GetRequiredService<IWorkflowStore>().GetMessagesAsync(reference: reference, limit: 5000);
    }

    public static async Task<List<string>> TimelineAsync(CareWorkflowsApp app, string reference) =>
        (await app.InstanceAsync(reference)).GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("type").GetString()!).ToList();

    public static async Task<Dictionary<string, NodaTime.Instant>> TimersAsync(CareWorkflowsApp app, string reference) =>
        (await app.InstanceAsync(reference)).GetProperty("timers").EnumerateArray()
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => NodaTime.Text.InstantPattern.ExtendedIso.Parse(t.GetProperty("dueAt").GetString()!).Value);

    public static async Task<int> InstanceCountAsync(CareWorkflowsApp app) =>
        (await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/instances?type=D2A")).GetArrayLength();

    /// <summary>The token of the signed link for <paramref name="action"/> in the latest message to <paramref name="to"/> with <paramref name="purpose"/>.</summary>
    public static async Task<string> LinkTokenAsync(CareWorkflowsApp app, string reference, string to, string purpose, string pathPart = "/l/")
    {
        var m = (await MessagesAsync(app, reference)).Last(x => x.To == to && x.Purpose == purpose && x.Links.Count > 0);
        var url = m.Links.First(l => l.Contains(pathPart, StringComparison.Ordinal));
        return url[(url.IndexOf(pathPart, StringComparison.Ordinal) + pathPart.Length)..];
    }

    /// <summary>The accept (index 0) or decline (index 1) link token of the offer email to a provider.</summary>
    public static async Task<string> OfferTokenAsync(CareWorkflowsApp app, string reference, string providerId, int index)
    {
        var m = (await MessagesAsync(app, reference)).Last(x => x.RecipientId == providerId && x.Purpose == "offer" && x.Channel == MessageChannel.Email);
        var url = m.Links[index];
        return url[(url.IndexOf("/l/", StringComparison.Ordinal) + 3)..];
    }

    public static string Email(string providerId) => $"referrals@{providerId}.example.org";
}
