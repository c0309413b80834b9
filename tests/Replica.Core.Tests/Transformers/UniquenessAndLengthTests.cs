using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

public class UniquenessAndLengthTests
{
    const int Count = 100_000;

    [Fact]
    public void Email_100kDistinctInputs_100kDistinctOutputs()
    {
        using var transformer = Create("email");
        var outputs = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < Count; i++)
        {
            outputs.Add(transformer.Apply($"user{i}@corp.example")!);
        }

        Assert.Equal(Count, outputs.Count);
    }

    [Fact]
    public void Username_UniqueColumn100kDistinctInputs_100kDistinctOutputsWithinLimit()
    {
        using var transformer = Create(Spec("username"), Column(maxLength: 24, unique: true));
        var outputs = new HashSet<string>();
        for (int i = 0; i < Count; i++)
        {
            var output = transformer.Apply("login" + i)!;
            Assert.True(output.Length <= 24, output);
            outputs.Add(output);
        }

        Assert.Equal(Count, outputs.Count);
    }

    [Fact]
    public void FirstName_UniqueSpec_DistinctOutputs()
    {
        using var transformer = Create(Spec("first-name") with { Unique = true });
        var outputs = Enumerable.Range(0, 20_000).Select(i => transformer.Apply("n" + i)).ToHashSet();
        Assert.Equal(20_000, outputs.Count);
    }

    [Fact]
    public void Email_UniqueFalse_DistinctInputsCollide()
    {
        // The point of the suffix: without it, fake addresses repeat.
        using var transformer = Create(Spec("email") with { Unique = false });
        var outputs = Enumerable.Range(0, 20_000).Select(i => transformer.Apply("n" + i)).ToHashSet();
        Assert.True(outputs.Count < 20_000);
    }

    [Theory]
    [InlineData("first-name", 3)]
    [InlineData("full-name", 8)]
    [InlineData("street-address", 10)]
    [InlineData("company", 5)]
    [InlineData("city", 4)]
    [InlineData("redact", 4)]
    [InlineData("random", 5)]
    public void Transform_VarcharLimit_NeverExceeded(string name, int limit)
    {
        using var transformer = Create(Spec(name), Column(typeName: $"character varying({limit})", maxLength: limit));
        for (int i = 0; i < 500; i++)
        {
            var output = transformer.Apply("a rather long value éèê number " + i)!;
            Assert.True(CharCount(output) <= limit, $"'{output}' exceeds {limit}");
        }
    }

    [Fact]
    public void Email_UniqueVarchar32_FitsAndKeepsSuffix()
    {
        using var transformer = Create(Spec("email"), Column(maxLength: 32));
        for (int i = 0; i < 1000; i++)
        {
            var output = transformer.Apply($"someone{i}@corp.example")!;
            Assert.True(output.Length <= 32, output);
            Assert.Matches(@"^[a-z0-9._]*_[a-z2-7]{16}@example\.(com|org|net)$", output);
        }
    }

    [Fact]
    public void Username_UniqueVarcharTooShort_ConfigExceptionNamesColumn()
    {
        var error = Assert.Throws<ConfigException>(() => Create(Spec("username"), Column(typeName: "character varying(10)", maxLength: 10)));
        Assert.Contains("public.users.col", error.Message);
        Assert.Contains("character varying(10)", error.Message);
        Assert.Contains("username", error.Message);
    }

    [Fact]
    public void Email_TooShortEvenWithoutSuffix_ConfigException()
    {
        var error = Assert.Throws<ConfigException>(() => Create(Spec("email") with { Unique = false }, Column(maxLength: 10)));
        Assert.Contains("public.users.col", error.Message);
    }

    [Fact]
    public void Hash_UniqueColumnTruncatedBelow80Bits_ConfigException()
    {
        var error = Assert.Throws<ConfigException>(() => Create(Spec("hash", ("length", "12")), Column(unique: true)));
        Assert.Contains("80 bits", error.Message);
        using var enough = Create(Spec("hash", ("length", "20")), Column(unique: true));
        Assert.Equal(20, enough.Apply("x")!.Length);
    }

    [Fact]
    public void Uuid_DistinctInputs_DistinctValidUuids()
    {
        using var transformer = Create(Spec("uuid"), Column(TypeCategory.Uuid, "uuid"));
        var outputs = new HashSet<Guid>();
        for (int i = 0; i < 20_000; i++)
        {
            var output = transformer.Apply(i.ToString())!;
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", output);
            outputs.Add(Guid.Parse(output));
        }

        Assert.Equal(20_000, outputs.Count);
    }

    [Fact]
    public void Redact_UniqueColumn_SuffixKeepsValuesDistinct()
    {
        using var transformer = Create(Spec("redact", ("keep", "1")), Column(unique: true));
        Assert.NotEqual(transformer.Apply("alpha"), transformer.Apply("alpine"));
        Assert.StartsWith("a****_", transformer.Apply("alpha"));
    }
}
