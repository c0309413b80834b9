using System.Buffers.Binary;
using System.Text;
using Replica.Subsetting;

namespace Replica.Core.Tests.Subsetting;

/// <summary>
/// A scan's key rows as binary COPY: read whole, split at every byte and one byte at a time, the same rows are wanted
/// and kept; a NULL in the tuple's columns keeps nothing; a composite tuple reaches the filter as SubsetClosure.Identity.
/// </summary>
public sealed class CopyKeyRowsTests
{
    /// <summary>A binary COPY of <paramref name="rows"/> (every field text; null: NULL), with a header extension.</summary>
    internal static byte[] BinaryCopy(IEnumerable<string?[]> rows)
    {
        var bytes = new List<byte>("PGCOPY\n"u8.ToArray()) { 0xFF, (byte)'\r', (byte)'\n', 0 };
        void Int(int value, int size)
        {
            var buffer = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(buffer, value);
            bytes.AddRange(buffer[(4 - size)..]);
        }
        Int(0, 4);
        Int(3, 4);
        bytes.AddRange("ext"u8.ToArray());
        foreach (var row in rows)
        {
            Int(row.Length, 2);
            foreach (var field in row)
            {
                if (field is null)
                {
                    Int(-1, 4);
                    continue;
                }
                var utf8 = Encoding.UTF8.GetBytes(field);
                Int(utf8.Length, 4);
                bytes.AddRange(utf8);
            }
        }
        Int(-1, 2);
        return [.. bytes];
    }

    static readonly SubsetTable s_table = new("public.items", ["id", "a", "b"], [0]);

    static readonly string?[][] s_rows =
    [
        [null, "1", "x", "1"],
        [null, "2", "\u00fc\U0001F600:", "2"],
        [null, "3", null, "3"],
        [null, "4", "", "\t\\N"],
        [null, "5", "x", "2"],
    ];

    /// <summary>Reads <paramref name="copy"/> in pieces ending at <paramref name="cuts"/>, as the live source does.</summary>
    static (List<KeyRow> Rows, List<string> Asked) Read(byte[] copy, int[] columns, Func<string, bool> want, IEnumerable<int> cuts)
    {
        var asked = new List<string>();
        var reader = new CopyKeyRows(s_table, columns, tuple =>
        {
            var text = Encoding.UTF8.GetString(tuple);
            asked.Add(text);
            return want(text);
        });
        var rows = new List<KeyRow>();
        var start = 0;
        foreach (var end in cuts.Append(copy.Length))
        {
            if (end >= start)
            {
                start += reader.Rows(copy.AsSpan(start, end - start), rows);
            }
        }
        Assert.True(reader.Ended);
        Assert.Equal(copy.Length, start);
        return (rows, asked);
    }

    [Fact]
    public void Rows_CompositeTupleSplitAtEveryByte_KeepsTheWantedRowsAlike()
    {
        var copy = BinaryCopy(s_rows);
        var want = (string tuple) => tuple == SubsetClosure.Identity(["\u00fc\U0001F600:", "2"]) || tuple == SubsetClosure.Identity(["", "\t\\N"]);
        var (whole, asked) = Read(copy, [1, 2], want, []);

        // The row with a NULL in the tuple is not asked about; the others are, as SubsetClosure.Identity writes them.
        Assert.Equal([SubsetClosure.Identity(["x", "1"]), "4:\u00fc\U0001F600:1:2", "0:3:\t\\N", SubsetClosure.Identity(["x", "2"])], asked);
        Assert.Equal(["2", "4"], whole.Select(r => r.Id));
        Assert.Equal("4||\t\\N", string.Join("|", whole[1].Values));
        for (var cut = 0; cut <= copy.Length; cut++)
        {
            var (split, _) = Read(copy, [1, 2], want, [cut]);
            Assert.Equal(whole.Select(r => (r.Id, string.Join("|", r.Values))), split.Select(r => (r.Id, string.Join("|", r.Values))));
        }
        var (bytes, _) = Read(copy, [1, 2], want, Enumerable.Range(0, copy.Length));
        Assert.Equal(whole.Select(r => r.Id), bytes.Select(r => r.Id));
    }

    [Fact]
    public void Rows_OneColumnTuple_AsksTheValueItselfAndSkipsNull()
    {
        var (rows, asked) = Read(BinaryCopy(s_rows), [1], tuple => tuple == "x", []);

        Assert.Equal(["x", "\u00fc\U0001F600:", "", "x"], asked);
        Assert.Equal(["1", "5"], rows.Select(r => r.Id));
    }

    [Fact]
    public void Rows_WrongFieldCount_ThrowsNamingTheTableAndRow()
    {
        var copy = BinaryCopy([[null, "1", "x", "1"], [null, "2", "x"]]);

        var error = Assert.Throws<DatabaseException>(() => Read(copy, [1], _ => true, []));

        Assert.Contains("public.items", error.Message, StringComparison.Ordinal);
        Assert.Contains("row 2 has 3 fields, not 4", error.Message, StringComparison.Ordinal);
    }
}
