using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Replica.Core.Tests.Rewriting;
using Replica.Lexing;
using Replica.Rewriting;
using Replica.Sources;

namespace Replica.Core.Tests.Sources;

public sealed class SyntheticDumpTests
{
    static readonly int[] s_bufferSizes = [1, 7, 4096, 80 << 10, 1 << 20];

    public static TheoryData<SqlDialect, SyntheticFormat> Variants => new()
    {
        { SqlDialect.PostgreSql, SyntheticFormat.Copy },
        { SqlDialect.PostgreSql, SyntheticFormat.Inserts },
        { SqlDialect.MySql, SyntheticFormat.Inserts },
    };

    static SyntheticOptions Options(long size, SqlDialect dialect, SyntheticFormat format, ulong seed = 1) =>
        new(size) { Dialect = dialect, Format = format, Seed = seed };

    static byte[] ReadAll(SyntheticOptions options, int bufferSize = 1 << 20)
    {
        using var stream = new SyntheticDumpStream(options);
        using var output = new MemoryStream();
        var buffer = new byte[bufferSize];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            output.Write(buffer, 0, read);
        }
        Assert.Equal(0, stream.Read(buffer, 0, buffer.Length));
        return output.ToArray();
    }

    static long CountBytes(SyntheticOptions options)
    {
        using var stream = new SyntheticDumpStream(options);
        var buffer = new byte[1 << 20];
        long total = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            total += read;
        }
        return total;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Read_AnyBufferSize_GivesTheSameBytes(SqlDialect dialect, SyntheticFormat format)
    {
        var options = Options(3 << 20, dialect, format);
        var expected = SHA256.HashData(ReadAll(options));
        foreach (var size in s_bufferSizes)
        {
            Assert.Equal(expected, SHA256.HashData(ReadAll(options, size)));
        }
    }

    [Fact]
    public async Task ReadAsync_MixedBufferSizes_GivesTheSameBytesAsRead()
    {
        var options = Options(2 << 20, SqlDialect.PostgreSql, SyntheticFormat.Copy);
        var expected = ReadAll(options);
        await using var stream = new SyntheticDumpStream(options);
        using var output = new MemoryStream();
        var buffer = new byte[200 << 10];
        var sizes = new[] { 3, 100_000, 5, 1 << 16, 70_000, 1 };
        for (var i = 0; ; i++)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(0, sizes[i % sizes.Length]));
            if (read == 0)
            {
                break;
            }
            output.Write(buffer, 0, read);
        }
        Assert.Equal(expected, output.ToArray());
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Open_DifferentSeeds_GiveDifferentDumps(SqlDialect dialect, SyntheticFormat format)
    {
        var one = ReadAll(Options(1 << 20, dialect, format, seed: 1));
        var two = ReadAll(Options(1 << 20, dialect, format, seed: 2));
        Assert.NotEqual(SHA256.HashData(one), SHA256.HashData(two));
        Assert.Equal(SHA256.HashData(one), SHA256.HashData(ReadAll(Options(1 << 20, dialect, format, seed: 1))));
    }

    [Theory]
    [InlineData(SqlDialect.PostgreSql, SyntheticFormat.Copy, 10)]
    [InlineData(SqlDialect.PostgreSql, SyntheticFormat.Copy, 50)]
    [InlineData(SqlDialect.PostgreSql, SyntheticFormat.Inserts, 10)]
    [InlineData(SqlDialect.PostgreSql, SyntheticFormat.Inserts, 50)]
    [InlineData(SqlDialect.MySql, SyntheticFormat.Inserts, 10)]
    [InlineData(SqlDialect.MySql, SyntheticFormat.Inserts, 50)]
    public void Size_TensOfMebibytes_LandsWithinTwoPercent(SqlDialect dialect, SyntheticFormat format, int mebibytes)
    {
        var target = (long)mebibytes << 20;
        var actual = CountBytes(Options(target, dialect, format));
        Assert.InRange(actual, target * 0.98, target * 1.02);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Open_TinySize_GivesACompleteDumpWithRowsInEveryTable(SqlDialect dialect, SyntheticFormat format)
    {
        var options = Options(1024, dialect, format);
        var dump = ReadAll(options, 100);
        using var stream = new SyntheticDumpStream(options);
        var counts = stream.Counts;
        Assert.True(counts.Customers >= 1 && counts.Products >= 1 && counts.Orders >= 1 && counts.OrderItems >= 1 && counts.Payments >= 1);
        var text = Encoding.UTF8.GetString(dump);
        Assert.EndsWith(dialect == SqlDialect.MySql ? "-- Dump completed on 2026-12-03 12:00:00\n" : "-- PostgreSQL database dump complete\n--\n\n", text);
        AssertRewriterCounts(dump, dialect, counts);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Counts_MatchTheRowsTheRewriterSees_AndPassThroughIsByteIdentical(SqlDialect dialect, SyntheticFormat format)
    {
        var options = Options(3 << 20, dialect, format, seed: 7);
        using var stream = new SyntheticDumpStream(options);
        var dump = ReadAll(options);
        AssertRewriterCounts(dump, dialect, stream.Counts);
    }

    /// <summary>
    /// The rewriter without rules passes every byte through (and counts COPY rows without reading them); with an
    /// identity transformer on every column it reads every INSERT row too, so its per-table counts are the dump's.
    /// </summary>
    static void AssertRewriterCounts(byte[] dump, SqlDialect dialect, SyntheticCounts counts)
    {
        var (output, _) = Rewrite(dump, dialect, RewriteRules.None);
        Assert.True(dump.AsSpan().SequenceEqual(output), "the rewriter without rules must pass every byte through");
        var (_, rows) = Rewrite(dump, dialect, RewriteHarness.Rules(dialect == SqlDialect.MySql ? "*.*=same" : "public.*.*=same"));
        Assert.Equal(counts.Customers, rows["customers"]);
        Assert.Equal(counts.Products, rows["products"]);
        Assert.Equal(counts.Orders, rows["orders"]);
        Assert.Equal(counts.OrderItems, rows["order_items"]);
        Assert.Equal(counts.Payments, rows["payments"]);
        Assert.Equal(counts.Rows, rows.Values.Sum());
        Assert.Equal(counts.Customers * 10, counts.OrderItems);
        Assert.Equal(counts.Orders, counts.Payments);
    }

    static (byte[] Output, Dictionary<string, long> Rows) Rewrite(byte[] dump, SqlDialect dialect, RewriteRules rules)
    {
        using var rewriter = new DumpRewriter(rules, dialect: dialect);
        var output = new ArrayBufferWriter<byte>();
        for (var i = 0; i < dump.Length; i += 1 << 16)
        {
            rewriter.Process(dump.AsSpan(i, Math.Min(1 << 16, dump.Length - i)), output);
        }
        rewriter.Complete(output);
        var rows = rewriter.Tables.ToDictionary(t => t.Name.Table, t => t.Rows);
        Assert.Equal(rows.Values.Sum(), rewriter.Statistics.Rows);
        return (output.WrittenSpan.ToArray(), rows);
    }

    [Fact]
    public void Open_OneTebibyte_StreamsFromTheStartWithBoundedMemory()
    {
        using var stream = new SyntheticDumpStream(Options(1L << 40, SqlDialect.PostgreSql, SyntheticFormat.Copy));
        var counts = stream.Counts;
        Assert.InRange(counts.Customers, (1L << 40) / 2000, (1L << 40) / 1000);
        Assert.Equal(10_000, counts.Products);
        var buffer = new byte[1 << 20];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 16; i++)
        {
            Assert.True(stream.Read(buffer) > 0);
        }
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 10, "reading allocates nothing per row");
    }

    [Fact]
    public void Open_MySqlCopy_ThrowsArgumentException()
    {
        var e = Assert.Throws<ArgumentException>(() => new SyntheticDumpStream(Options(1 << 20, SqlDialect.MySql, SyntheticFormat.Copy)));
        Assert.Contains("Inserts", e.Message, StringComparison.Ordinal);
        var source = new SyntheticSource(Options(1 << 20, SqlDialect.MySql, SyntheticFormat.Copy));
        Assert.Throws<ArgumentException>(source.Open);
    }

    [Fact]
    public void Source_DescribesItself()
    {
        var source = new SyntheticSource(Options(10L << 30, SqlDialect.PostgreSql, SyntheticFormat.Copy));
        Assert.Equal("synthetic shop dump (10.00 GiB, PostgreSql COPY, seed 1)", source.Description);
        Assert.Equal(10L << 30, source.Length);
    }

    [Fact]
    public void Copy_HoldsEveryValueClass()
    {
        var text = Encoding.UTF8.GetString(ReadAll(Options(2 << 20, SqlDialect.PostgreSql, SyntheticFormat.Copy)));
        Assert.Contains("\t\\N\t", text, StringComparison.Ordinal);             // NULL
        Assert.Contains("ring twice\\tthen wait", text, StringComparison.Ordinal); // escaped tab
        Assert.Contains("Gate code 4711\\nCall on arrival", text, StringComparison.Ordinal); // escaped newline
        Assert.Contains("C:\\\\orders\\\\new", text, StringComparison.Ordinal); // escaped backslash
        Assert.Contains("\\r\\n", text, StringComparison.Ordinal);
        Assert.Contains("It's a gift", text, StringComparison.Ordinal);
        Assert.Contains("Zoë", text, StringComparison.Ordinal);
        Assert.Contains("東京", text, StringComparison.Ordinal);
        Assert.Contains("O'Brien", text, StringComparison.Ordinal);
        Assert.Matches("\\{\"contact\": \\{\"email\": \"[a-z]+\\.[a-z]+[0-9]+@[a-z.]+\", \"phone\": \"\\+[0-9 ]+\"\\}, \"tier\": \"[a-z]+\", \"tags\": \\[\"[a-z0-9-]+\", \"[a-z0-9-]+\"\\]\\}", text);
        Assert.Matches("\tDE[0-9]{20}\t", text);
        Assert.Contains("Assembly required.\\nCare", text, StringComparison.Ordinal); // multi-line description
        // Every line of a COPY block has the table's column count.
        var inCopy = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("COPY ", StringComparison.Ordinal))
            {
                inCopy = line.Split(',').Length;
            }
            else if (line == "\\.")
            {
                inCopy = 0;
            }
            else if (inCopy > 0)
            {
                Assert.Equal(inCopy, line.Split('\t').Length);
            }
        }
    }

    [Fact]
    public void Inserts_QuoteAndEscapeAsEachDialectDoes()
    {
        var postgres = Encoding.UTF8.GetString(ReadAll(Options(2 << 20, SqlDialect.PostgreSql, SyntheticFormat.Inserts)));
        Assert.Contains("'O''Brien'", postgres, StringComparison.Ordinal);
        Assert.Contains("'Gate code 4711\nCall on arrival'", postgres, StringComparison.Ordinal);
        Assert.Contains(", NULL", postgres, StringComparison.Ordinal);
        Assert.Contains("INSERT INTO public.customers VALUES (1, '", postgres, StringComparison.Ordinal);
        Assert.DoesNotContain("\\restrict", postgres, StringComparison.Ordinal);
        Assert.DoesNotContain("OWNER TO", postgres, StringComparison.Ordinal);

        var mySql = Encoding.UTF8.GetString(ReadAll(Options(2 << 20, SqlDialect.MySql, SyntheticFormat.Inserts)));
        Assert.Contains("'O\\'Brien'", mySql, StringComparison.Ordinal);
        Assert.Contains("Gate code 4711\\nCall on arrival", mySql, StringComparison.Ordinal);
        Assert.Contains("C:\\\\orders\\\\new", mySql, StringComparison.Ordinal);
        Assert.Contains("{\\\"contact\\\": {\\\"email\\\": \\\"", mySql, StringComparison.Ordinal);
        Assert.Contains(",NULL", mySql, StringComparison.Ordinal);
        Assert.Contains("INSERT INTO `customers` VALUES (1,'", mySql, StringComparison.Ordinal);
        foreach (var statement in mySql.Split("\nINSERT INTO ", StringSplitOptions.None).Skip(1))
        {
            Assert.True(statement.IndexOf(";\n", StringComparison.Ordinal) < SyntheticGenerator.MySqlStatementBytes);
        }
    }

    [Fact]
    public void CardNumbers_AreLuhnValid_AndIbansPassMod97()
    {
        var text = Encoding.UTF8.GetString(ReadAll(Options(1 << 20, SqlDialect.PostgreSql, SyntheticFormat.Copy)));
        var payments = text[text.IndexOf("COPY public.payments", StringComparison.Ordinal)..];
        payments = payments[(payments.IndexOf('\n') + 1)..payments.IndexOf("\\.", StringComparison.Ordinal)];
        foreach (var row in payments.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(2000))
        {
            var fields = row.Split('\t');
            var card = fields[2];
            Assert.Equal(16, card.Length);
            var sum = 0;
            for (var i = 0; i < 16; i++)
            {
                var digit = card[15 - i] - '0';
                sum += i % 2 == 1 ? (digit * 2 > 9 ? digit * 2 - 9 : digit * 2) : digit;
            }
            Assert.Equal(0, sum % 10);
            var iban = fields[3];
            var rearranged = iban[4..] + "1314" + iban[2..4];
            Assert.Equal(1, (int)(System.Numerics.BigInteger.Parse(rearranged, System.Globalization.CultureInfo.InvariantCulture) % 97));
        }
    }
}
