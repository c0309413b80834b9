using System.Buffers;
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
/// A transformer that fails says where, as the lexer's errors do: table, column, row number, byte offset and line of
/// the field, in typed properties and in the message; never the value itself.
/// </summary>
public class TransformerFailureTests
{
    const string PgSchema = "CREATE TABLE public.events (\n    id integer,\n    happened date\n);\n\n";
    const string MySqlSchema = "CREATE TABLE `events` (\n  `id` int,\n  `happened` date\n) ENGINE=InnoDB;\n";

    public static TheoryData<string, string, bool, string, long> DateShiftCases() => new()
    {
        // name, dump, MySQL?, the bad field as written, its row number
        { "COPY", PgSchema + "COPY public.events (id, happened) FROM stdin;\n1\t2024-01-31\n2\t31/01/2024\n\\.\n", false, "31/01/2024", 2 },
        { "INSERT", PgSchema + "INSERT INTO public.events VALUES (1, '2024-01-31');\nINSERT INTO public.events VALUES (2, '31/01/2024');\n", false, "'31/01/2024'", 2 },
        { "column INSERT", PgSchema + "INSERT INTO public.events (id, happened) VALUES (1, '2024-01-31');\nINSERT INTO public.events (id, happened) VALUES (2, '31/01/2024'::date);\n", false, "'31/01/2024'::date", 2 },
        { "rows per INSERT", PgSchema + "INSERT INTO public.events VALUES\n\t(1, '2024-01-31'),\n\t(2, '2024-02-01'),\n\t(3, '31/01/2024');\n", false, "'31/01/2024'", 3 },
        { "MySQL extended INSERT", MySqlSchema + "INSERT INTO `events` VALUES (1,'2024-01-31'),(2,'31/01/2024');\n", true, "'31/01/2024'", 2 },
        { "MySQL complete INSERT", MySqlSchema + "INSERT INTO `events` (`id`, `happened`) VALUES (1,'2024-01-31');\nINSERT INTO `events` (`id`, `happened`) VALUES (2,_utf8mb4'31/01/2024');\n", true, "_utf8mb4'31/01/2024'", 2 },
    };

    [Theory]
    [MemberData(nameof(DateShiftCases))]
    public void Rewrite_DateShiftOnAnUnreadableValue_FailsWithTableColumnRowAndOffset(string name, string dump, bool mySql, string field, long row)
    {
        var input = Encoding.UTF8.GetBytes(dump);
        var offset = dump.IndexOf(field, StringComparison.Ordinal);
        var line = dump[..offset].Count(c => c == '\n') + 1;
        var table = mySql ? "`events`" : "public.events";

        foreach (var segment in new[] { input.Length, 1, 7 })
        {
            var error = Assert.Throws<TransformerException>(() =>
                RewriteInSegments(input, segment, RealRules("*.events", ("happened", TransformerConfig.Of("date-shift"))), mySql ? SqlDialect.MySql : SqlDialect.PostgreSql));

            Assert.True((error.Table, error.Column, error.RowNumber, error.ByteOffset, error.LineNumber) == (table, "happened", row, offset, line),
                $"{name}: {error.Message}");
            Assert.Equal(
                $"transformer failure at line {line}, byte offset {offset}, table {table}, row {row}, column happened: " +
                "date-shift expects ISO dates such as 2024-01-31 or 2024-01-31 12:00:00+00 (PostgreSQL's DateStyle ISO, as pg_dump writes them) " +
                "and got a date value in another format.",
                error.Message);
            Assert.Equal(ReplicaErrorKind.Transformer, error.Kind);
            Assert.DoesNotContain("31/01", error.Message);
        }
    }

    [Fact]
    public void Rewrite_TransformerThrowsSomethingElse_PositionedTransformerFailureWithoutItsMessage()
    {
        var dump = Encoding.UTF8.GetBytes("COPY public.t (a, b) FROM stdin;\nx\ty\nsecret\tz\n\\.\n");
        var rules = new RewriteRules(
            [new TableRule(TablePattern.Parse("public.t"), TableAction.Transform, [new ColumnRule(NamePattern.Parse("a"), TransformerConfig.Of("buggy"))])],
            [], (spec, column) => new BuggyTransformer());

        var error = Assert.Throws<TransformerException>(() => Rewrite(dump, rules));

        Assert.Equal(("public.t", "a", 2L, 37L, 3L), (error.Table, error.Column, error.RowNumber, error.ByteOffset, error.LineNumber));
        Assert.Contains("failed unexpectedly (InvalidOperationException)", error.Message);
        Assert.DoesNotContain("secret", error.Message);
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    /// <summary>A json column holds "\ud800" (a lone surrogate escape) and raw invalid UTF-8: a path elsewhere leaves them be.</summary>
    [Fact]
    public void Rewrite_JsonLoneSurrogateOrInvalidUtf8OutsideThePath_PassesThroughUntouched()
    {
        var dump = Encoding.UTF8.GetBytes("CREATE TABLE public.docs (\n    id integer,\n    doc json\n);\n\n" +
            "COPY public.docs (id, doc) FROM stdin;\n" +
            "1\t{\"\\\\ud800\": 1, \"email\": \"a@b.org\", \"note\": \"\\\\udc00x\\\\ud800\"}\n" +
            "2\t{\"bad\": \"\\377\"}\n" + // the COPY escape of the byte 0xFF
            "\\.\n" +
            "INSERT INTO public.docs VALUES (3, '{\"x\": [\"\\ud800\"], \"email\": \"e@f.org\"}');\n");
        var rules = RealRules("public.docs", ("doc", Json("email", "constant", ("value", "masked"))));

        var output = Text(Rewrite(dump, rules));

        Assert.Contains("1\t{\"\\\\ud800\": 1, \"email\": \"masked\", \"note\": \"\\\\udc00x\\\\ud800\"}\n", output);
        Assert.Contains("2\t{\"bad\": \"\\377\"}\n", output);
        Assert.Contains("VALUES (3, '{\"x\": [\"\\ud800\"], \"email\": \"masked\"}');", output);
    }

    [Theory]
    [InlineData("\\\\ud800")] // the COPY text of \ud800
    [InlineData("x\\\\udc00")]
    [InlineData("\\377\\376")] // COPY octal escapes of the bytes 0xFF 0xFE: not UTF-8
    public void Rewrite_JsonPathReachesLoneSurrogateOrInvalidUtf8_FailsPositioned(string copyText)
    {
        var head = "CREATE TABLE public.docs (\n    id integer,\n    doc json\n);\n\nCOPY public.docs (id, doc) FROM stdin;\n1\t{\"email\": \"a@b.org\"}\n";
        var dump = head + "2\t{\"id\": 2, \"email\": \"" + copyText + "\"}\n\\.\n";
        var rules = RealRules("public.docs", ("doc", Json("email", "email")));

        var error = Assert.Throws<TransformerException>(() => Rewrite(Encoding.UTF8.GetBytes(dump), rules));

        Assert.Equal(("public.docs", "doc", 2L, (long)head.Length + 2, 8L), (error.Table, error.Column, error.RowNumber, error.ByteOffset, error.LineNumber));
        Assert.Contains("path reaches a string at byte 19 of the value that is not valid UTF-8 or holds a lone surrogate escape", error.Message);
    }

    static TransformerConfig Json(string path, string inner, params (string Key, object? Value)[] innerOptions)
    {
        var options = innerOptions.ToDictionary(o => o.Key, o => o.Value);
        return new TransformerConfig("json", new Dictionary<string, object?>
        {
            ["path"] = path,
            ["transformer"] = new Dictionary<string, object?> { ["transformer"] = inner, ["options"] = options },
        });
    }

    sealed class BuggyTransformer : Transformer
    {
        public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output) =>
            value.SequenceEqual("secret"u8) ? throw new InvalidOperationException("value was secret") : TransformResult.Unchanged;
    }
}
