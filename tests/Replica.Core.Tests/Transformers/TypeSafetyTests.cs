using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

public class TypeSafetyTests
{
    public static TheoryData<string, TypeCategory, string> Mismatches => new()
    {
        { "email", TypeCategory.Integer, "integer" },
        { "first-name", TypeCategory.Date, "date" },
        { "date-shift", TypeCategory.Boolean, "boolean" },
        { "date-shift", TypeCategory.Time, "time without time zone" },
        { "uuid", TypeCategory.Integer, "bigint" },
        { "ip-address", TypeCategory.Uuid, "uuid" },
        { "random", TypeCategory.Uuid, "uuid" },
        { "hash", TypeCategory.Integer, "integer" },
        { "number-noise", TypeCategory.Timestamp, "timestamp without time zone" },
        { "json", TypeCategory.Integer, "integer" },
        { "credit-card", TypeCategory.Integer, "integer" },
        { "phone-number", TypeCategory.Numeric, "numeric" },
    };

    [Theory]
    [MemberData(nameof(Mismatches))]
    public void Create_OutputInvalidForColumnType_ConfigExceptionNamesColumnTypeAndTransformer(string name, TypeCategory category, string typeName)
    {
        var spec = name == "json" ? Spec(name, ("path", "a"), ("transformer", "email")) : Spec(name);
        var error = Assert.Throws<ConfigException>(() => Create(spec, Column(category, typeName)));
        Assert.Contains("public.users.col", error.Message);
        Assert.Contains(typeName, error.Message);
        Assert.Contains($"'{name}'", error.Message);
        Assert.Contains("replica.yaml:3:7", error.Message);
    }

    [Fact]
    public void Create_RedactNonDigitOnNumeric_ConfigException()
    {
        var error = Assert.Throws<ConfigException>(() => Create(Spec("redact"), Column(TypeCategory.Numeric, "numeric")));
        Assert.Contains("digit", error.Message);
        using var fine = Create(Spec("redact", ("character", "0")), Column(TypeCategory.Numeric, "numeric"));
    }

    [Fact]
    public void Create_UuidIntoShortVarchar_ConfigException()
    {
        Assert.Throws<ConfigException>(() => Create(Spec("uuid"), Column(TypeCategory.Text, "character varying(20)", maxLength: 20)));
    }

    [Fact]
    public void Create_HashBase64IntoBytea_ConfigException()
    {
        var error = Assert.Throws<ConfigException>(() => Create(Spec("hash", ("encoding", "base64")), Column(TypeCategory.Bytea, "bytea")));
        Assert.Contains("hex", error.Message);
    }

    [Theory]
    [InlineData("number-noise", TypeCategory.Integer)]
    [InlineData("date-shift", TypeCategory.Date)]
    [InlineData("ip-address", TypeCategory.Inet)]
    [InlineData("constant", TypeCategory.Text)]
    [InlineData("random", TypeCategory.Integer)]
    public void Create_UniqueColumnWithCollidingTransformer_ConfigException(string name, TypeCategory category)
    {
        var spec = name == "constant" ? Spec(name, ("value", "1")) : Spec(name);
        var error = Assert.Throws<ConfigException>(() => Create(spec, Column(category, unique: true)));
        Assert.Contains("unique", error.Message);
    }

    [Theory]
    [InlineData("email")]
    [InlineData("date-shift")]
    [InlineData("credit-card")]
    [InlineData("number-noise")]
    [InlineData("uuid")]
    public void Create_UnknownCategory_NoTypeChecks(string name)
    {
        using var transformer = Create(Spec(name), Column(TypeCategory.Unknown));
        Assert.NotNull(transformer);
    }
}
