using System.Text;
using SQLitePCL;

namespace Replica.Subsetting;

// A dump file's rows as the closure sees them (file mode): every row's key values by table, and for each set of
// columns a link looks rows up by, the row's tuple of those values. The closure then asks this instead of a database.
public sealed partial class KeyStore
{
    readonly sqlite3_stmt _addRow;
    readonly sqlite3_stmt _addRef;
    readonly sqlite3_stmt _matching;
    readonly sqlite3_stmt _row;

    /// <summary>Records a row of <paramref name="table"/>: its identity and key values (a row seen twice is kept once).</summary>
    public void AddRow(int table, string id, string?[] values)
    {
        lock (_lock)
        {
            var keyLength = Utf8(id).Length;
            var vals = Encode(values, keyLength);
            Check(raw.sqlite3_bind_int(_addRow, 1, table), "bind");
            Check(raw.sqlite3_bind_blob(_addRow, 2, _buffer.AsSpan(0, keyLength)), "bind");
            Check(raw.sqlite3_bind_blob(_addRow, 3, vals), "bind");
            Step(_addRow);
        }
    }

    /// <summary>Records that row <paramref name="id"/> of <paramref name="table"/> has <paramref name="tuple"/> in column set <paramref name="columns"/>.</summary>
    public void AddRef(int table, int columns, string tuple, string id)
    {
        lock (_lock)
        {
            var tupleBytes = Encoding.UTF8.GetBytes(tuple);
            Check(raw.sqlite3_bind_int(_addRef, 1, table), "bind");
            Check(raw.sqlite3_bind_int(_addRef, 2, columns), "bind");
            Check(raw.sqlite3_bind_blob(_addRef, 3, tupleBytes), "bind");
            Check(raw.sqlite3_bind_blob(_addRef, 4, Utf8(id)), "bind");
            Step(_addRef);
        }
    }

    /// <summary>The recorded rows of <paramref name="table"/>, ordered by identity, a page at a time.</summary>
    public IEnumerable<KeyRow> Rows(int table) =>
        Pages("SELECT key, vals, 0 FROM rows WHERE tbl = ?1 AND key > ?2 ORDER BY key LIMIT ?3", table, null).SelectMany(page => page.Select(row => new KeyRow(row.Id, row.Values)));

    /// <summary>The recorded row of <paramref name="table"/> with identity <paramref name="id"/>, if any.</summary>
    public KeyRow? Row(int table, string id)
    {
        lock (_lock)
        {
            Check(raw.sqlite3_bind_int(_row, 1, table), "bind");
            Check(raw.sqlite3_bind_blob(_row, 2, Utf8(id)), "bind");
            KeyRow? found = raw.sqlite3_step(_row) == raw.SQLITE_ROW ? new KeyRow(id, Decode(raw.sqlite3_column_blob(_row, 0))) : null;
            Reset(_row);
            return found;
        }
    }

    /// <summary>The recorded rows of <paramref name="table"/> whose column set <paramref name="columns"/> holds <paramref name="tuple"/>.</summary>
    public List<KeyRow> Matching(int table, int columns, string tuple)
    {
        var rows = new List<KeyRow>();
        lock (_lock)
        {
            Check(raw.sqlite3_bind_int(_matching, 1, table), "bind");
            Check(raw.sqlite3_bind_int(_matching, 2, columns), "bind");
            Check(raw.sqlite3_bind_blob(_matching, 3, Encoding.UTF8.GetBytes(tuple)), "bind");
            int rc;
            while ((rc = raw.sqlite3_step(_matching)) == raw.SQLITE_ROW)
            {
                rows.Add(new KeyRow(Encoding.UTF8.GetString(raw.sqlite3_column_blob(_matching, 0)), Decode(raw.sqlite3_column_blob(_matching, 1))));
            }
            Reset(_matching);
            Check(rc == raw.SQLITE_DONE ? raw.SQLITE_OK : rc, "read");
        }
        return rows;
    }
}
