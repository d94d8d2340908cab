using CareWorkflows.Definitions.Privacy;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;

namespace CareWorkflows.Tests.Rules;

/// <summary>The free-text guard on its own: what it finds, in which spellings, and the ordinary care text it lets through.</summary>
public sealed class PersonalDataGuardTests
{
    private static readonly PersonIdentifiers Edith = new("Edith Cavendish-Roe", "943 476 5919", new LocalDate(1938, 4, 12), "14 Acacia Avenue, Orpington", "BR6 7JH");

    [Theory]
    [InlineData("Edith Cavendish-Roe needs help washing.", PersonalDataKind.Name)]
    [InlineData("edith  cavendish roe needs help washing.", PersonalDataKind.Name)]
    [InlineData("Cavendish-Roe, Edith: help washing.", PersonalDataKind.Name)]
    [InlineData("Mrs Cavendish-Roe needs help washing.", PersonalDataKind.Name)]
    [InlineData("mrs. roe needs help washing.", PersonalDataKind.Name)]
    [InlineData("Help Cavendish with washing.", PersonalDataKind.Name)]
    [InlineData("Ask for Edith Cavendish-Roe's key.", PersonalDataKind.Name)]
    [InlineData("NHS no 9434765919.", PersonalDataKind.NhsNumber)]
    [InlineData("NHS no 943-476-5919.", PersonalDataKind.NhsNumber)]
    [InlineData("NHS no 9 4 3 4 7 6 5 9 1 9.", PersonalDataKind.NhsNumber)]
    [InlineData("NHS no 943.476.59.19", PersonalDataKind.NhsNumber)]
    [InlineData("Son's NHS number 401 023 2137.", PersonalDataKind.NhsNumberShaped)]
    [InlineData("Ref 0000000000", PersonalDataKind.NhsNumberShaped)]
    [InlineData("DOB 12/04/1938.", PersonalDataKind.DateOfBirth)]
    [InlineData("DOB 12-4-38.", PersonalDataKind.DateOfBirth)]
    [InlineData("Born 1938-04-12.", PersonalDataKind.DateOfBirth)]
    [InlineData("Born 12 April 1938.", PersonalDataKind.DateOfBirth)]
    [InlineData("Born 12th of Apr. 1938.", PersonalDataKind.DateOfBirth)]
    [InlineData("Born April 12, 1938.", PersonalDataKind.DateOfBirth)]
    [InlineData("Key safe at 14 Acacia Avenue.", PersonalDataKind.Address)]
    [InlineData("Key safe at 14, acacia avenue", PersonalDataKind.Address)]
    [InlineData("Lives on Acacia Avenue.", PersonalDataKind.Address)]
    [InlineData("Key safe, BR6 7JH.", PersonalDataKind.Postcode)]
    [InlineData("Key safe, br67jh.", PersonalDataKind.Postcode)]
    public void The_persons_identifiers_are_found_however_they_are_written(string text, PersonalDataKind kind) =>
        Assert.Equal(kind, PersonalDataGuard.Find(text, Edith));

    [Theory]
    [InlineData("Help with washing, dressing and meals; walks with a frame.")]
    [InlineData("Lives in Orpington (BR6); stairs to the front door.")]       // the district and town are what offers carry
    [InlineData("Four calls a day; discharge 24/11/2026 14:00; 2 carers.")]
    [InlineData("Daughter on 07700 900123 holds the key.")]                   // a UK phone number has 11 digits
    [InlineData("Uses a walker; roe deer visit the garden.")]                  // ordinary words in lower case
    [InlineData("Diabetic; insulin at 08:00 and 18:00; see the 12 week review.")]
    [InlineData("")]
    public void Ordinary_care_text_passes(string text) => Assert.Null(PersonalDataGuard.Find(text, Edith));

    [Fact]
    public void Unknown_identifiers_are_not_looked_for_but_NHS_number_shapes_always_are()
    {
        var nobody = new PersonIdentifiers();
        Assert.Null(PersonalDataGuard.Find("Edith Cavendish-Roe, 14 Acacia Avenue, BR6 7JH, born 12/04/1938", nobody));
        Assert.Equal(PersonalDataKind.NhsNumberShaped, PersonalDataGuard.Find("NHS 943 476 5919", nobody));
    }

    [Fact]
    public void A_refusal_describes_the_kind_never_the_data() =>
        Assert.All(Enum.GetValues<PersonalDataKind>(), k => Assert.DoesNotContain("943", PersonalDataGuard.Describe(k)));

    /// <summary>Any ten digits, in any of the spellings people use for an NHS number, inside any clean sentence, are found.</summary>
    [Property]
    public Property Any_ten_digits_in_the_NHS_groupings_are_found_anywhere_in_a_sentence() =>
        Prop.ForAll(
            Gen.Choose(0, 9).ArrayOf(10).ToArbitrary(),
            Gen.Elements("", " ", "-").ToArbitrary(),
            Gen.Elements("NHS ", "Ref: ", "(", "number is ").ToArbitrary(),
            (digits, sep, before) =>
            {
                var d = string.Concat(digits);
                var text = $"Help with meals. {before}{d[..3]}{sep}{d[3..6]}{sep}{d[6..]} for records.";
                return PersonalDataGuard.Find(text, new PersonIdentifiers()) == PersonalDataKind.NhsNumberShaped;
            });

    /// <summary>The person's own NHS number is found with any separators between its digits.</summary>
    [Property]
    public Property The_persons_own_number_is_found_with_any_spacing() =>
        Prop.ForAll(Gen.Elements("", " ", "  ", "-", ".", " - ").ArrayOf(9).ToArbitrary(), seps =>
        {
            var digits = "9434765919";
            var written = string.Concat(digits.Select((c, i) => i < 9 ? c + seps[i] : c.ToString()));
            return PersonalDataGuard.Find($"NHS {written} on file", Edith) == PersonalDataKind.NhsNumber;
        });

    /// <summary>Digits alone never make eleven-digit numbers (phone numbers) or shorter ones look like NHS numbers.</summary>
    [Property]
    public Property Runs_of_digits_other_than_ten_are_not_NHS_numbers() =>
        Prop.ForAll(Gen.Choose(1, 20).Where(n => n != 10).ToArbitrary(), Gen.Choose(0, 9).ArrayOf(20).ToArbitrary(), (length, digits) =>
            PersonalDataGuard.Find($"Call {string.Concat(digits.Take(length))} today.", new PersonIdentifiers()) is null);

    /// <summary>The date of birth is found in every way of writing it that the guard names.</summary>
    [Property]
    public Property A_date_of_birth_is_found_in_each_common_spelling() =>
        Prop.ForAll(
            Gen.Choose(1900, 2020).SelectMany(y => Gen.Choose(1, 12).SelectMany(m => Gen.Choose(1, 28).Select(d => new LocalDate(y, m, d)))).ToArbitrary(),
            Gen.Choose(0, 5).ToArbitrary(),
            (dob, style) =>
            {
                var inv = System.Globalization.CultureInfo.InvariantCulture;
                var text = style switch
                {
                    0 => dob.ToString("dd/MM/yyyy", inv),
                    1 => dob.ToString("d/M/yy", inv),
                    2 => dob.ToString("yyyy-MM-dd", inv),
                    3 => dob.ToString("d MMMM yyyy", inv),
                    4 => dob.ToString("d MMM yyyy", inv),
                    _ => dob.ToString("MMMM d, yyyy", inv),
                };
                return PersonalDataGuard.Find($"Born {text}; needs help.", new PersonIdentifiers(DateOfBirth: dob)) == PersonalDataKind.DateOfBirth;
            });
}
