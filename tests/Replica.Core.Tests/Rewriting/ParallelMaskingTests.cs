using System.IO.Pipelines;
using System.Text;
using Replica.Lexing;
using Replica.Rewriting;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// COPY rows masked on several lanes (DumpRewriter.RunAsync with maskingLanes): the same bytes, counters and errors as
/// one lane, whatever the block boundaries and the number of lanes.
/// </summary>
public class ParallelMaskingTests
{
    static readonly RewriteRules s_rules = Rules("public.people.name=upper", "public.people.email=same", "public.people.note=concat");

    /// <summary>Rewrites through RunAsync, the input written in blocks of <paramref name="blockSize"/> bytes.</summary>
    static async Task<(byte[] Output, RewriteStatistics Statistics)> RunAsync(byte[] input, RewriteRules rules, int lanes, int blockSize)
    {
        using var rewriter = new DumpRewriter(rules);
        var inputPipe = new Pipe();
        var outputPipe = new Pipe();
        var feeding = Task.Run(async () =>
        {
            for (var start = 0; start < input.Length; start += blockSize)
            {
                await inputPipe.Writer.WriteAsync(input.AsMemory(start, Math.Min(blockSize, input.Length - start)));
            }
            await inputPipe.Writer.CompleteAsync();
        });
        var collecting = Task.Run(async () =>
        {
            using var collected = new MemoryStream();
            await outputPipe.Reader.CopyToAsync(collected);
            return collected.ToArray();
        });
        try
        {
            await rewriter.RunAsync(inputPipe.Reader, outputPipe.Writer, lanes);
            await outputPipe.Writer.CompleteAsync();
        }
        catch (Exception e)
        {
            await outputPipe.Writer.CompleteAsync(e);
            await inputPipe.Reader.CompleteAsync();
            throw;
        }
        await feeding;
        return (await collecting, rewriter.Statistics);
    }

    /// <summary>
    /// Two COPY blocks of a masked table (many batches each: NULLs, escapes, rows with an escaped tab that the lexer
    /// hands over one by one) around a table without rules; <paramref name="bad"/> replaces one row of the first block.
    /// </summary>
    static byte[] Dump(int rows, (int Row, string Text)? bad = null, string tail = "\\.\n")
    {
        var text = new StringBuilder("SET client_encoding = 'UTF8';\nCOPY public.people (id, name, email, note) FROM stdin;\n");
        void People(int first, int count)
        {
            for (var i = first; i < first + count; i++)
            {
                if (bad is { } b && b.Row == i)
                {
                    text.Append(b.Text).Append('\n');
                    continue;
                }
                var note = (i % 7) switch
                {
                    0 => "\\N",
                    1 => "tab\\there",
                    2 => "back\\\\slash",
                    3 => "new\\nline",
                    _ => "note " + i,
                };
                var name = i % 11 == 0 ? "\\N" : "name " + i + (i % 3 == 0 ? " zoë" : "");
                text.Append(i).Append('\t').Append(name).Append('\t').Append('u').Append(i).Append("@example.com\t").Append(note).Append('\n');
            }
        }
        People(1, rows);
        text.Append("\\.\nCOPY public.other (a, b) FROM stdin;\n");
        for (var i = 0; i < 500; i++)
        {
            text.Append(i).Append("\tuntouched ").Append(i).Append('\n');
        }
        text.Append("\\.\nCOPY public.people (id, name, email, note) FROM stdin;\n");
        People(rows + 1, rows / 2);
        text.Append(tail);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static TheoryData<int, int> LanesAndBlocks => new()
    {
        { 2, 13 },
        { 2, 4096 },
        { 3, 65536 },
        { 4, 1 << 20 },
    };

    [Theory]
    [MemberData(nameof(LanesAndBlocks))]
    public async Task RunAsync_RowsMaskedOnLanes_WritesTheBytesAndCountsOfOneLane(int lanes, int blockSize)
    {
        var dump = Dump(rows: 12_000);
        var serial = Rewrite(dump, out var expected, s_rules);

        var (output, statistics) = await RunAsync(dump, s_rules, lanes, blockSize);

        Assert.True(serial.AsSpan().SequenceEqual(output), "the lanes wrote other bytes than one lane");
        Assert.True(dump.Length > 4 * ParallelMasking.BatchBytes, "the dump spans several batches");
        Assert.Contains("NAME 12 ZOë", Text(output), StringComparison.Ordinal);
        Assert.Equal(expected.Rows, statistics.Rows);
        Assert.Equal(expected.TransformedValues, statistics.TransformedValues);
        Assert.Equal(18_000 * 3, statistics.TransformedValues);
        Assert.Equal(expected.BytesIn, statistics.BytesIn);
    }

    [Fact]
    public async Task RunAsync_RowLongerThanABatch_IsMaskedWholeInItsPlace()
    {
        var longName = new string('a', 3 * ParallelMasking.BatchBytes);
        var dump = Dump(rows: 12_000, bad: (5000, $"5000\t{longName}\tu5000@example.com\tnote"));
        var serial = Rewrite(dump, s_rules);

        foreach (var (lanes, blockSize) in new[] { (2, 4096), (3, 1 << 20) })
        {
            var (output, _) = await RunAsync(dump, s_rules, lanes, blockSize);
            Assert.True(serial.AsSpan().SequenceEqual(output), $"{lanes} lanes, blocks of {blockSize}");
        }
        Assert.Contains("\n5000\t" + longName.ToUpperInvariant() + "\t", Text(serial), StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadRows => new()
    {
        { "field count", "7000\tname\tu@example.com" },
        { "escape to zero", "7000\tna\\0me\tu@example.com\tnote" },
        { "too many fields", "7000\ta\tb\tc\td\te" },
    };

    [Theory]
    [MemberData(nameof(BadRows))]
    public async Task RunAsync_BadRowMaskedOnALane_FailsWithTheErrorOfOneLane(string what, string row)
    {
        var dump = Dump(rows: 12_000, bad: (7000, row));
        var expected = Assert.Throws<DumpFormatException>(() => Rewrite(dump, s_rules));

        foreach (var (lanes, blockSize) in new[] { (2, 13), (3, 4096), (2, 1 << 20) })
        {
            var actual = await Assert.ThrowsAsync<DumpFormatException>(() => RunAsync(dump, s_rules, lanes, blockSize));
            Assert.Equal(expected.Message, actual.Message);
        }
        Assert.True(expected.RowNumber == 7000, what);
        Assert.Equal(7002, expected.LineNumber);
    }

    [Fact]
    public async Task RunAsync_LaneFailsOnARowBeforeALaterErrorOfTheLexer_ReportsTheEarlierRow()
    {
        // Row 200 fails on a lane (an escape decoding to a zero byte); the dump is then cut inside the last COPY block,
        // which the lexer finds on its own: the earlier row is the error, as with one lane.
        var dump = Dump(rows: 12_000, bad: (200, "200\tna\\0me\tu@example.com\tnote"), tail: "");
        var expected = Assert.Throws<DumpFormatException>(() => Rewrite(dump, s_rules));
        Assert.Equal(200, expected.RowNumber);

        foreach (var (lanes, blockSize) in new[] { (2, 13), (3, 1 << 20) })
        {
            var actual = await Assert.ThrowsAsync<DumpFormatException>(() => RunAsync(dump, s_rules, lanes, blockSize));
            Assert.Equal(expected.Message, actual.Message);
        }
    }

    [Fact]
    public async Task RunAsync_TransformerThatCannotRunInParallel_MasksItsColumnInOrder()
    {
        // "count" writes how many values its instance saw: one instance per lane would restart the count on each lane.
        var rules = Rules("public.people.name=count", "public.people.email=upper");
        var dump = Dump(rows: 12_000);
        var serial = Rewrite(dump, rules);

        var (output, _) = await RunAsync(dump, rules, lanes: 3, blockSize: 4096);

        Assert.True(serial.AsSpan().SequenceEqual(output), "a column of a transformer that cannot run in parallel was masked out of order");
        Assert.Contains("\t17999\tU17999@EXAMPLE.COM\t", Text(output), StringComparison.Ordinal);
    }
}
