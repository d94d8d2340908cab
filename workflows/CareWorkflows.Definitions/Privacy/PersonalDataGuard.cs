using System.Globalization;
using System.Text.RegularExpressions;
using NodaTime;

namespace CareWorkflows.Definitions.Privacy;

/// <summary>The kinds of personal data <see cref="PersonalDataGuard"/> looks for in free text.</summary>
public enum PersonalDataKind { Name = 1, NhsNumber = 2, DateOfBirth = 3, Address = 4, Postcode = 5, NhsNumberShaped = 6 }

/// <summary>What the record holds about the person a piece of free text is about. Any part may be unknown.</summary>
public sealed record PersonIdentifiers(string? Name = null, string? NhsNumber = null, LocalDate? DateOfBirth = null, string? Address = null, string? Postcode = null);

/// <summary>
/// Finds the person's own identifiers typed into free text that goes to people who must not see them: D2A offers go to
/// every provider of a patch before one is awarded, so they are anonymised (App A; DOMAIN.md, information governance:
/// minimum necessary data per recipient). Pure and deterministic; callers refuse the text (422 naming the field) and
/// never echo what was found.
/// What counts:
/// <list type="bullet">
/// <item>name: the full name in order (any spacing or case), "Surname, Given", a title with the surname ("Mrs Roe"), or
/// the surname (or a part of a double-barrelled one, 3 letters or more) written with its capital, as a name is in
/// running text. Given names alone are not matched: too many are ordinary words ("May", "Will", "Rose").</item>
/// <item>NHS number: the person's ten digits with any spaces, hyphens or dots between them.</item>
/// <item>date of birth: the person's date written as digits (12/04/1938, 12-04-38, 1938-04-12) or with the month's name
/// (12 April 1938, 12th Apr 1938, April 12, 1938).</item>
/// <item>address: the whole address, its first line, and any line with a house number (also without the number).</item>
/// <item>postcode: the person's full postcode, any spacing or case (the district alone is what offers carry).</item>
/// <item>any NHS-number-shaped string: ten digits together or grouped 3-3-4 by a space or hyphen, whoever's it is.</item>
/// </list>
/// </summary>
public static class PersonalDataGuard
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    /// <summary>The first kind of the person's data found in <paramref name="text"/>, or null when none is.</summary>
    public static PersonalDataKind? Find(string? text, PersonIdentifiers person)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (ContainsNhsNumber(text, person.NhsNumber)) return PersonalDataKind.NhsNumber;
        if (ContainsNhsNumberShape(text)) return PersonalDataKind.NhsNumberShaped;
        if (ContainsName(text, person.Name)) return PersonalDataKind.Name;
        if (person.DateOfBirth is { } dob && ContainsDate(text, dob)) return PersonalDataKind.DateOfBirth;
        if (ContainsPostcode(text, person.Postcode)) return PersonalDataKind.Postcode;
        if (ContainsAddress(text, person.Address)) return PersonalDataKind.Address;
        return null;
    }

    /// <summary>Words for a refusal: "the person's NHS number". Never the data itself.</summary>
    public static string Describe(PersonalDataKind kind) => kind switch
    {
        PersonalDataKind.Name => "the person's name",
        PersonalDataKind.NhsNumber => "the person's NHS number",
        PersonalDataKind.DateOfBirth => "the person's date of birth",
        PersonalDataKind.Address => "the person's address",
        PersonalDataKind.Postcode => "the person's postcode",
        _ => "a 10-digit number that could be an NHS number",
    };

    // ---------------- NHS numbers ----------------

    // Ten digits together or in the NHS's 3-3-4 grouping; not part of a longer run of digits (a UK phone number has 11).
    private static readonly Regex NhsShape = new(@"(?<![0-9])[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{4}(?![0-9])", RegexOptions.CultureInvariant, Timeout);

    /// <summary>Ten digits together or grouped 3-3-4 by a space or hyphen (also used by the SMS guard).</summary>
    public static bool ContainsNhsNumberShape(string text) => NhsShape.IsMatch(text);

    private static bool ContainsNhsNumber(string text, string? nhsNumber)
    {
        var digits = new string((nhsNumber ?? "").Where(char.IsAsciiDigit).ToArray());
        if (digits.Length != 10) return false;
        // The person's own number with any separators between its digits: "943 476 5919", "943-4765-919", "9 4 3 4 ...".
        var pattern = @"(?<![0-9])" + string.Join(@"[\s\-.]*", digits.Select(c => c.ToString())) + @"(?![0-9])";
        return Regex.IsMatch(text, pattern, RegexOptions.CultureInvariant, Timeout);
    }

    // ---------------- names ----------------

    private static readonly Regex Word = new(@"\p{L}[\p{L}']*", RegexOptions.CultureInvariant, Timeout);
    private static readonly string[] Titles = ["mr", "mrs", "ms", "miss", "mx", "dr", "sir", "dame", "lady", "lord", "rev", "prof"];

    private static bool ContainsName(string text, string? name)
    {
        var tokens = (name ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0) return false;
        // The surname is the last token; its hyphenated halves are words of their own ("Cavendish-Roe").
        var surname = Words(tokens[^1]);
        var given = Words(string.Join(' ', tokens[..^1]));
        if (surname.Count == 0) return false;
        var written = Words(text);
        var lower = written.Select(w => w.ToLowerInvariant()).ToList();
        var surnameLower = surname.Select(w => w.ToLowerInvariant()).ToList();
        var givenLower = given.Select(w => w.ToLowerInvariant()).ToList();

        // The full name in order, or "Surname, Given": any case, any spacing or punctuation between the words.
        if (given.Count > 0 && (ContainsRun(lower, [.. givenLower, .. surnameLower]) || ContainsRun(lower, [.. surnameLower, .. givenLower])))
            return true;
        for (var i = 0; i < written.Count; i++)
        {
            if (!surnameLower.Contains(lower[i])) continue;
            // A title before the surname (or a part of it): "Mrs Cavendish-Roe", "mr roe".
            if (i > 0 && Titles.Contains(lower[i - 1])) return true;
            // The surname written as a name is, with its capital; in lower case it is an ordinary word ("uses a walker").
            if (lower[i].Length >= 3 && char.IsUpper(written[i][0])) return true;
        }
        return false;
    }

    /// <summary>The words of <paramref name="s"/>; a possessive is its word ("Roe's" → "Roe"), an inner apostrophe stays ("O'Neil").</summary>
    private static List<string> Words(string s) => Word.Matches(s.Replace('’', '\''))
        .Select(m => m.Value.EndsWith("'s", StringComparison.OrdinalIgnoreCase) ? m.Value[..^2] : m.Value.TrimEnd('\''))
        .Where(w => w.Length > 0).ToList();

    private static bool ContainsRun(List<string> words, List<string> run)
    {
        for (var i = 0; i + run.Count <= words.Count; i++)
            if (run.Select((w, j) => words[i + j] == w).All(x => x)) return true;
        return false;
    }

    // ---------------- dates of birth ----------------

    private static readonly string[] Months = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
    private const string MonthName = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";
    private static readonly Regex NumericDate = new(@"(?<![0-9])([0-9]{1,4})[/.\-\s]([0-9]{1,2})[/.\-\s]([0-9]{2,4})(?![0-9])", RegexOptions.CultureInvariant, Timeout);
    private static readonly Regex DayMonthYear = new(@"(?<![0-9])([0-9]{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+(" + MonthName + @")\.?,?\s+([0-9]{2,4})(?![0-9])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Timeout);
    private static readonly Regex MonthDayYear = new(@"\b(" + MonthName + @")\.?\s+([0-9]{1,2})(?:st|nd|rd|th)?,?\s+([0-9]{2,4})(?![0-9])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Timeout);

    private static bool ContainsDate(string text, LocalDate date)
    {
        foreach (Match m in NumericDate.Matches(text))
        {
            var (a, b, c) = (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value);
            if (a.Length == 4 ? Same(date, c, b, a) : Same(date, a, b, c) || Same(date, b, a, c)) return true; // y-m-d; d/m/y (UK) or m/d/y
        }
        foreach (Match m in DayMonthYear.Matches(text))
            if (Same(date, m.Groups[1].Value, MonthNumber(m.Groups[2].Value), m.Groups[3].Value)) return true;
        foreach (Match m in MonthDayYear.Matches(text))
            if (Same(date, m.Groups[2].Value, MonthNumber(m.Groups[1].Value), m.Groups[3].Value)) return true;
        return false;
    }

    private static string MonthNumber(string name) =>
        (Array.FindIndex(Months, x => x.StartsWith(name.ToLowerInvariant()[..3], StringComparison.Ordinal)) + 1).ToString(CultureInfo.InvariantCulture);

    private static bool Same(LocalDate date, string day, string month, string year)
    {
        if (!int.TryParse(day, CultureInfo.InvariantCulture, out var d) || !int.TryParse(month, CultureInfo.InvariantCulture, out var mo)
            || !int.TryParse(year, CultureInfo.InvariantCulture, out var y)) return false;
        var yearMatches = year.Length == 2 ? y == date.Year % 100 : year.Length == 4 && y == date.Year;
        return yearMatches && d == date.Day && mo == date.Month;
    }

    // ---------------- postcodes and addresses ----------------

    private static bool ContainsPostcode(string text, string? postcode)
    {
        var compact = new string((postcode ?? "").Where(char.IsAsciiLetterOrDigit).ToArray()).ToUpperInvariant();
        if (compact.Length is < 5 or > 7) return false;
        var outward = Regex.Escape(compact[..^3]);
        var inward = Regex.Escape(compact[^3..]);
        return Regex.IsMatch(text, $@"(?<![A-Za-z0-9]){outward}\s*{inward}(?![A-Za-z0-9])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Timeout);
    }

    private static readonly Regex HouseNumber = new(@"^(?:(?:flat|apartment|apt|unit)\s+)?[0-9]+[a-z]?\b[\s,]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Timeout);

    private static bool ContainsAddress(string text, string? address)
    {
        if (string.IsNullOrWhiteSpace(address)) return false;
        var lines = address.Split([',', '\n', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        // "14, Acacia Avenue": a line that is only a house number belongs to the next one.
        for (var i = 0; i < lines.Count - 1; i++)
            if (lines[i].All(c => char.IsAsciiDigit(c) || char.IsAsciiLetter(c)) && lines[i].Any(char.IsAsciiDigit) && lines[i].Length <= 4)
            { lines[i + 1] = lines[i] + " " + lines[i + 1]; lines.RemoveAt(i); }
        var phrases = new List<string> { address };
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (i > 0 && !line.Any(char.IsAsciiDigit)) continue; // a town or county on its own does not identify anyone
            phrases.Add(line);
            var street = HouseNumber.Replace(line, "");
            // "Acacia Avenue" without its number still points at one street; a single word ("Orpington") does not.
            if (street != line && Word.Matches(street).Count >= 2) phrases.Add(street);
        }
        var haystack = Squash(text);
        return phrases.Select(Squash).Any(p => p.Length >= 5 && Regex.IsMatch(haystack, $@"(?<![\p{{L}}0-9]){Regex.Escape(p)}(?![\p{{L}}0-9])", RegexOptions.CultureInvariant, Timeout));
    }

    /// <summary>Lower case, punctuation to spaces, runs of spaces to one: "14, Acacia  Avenue" → "14 acacia avenue".</summary>
    private static string Squash(string s) =>
        Regex.Replace(Regex.Replace(s.ToLowerInvariant(), @"[^\p{L}0-9]+", " ", RegexOptions.CultureInvariant, Timeout), @"\s+", " ", RegexOptions.CultureInvariant, Timeout).Trim();
}
