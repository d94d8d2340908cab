using CareWorkflows.Definitions;

namespace CareWorkflows.Tests.Channels;

public sealed class TemplateTests
{
    private static readonly Dictionary<string, string> Values = new() { ["reference"] = "D2A-7K3QX", ["person"] = "Ann <O'Neil> & co", ["link"] = "http://x/l/abc" };

    [Fact]
    public void An_email_template_fills_subject_text_and_html_and_encodes_values_only_in_html()
    {
        var t = new EmailTemplate("offer", "{reference}: new request", "For {person}. {link}", "<p>For {person}.</p><a href=\"{link}\">Answer</a>");
        var m = t.Render("a@b.example", Values, "p-1", ["http://x/l/abc"]);
        Assert.Equal((MessageChannel.Email, "a@b.example", "offer", "p-1"), (m.Channel, m.To, m.Purpose, m.RecipientId));
        Assert.Equal("D2A-7K3QX: new request", m.Subject);
        Assert.Equal("For Ann <O'Neil> & co. http://x/l/abc", m.Body);
        Assert.Equal("<p>For Ann &lt;O&#39;Neil&gt; &amp; co.</p><a href=\"http://x/l/abc\">Answer</a>", m.HtmlBody);
    }

    [Fact]
    public void A_placeholder_without_a_value_fails_loudly()
    {
        var t = new SmsTemplate("offer", "{reference}: reply by {deadline}");
        Assert.Throws<KeyNotFoundException>(() => t.Render("+447700900111", Values));
    }

    [Fact]
    public void Double_braces_are_literal()
    {
        var m = new SmsTemplate("offer", "{{not a placeholder}} {reference}").Render("+447700900111", Values);
        Assert.Equal("{not a placeholder} D2A-7K3QX", m.Body);
        Assert.Equal(MessageChannel.Sms, m.Channel);
    }
}
