using System.Buffers.Binary;
using System.Text;

namespace Replica.Subsetting;

/// <summary>
/// Reads the rows of a binary COPY ... TO STDOUT of a table's key rows (its identity or content digest, then its key
/// columns, each cast to text: the live source's select list; a text field in binary format is its UTF-8 bytes, with no
/// escapes) and keeps those whose tuple in some of the key columns a <see cref="TupleFilter"/> accepts. The tuple is
/// checked as bytes before any string is made: a scan reads every row of a table and keeps few.
/// https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4
/// </summary>
internal sealed class CopyKeyRows(SubsetTable table, int[] columns, TupleFilter wanted)
{
    // "PGCOPY\n\377\r\n\0", then the flags and the header extension's length (int32 each).
    static readonly byte[] s_signature = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];
    readonly int[] _starts = new int[table.KeyColumns.Count + 1];
    readonly int[] _lengths = new int[table.KeyColumns.Count + 1];
    readonly string[] _identity = new string[table.Identity.Count];
    byte[] _tuple = new byte[256];
    bool _header;
    long _rowNumber;

    /// <summary>Whether the trailer was read (no more rows).</summary>
    public bool Ended { get; private set; }

    /// <summary>
    /// Adds the wanted rows among the complete rows of <paramref name="data"/> to <paramref name="rows"/>; returns the
    /// bytes read (up to the end of the last complete row, or of the trailer).
    /// </summary>
    public int Rows(ReadOnlySpan<byte> data, List<KeyRow> rows)
    {
        var consumed = 0;
        if (!_header)
        {
            if (data.Length < s_signature.Length + 8)
            {
                return 0;
            }
            if (!data[..s_signature.Length].SequenceEqual(s_signature))
            {
                throw new DatabaseException($"the scan of {table.Name}'s key columns did not start with binary COPY's signature");
            }
            var extension = BinaryPrimitives.ReadInt32BigEndian(data[(s_signature.Length + 4)..]);
            if (extension < 0 || data.Length < s_signature.Length + 8 + extension)
            {
                return 0;
            }
            consumed = s_signature.Length + 8 + extension;
            _header = true;
        }
        while (!Ended)
        {
            var row = data[consumed..];
            if (row.Length < 2)
            {
                return consumed;
            }
            var fields = BinaryPrimitives.ReadInt16BigEndian(row);
            if (fields == -1)
            {
                Ended = true;
                return consumed + 2;
            }
            if (fields != _starts.Length)
            {
                throw new DatabaseException($"the scan of {table.Name}'s key columns: row {_rowNumber + 1} has {fields} fields, not {_starts.Length}");
            }
            var at = 2;
            for (var f = 0; f < _starts.Length; f++)
            {
                if (row.Length < at + 4)
                {
                    return consumed;
                }
                var length = BinaryPrimitives.ReadInt32BigEndian(row[at..]);
                at += 4;
                _starts[f] = at;
                _lengths[f] = length;
                if (length > 0)
                {
                    at += length;
                }
            }
            if (row.Length < at)
            {
                return consumed;
            }
            _rowNumber++;
            row = row[..at];
            if (Wanted(row))
            {
                rows.Add(Row(row));
            }
            consumed += at;
        }
        return consumed;
    }

    /// <summary>A field's bytes; NULL is a length of -1 (<see cref="IsNull"/>).</summary>
    ReadOnlySpan<byte> Field(ReadOnlySpan<byte> row, int field) => _lengths[field] < 0 ? default : row.Slice(_starts[field], _lengths[field]);

    bool IsNull(int field) => _lengths[field] < 0;

    /// <summary>Whether the row's tuple has no NULL and is wanted.</summary>
    bool Wanted(ReadOnlySpan<byte> row)
    {
        if (columns.Length == 1)
        {
            return !IsNull(columns[0] + 1) && wanted(Field(row, columns[0] + 1));
        }
        // As SubsetClosure.Identity: each value's length in UTF-16 characters, a colon, the value.
        var length = 0;
        foreach (var column in columns)
        {
            if (IsNull(column + 1))
            {
                return false;
            }
            var value = Field(row, column + 1);
            if (_tuple.Length < length + 12 + value.Length)
            {
                Array.Resize(ref _tuple, (length + 12 + value.Length) * 2);
            }
            Encoding.UTF8.GetCharCount(value).TryFormat(_tuple.AsSpan(length), out var digits, provider: System.Globalization.CultureInfo.InvariantCulture);
            _tuple[length + digits] = (byte)':';
            value.CopyTo(_tuple.AsSpan(length + digits + 1));
            length += digits + 1 + value.Length;
        }
        return wanted(_tuple.AsSpan(0, length));
    }

    KeyRow Row(ReadOnlySpan<byte> row)
    {
        var values = new string?[_starts.Length - 1];
        for (var c = 0; c < values.Length; c++)
        {
            values[c] = IsNull(c + 1) ? null : Encoding.UTF8.GetString(Field(row, c + 1));
        }
        if (_identity.Length == 0)
        {
            return new KeyRow(Encoding.UTF8.GetString(Field(row, 0)), values);
        }
        for (var i = 0; i < _identity.Length; i++)
        {
            _identity[i] = values[table.Identity[i]]!;
        }
        return new KeyRow(SubsetClosure.Identity(_identity), values);
    }
}
