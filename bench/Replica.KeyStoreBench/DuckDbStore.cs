using System.Text;
using DuckDB.NET.Data;

namespace Replica.KeyStoreBench;

/// <summary>
/// DuckDB in a database file with memory_limit = the budget and a temp_directory. Each batch goes through the appender
/// into a staging table, then one INSERT ... RETURNING says which keys were new: with a PRIMARY KEY (ART index) it is
/// INSERT OR IGNORE; without one ("duckdb-anti") it is an anti-join against the table. Lookups stage the batch the same
/// way and semi-join it.
/// </summary>
internal sealed class DuckDbStore : IKeyStore
{
    readonly DuckDBConnection _conn;
    readonly DuckDBCommand _insert, _lookup, _clear;

    public DuckDbStore(string dir, int budgetMb, bool primaryKey)
    {
        _conn = new DuckDBConnection("Data Source=" + Path.Combine(dir, "keys.duckdb"));
        _conn.Open();
        Exec($"SET memory_limit = '{budgetMb}MB'");
        Exec($"SET temp_directory = '{Path.Combine(dir, "tmp")}'");
        Exec("SET preserve_insertion_order = false");
        Exec(primaryKey ? "CREATE TABLE keys (s UTINYINT, k BLOB, PRIMARY KEY (s, k))" : "CREATE TABLE keys (s UTINYINT, k BLOB)");
        Exec("CREATE TABLE stage (pos INTEGER, s UTINYINT, k BLOB)");
        _clear = Command("DELETE FROM stage");
        _insert = Command(primaryKey
            ? "INSERT OR IGNORE INTO keys SELECT DISTINCT s, k FROM stage RETURNING s, k"
            : "INSERT INTO keys SELECT t.s, t.k FROM (SELECT DISTINCT s, k FROM stage) t "
                + "WHERE NOT EXISTS (SELECT 1 FROM keys WHERE keys.s = t.s AND keys.k = t.k) RETURNING s, k");
        _lookup = Command("SELECT pos FROM stage t WHERE EXISTS (SELECT 1 FROM keys WHERE keys.s = t.s AND keys.k = t.k)");
    }

    public void Insert(KeyBatch batch, bool[] isNew)
    {
        Stage(batch);
        var first = new Dictionary<string, int>(batch.Count, StringComparer.Ordinal);
        for (int i = 0; i < batch.Count; i++)
        {
            isNew[i] = false;
            first.TryAdd(Encoding.Latin1.GetString(batch[i]), i);
        }
        using DuckDBDataReader reader = _insert.ExecuteReader();
        var key = new byte[Keys.MaxKeyBytes];
        while (reader.Read())
        {
            key[0] = reader.GetByte(0);
            using Stream blob = reader.GetStream(1);
            int len = 1 + blob.ReadAtLeast(key.AsSpan(1), key.Length - 1, throwOnEndOfStream: false);
            isNew[first[Encoding.Latin1.GetString(key, 0, len)]] = true;
        }
    }

    public void Contains(KeyBatch batch, bool[] found)
    {
        Stage(batch);
        Array.Clear(found);
        using DuckDBDataReader reader = _lookup.ExecuteReader();
        while (reader.Read())
        {
            found[reader.GetInt32(0)] = true;
        }
    }

    public long Enumerate(byte set, KeyVisitor visit)
    {
        using DuckDBCommand cmd = Command($"SELECT k FROM keys WHERE s = {set} ORDER BY k");
        using DuckDBDataReader reader = cmd.ExecuteReader();
        var key = new byte[Keys.MaxKeyBytes];
        long n = 0;
        while (reader.Read())
        {
            using Stream blob = reader.GetStream(0);
            int len = blob.ReadAtLeast(key, key.Length, throwOnEndOfStream: false);
            visit(key.AsSpan(0, len));
            n++;
        }
        return n;
    }

    public long Count()
    {
        using DuckDBCommand cmd = Command("SELECT count(*) FROM keys");
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        _insert.Dispose();
        _lookup.Dispose();
        _clear.Dispose();
        _conn.Dispose();
    }

    void Stage(KeyBatch batch)
    {
        _clear.ExecuteNonQuery();
        using (DuckDBAppender appender = _conn.CreateAppender("stage"))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                Span<byte> key = batch.Writable(i);
                appender.CreateRow().AppendValue(i).AppendValue(key[0]).AppendValue(key[1..]).EndRow();
            }
        }
    }

    DuckDBCommand Command(string sql)
    {
        DuckDBCommand cmd = _conn.CreateCommand();
        cmd.CommandText = sql;
        return cmd;
    }

    void Exec(string sql)
    {
        using DuckDBCommand cmd = Command(sql);
        cmd.ExecuteNonQuery();
    }
}
