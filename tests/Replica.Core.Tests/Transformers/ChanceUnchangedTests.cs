using System.Globalization;
using System.Text;
using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

/// <summary>
/// What `replica leakcheck` expects chance to give back of a random or number-noise column: the stated chance per value,
/// and, over many distinct values, the count the transformer itself gives back unchanged.
/// </summary>
public sealed class ChanceUnchangedTests
{
    static double Chance(Transformer transformer, string value) => transformer.ChanceUnchanged(Encoding.UTF8.GetBytes(value));

    [Fact]
    public void NumberNoise_SmallWholeNumbersCannotChange_LargerOnesRarely()
    {
        using var integer = Create(Spec("number-noise", ("percent", "10")), Column(TypeCategory.Integer, "integer"));
        using var money = Create(Spec("number-noise", ("percent", "10")), Column(TypeCategory.Numeric, "numeric(10,2)"));

        Assert.True(integer.RepeatsByChance);
        Assert.Equal(1, Chance(integer, "0"));
        Assert.Equal(1, Chance(integer, "3"));
        Assert.Equal(1, Chance(integer, "-5"));
        Assert.Equal(0.05, Chance(integer, "100"), 12);
        Assert.Equal(0.01 / 2.5, Chance(money, "12.50"), 12);
        Assert.Equal(1, Chance(money, "NaN"));
        Assert.Equal(0, Chance(money, "1.5e3"));
    }

    [Fact]
    public void Random_ChanceIsPerCharacterDrawn()
    {
        using var text = Create(Spec("random"), Column(TypeCategory.Text, "text"));
        using var unique = Create(Spec("random") with { Unique = true }, Column(TypeCategory.Text, "text"));
        using var integer = Create(Spec("random"), Column(TypeCategory.Integer, "integer"));
        using var numeric = Create(Spec("random"), Column(TypeCategory.Numeric, "numeric"));

        Assert.True(text.RepeatsByChance);
        Assert.Equal(1.0 / 260, Chance(text, "A-7"), 12);
        Assert.Equal(1, Chance(text, "--"));
        Assert.Equal(0, Chance(text, "ü1"));
        Assert.Equal(0, Chance(unique, "A7"));
        Assert.Equal(1.0 / 90, Chance(integer, "42"), 12);
        Assert.Equal(1.0 / 10, Chance(integer, "-4"), 12);
        Assert.Equal(1.0 / 90, Chance(numeric, "1.5"), 12);
    }

    [Fact]
    public void OtherTransformers_HaveNoChanceModelUnlessTheyDrawFromAPool()
    {
        using var hash = Create("hash");
        using var constant = Create("constant", ("value", "x"));

        Assert.False(hash.RepeatsByChance);
        Assert.Equal(0, Chance(hash, "anything"));
        Assert.True(constant.RepeatsByChance);
        Assert.Equal(1, Chance(constant, "x"));
    }

    /// <summary>Over distinct values the transformer gives back about the sum of their chances (within 4 standard deviations).</summary>
    [Theory]
    [InlineData("number-noise", TypeCategory.Integer, "integer", 20, 3000)]
    [InlineData("number-noise", TypeCategory.Numeric, "numeric(8,1)", 5, 800)]
    [InlineData("random", TypeCategory.Text, "text", 0, 1040)]
    public void ChanceUnchanged_AgreesWithWhatTheTransformerGivesBack(string name, TypeCategory category, string type, int from, int to)
    {
        using var transformer = Create(Spec(name), Column(category, type));
        IEnumerable<string> values = category switch
        {
            // One letter drawn per value (1/26), made distinct by what random keeps.
            TypeCategory.Text => Enumerable.Range(from, to - from).Select(i => (char)('a' + i % 26) + new string('-', i / 26)),
            TypeCategory.Numeric => Enumerable.Range(from * 10, (to - from) * 10).Select(i => (i / 10.0).ToString("0.0", CultureInfo.InvariantCulture)),
            _ => Enumerable.Range(from, to - from + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)),
        };

        double expected = 0, variance = 0;
        var unchanged = 0;
        foreach (var value in values)
        {
            var p = Chance(transformer, value);
            expected += p;
            variance += p * (1 - p);
            unchanged += transformer.Apply(value) == value ? 1 : 0;
        }

        Assert.True(expected > 5, $"the sample exercises chance (expected {expected:0.0})");
        Assert.InRange(unchanged, expected - 4 * Math.Sqrt(variance) - 1, expected + 4 * Math.Sqrt(variance) + 1);
    }
}
