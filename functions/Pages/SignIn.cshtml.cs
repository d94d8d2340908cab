using CareWorkflows.Definitions;
using CareWorkflows.Functions.Auth;
using CareWorkflows.Functions.Extensions;
using CareWorkflows.Runtime.Providers;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Mvc;

namespace CareWorkflows.Functions.Pages;

/// <summary>
/// Development: choose a demo user, role and provider (sets the cw-demo cookie read by the Demo scheme, which the
/// app refuses outside Development). Entra mode: hands over to Microsoft Entra ID (OpenID Connect).
/// </summary>
public sealed class SignInModel(IConfiguration config, IHostEnvironment env, IProviderDirectory directory) : CareWorkflowsPage
{
    public IReadOnlyList<(string Id, string Name)> Providers { get; private set; } = [];

    public override IReadOnlyList<FormField> FormFields { get; } =
    [
        new("Name", "Your name", Hint: "Shown on the timeline next to what you do."),
        FormField.Radios("Role", "Role", Roles.All[0], "Choose a role"),
        new("ProviderId", "Provider (provider users only)", "Choose the provider you work for"),
    ];

    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }
    [BindProperty] public string? Name { get; set; }
    [BindProperty] public string? Role { get; set; }
    [BindProperty] public string? ProviderId { get; set; }

    private bool Demo => (config["Auth:Mode"] ?? (env.IsDevelopment() ? "Demo" : "Entra")) == "Demo" && env.IsDevelopment();

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!Demo) return Challenge(new AuthenticationProperties { RedirectUri = SafeReturn() }, OpenIdConnectDefaults.AuthenticationScheme);
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!Demo) return NotFound();
        await LoadAsync(ct);
        if (Role is null || !Roles.All.Contains(Role)) ModelState.AddModelError(nameof(Role), "Choose a role.");
        if (Role == Roles.Provider && !Providers.Any(p => p.Id == ProviderId)) ModelState.AddModelError(nameof(ProviderId), "Choose the provider you work for.");
        var name = string.IsNullOrWhiteSpace(Name) ? $"Demo {PageText.RoleName(Role ?? "")}" : Name.Trim();
        if (name.Length > 80 || name.Contains('|')) ModelState.AddModelError(nameof(Name), "Enter a name of up to 80 characters, without '|'.");
        if (!ModelState.IsValid) return Page();
        var provider = Role == Roles.Provider ? ProviderId : "";
        Response.Cookies.Append(DemoAuthenticationHandler.CookieName, $"{name}|{Role}|{provider}", new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = Request.IsHttps, IsEssential = true, Path = "/",
        });
        return LocalRedirect(SafeReturn());
    }

    private string SafeReturn() => ReturnUrl is { Length: > 0 } r && Url.IsLocalUrl(r) && !r.StartsWith("/signin", StringComparison.OrdinalIgnoreCase) ? r : "/";

    private async Task LoadAsync(CancellationToken ct) =>
        Providers = (await directory.ListProvidersAsync(ct)).Select(p => (p.Id, p.Name)).ToList();
}
