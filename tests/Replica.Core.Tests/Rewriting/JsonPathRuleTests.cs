using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Replica.Core.Tests.Config;
using Replica.Pipeline;
using Replica.Rewriting;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// A json path that no document of the dump has is a rule that matched nothing (a typo, $.contact.emial, left the
/// e-mail in clear with exit 0 and counted every document as transformed): it fails the dump, or warns with
/// unmatched_rules: warn, or passes with optional: true, like a rule for a column the table does not have.
/// </summary>
public sealed class JsonPathRuleTests
{
    const string Header = """
        secret: ${REPLICA_SECRET}

        """;

    static string Dump(int rows, bool nulls = false)
    {
        var text = new StringBuilder("""
            CREATE TABLE public.users (
                id integer NOT NULL,
                metadata jsonb
            );

            COPY public.users (id, metadata) FROM stdin;

            """);
        for (var i = 1; i <= rows; i++)
        {
            text.Append(i).Append('\t')
                .Append(nulls ? "\\N" : $"{{\"contact\": {{\"email\": \"jane{i}@real.example\", \"phone\": \"+1 555 0{i:D3}\"}}}}")
                .Append('\n');
        }
        return text.Append("\\.\n\n").ToString();
    }

    static RewriteRules RulesOf(string yaml) => DumpRequest.BuildRules(ConfigTestHelpers.Parse(Header + yaml));

    static string Rule(string paths, string extra = "") => $$"""
        {{extra}}transformers:
          - table: public.users
            columns:
              metadata: { transformer: json, options: { paths: { {{paths}} } } }
        """;

    static (string Output, IReadOnlyList<string> Warnings, RewriteStatistics Statistics) Run(RewriteRules rules, string dump)
    {
        using var rewriter = new DumpRewriter(rules);
        var output = new ArrayBufferWriter<byte>();
        rewriter.Process(Encoding.UTF8.GetBytes(dump), output);
        rewriter.Complete(output);
        return (Encoding.UTF8.GetString(output.WrittenSpan), rewriter.Warnings, rewriter.Statistics);
    }

    [Theory]
    [InlineData("$.contact.emial: email, $.contcat.phone: phone-number", "$.contact.emial")]
    [InlineData("$.contact.Email: email, $.contact.phone: phone-number", "$.contact.Email")]
    [InlineData("$.contact.email: email, contcat.phone: phone-number", "contcat.phone")]
    public void Rewrite_JsonPathInNoDocument_FailsNamingThePathAndTheRule(string paths, string missing)
    {
        var rules = RulesOf(Rule(paths));

        var e = Assert.Throws<ConfigException>(() => Run(rules, Dump(3)));

        Assert.Contains("nothing was stored", e.Message);
        Assert.Contains($"replica.yaml:5:7: the json path {missing} of the rule for column metadata of table public.users matches no string, number or null "
            + "in any of the 3 documents of this dump", e.Message);
        Assert.Contains("optional: true", e.Message);
    }

    [Fact]
    public void Rewrite_JsonPathInNoDocumentWithUnmatchedRulesWarn_CompletesWarningAndCountsOnlyMatchedValues()
    {
        var rules = RulesOf(Rule("$.contact.emial: email, $.contact.phone: phone-number", "unmatched_rules: warn\n"));

        var (output, warnings, statistics) = Run(rules, Dump(3));

        var warning = Assert.Single(warnings);
        Assert.StartsWith("replica.yaml:6:7: the json path $.contact.emial of the rule for column metadata", warning, StringComparison.Ordinal);
        Assert.EndsWith("; it masked nothing", warning, StringComparison.Ordinal);
        Assert.Contains("jane1@real.example", output); // warned about, as asked
        Assert.DoesNotContain("+1 555 0001", output);
        Assert.Equal(3, statistics.TransformedValues);
    }

    [Fact]
    public void Rewrite_OptionalRuleWithJsonPathInNoDocument_PassesWithoutWarning()
    {
        var rules = RulesOf("""
            transformers:
              - table: public.users
                optional: true
                columns:
                  metadata: { transformer: json, options: { path: $.legacy.ssn, transformer: redact } }
            """);

        var (_, warnings, statistics) = Run(rules, Dump(2));

        Assert.Empty(warnings);
        Assert.Equal(0, statistics.TransformedValues);
    }

    [Fact]
    public void Rewrite_JsonPathsInSomeDocuments_PassesAndCountsOnlyDocumentsWithAPath()
    {
        var rules = RulesOf(Rule("$.contact.email: email, $.contact.phone: phone-number"));
        var dump = Dump(2).Replace("\\.\n", "3\t{\"other\": 1}\n\\.\n", StringComparison.Ordinal);

        var (output, warnings, statistics) = Run(rules, dump);

        Assert.Empty(warnings);
        Assert.DoesNotContain("real.example", output);
        Assert.Contains("{\"other\": 1}", output);
        Assert.Equal(2, statistics.TransformedValues);
    }

    /// <summary>
    /// A column of NULLs, or a table without rows, has no document to find a path in: not an error, as a column rule on
    /// an empty table is not.
    /// </summary>
    [Theory]
    [InlineData(0, false)]
    [InlineData(3, true)]
    public void Rewrite_JsonPathOfAColumnWithoutDocuments_Passes(int rows, bool nulls)
    {
        var rules = RulesOf(Rule("$.contact.emial: email"));

        var (_, warnings, _) = Run(rules, Dump(rows, nulls));

        Assert.Empty(warnings);
    }

    [Fact]
    public void Rewrite_JsonPathFoundInAnotherTableOfAWildcardRule_Passes()
    {
        var rules = RulesOf("""
            transformers:
              - table: '*.users'
                columns:
                  metadata: { transformer: json, options: { path: $.contact.email, transformer: email } }
            """);
        var dump = Dump(2) + Dump(2).Replace("public.users", "archive.users", StringComparison.Ordinal)
            .Replace("\"email\"", "\"mail\"", StringComparison.Ordinal);

        var (output, warnings, statistics) = Run(rules, dump);

        Assert.Empty(warnings);
        Assert.DoesNotContain("\"email\": \"jane", output);
        Assert.Equal(2, statistics.TransformedValues);
    }

    /// <summary>
    /// With masking lanes the documents are searched on the lanes, after the lexer has read the end of the input: the
    /// check waits for them, so a path found only by a lane passes and a path found by none fails.
    /// </summary>
    [Theory]
    [InlineData("$.contact.email: email", true)]
    [InlineData("$.contact.emial: email", false)]
    public async Task RunAsync_JsonPathsSearchedOnMaskingLanes_AreCheckedOnceEveryLaneIsDone(string paths, bool passes)
    {
        var rules = RulesOf(Rule(paths));
        var input = Encoding.UTF8.GetBytes(Dump(5000));
        using var rewriter = new DumpRewriter(rules);
        var inputPipe = new Pipe();
        var outputPipe = new Pipe();
        var feeding = Task.Run(async () =>
        {
            await inputPipe.Writer.WriteAsync(input);
            await inputPipe.Writer.CompleteAsync();
        });
        var collecting = Task.Run(async () =>
        {
            using var collected = new MemoryStream();
            await outputPipe.Reader.CopyToAsync(collected);
            return collected.Length;
        });

        var run = Record.ExceptionAsync(() => rewriter.RunAsync(inputPipe.Reader, outputPipe.Writer, maskingLanes: 3));
        var error = await run;
        await outputPipe.Writer.CompleteAsync();
        await inputPipe.Reader.CompleteAsync();
        await feeding;
        await collecting;

        if (passes)
        {
            Assert.Null(error);
            Assert.Equal(5000, rewriter.Statistics.TransformedValues);
        }
        else
        {
            var e = Assert.IsType<ConfigException>(error);
            Assert.Contains("the json path $.contact.emial", e.Message);
            Assert.Contains("any of the 5000 documents", e.Message);
        }
    }
}
