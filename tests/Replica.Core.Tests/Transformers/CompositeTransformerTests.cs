using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

public class CompositeTransformerTests
{
    [Fact]
    public void Template_ReferencesAndFilters_BuildsValueFromRow()
    {
        using var transformer = Create("template", ("template", "{{first_name|lower}}.{{ last_name | upper }}@example.com ({{first_name}})"));
        Assert.Equal(["first_name", "last_name"], transformer.ReferencedColumns);
        var row = new FakeRowContext(transformer, new() { ["first_name"] = "Émile", ["last_name"] = "Zola" });
        Assert.Equal("émile.ZOLA@example.com (Émile)", transformer.Apply("old@corp.example", row));
    }

    [Fact]
    public void Template_NullReference_ReadsEmpty()
    {
        using var transformer = Create("template", ("template", "[{{a}}]"));
        var row = new FakeRowContext(transformer, new() { ["a"] = null });
        Assert.Equal("[]", transformer.Apply("x", row));
        Assert.Null(transformer.Apply(null, row));
    }

    [Fact]
    public void Template_StrayClosingBraces_ConfigException()
    {
        var error = Assert.Throws<ConfigException>(() => Create("template", ("template", "{first}}")));
        Assert.Contains("option 'template'", error.Message);
    }

    [Fact]
    public void Json_DollarPath_ReplacesOnlyThatStringKeepingLayout()
    {
        using var transformer = Create(Spec("json", ("path", "$.contact.email"), ("transformer", "email")), Column(TypeCategory.Json, "jsonb"));
        const string input = """{"name": "Ann", "contact": {"email": "ann@corp.example", "phone": "1"}, "n": 1.50}""";
        var output = transformer.Apply(input)!;
        Assert.Matches("""^\{"name": "Ann", "contact": \{"email": "[a-z0-9._]+@example\.(com|org|net)", "phone": "1"\}, "n": 1\.50\}$""", output);

        using var email = Create("email");
        Assert.Contains(email.Apply("ann@corp.example")!, output); // same fake as the column-level transformer
    }

    [Fact]
    public void Json_Paths_MaskEveryPlaceKeepingTheRest()
    {
        var paths = new Dictionary<string, object?> { ["$.contact.email"] = "email", ["$.contact.phone"] = "redact" };
        using var transformer = Create(Spec("json", ("paths", paths)), Column(TypeCategory.Json, "jsonb"));
        const string input = """{"name": "Ann", "contact": {"email": "ann@corp.example", "phone": "+358 9 555 0123"}, "n": 1.50}""";

        var output = transformer.Apply(input)!;

        Assert.Matches("""^\{"name": "Ann", "contact": \{"email": "[a-z0-9._]+@example\.(com|org|net)", "phone": "\*+"\}, "n": 1\.50\}$""", output);
        using var email = Create("email");
        Assert.Contains(email.Apply("ann@corp.example")!, output); // each place gets what its own transformer gives
        // A place missing or null in a document is left alone; a document with none of them is unchanged.
        Assert.Matches("""^\{"contact": \{"email": "[a-z0-9._]+@example\.(com|org|net)", "phone": null\}\}$""",
            transformer.Apply("""{"contact": {"email": "bo@corp.example", "phone": null}}""")!);
        Assert.Equal(TransformResult.Unchanged, transformer.ApplyRaw("""{"tags": []}"""u8.ToArray()).Result);
    }

    [Fact]
    public void Json_PathsWithTemplates_EachPlaceReadsItsOwnColumns()
    {
        static Dictionary<string, object?> Template(string text) =>
            new() { ["transformer"] = "template", ["options"] = new Dictionary<string, object?> { ["template"] = text } };
        var paths = new Dictionary<string, object?> { ["$.a"] = Template("{{x}}"), ["$.b"] = Template("{{y}}-{{x}}") };
        using var transformer = Create(Spec("json", ("paths", paths)), Column(TypeCategory.Json, "jsonb"));
        var row = new FakeRowContext(transformer, new() { ["x"] = "X", ["y"] = "Y" });

        // The row serves the columns by their index in the json transformer's list (x, y), not in each place's own.
        Assert.Equal("""{"a": "X", "b": "Y-X"}""", transformer.Apply("""{"a": "1", "b": "2"}""", row));
    }

    [Fact]
    public void Json_PathsWithPathOrEmpty_IsAnOptionError()
    {
        var paths = new Dictionary<string, object?> { ["$.a"] = "email" };
        var both = Assert.Throws<ConfigException>(() => Create(Spec("json", ("paths", paths), ("path", "$.b"), ("transformer", "email"))));
        Assert.Contains("paths", both.Message);
        var empty = Assert.Throws<ConfigException>(() => Create(Spec("json", ("paths", new Dictionary<string, object?>()))));
        Assert.Contains("is empty", empty.Message);
        var unknown = Assert.Throws<ConfigException>(() => Create(Spec("json", ("paths", new Dictionary<string, object?> { ["$.a"] = "no-such" }))));
        Assert.Contains("unknown transformer 'no-such'", unknown.Message);
    }

    [Fact]
    public void Json_PathAbsentOrBoolean_Unchanged()
    {
        using var transformer = Create(Spec("json", ("path", "contact.email"), ("transformer", "redact")), Column(TypeCategory.Json, "json"));
        Assert.Equal(TransformResult.Unchanged, transformer.ApplyRaw("""{"contact": {"phone": "1"}}"""u8.ToArray()).Result);
        Assert.Equal(TransformResult.Unchanged, transformer.ApplyRaw("""{"contact": {"email": true}}"""u8.ToArray()).Result);
        Assert.Equal(TransformResult.Unchanged, transformer.ApplyRaw("[1, 2]"u8.ToArray()).Result);
    }

    [Fact]
    public void Json_PathEndsAtObjectOrArray_FailsRatherThanKeepingItsStrings()
    {
        using var transformer = Create(Spec("json", ("path", "contact.email"), ("transformer", "redact")), Column(TypeCategory.Json, "json"));
        var inObject = Assert.Throws<TransformerException>(() => transformer.ApplyRaw("""{"contact": {"email": {"x": "a@b.org"}}}"""u8.ToArray()));
        var inArray = Assert.Throws<TransformerException>(() => transformer.ApplyRaw("""{"contact": {"email": ["a@b.org"]}}"""u8.ToArray()));

        Assert.Contains("path contact.email reaches an object at byte 22 of the value", inObject.Message);
        Assert.Contains("path contact.email reaches an array at byte 22 of the value", inArray.Message);
        Assert.DoesNotContain("a@b", inObject.Message + inArray.Message);
    }

    [Fact]
    public void Json_ArrayIndexAndWildcard_MatchElements()
    {
        var nested = new Dictionary<string, object?> { ["transformer"] = "redact", ["options"] = new Dictionary<string, object?> { ["keep"] = "1" } };
        using var first = Create(Spec("json", ("path", "items[0].name"), ("transformer", nested)));
        Assert.Equal("""{"items":[{"name":"A**"},{"name":"Bob"}]}""", first.Apply("""{"items":[{"name":"Ann"},{"name":"Bob"}]}"""));

        using var all = Create(Spec("json", ("path", "$.items[*].name"), ("transformer", nested)));
        Assert.Equal("""{"items":[{"name":"A**"},{"name":"B**"}]}""", all.Apply("""{"items":[{"name":"Ann"},{"name":"Bob"}]}"""));
    }

    [Fact]
    public void Json_EscapedStringsAndNumbers_HandledBothWays()
    {
        using var upper = Create(Spec("json", ("path", "a"), ("transformer", new Dictionary<string, object?>
        {
            ["transformer"] = "regex-replace",
            ["options"] = new Dictionary<string, object?> { ["pattern"] = "x", ["replacement"] = "\"\n" },
        })));
        // The inner transformer sees the unescaped text and its output is escaped again.
        Assert.Equal("""{"a":"\"\n\u00e9"}""".Replace("\\u00e9", "é"), upper.Apply("""{"a":"x\u00e9"}"""));

        using var noise = Create(Spec("json", ("path", "price"), ("transformer", "number-noise")));
        var output = noise.Apply("""{"price": 100}""")!;
        Assert.Matches("""^\{"price": \d+\}$""", output);
    }

    [Fact]
    public void Json_InvalidDocument_TransformerExceptionWithoutTheValue()
    {
        using var transformer = Create(Spec("json", ("path", "a"), ("transformer", "email")), Column(TypeCategory.Json, "jsonb"));
        var error = Assert.Throws<TransformerException>(() => transformer.Apply("""{"a": "secret@x.org",""" ));
        Assert.Contains("not valid JSON (near byte 20 of line 1 of the value)", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public void Json_NullAtPath_InnerDecides()
    {
        using var constant = Create(Spec("json", ("path", "a"), ("transformer", new Dictionary<string, object?>
        {
            ["transformer"] = "constant",
            ["options"] = new Dictionary<string, object?> { ["value"] = "x" },
        })));
        Assert.Equal("""{"a":"x"}""", constant.Apply("""{"a":null}"""));
    }
}
