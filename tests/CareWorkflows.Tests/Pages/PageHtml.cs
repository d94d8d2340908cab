using System.Net;
using System.Text.RegularExpressions;

namespace CareWorkflows.Tests.Pages;

/// <summary>Reading a rendered page in tests: its form token, title, error summary and ids.</summary>
public static partial class PageHtml
{
    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    [GeneratedRegex("<title>(.*?)</title>", RegexOptions.Singleline)]
    private static partial Regex TitlePattern();

    [GeneratedRegex("<div class=\"error-summary\".*?</ul>", RegexOptions.Singleline)]
    private static partial Regex SummaryPattern();

    [GeneratedRegex("<li>(?:<a href=\"#([^\"]+)\">)?(.*?)(?:</a>)?</li>", RegexOptions.Singleline)]
    private static partial Regex SummaryItemPattern();

    [GeneratedRegex("\\sid=\"([^\"]+)\"")]
    private static partial Regex IdPattern();

    public static string Token(string html) => TokenPattern().Match(html).Groups[1].Value;

    public static string Title(string html) => WebUtility.HtmlDecode(TitlePattern().Match(html).Groups[1].Value.Trim());

    /// <summary>The error summary's entries in order: the id each links to (null when not linked) and its text.</summary>
    public static List<(string? Target, string Text)> Summary(string html)
    {
        var summary = SummaryPattern().Match(html);
        if (!summary.Success) return [];
        return SummaryItemPattern().Matches(summary.Value)
            .Select(m => (m.Groups[1].Success ? m.Groups[1].Value : null, WebUtility.HtmlDecode(m.Groups[2].Value.Trim()))).ToList();
    }

    /// <summary>Ids that appear more than once on the page.</summary>
    public static List<string> DuplicateIds(string html) =>
        IdPattern().Matches(html).GroupBy(m => m.Groups[1].Value).Where(g => g.Count() > 1).Select(g => g.Key).ToList();

    /// <summary>The start tag of the element with <paramref name="id"/>.</summary>
    public static string Tag(string html, string id)
    {
        var at = html.IndexOf($" id=\"{id}\"", StringComparison.Ordinal);
        Assert.True(at >= 0, $"no element #{id}");
        var start = html.LastIndexOf('<', at);
        return html[start..(html.IndexOf('>', at) + 1)];
    }

    public static int Count(string html, string text) => Regex.Matches(html, Regex.Escape(text)).Count;
}
