using System.Text;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// pg_dump 18 writes column statistics (--with-statistics, --statistics-only) whose most_common_vals and histogram_bounds
/// are samples of the real values: they went through unchanged while the rows were masked (review finding 7).
/// </summary>
public class StatisticsTests
{
    // pg_dump 18's format (dumpRelationStats, dumpAttributeStats in src/bin/pg_dump/pg_dump.c).
    const string Schema = "CREATE TABLE public.customers (\n    id integer NOT NULL,\n    email text\n);\n\nCOPY public.customers (id, email) FROM stdin;\n2\treal-2@example.com\n\\.\n\n";
    const string Statistics = """
        --
        -- Name: STATISTICS DATA customers; Type: STATISTICS DATA; Schema: public; Owner: -
        --

        SELECT * FROM pg_catalog.pg_restore_relation_stats(
        	'version', '180000'::integer,
        	'schemaname', 'public',
        	'relname', 'customers',
        	'relpages', '1'::integer,
        	'reltuples', '3'::real,
        	'relallvisible', '0'::integer,
        	'relallfrozen', '0'::integer
        );
        SELECT * FROM pg_catalog.pg_restore_attribute_stats(
        	'version', '180000'::integer,
        	'schemaname', 'public',
        	'relname', 'customers_lower_idx',
        	'attnum', '1'::smallint,
        	'inherited', 'f'::boolean,
        	'null_frac', '0'::real,
        	'avg_width', '19'::integer,
        	'n_distinct', '-1'::real,
        	'histogram_bounds', '{a@example.com,real-2@example.com,real-3@example.com}'::text,
        	'correlation', '1'::real
        );

        """;

    [Fact]
    public void Rewrite_StatisticsCalls_AreLeftOutKeepingTheirLines()
    {
        var dump = Schema + Statistics + "SELECT 1;\n";

        var output = Text(Rewrite(Encoding.UTF8.GetBytes(dump), Rules("public.customers.email=upper")));

        Assert.DoesNotContain("real-", output, StringComparison.Ordinal);
        Assert.DoesNotContain("pg_restore_", output, StringComparison.Ordinal);
        Assert.Equal(dump.Count(c => c == '\n'), output.Count(c => c == '\n'));
        Assert.EndsWith("\nSELECT 1;\n", output, StringComparison.Ordinal);
        var lines = output.Split('\n');
        Assert.Equal("SELECT 1;", lines[dump.Split('\n').ToList().IndexOf("SELECT 1;")]);
    }

    [Fact]
    public void Rewrite_StatisticsWithoutRules_PassThrough()
    {
        var dump = Schema + Statistics;
        Assert.Equal(dump, Text(Rewrite(Encoding.UTF8.GetBytes(dump))));
    }

    [Theory]
    [InlineData("SELECT pg_catalog.pg_restore_attribute_stats('relname', 'customers', 'most_common_vals', '{real}'::text);")]
    [InlineData("SELECT * FROM pg_catalog.pg_restore_attribute_stats('relname', 'customers') UNION ALL SELECT true;")]
    [InlineData("SELECT 1, \"pg_restore_attribute_stats\"('relname', 'customers');")]
    public void Rewrite_StatisticsCallInAnotherShape_IsRefused(string statement)
    {
        var dump = Schema + statement + "\n";
        var bytes = Encoding.UTF8.GetBytes(dump);
        var rules = Rules("public.customers.email=upper");

        var e = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules));
        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(e.Message, Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, [split])).Message);
        }
        Assert.Equal(Schema.Length + statement.IndexOf("pg_restore_", StringComparison.Ordinal) - (statement.Contains('"', StringComparison.Ordinal) ? 1 : 0), e.ByteOffset);
        Assert.Contains("refused: a call of a pg_restore_..._stats function inside another statement", e.Message, StringComparison.Ordinal);
    }
}
