using CareWorkflows.Functions.Channels;

namespace CareWorkflows.Tests.Channels;

public sealed class ReplyGrammarTests
{
    [Theory]
    [InlineData("ACCEPT D2A-7K3QX 14:30", "accept", "D2A-7K3QX", "14:30")]
    [InlineData("  accept d2a-7k3qx   14:30 ", "accept", "D2A-7K3QX", "14:30")]
    [InlineData("DECLINE D2A-7K3QX", "decline", "D2A-7K3QX", "")]
    [InlineData("Yes", "accept", null, "")]
    [InlineData("YES 9:15", "accept", null, "9:15")]
    [InlineData("no.", "decline", null, "")]
    [InlineData("Decline, D2A-7K3QX.", "decline", "D2A-7K3QX", "")]
    [InlineData("CARE-PLAN D2A-7K3QX morning visit moved", "care-plan", "D2A-7K3QX", "morning visit moved")]
    [InlineData("D2A-7K3QX accept", null, null, "")]
    [InlineData("14:30", null, null, "")]
    [InlineData("", null, null, "")]
    public void Replies_are_read_as_verb_reference_and_rest(string line, string? action, string? reference, string rest)
    {
        var r = ReplyGrammar.Read(line);
        Assert.Equal(action, r.Action);
        Assert.Equal(reference, r.Reference);
        if (action is not null) Assert.Equal(rest, r.Rest);
    }

    [Theory]
    [InlineData("Accept 11:45\n\nOn Tue, 24 Nov 2026, Council wrote:\n> DECLINE", "Accept 11:45")]
    [InlineData("\n\n  yes  \n-- \nJo", "yes")]
    [InlineData("> quoted only\n> more", "")]
    [InlineData("-----Original Message-----\nFrom: x", "")]
    public void The_answer_in_an_email_is_the_first_line_above_the_quoted_text(string text, string expected) =>
        Assert.Equal(expected, ReplyGrammar.FirstLineOfEmail(text));

    [Theory]
    [InlineData("RE: D2A-7K3QX: new home care request", "D2A-7K3QX")]
    [InlineData("Fwd: re: [d2a-7k3qx] offer", "D2A-7K3QX")]
    [InlineData("Re: your message", null)]
    public void The_reference_of_an_email_reply_comes_from_its_subject(string subject, string? expected) =>
        Assert.Equal(expected, ReplyGrammar.FindReference(subject));

    [Theory]
    [InlineData("+447700900123", "+447700900123")]
    [InlineData("447700900123", "+447700900123")]
    [InlineData("07700 900123", "+447700900123")]
    public void UK_mobiles_compare_in_one_form(string given, string expected) => Assert.Equal(expected, ReplyGrammar.NormalisePhone(given));
}
