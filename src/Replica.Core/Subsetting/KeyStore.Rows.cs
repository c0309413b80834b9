using System.Text;

namespace Replica.Subsetting;

// A dump file's rows as the closure sees them (file mode): every row's key values by table, and for each set of
// columns a link looks rows up by, the row's tuple of those values with the row. The closure then asks this instead of
// a database. Pass 2 appends every row here, so this part is sorted runs (SortedRuns), not the indexed tables of the
// rest of the store: appends while the dump is read, one merge before the closure's first question.
public sealed partial class KeyStore
{
    SortedRuns? _rows;
    KeptRowBits? _bits;
    byte[] _refBuffer = new byte[64];

    SortedRuns FileRows => _rows ??= new SortedRuns(_directory, _memoryBudget);

    /// <summary>The stream of a table's rows by identity (<paramref name="columns"/> -1) or by a column set's tuple.</summary>
    static int Stream(int table, int columns)
    {
        if (columns >= 255)
        {
            throw new NotSupportedException("subset: more than 254 column sets a table's rows are looked up by");
        }
        return checked(table * 256 + columns + 1);
    }

    /// <summary>
    /// Records a row of <paramref name="table"/>: its identity <paramref name="id"/> and key values
    /// <paramref name="values"/> (UTF-8, as <see cref="RowKeyBytes.Values"/> encodes them; a row seen twice is read
    /// once), and its <paramref name="rowNumber"/>, the row's place among the rows recorded, by which
    /// <see cref="KeptRowNumbers"/> finds it again.
    /// </summary>
    public void AddRow(int table, ReadOnlySpan<byte> id, ReadOnlySpan<byte> values, long rowNumber)
    {
        // The value: the row number, then the key values.
        Span<byte> number = stackalloc byte[KeyValues.MaxVarintBytes];
        var numberLength = KeyValues.WriteVarint(number, (ulong)rowNumber);
        lock (_lock)
        {
            FileRows.Add(Stream(table, -1), id, number[..numberLength], values);
        }
    }

    /// <summary>
    /// Records that row <paramref name="id"/> of <paramref name="table"/> (key values <paramref name="values"/>, as
    /// for <see cref="AddRow"/>) has <paramref name="tuple"/> in column set <paramref name="columns"/>.
    /// </summary>
    public void AddRef(int table, int columns, ReadOnlySpan<byte> tuple, ReadOnlySpan<byte> id, ReadOnlySpan<byte> values)
    {
        lock (_lock)
        {
            // The value: the row's identity (its length, then UTF-8) and its key values.
            if (_refBuffer.Length < KeyValues.MaxVarintBytes + id.Length)
            {
                _refBuffer = new byte[(KeyValues.MaxVarintBytes + id.Length) * 2];
            }
            var idAt = KeyValues.WriteVarint(_refBuffer, (ulong)id.Length);
            id.CopyTo(_refBuffer.AsSpan(idAt));
            FileRows.Add(Stream(table, columns), tuple, _refBuffer.AsSpan(0, idAt + id.Length), values);
        }
    }

    /// <summary>A row record's key values (after its row number).</summary>
    static string?[] RowValues(ReadOnlySpan<byte> value)
    {
        KeyValues.ReadVarint(ref value);
        return KeyValues.Decode(value);
    }

    /// <summary>Rows recorded so far (refs not counted).</summary>
    public long RecordedCount
    {
        get
        {
            lock (_lock)
            {
                return _rows?.Count ?? 0;
            }
        }
    }

    /// <summary>
    /// The recorded rows of <paramref name="table"/>, ordered by identity (UTF-8 bytes), a row recorded twice once, or with
    /// <paramref name="everyCopy"/> as often as it was recorded (a limit root without a primary key counts its copies).
    /// </summary>
    public IEnumerable<KeyRow> Rows(int table, bool everyCopy = false)
    {
        SortedRuns.StreamReader reader;
        lock (_lock)
        {
            reader = FileRows.Read(Stream(table, -1));
        }
        var page = new List<KeyRow>(PageSize);
        byte[] previous = [];
        var first = true;
        while (true)
        {
            page.Clear();
            lock (_lock)
            {
                while (page.Count < PageSize && reader.Next())
                {
                    if (!everyCopy && !first && reader.Key.SequenceEqual(previous))
                    {
                        continue;
                    }
                    first = false;
                    previous = reader.Key.ToArray();
                    page.Add(new KeyRow(Encoding.UTF8.GetString(reader.Key), RowValues(reader.Value)));
                }
            }
            foreach (var row in page)
            {
                yield return row;
            }
            if (page.Count < PageSize)
            {
                yield break;
            }
        }
    }

    /// <summary>The recorded row of <paramref name="table"/> with identity <paramref name="id"/>, if any (the first recorded).</summary>
    public KeyRow? Row(int table, string id)
    {
        lock (_lock)
        {
            string?[]? values = null;
            FileRows.Find(Stream(table, -1), Utf8(id), ref values, static (ref string?[]? found, ReadOnlySpan<byte> _, ReadOnlySpan<byte> value) =>
                found ??= RowValues(value));
            return values is null ? null : new KeyRow(id, values);
        }
    }

    /// <summary>
    /// The row numbers (<see cref="AddRow"/>) of the recorded rows of <paramref name="table"/> that are kept, every copy of
    /// a row recorded twice but where <paramref name="copies"/> caps them (the first copies, by row number: equal keys
    /// stay in the order they were added): the kept set and the recorded rows, both in identity order, read side by side.
    /// </summary>
    public IEnumerable<long> KeptRowNumbers(int table, IReadOnlyDictionary<string, long>? copies = null)
    {
        SortedRuns.StreamReader reader;
        lock (_lock)
        {
            reader = FileRows.Read(Stream(table, -1));
        }
        var numbers = new List<long>(PageSize);
        var more = true;
        lock (_lock)
        {
            more = reader.Next();
        }
        foreach (var page in Pages("SELECT key, vals, down FROM kept WHERE tbl = ?1 AND key > ?2 ORDER BY key LIMIT ?3", table, null))
        {
            numbers.Clear();
            lock (_lock)
            {
                foreach (var (id, _, _) in page)
                {
                    var left = copies is not null && copies.TryGetValue(id, out var cap) ? cap : long.MaxValue;
                    var key = Utf8(id);
                    int order;
                    while (more && (order = reader.Key.SequenceCompareTo(key)) <= 0)
                    {
                        if (order == 0 && left-- > 0)
                        {
                            var value = reader.Value;
                            numbers.Add((long)KeyValues.ReadVarint(ref value));
                        }
                        more = reader.Next();
                    }
                }
            }
            foreach (var number in numbers)
            {
                yield return number;
            }
            if (!more)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// The kept rows of <paramref name="tables"/> by row number (file mode's last pass), in a file of the store's
    /// directory; disposed with the store.
    /// </summary>
    /// <param name="copies">Per table, the kept identities of which fewer copies are kept than recorded (null: none).</param>
    internal KeptRowBits BuildKeptRowBits(long rows, IReadOnlyList<int> tables, Func<int, IReadOnlyDictionary<string, long>?>? copies = null)
    {
        _bits?.Dispose();
        _bits = KeptRowBits.Build(Path.Combine(_directory, "kept-rows"), rows, _memoryBudget,
            () => tables.Select(table => KeptRowNumbers(table, copies?.Invoke(table))));
        return _bits;
    }

    /// <summary>The recorded rows of <paramref name="table"/> whose column set <paramref name="columns"/> holds <paramref name="tuple"/>.</summary>
    public List<KeyRow> Matching(int table, int columns, string tuple)
    {
        var rows = new List<KeyRow>();
        lock (_lock)
        {
            FileRows.Find(Stream(table, columns), Utf8(tuple), ref rows, static (ref List<KeyRow> found, ReadOnlySpan<byte> _, ReadOnlySpan<byte> value) =>
            {
                var idLength = (int)KeyValues.ReadVarint(ref value);
                found.Add(new KeyRow(Encoding.UTF8.GetString(value[..idLength]), KeyValues.Decode(value[idLength..])));
            });
        }
        return rows;
    }
}
