using System.Text.RegularExpressions;
using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

public class FakeTransformerTests
{
    static HashSet<string> BogusList(string category, string key, string locale = "en")
    {
        var array = (Bogus.Bson.BArray)Bogus.Database.Get(category, key, locale);
        return Enumerable.Range(0, array.Count).Select(i => array[i].StringValue).ToHashSet();
    }

    [Fact]
    public void FirstName_English_ComesFromBogusList()
    {
        var names = BogusList("name", "first_name");
        using var transformer = Create("first-name");
        for (int i = 0; i < 200; i++)
        {
            Assert.Contains(transformer.Apply("x" + i)!, names);
        }
    }

    [Fact]
    public void LastName_GermanLocaleFromEnvironment_ComesFromGermanList()
    {
        var names = BogusList("name", "last_name", "de");
        using var transformer = Create(Spec("last-name"), env: new TransformerEnvironment("s"u8.ToArray(), "de"));
        for (int i = 0; i < 200; i++)
        {
            Assert.Contains(transformer.Apply("x" + i)!, names);
        }
    }

    [Fact]
    public void FullName_RussianLocaleWithGenderedLists_GivesTwoWords()
    {
        using var transformer = Create("full-name", ("locale", "ru"));
        var name = transformer.Apply("Ivan Petrov")!;
        Assert.Equal(2, name.Split(' ').Length);
        Assert.DoesNotContain("#", name);
    }

    [Theory]
    [InlineData("street-address")]
    [InlineData("city")]
    [InlineData("company")]
    [InlineData("phone-number")]
    [InlineData("country")]
    public void Fakes_AllLocales_ExpandEveryPlaceholder(string name)
    {
        foreach (var locale in new[] { "en", "de", "fr", "ru", "ja", "cz", "sv", "pt_BR", "en_US", "af_ZA" })
        {
            using var transformer = Create(name, ("locale", locale));
            for (int i = 0; i < 100; i++)
            {
                var fake = transformer.Apply("value " + i)!;
                Assert.False(string.IsNullOrWhiteSpace(fake), $"{name} in {locale} gave an empty value");
                Assert.DoesNotContain("#{", fake);
                Assert.DoesNotContain("#", fake);
            }
        }
    }

    [Fact]
    public void PhoneNumber_English_HasDigitsInBogusFormats()
    {
        using var transformer = Create("phone-number");
        var phone = transformer.Apply("+33 1 23 45 67 89")!;
        Assert.Matches(new Regex(@"^[0-9().\- x+]+$"), phone);
        Assert.True(phone.Count(char.IsAsciiDigit) >= 10);
    }

    [Fact]
    public void Email_Default_IsValidAddressAtExampleDomainWithUniqueSuffix()
    {
        using var transformer = Create("email");
        var email = transformer.Apply("john.doe@gmail.com")!;
        Assert.Matches(new Regex(@"^[a-z0-9._]+_[a-z2-7]{16}@example\.(com|org|net)$"), email);
    }

    [Fact]
    public void Email_UniqueFalseAndDomain_PlainAddressAtThatDomain()
    {
        using var transformer = Create(Spec("email", ("domain", "test.local")) with { Unique = false });
        for (int i = 0; i < 100; i++)
        {
            var email = transformer.Apply($"user{i}@gmail.com")!;
            Assert.Matches(new Regex(@"^[a-z0-9]([a-z0-9._]*[a-z0-9])?@test\.local$"), email);
        }
    }

    [Fact]
    public void Email_NonAsciiLocale_FallsBackToAsciiNames()
    {
        using var transformer = Create("email", ("locale", "ru"));
        Assert.Matches(new Regex(@"^[a-z0-9._]+@example\.(com|org|net)$"), transformer.Apply("ivan@mail.ru")!);
    }

    [Fact]
    public void Username_Default_AsciiWithUniqueSuffix()
    {
        using var transformer = Create("username");
        Assert.Matches(new Regex(@"^[a-z0-9._]+_[a-z2-7]{16}$"), transformer.Apply("jdoe")!);
    }
}
