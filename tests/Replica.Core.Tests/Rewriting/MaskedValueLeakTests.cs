using System.Text;
using Replica.Config;
using Replica.Core.Tests.Transformers;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Transformers;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// Ways a value the config masks once reached the rewritten dump in clear: through another transformer, beside its
/// literal, inside a json container, or behind a way of writing it that the transformer did not see through.
/// </summary>
public class MaskedValueLeakTests
{
    const string Schema = "CREATE TABLE public.u (\n    id integer,\n    first text,\n    full_name text,\n    display text,\n    doc jsonb\n);\n\n";
    const string MySqlSchema = "CREATE TABLE `u` (\n  `id` int,\n  `first` varchar(50)\n) ENGINE=InnoDB;\n";

    static TransformerConfig Spec(string name, params (string Key, object? Value)[] options) => new(name, options.ToDictionary(o => o.Key, o => o.Value));

    static TransformerConfig Template(string template) => Spec("template", ("template", template));

    static TransformerConfig Replace(string pattern) => Spec("regex-replace", ("pattern", pattern), ("replacement", "X"));

    [Fact]
    public void Rewrite_TemplateReadsAColumnThatIsATemplate_SeesItsMaskedValueNotTheRealOne()
    {
        // display reads full_name, itself built from first: display once got full_name's real value.
        var rules = RealRules("public.u", ("display", Template("<{{full_name}}>")), ("full_name", Template("{{first}} Doe")), ("first", Spec("constant", ("value", "Ann"))));
        var copy = Passes(Schema + "COPY public.u (id, first, full_name, display, doc) FROM stdin;\n1\tJane\tJane Roe\tJR\t{}\n\\.\n", rules);
        var insert = Passes(Schema + "INSERT INTO public.u VALUES (1, 'Jane', 'Jane Roe', 'JR', '{}');\n", rules);

        Assert.Contains("1\tAnn\tAnn Doe\t<Ann Doe>\t{}\n", copy);
        Assert.Contains("VALUES (1, 'Ann', 'Ann Doe', '<Ann Doe>', '{}');", insert);
        Assert.DoesNotContain("Jane", copy + insert);
    }

    [Fact]
    public void Rewrite_TemplatesThatReadEachOther_FailNamingBothColumns()
    {
        var rules = RealRules("public.u", ("full_name", Template("{{display}}")), ("display", Template("{{full_name}}")));

        var error = Assert.Throws<ConfigException>(() =>
            Passes(Schema + "COPY public.u (id, first, full_name, display, doc) FROM stdin;\n1\tJane\tJane Roe\tJR\t{}\n\\.\n", rules));

        Assert.Contains("column display of table public.u references column 'full_name', whose transformer references column display in turn", error.Message);
        Assert.DoesNotContain("Jane", error.Message);
    }

    [Theory]
    [InlineData("'x'::text || ' Jane Secret'")]
    [InlineData("'x'::text OPERATOR(pg_catalog.||) 'Jane Secret'")]
    [InlineData("'x'::varchar(10) || 1234")]
    [InlineData("$$x$$::text || 'Jane Secret'")]
    public void Rewrite_CastLiteralWithMoreAfterIt_FailsAsAnExpression(string value)
    {
        // The transformer saw 'x' and the rest was written after the masked literal as it was.
        var error = Fails(Schema + $"INSERT INTO public.u VALUES (1, {value}, 'a', 'b', '{{}}');\n", RealRules("public.u", ("first", Spec("constant", ("value", "X")))));

        Assert.Contains("column first holds an expression, not a literal", error.Message);
    }

    [Fact]
    public void Rewrite_JsonbLiteralConcatenatedWithAnother_FailsAsAnExpression()
    {
        var error = Fails(Schema + "INSERT INTO public.u VALUES (1, 'x', 'a', 'b', '{}'::jsonb || '{\"email\": \"jane@corp.example\"}');\n",
            RealRules("public.u", ("doc", Spec("json", ("path", "$.email"), ("transformer", "email")))));

        Assert.Contains("column doc holds an expression, not a literal", error.Message);
    }

    [Fact]
    public void Rewrite_CastToALongerTypeName_StillMasked()
    {
        var output = Passes(Schema +
            "INSERT INTO public.u VALUES (1, 'Jane'::text COLLATE \"C\", 'a', 'b', '{}');\n" +
            "INSERT INTO public.u VALUES (2, 'Jane'::character varying(10)::text, 'a', 'b', '{}');\n" +
            "INSERT INTO public.u VALUES (3, 'Jane'::pg_catalog.text[], 'a', 'b', '{}');\n",
            RealRules("public.u", ("first", Spec("constant", ("value", "X")))));

        Assert.Contains("(1, 'X'::text COLLATE \"C\",", output);
        Assert.Contains("(2, 'X'::character varying(10)::text,", output);
        Assert.Contains("(3, 'X'::pg_catalog.text[],", output);
        Assert.DoesNotContain("Jane", output);
    }

    [Theory]
    [InlineData("{\"email\": [\"jane@corp.example\"]}", "an array", "$.email[*]")]
    [InlineData("{\"email\": {\"home\": \"jane@corp.example\"}}", "an object", "$.email.*")]
    public void Rewrite_JsonPathReachesAContainer_FailsInsteadOfKeepingItsStrings(string document, string what, string hint)
    {
        var dump = Schema + "COPY public.u (id, first, full_name, display, doc) FROM stdin;\n1\ta\tb\tc\t{\"email\": \"a@b.org\"}\n2\ta\tb\tc\t" + document + "\n\\.\n";

        var error = Assert.Throws<TransformerException>(() => Passes(dump, RealRules("public.u", ("doc", Spec("json", ("path", "$.email"), ("transformer", "email"))))));

        Assert.Equal(("public.u", "doc", 2L), (error.Table, error.Column, error.RowNumber));
        Assert.Contains($"path $.email reaches {what} at byte 10 of the value", error.Message);
        Assert.Contains(hint, error.Message);
        Assert.DoesNotContain("jane", error.Message);
    }

    public static TheoryData<string, string> WrittenForms() => new()
    {
        { "U&'\\006Aane'", "U&" },
        { "U&'\\+00006Aane'", "U&" },
        { "$$jane$$", "$$" },
        { "$q$jane$q$", "$q$" },
        { "E'\\152\\x61n\\u0065'", "\\" },
    };

    /// <summary>A search inside the value must see what the literal stands for: a pattern that did not match kept it in clear.</summary>
    [Theory]
    [MemberData(nameof(WrittenForms))]
    public void Rewrite_StringWithEscapesOrDollarQuotes_TransformerSeesTheDecodedValue(string literal, string form)
    {
        var output = Passes(Schema + $"INSERT INTO public.u VALUES (1, {literal}, 'a', 'b', '{{}}');\n", RealRules("public.u", ("first", Replace("^jane$"))));

        Assert.Matches(@"VALUES \(1, E?'X', 'a', 'b', '\{}'\);", output); // an E'...' stays one
        Assert.DoesNotContain(form, output[Schema.Length..]);
    }

    [Fact]
    public void Rewrite_EStringWithASurrogatePairEscape_TransformerSeesTheCodePoint()
    {
        // PostgreSQL reads E'\uD83D\uDE00' as one code point; it was decoded as "uu", so the pattern missed and the value stayed.
        var output = Passes(Schema + "INSERT INTO public.u VALUES (1, E'jane\\uD83D\\uDE00', 'a', 'b', '{}');\n",
            RealRules("public.u", ("first", Replace("^jane\U0001F600$"))));

        Assert.Contains("VALUES (1, E'X', 'a', 'b', '{}');", output);
    }

    [Fact]
    public void Rewrite_UnicodeEscapeStringInAJsonColumn_PathFound()
    {
        var output = Passes(Schema + "INSERT INTO public.u VALUES (1, 'a', 'b', 'c', U&'{\"\\0065mail\": \"jane\\0040corp.example\"}');\n",
            RealRules("public.u", ("doc", Spec("json", ("path", "$.email"), ("transformer", "email")))));

        Assert.DoesNotContain("jane", output);
        Assert.DoesNotContain("corp.example", output);
    }

    [Theory]
    [InlineData("b'01101010011000010110111001100101'")]
    [InlineData("B'1101010011000010110111001100101'")] // seven bits first: a leading zero implied
    [InlineData("0b01101010011000010110111001100101")]
    [InlineData("_binary b'01101010011000010110111001100101'")]
    public void Rewrite_MySqlBitValueLiteral_TransformerSeesItsBytes(string literal)
    {
        var output = Passes(MySqlSchema + $"INSERT INTO `u` VALUES (1,{literal});\n", RealRules("*.u", ("first", Replace("^jane$"))), SqlDialect.MySql);

        Assert.Contains("VALUES (1,", output);
        Assert.Contains("0x58);", output);
        Assert.DoesNotContain("0110", output);
    }
}
