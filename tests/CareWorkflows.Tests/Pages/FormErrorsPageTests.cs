using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using CareWorkflows.Definitions;
using CareWorkflows.Tests.Infrastructure;

namespace CareWorkflows.Tests.Pages;

/// <summary>
/// Issue 18 (2–4): a form reports every problem at once, in form order, worded with the visible label and never an API
/// field name; each summary link goes to what takes focus (a radio group's first radio); invalid inputs are marked
/// aria-invalid and described by their message; the title starts "Error: "; the h1 comes first.
/// </summary>
public sealed partial class FormErrorsPageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>An API field name in a message: "occurredAt", "callsPerDay", "patient.postcode".</summary>
    [GeneratedRegex(@"\b[a-z]+[A-Z]\w*\b|\b\w+\.\w+\b")]
    private static partial Regex ApiFieldName();

    [GeneratedRegex(@"\S+@\S+")]
    private static partial Regex EmailAddress();

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string url, Dictionary<string, string> fields)
    {
        var html = await client.GetStringAsync(url, Ct);
        fields["__RequestVerificationToken"] = PageHtml.Token(html);
        return await client.PostAsync(url, new FormUrlEncodedContent(fields), Ct);
    }

    /// <summary>What every error page must have: the title, the h1 first, the focused summary, each field marked and described.</summary>
    private static void AssertErrorPage(string html, IEnumerable<string> invalidInputIds)
    {
        Assert.StartsWith("Error: ", PageHtml.Title(html));
        Assert.True(html.IndexOf("<h1", StringComparison.Ordinal) < html.IndexOf("class=\"error-summary\"", StringComparison.Ordinal), "the h1 comes before the error summary");
        var summary = html[html.IndexOf("<div class=\"error-summary\"", StringComparison.Ordinal)..];
        Assert.Contains("autofocus", summary[..summary.IndexOf('>')]);
        foreach (var (_, text) in PageHtml.Summary(html))
            Assert.False(ApiFieldName().IsMatch(EmailAddress().Replace(text, "")), $"API field name in \"{text}\"");
        foreach (var id in invalidInputIds)
        {
            var tag = PageHtml.Tag(html, id);
            Assert.Contains("aria-invalid=\"true\"", tag);
        }
        Assert.Empty(PageHtml.DuplicateIds(html));
    }

    private static Dictionary<string, string> EmptyReferral() => new() { ["Input.FormId"] = Guid.NewGuid().ToString("N") };

    private static Dictionary<string, string> GoodReferral() => new()
    {
        ["Input.FormId"] = Guid.NewGuid().ToString("N"),
        ["Input.PatientName"] = "Ada Lovelace", ["Input.NhsNumber"] = "943 476 5919", ["Input.DateOfBirth"] = "1938-04-12",
        ["Input.Address"] = "1 Analytical Row, Orpington", ["Input.Postcode"] = "BR6 7JH", ["Input.Hospital"] = "Princess Royal University Hospital",
        ["Input.Ward"] = "Ward 4", ["Input.Patch"] = "East", ["Input.ExpectedDischargeAt"] = "2026-11-24T14:00", ["Input.CallsPerDay"] = "4",
        ["Input.MinutesPerCall"] = "30", ["Input.DoubleHanded"] = "no", ["Input.NeedsSummary"] = "Help with washing and meals.",
        ["Input.SupportedBeforeAdmission"] = "no", ["Input.ReferrerName"] = "Jo Bloggs", ["Input.ReferrerEmail"] = "jo.bloggs@nhs.example.org",
    };

    [Fact]
    public async Task An_empty_D2A_referral_lists_every_missing_field_at_once_in_form_order_and_the_workflow_rules_all_in_one_more_round()
    {
        await using var app = new CareWorkflowsApp();
        var nurse = app.As(Roles.DischargeTeam);

        var empty = await PostAsync(nurse, "/d2a/new", EmptyReferral());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, empty.StatusCode);
        var html = await empty.Content.ReadAsStringAsync(Ct);
        var summary = PageHtml.Summary(html);
        Assert.Equal(
            ["patient-name", "patient-nhsnumber", "patient-dateofbirth", "patient-address", "patient-postcode", "hospital", "ward", "patch",
             "expecteddischargeat", "callsperday", "minutespercall", "doublehanded-yes", "needssummary", "referrer-name", "referrer-email"],
            summary.Select(s => s.Target));
        Assert.Contains(("patient-postcode", "Enter the patient's postcode"), summary);
        Assert.Contains(("doublehanded-yes", "Select whether calls need two carers"), summary);
        AssertErrorPage(html, ["patient-name", "patient-postcode", "patch", "needssummary", "doublehanded-yes"]);
        // The radio group is described by its message; the message sits next to the field.
        Assert.Contains("aria-describedby=\"doublehanded-error\"", html);
        Assert.Contains("aria-describedby=\"patient-postcode-error\"", PageHtml.Tag(html, "patient-postcode"));

        // Everything present, but five of the workflow's own rules broken: all five come back in one round, in form order.
        var wrong = GoodReferral();
        wrong["Input.PatientName"] = new string('x', 201);
        wrong["Input.DateOfBirth"] = "2030-01-01";
        wrong["Input.ExpectedDischargeAt"] = "2026-11-20T10:00";
        wrong["Input.CallsPerDay"] = "9";
        wrong["Input.MinutesPerCall"] = "5";
        var rules = await PostAsync(nurse, "/d2a/new", wrong);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, rules.StatusCode);
        html = await rules.Content.ReadAsStringAsync(Ct);
        Assert.Equal(["patient-name", "patient-dateofbirth", "expecteddischargeat", "callsperday", "minutespercall"], PageHtml.Summary(html).Select(s => s.Target));
        Assert.Contains(PageHtml.Summary(html), s => s.Text == "Calls per day must be between 1 and 8.");
        AssertErrorPage(html, ["patient-name", "callsperday", "minutespercall"]);
        Assert.Equal(0, (await app.As(Roles.Admin).GetFromJsonAsync<JsonElement>("/api/instances?type=D2A", Ct)).GetArrayLength());

        // Format problems are worded with the label, not the API's field names.
        var formats = GoodReferral();
        formats["Input.Postcode"] = "NOT A POSTCODE";
        formats["Input.NhsNumber"] = "123";
        formats["Input.Patch"] = "Nowhere";
        formats["Input.CallsPerDay"] = "four";
        var bad = await PostAsync(nurse, "/d2a/new", formats);
        html = await bad.Content.ReadAsStringAsync(Ct);
        Assert.Equal(["patient-nhsnumber", "patient-postcode", "patch", "callsperday"], PageHtml.Summary(html).Select(s => s.Target));
        Assert.DoesNotContain("Unknown patch", html);
        AssertErrorPage(html, ["patient-nhsnumber", "patch"]);

        var ok = await PostAsync(nurse, "/d2a/new", GoodReferral());
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
    }

    [Fact]
    public async Task An_empty_incident_report_lists_every_field_at_once_and_the_radio_group_links_to_its_first_radio()
    {
        await using var app = new CareWorkflowsApp();
        var provider = app.As(Roles.Provider, "east-kestrel");
        var r = await PostAsync(provider, "/incidents/new", new() { ["Input.FormId"] = Guid.NewGuid().ToString("N") });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
        var html = await r.Content.ReadAsStringAsync(Ct);
        Assert.Equal(
            ["category", "occurredat", "becameawareat", "description", "parties", "emergencyservicesinvolved-yes", "immediateaction", "furtheraction",
             "serviceusergroup", "serviceuserid", "contactemail"],
            PageHtml.Summary(html).Select(s => s.Target));
        Assert.Contains(("occurredat", "Enter when it happened"), PageHtml.Summary(html));
        Assert.DoesNotContain("occurredAt is required", html);
        AssertErrorPage(html, ["category", "occurredat", "emergencyservicesinvolved-yes", "contactemail"]);
        // The radio group's message is linked to its fields (the fieldset is described by it).
        Assert.Contains("<fieldset aria-describedby=\"emergencyservicesinvolved-error\">", html);

        // Times: in the future, and awareness before the incident — both reported at once, in the page's words.
        var times = await PostAsync(provider, "/incidents/new", new()
        {
            ["Input.FormId"] = Guid.NewGuid().ToString("N"), ["Input.Category"] = "WelfareConcern", ["Input.OccurredAt"] = "2026-11-25T10:00",
            ["Input.BecameAwareAt"] = "2026-11-23T10:00", ["Input.Description"] = "Fall.", ["Input.Parties"] = "Carer", ["Input.EmergencyServicesInvolved"] = "no",
            ["Input.ImmediateAction"] = "GP called", ["Input.FurtherAction"] = "Review", ["Input.ServiceUserGroup"] = "Older people",
            ["Input.ServiceUserId"] = "SU-1", ["Input.ContactEmail"] = "not an email",
        });
        html = await times.Content.ReadAsStringAsync(Ct);
        Assert.Equal(["occurredat", "becameawareat", "contactemail"], PageHtml.Summary(html).Select(s => s.Target));
        AssertErrorPage(html, ["occurredat", "becameawareat", "contactemail"]);
    }

    [Fact]
    public async Task Empty_concern_and_adjustment_forms_list_every_field_in_form_order()
    {
        await using var app = new CareWorkflowsApp();
        var qa = await PostAsync(app.As(Roles.QualityAssurance), "/concerns/new", new() { ["FormId"] = Guid.NewGuid().ToString("N"), ["ResponseWorkingDays"] = "99" });
        var html = await qa.Content.ReadAsStringAsync(Ct);
        Assert.Equal(["providerid", "concern", "responseworkingdays"], PageHtml.Summary(html).Select(s => s.Target));
        Assert.Contains(PageHtml.Summary(html), s => s.Text.StartsWith("Working days to respond must be between 1 and", StringComparison.Ordinal));
        AssertErrorPage(html, ["providerid", "concern", "responseworkingdays"]);

        var ta = await PostAsync(app.As(Roles.Provider, "PROV-DEMO-A"), "/adjustments/new", new() { ["Input.FormId"] = Guid.NewGuid().ToString("N") });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ta.StatusCode);
        html = await ta.Content.ReadAsStringAsync(Ct);
        Assert.Equal(["packageid", "assessorid", "proposedweeklyhours", "effectivedate", "personagreed-yes", "goals", "rationale", "evidence"],
            PageHtml.Summary(html).Select(s => s.Target));
        AssertErrorPage(html, ["packageid", "proposedweeklyhours", "personagreed-yes", "evidence"]);
    }

    [Fact]
    public async Task The_sign_in_role_error_links_to_the_first_role_radio()
    {
        await using var app = new CareWorkflowsApp();
        var r = await PostAsync(app.Anonymous(), "/signin", new() { ["Name"] = "Pat" });
        var html = await r.Content.ReadAsStringAsync(Ct);
        Assert.Equal([("role-" + Roles.All[0].ToLowerInvariant(), "Choose a role.")], PageHtml.Summary(html));
        AssertErrorPage(html, ["role-" + Roles.All[0].ToLowerInvariant()]);
    }
}
