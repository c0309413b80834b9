using Replica.Transformers;
using YamlDotNet.Serialization;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

public class ValidateTests
{
    static ConfigException Invalid(TransformerSpec spec) =>
        Assert.Throws<ConfigException>(() => TransformerRegistry.Validate(spec, Env));

    [Fact]
    public void Validate_UnknownTransformer_NamesItAndListsKnown()
    {
        var error = Invalid(Spec("frist-name"));
        Assert.StartsWith("replica.yaml:3:7: ", error.Message);
        Assert.Contains("'frist-name'", error.Message);
        Assert.Contains("first-name", error.Message);
    }

    [Fact]
    public void Validate_UnknownOption_NamesOptionAndAccepted()
    {
        var error = Invalid(Spec("redact", ("kep", "2")));
        Assert.Contains("'redact'", error.Message);
        Assert.Contains("'kep'", error.Message);
        Assert.Contains("keep, character, width", error.Message);
    }

    [Theory]
    [InlineData("redact", "keep", "-1", "from 0")]
    [InlineData("redact", "character", "**", "one character")]
    [InlineData("hash", "encoding", "base32", "hex, base64")]
    [InlineData("hash", "length", "0", "from 1 to 64")]
    [InlineData("date-shift", "days", "soon", "whole number")]
    [InlineData("number-noise", "percent", "150", "at most 100")]
    [InlineData("regex-replace", "pattern", "(unclosed", "not a valid")]
    [InlineData("template", "template", "{{first_name", "without a closing")]
    [InlineData("template", "template", "{{first_name|title}}", "unknown filter 'title'")]
    [InlineData("template", "template", "{{ }}", "without a column name")]
    [InlineData("first-name", "locale", "xx_YY", "known locales")]
    [InlineData("credit-card", "prefix", "4a", "1 to 6 digits")]
    [InlineData("constant", "value", "null", "'null' transformer")]
    [InlineData("json", "path", "a..b", "empty name")]
    [InlineData("custom", "command", "no-such-command-xyz --flag", "not found on PATH")]
    public void Validate_BadOptionValue_NamesOptionAndWhatIsAccepted(string name, string option, string value, string expected)
    {
        var options = new List<(string, object?)> { (option, value) };
        if (name == "regex-replace" && option != "pattern")
        {
            options.Add(("pattern", "x"));
        }

        if (name == "json")
        {
            options.Add(("transformer", "email"));
        }

        var error = Invalid(Spec(name, [.. options]));
        Assert.Contains($"'{name}'", error.Message);
        Assert.Contains($"option '{option}'", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Validate_MissingRequiredOption_SaysRequired()
    {
        Assert.Contains("option 'pattern' is required", Invalid(Spec("regex-replace")).Message);
        Assert.Contains("option 'value' is required", Invalid(Spec("constant")).Message);
        Assert.Contains("option 'command' is required", Invalid(Spec("custom")).Message);
    }

    [Fact]
    public void Validate_ConstantYamlNull_PointsToNullTransformer()
    {
        Assert.Contains("'null' transformer", Invalid(Spec("constant", ("value", null))).Message);
    }

    [Fact]
    public void Validate_JsonNestedBadSpec_Fails()
    {
        Assert.Contains("unknown transformer 'nope'", Invalid(Spec("json", ("path", "a"), ("transformer", "nope"))).Message);
        var nested = new Dictionary<string, object?> { ["transformer"] = "redact", ["options"] = new Dictionary<string, object?> { ["keep"] = "x" } };
        Assert.Contains("option 'keep'", Invalid(Spec("json", ("path", "a"), ("transformer", nested))).Message);
    }

    [Fact]
    public void Validate_NameInOtherCaseOrUnderscores_Accepted()
    {
        TransformerRegistry.Validate(Spec("Keep_First_Char"), Env);
        Assert.True(TransformerRegistry.IsKnown("FIRST_NAME"));
        Assert.False(TransformerRegistry.IsKnown("firstname"));
    }

    [Fact]
    public void All_EveryDescriptor_HasTextAndAValidYamlExample()
    {
        var names = TransformerRegistry.All.Select(d => d.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(26, names.Count);
        var yaml = new DeserializerBuilder().Build();
        foreach (var descriptor in TransformerRegistry.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(descriptor.Description));
            Assert.True(TransformerRegistry.IsKnown(descriptor.Name));
            var example = yaml.Deserialize<Dictionary<string, object?>>(descriptor.Example);
            Assert.Equal(descriptor.Name, example["transformer"]);
            var options = new Dictionary<string, object?>();
            if (example.TryGetValue("options", out var raw) && raw is Dictionary<object, object?> map)
            {
                foreach (var (key, value) in map)
                {
                    options[(string)key] = value;
                }
            }

            TransformerRegistry.Validate(new TransformerSpec(descriptor.Name, options) { Location = new(descriptor.Name, 1, 1) }, Env);
        }
    }
}
