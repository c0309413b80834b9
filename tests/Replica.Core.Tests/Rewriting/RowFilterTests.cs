using System.Buffers;
using System.Text;
using Replica.Lexing;
using Replica.Rewriting;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>A row filter (a subset of a dump file) keeps and drops rows of COPY blocks and INSERT tuples.</summary>
public class RowFilterTests
{
    /// <summary>Keeps the rows of public.t whose id is in a set; writes column "ref" as NULL; records what it saw.</summary>
    sealed class KeepIds(params string[] ids) : IRowFilter
    {
        public List<string> Seen { get; } = [];

        public RowSelection? Choose(TableName table, IReadOnlyList<string> columns) =>
            table.Table != "t" ? null : new Selection(this, ids)
            {
                Reads = [columns.ToList().IndexOf("id")],
                Nulls = columns.Contains("ref") ? new HashSet<int> { columns.ToList().IndexOf("ref") } : new HashSet<int>(),
            };

        sealed class Selection(KeepIds owner, string[] ids) : RowSelection
        {
            public override bool Keep(string?[] values, ReadOnlySpan<byte> row)
            {
                owner.Seen.Add(values[0] + "|" + Encoding.UTF8.GetString(row));
                return ids.Contains(values[0]);
            }
        }
    }

    static string Run(string dump, IRowFilter filter, RewriteRules? rules = null, int? split = null)
    {
        using var rewriter = new DumpRewriter(rules ?? RewriteRules.None) { Filter = filter };
        var input = Encoding.UTF8.GetBytes(dump);
        var output = new ArrayBufferWriter<byte>();
        var at = split ?? input.Length;
        rewriter.Process(input.AsSpan(0, at), output);
        rewriter.Process(input.AsSpan(at), output);
        rewriter.Complete(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    const string Copy = "COPY public.t (id, name, ref) FROM stdin;\n1\talice\t7\n2\tbob\\twith tab\t8\n3\tcarol\t\\N\n\\.\nCOPY public.u (id) FROM stdin;\n1\n\\.\n";

    [Fact]
    public void Copy_KeepsChosenRows_NullsTheColumn_AtEverySplit()
    {
        const string Expected = "COPY public.t (id, name, ref) FROM stdin;\n1\talice\t\\N\n3\tcarol\t\\N\n\\.\nCOPY public.u (id) FROM stdin;\n1\n\\.\n";
        for (var split = 0; split <= Copy.Length; split++)
        {
            Assert.Equal(Expected, Run(Copy, new KeepIds("1", "3"), split: split));
        }
    }

    [Fact]
    public void Copy_GivesDecodedKeysAndTheRowsBytes_AndMasksKeptRows()
    {
        var filter = new KeepIds("2");
        var output = Run(Copy, filter, Rules("public.t.name=upper"));
        Assert.Equal("COPY public.t (id, name, ref) FROM stdin;\n2\tBOB\\tWITH TAB\t\\N\n\\.\nCOPY public.u (id) FROM stdin;\n1\n\\.\n", output);
        Assert.Equal(["1|1\talice\t7", "2|2\tbob\\twith tab\t8", "3|3\tcarol\t\\N"], filter.Seen);
    }

    /// <summary>Reads id and name as decoded UTF-8 bytes (no string per value); keeps rows whose name is not NULL.</summary>
    sealed class BytesFilter : IRowFilter
    {
        public List<string> Seen { get; } = [];

        public RowSelection? Choose(TableName table, IReadOnlyList<string> columns) =>
            table.Table != "t" ? null : new Selection(this) { Reads = [columns.ToList().IndexOf("name"), columns.ToList().IndexOf("id")] };

        sealed class Selection(BytesFilter owner) : RowSelection
        {
            public override bool ReadsBytes => true;

            public override bool Keep(string?[] values, ReadOnlySpan<byte> row) => throw new InvalidOperationException("asked for strings");

            public override bool Keep(ReadOnlySpan<byte> values, ReadOnlySpan<int> lengths, ReadOnlySpan<byte> row)
            {
                var text = new List<string>();
                var at = 0;
                foreach (var length in lengths)
                {
                    text.Add(length < 0 ? "NULL" : Encoding.UTF8.GetString(values.Slice(at, length)));
                    at += Math.Max(0, length);
                }
                owner.Seen.Add(string.Join("|", text));
                return lengths[0] >= 0;
            }
        }
    }

    public static TheoryData<string, string> BytesDumps => new()
    {
        { "COPY public.t (id, name) FROM stdin;\n1\tZoë\n2\t\\N\n3\ta\\tb\n4\t\n\\.\n", "COPY public.t (id, name) FROM stdin;\n1\tZoë\n3\ta\\tb\n4\t\n\\.\n" },
        { "INSERT INTO public.t (id, name) VALUES (1, 'Zoë'), (2, NULL), (3, E'a\\tb'), (4, '');\n", "INSERT INTO public.t (id, name) VALUES (1, 'Zoë'), (3, E'a\\tb'), (4, '');\n" },
    };

    [Theory]
    [MemberData(nameof(BytesDumps))]
    public void KeepBytes_GivesDecodedValuesAndNullLengths_InCopyAndInserts(string dump, string expected)
    {
        var filter = new BytesFilter();

        var output = Run(dump, filter);

        Assert.Equal(["Zoë|1", "NULL|2", "a\tb|3", "|4"], filter.Seen);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void Insert_DropsTuplesAtEveryPlace_AndStatementsWithNoneKept()
    {
        const string Dump = "INSERT INTO public.t (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c');\nINSERT INTO public.t (id, name) VALUES (4, 'd');\nINSERT INTO public.u (id) VALUES (1);\n";
        Assert.Equal(Dump, Run(Dump, new KeepIds("1", "2", "3", "4")));
        Assert.Equal("INSERT INTO public.t (id, name) VALUES (2, 'b'), (3, 'c');\nINSERT INTO public.u (id) VALUES (1);\n", Run(Dump, new KeepIds("2", "3")));
        Assert.Equal("INSERT INTO public.t (id, name) VALUES (1, 'a'), (3, 'c');\nINSERT INTO public.t (id, name) VALUES (4, 'd');\nINSERT INTO public.u (id) VALUES (1);\n", Run(Dump, new KeepIds("1", "3", "4")));
        Assert.Equal("INSERT INTO public.t (id, name) VALUES (1, 'a'), (2, 'b');\nINSERT INTO public.u (id) VALUES (1);\n", Run(Dump, new KeepIds("1", "2")));
        Assert.Equal("INSERT INTO public.t (id, name) VALUES (3, 'c');\nINSERT INTO public.u (id) VALUES (1);\n", Run(Dump, new KeepIds("3")));
        // A statement that goes leaves the line break before the next one, as a table whose data is skipped does.
        Assert.Equal("\nINSERT INTO public.u (id) VALUES (1);\n", Run(Dump, new KeepIds()));
    }

    [Fact]
    public void Insert_KeptTuplesAreMasked_DroppedOnesAreNot()
    {
        const string Dump = "INSERT INTO public.t (id, name, ref) VALUES (1, 'a', 5), (2, 'b', 6), (3, 'c', NULL);\n";
        var filter = new KeepIds("2", "3");
        Assert.Equal("INSERT INTO public.t (id, name, ref) VALUES (2, 'B', NULL), (3, 'C', NULL);\n", Run(Dump, filter, Rules("public.t.name=upper")));
        Assert.Equal(["1|(1, 'a', 5)", "2|(2, 'b', 6)", "3|(3, 'c', NULL)"], filter.Seen);
    }
}
