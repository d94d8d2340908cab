using CareWorkflows.Functions.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Mvc;

namespace CareWorkflows.Functions.Pages;

/// <summary>POST only (a GET never signs anyone out): clears the demo cookie, or signs out of the cookie and Entra.</summary>
public sealed class SignOutModel(IAuthenticationSchemeProvider schemes) : CareWorkflowsPage
{
    public IActionResult OnGet() => LocalRedirect("/");

    public async Task<IActionResult> OnPostAsync()
    {
        if (await schemes.GetSchemeAsync(DemoAuthenticationHandler.SchemeName) is not null)
        {
            Response.Cookies.Delete(DemoAuthenticationHandler.CookieName, new CookieOptions { Path = "/" });
            return LocalRedirect("/signin");
        }
        return SignOut(new AuthenticationProperties { RedirectUri = "/" }, CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme);
    }
}
