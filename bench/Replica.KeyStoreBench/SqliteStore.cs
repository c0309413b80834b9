using SQLitePCL;

namespace Replica.KeyStoreBench;

/// <summary>
/// SQLite through the raw SQLitePCL API (no ADO.NET): keys("set", "key") WITHOUT ROWID, INSERT OR IGNORE and sqlite3_changes
/// for dedupe, one transaction per batch, page cache = the budget, no journal, no fsync.
/// </summary>
internal sealed class SqliteStore : IKeyStore
{
    readonly sqlite3 _db;
    readonly sqlite3_stmt _insert, _lookup, _enumerate, _begin, _commit;

    public SqliteStore(string dir, long budget)
    {
        Batteries_V2.Init();
        Check(raw.sqlite3_open(Path.Combine(dir, "keys.db"), out _db));
        Exec($"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-{budget / 1024}; PRAGMA temp_store=FILE; "
            + "PRAGMA locking_mode=EXCLUSIVE; CREATE TABLE keys(\"set\" INTEGER, \"key\" BLOB, PRIMARY KEY(\"set\", \"key\")) WITHOUT ROWID;");
        _insert = Prepare("INSERT OR IGNORE INTO keys VALUES (?1, ?2)");
        _lookup = Prepare("SELECT 1 FROM keys WHERE \"set\" = ?1 AND \"key\" = ?2");
        _enumerate = Prepare("SELECT \"key\" FROM keys WHERE \"set\" = ?1 ORDER BY \"key\"");
        _begin = Prepare("BEGIN");
        _commit = Prepare("COMMIT");
    }

    public void Insert(KeyBatch batch, bool[] isNew)
    {
        Step(_begin);
        for (int i = 0; i < batch.Count; i++)
        {
            Bind(_insert, batch[i]);
            Step(_insert);
            isNew[i] = raw.sqlite3_changes(_db) == 1;
        }
        Step(_commit);
    }

    public void Contains(KeyBatch batch, bool[] found)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            Bind(_lookup, batch[i]);
            found[i] = raw.sqlite3_step(_lookup) == raw.SQLITE_ROW;
            raw.sqlite3_reset(_lookup);
        }
    }

    public long Enumerate(byte set, KeyVisitor visit)
    {
        long n = 0;
        raw.sqlite3_bind_int(_enumerate, 1, set);
        while (raw.sqlite3_step(_enumerate) == raw.SQLITE_ROW)
        {
            visit(raw.sqlite3_column_blob(_enumerate, 0));
            n++;
        }
        raw.sqlite3_reset(_enumerate);
        return n;
    }

    public long Count()
    {
        sqlite3_stmt s = Prepare("SELECT count(*) FROM keys");
        raw.sqlite3_step(s);
        long n = raw.sqlite3_column_int64(s, 0);
        raw.sqlite3_finalize(s);
        return n;
    }

    public void Dispose()
    {
        foreach (sqlite3_stmt s in new[] { _insert, _lookup, _enumerate, _begin, _commit })
        {
            raw.sqlite3_finalize(s);
        }
        raw.sqlite3_close_v2(_db);
    }

    static void Bind(sqlite3_stmt s, ReadOnlySpan<byte> key)
    {
        raw.sqlite3_bind_int(s, 1, key[0]);
        raw.sqlite3_bind_blob(s, 2, key[1..]);
    }

    void Step(sqlite3_stmt s)
    {
        int rc = raw.sqlite3_step(s);
        raw.sqlite3_reset(s);
        if (rc != raw.SQLITE_DONE)
        {
            throw new InvalidOperationException("sqlite: " + raw.sqlite3_errmsg(_db).utf8_to_string());
        }
    }

    sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_db, sql, out sqlite3_stmt s));
        return s;
    }

    void Exec(string sql) => Check(raw.sqlite3_exec(_db, sql));

    void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new InvalidOperationException($"sqlite {rc}: " + (_db is null ? "" : raw.sqlite3_errmsg(_db).utf8_to_string()));
        }
    }
}
