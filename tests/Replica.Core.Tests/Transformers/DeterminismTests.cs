using CsCheck;
using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

public class DeterminismTests
{
    public static TheoryData<string, string> KeyedTransformers => new()
    {
        { "first-name", "Alice" },
        { "last-name", "Smith" },
        { "full-name", "Alice Smith" },
        { "email", "alice@corp.example" },
        { "username", "alice" },
        { "phone-number", "+1 555 0100" },
        { "street-address", "1 Main St" },
        { "city", "Springfield" },
        { "country", "France" },
        { "company", "Acme" },
        { "credit-card", "4111111111111111" },
        { "ip-address", "192.168.1.10" },
        { "uuid", "42" },
        { "hash", "alice" },
        { "random", "AB-1234-xy" },
        { "date-shift", "2024-03-15" },
        { "number-noise", "1234.56" },
    };

    [Theory]
    [MemberData(nameof(KeyedTransformers))]
    public void Transform_SameInputInOtherTableAndInstance_SameOutput(string name, string input)
    {
        using var first = Create(Spec(name), new ColumnInfo("public", "users", "a") { Category = TypeCategory.Text });
        using var second = Create(Spec(name), new ColumnInfo("sales", "orders", "b") { Category = TypeCategory.Text });

        var output = first.Apply(input);
        Assert.NotNull(output);
        Assert.Equal(output, first.Apply(input));
        Assert.Equal(output, second.Apply(input));
    }

    [Theory]
    [InlineData("first-name")]
    [InlineData("full-name")]
    [InlineData("hash")]
    [InlineData("random")]
    [InlineData("redact")]
    public void Transform_AnyText_SameOutputInOtherTableAndInstance(string name)
    {
        using var first = Create(Spec(name), new ColumnInfo("public", "users", "a") { Category = TypeCategory.Text });
        using var second = Create(Spec(name), new ColumnInfo("sales", "orders", "b") { Category = TypeCategory.Text });

        // Any text, including control characters, tabs, backslashes and non-ASCII letters; a failure shrinks to the
        // shortest text whose outputs differ.
        Gen.String.ForAll(input =>
        {
            var output = first.Apply(input);
            Assert.Equal(output, first.Apply(input));
            Assert.Equal(output, second.Apply(input));
        }, cases: 300, print: input => $"\"{input}\" ({string.Join(' ', input.Select(c => ((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)))})");
    }

    [Theory]
    [MemberData(nameof(KeyedTransformers))]
    public void Transform_OtherSecret_OtherOutputs(string name, string input)
    {
        using var first = Create(Spec(name));
        using var second = Create(Spec(name), env: new TransformerEnvironment("another-secret"u8.ToArray()));

        // Small output spaces (a country, a date within 30 days) can coincide for one value; over 40 values they cannot.
        int differing = 0;
        for (int i = 0; i < 40; i++)
        {
            var value = input + i;
            if (name == "date-shift")
            {
                value = $"2024-03-{i % 28 + 1:00} 10:{i:00}:00";
            }
            else if (name == "number-noise")
            {
                value = (1000 + i).ToString();
            }
            else if (name == "ip-address")
            {
                value = $"10.0.0.{i}";
            }

            if (first.Apply(value) != second.Apply(value))
            {
                differing++;
            }
        }

        Assert.True(differing >= 30, $"only {differing} of 40 outputs changed with the secret");
    }

    [Fact]
    public void Transform_OtherOptions_OtherOutputs()
    {
        using var plain = Create(Spec("first-name"));
        using var german = Create(Spec("first-name", ("locale", "de")));
        int differing = Enumerable.Range(0, 50).Count(i => plain.Apply("n" + i) != german.Apply("n" + i));
        Assert.True(differing > 30);
    }

    [Fact]
    public void Transform_DistinctInputs_SpreadOverTheLocaleData()
    {
        using var firstName = Create(Spec("first-name"));
        var outputs = Enumerable.Range(0, 2000).Select(i => firstName.Apply("person-" + i)).ToHashSet();
        Assert.True(outputs.Count > 1000, $"2000 inputs gave only {outputs.Count} names");
    }

    [Fact]
    public void Transform_Null_StaysNullForValueTransformers()
    {
        foreach (var name in new[] { "first-name", "email", "hash", "redact", "random", "uuid", "date-shift", "template" })
        {
            var spec = name == "template" ? Spec(name, ("template", "x")) : Spec(name);
            using var transformer = Create(spec);
            Assert.Equal(TransformResult.Null, transformer.ApplyRaw(null).Result);
        }
    }
}
