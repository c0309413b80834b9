using System.Buffers;
using System.Text;
using SQLitePCL;

namespace Replica.Subsetting;

/// <summary>
/// Where the subset closure keeps what it knows: the rows kept per table (with the key values it expands them by and the
/// round they wait for), the key tuples already asked of the source, and a root's sample. Two tiers: while the kept
/// rows and asked tuples fit in three quarters of the memory budget they live in hash sets in memory
/// (<see cref="MemoryKeys"/>); the first row that would pass that moves them all, once, to a SQLite database in a
/// temp directory of its own, in one transaction that is never committed: SQLite holds up to the memory budget in its
/// page cache and spills the rest to the file, so a closure of a billion keys runs in the same memory as one of ten.
/// Both tiers answer alike (tests run the closure with the move at random points).
/// Keys are compared as UTF-8 bytes (SQLite's BINARY collation is memcmp), the order every kept set is enumerated in.
/// A dump file's rows, which the closure reads in file mode, are sorted runs in the same directory (KeyStore.Rows.cs).
/// The directory is removed on <see cref="Dispose"/> (also on Ctrl+C: the dump's cancellation unwinds to it).
/// Safe to call from several threads (one lock): a dump in parts reads kept keys from each COPY task.
/// </summary>
/// <remarks>
/// Why SQLite: bench/results/issue11-keystore-2026-12-03.md (insert with dedupe, lookups and sorted enumeration on up
/// to 100 million keys against the alternatives). The raw API
/// (SQLitePCLRaw) spares ADO.NET's per-call cost. https://www.sqlite.org/pragma.html#pragma_cache_size
/// </remarks>
public sealed partial class KeyStore : IDisposable
{
    /// <summary>Rows per page when kept or pending rows are read back.</summary>
    public const int PageSize = 5000;

    static readonly Lazy<bool> s_init = new(() =>
    {
        Batteries_V2.Init();
        return true;
    });

    readonly Lock _lock = new();
    readonly string _directory;
    readonly sqlite3 _db;
    readonly sqlite3_stmt _upgrade;
    readonly sqlite3_stmt _insertKept;
    readonly sqlite3_stmt _isKept;
    readonly sqlite3_stmt _ask;
    readonly sqlite3_stmt _sample;
    readonly Dictionary<int, long> _counts = [];
    readonly long _memoryBudget;
    // The first tier; null once its contents moved to SQLite.
    MemoryKeys? _memory;
    byte[] _buffer = new byte[256];
    bool _disposed;

    /// <param name="memoryBudget">Bytes SQLite may hold in memory (page cache and its heap); the rest goes to disk.</param>
    /// <param name="parent">The directory to make the store's temp directory in (the system's temp directory by default).</param>
    public KeyStore(long memoryBudget, string? parent = null)
        : this(memoryBudget, parent, memoryBudget / 4 * 3)
    {
    }

    /// <param name="memoryTier">Bytes the first tier may take before everything moves to SQLite (tests: 0 starts there).</param>
    internal KeyStore(long memoryBudget, string? parent, long memoryTier)
    {
        _ = s_init.Value;
        _memoryBudget = memoryBudget;
        // 0700 from its creation (mkdtemp), not chmod'ed after: under umask 000 another user could otherwise plant a
        // link in it in between.
        _directory = parent is null
            ? Directory.CreateTempSubdirectory("replica-keys-").FullName
            : OperatingSystem.IsWindows()
                ? Directory.CreateDirectory(Path.Combine(parent, "replica-keys-" + Path.GetRandomFileName())).FullName
                : Directory.CreateDirectory(Path.Combine(parent, "replica-keys-" + Path.GetRandomFileName()),
                    UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
        try
        {
            Check(raw.sqlite3_open_v2(Path.Combine(_directory, "keys.db"), out _db, raw.SQLITE_OPEN_READWRITE | raw.SQLITE_OPEN_CREATE | raw.SQLITE_OPEN_FULLMUTEX, null), "open");
            // The page cache gets most of the budget; SQLite's heap (statements, sorting) stays under the whole of it.
            var cacheKiB = Math.Max(1024, memoryBudget * 3 / 4 / 1024);
            raw.sqlite3_soft_heap_limit64(Math.Max(4L << 20, memoryBudget));
            Exec($"""
                PRAGMA journal_mode = OFF;
                PRAGMA synchronous = OFF;
                PRAGMA locking_mode = EXCLUSIVE;
                PRAGMA temp_store = FILE;
                PRAGMA page_size = 8192;
                PRAGMA cache_size = -{cacheKiB};
                CREATE TABLE kept (tbl INTEGER, key BLOB, down INTEGER, round INTEGER, vals BLOB, PRIMARY KEY (tbl, key)) WITHOUT ROWID;
                CREATE INDEX kept_round ON kept (round, tbl, key);
                CREATE TABLE asked (link INTEGER, key BLOB, PRIMARY KEY (link, key)) WITHOUT ROWID;
                CREATE TABLE sample (root INTEGER, hash INTEGER, key BLOB, vals BLOB, copies INTEGER, PRIMARY KEY (root, hash, key)) WITHOUT ROWID;
                BEGIN;
                """);
            _upgrade = Prepare("UPDATE kept SET down = 1, round = ?3, vals = ?4 WHERE tbl = ?1 AND key = ?2 AND down = 0");
            _insertKept = Prepare("INSERT OR IGNORE INTO kept (tbl, key, down, round, vals) VALUES (?1, ?2, ?5, ?3, ?4)");
            _isKept = Prepare("SELECT 1 FROM kept WHERE tbl = ?1 AND key = ?2");
            _ask = Prepare("INSERT OR IGNORE INTO asked (link, key) VALUES (?1, ?2)");
            // A row without a primary key is known by its content: its copies share one identity, counted here.
            _sample = Prepare("INSERT INTO sample (root, hash, key, vals, copies) VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT (root, hash, key) DO UPDATE SET copies = copies + 1");
            _memory = memoryTier > 0 ? new MemoryKeys(memoryTier) : null;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The store's temp directory (removed on dispose).</summary>
    public string DirectoryPath => _directory;

    /// <summary>Whether the kept rows and asked tuples are still all in memory (not moved to SQLite).</summary>
    public bool InMemory
    {
        get
        {
            lock (_lock)
            {
                return _memory is not null;
            }
        }
    }

    /// <summary>Bytes the store has on disk now.</summary>
    public long DiskBytes
    {
        get
        {
            var info = new DirectoryInfo(_directory);
            return info.Exists ? info.EnumerateFiles().Sum(f => f.Length) : 0;
        }
    }

    /// <summary>
    /// Keeps a row of <paramref name="table"/> for round <paramref name="round"/>: reached downward, a row kept only
    /// upward so far becomes downward and waits again. True when the row is new, or newly downward.
    /// </summary>
    public bool Reach(int table, string id, string?[] values, bool down, int round)
    {
        lock (_lock)
        {
            var key = Utf8(id);
            var keyLength = key.Length;
            var vals = Encode(values, keyLength);
            if (_memory is { } memory)
            {
                var record = memory.Find(KeptSet(table), key);
                if (record >= 0 && (!down || memory.Down(record)))
                {
                    return false;
                }
                // New, or kept upward so far and now downward: a new record (the values as reached now).
                if (memory.TryAdd(KeptSet(table), key, round, down, vals, replace: record))
                {
                    if (record < 0)
                    {
                        _counts[table] = KeptCount(table) + 1;
                    }
                    return true;
                }
                MoveToSqlite(memory);
            }
            // A new row is one statement; only a row already kept is asked whether it moves to downward.
            Bind(_insertKept, table, _buffer.AsSpan(0, keyLength), round, vals);
            Check(raw.sqlite3_bind_int(_insertKept, 5, down ? 1 : 0), "bind");
            Step(_insertKept);
            if (raw.sqlite3_changes(_db) == 1)
            {
                _counts[table] = KeptCount(table) + 1;
                return true;
            }
            if (!down)
            {
                return false;
            }
            Bind(_upgrade, table, _buffer.AsSpan(0, keyLength), round, vals);
            Step(_upgrade);
            return raw.sqlite3_changes(_db) == 1;
        }
    }

    /// <summary>Whether a row of <paramref name="table"/> with identity <paramref name="id"/> is kept.</summary>
    public bool IsKept(int table, string id)
    {
        lock (_lock)
        {
            var key = Utf8(id);
            if (_memory is { } memory)
            {
                return memory.Find(KeptSet(table), key) >= 0;
            }
            Check(raw.sqlite3_bind_int(_isKept, 1, table), "bind");
            Check(raw.sqlite3_bind_blob(_isKept, 2, key), "bind");
            var found = raw.sqlite3_step(_isKept) == raw.SQLITE_ROW;
            Reset(_isKept);
            return found;
        }
    }

    /// <summary>How many rows of <paramref name="table"/> are kept.</summary>
    public long KeptCount(int table)
    {
        lock (_lock)
        {
            return _counts.GetValueOrDefault(table);
        }
    }

    /// <summary>Remembers that key tuple <paramref name="tuple"/> was asked along <paramref name="link"/>; true the first time.</summary>
    public bool Ask(int link, string tuple)
    {
        lock (_lock)
        {
            var key = Utf8(tuple);
            if (_memory is { } memory)
            {
                if (memory.Find(AskedSet(link), key) >= 0)
                {
                    return false;
                }
                if (memory.TryAdd(AskedSet(link), key, 0, false, []))
                {
                    return true;
                }
                MoveToSqlite(memory);
            }
            Check(raw.sqlite3_bind_int(_ask, 1, link), "bind");
            Check(raw.sqlite3_bind_blob(_ask, 2, key), "bind");
            Step(_ask);
            return raw.sqlite3_changes(_db) == 1;
        }
    }

    /// <summary>Every kept identity of <paramref name="table"/>, ordered by UTF-8 bytes, read a page at a time.</summary>
    public IEnumerable<string> Kept(int table) =>
        Pages("SELECT key, vals, down FROM kept WHERE tbl = ?1 AND key > ?2 ORDER BY key LIMIT ?3", table, null).SelectMany(page => page.Select(row => row.Id));

    /// <summary>
    /// The rows of <paramref name="table"/> waiting for round <paramref name="round"/>, a page at a time ordered by
    /// key. A row that moves to a later round while the pages are read is read in that round.
    /// </summary>
    public IEnumerable<List<(string Id, string?[] Values, bool Down)>> Pending(int table, int round) =>
        Pages("SELECT key, vals, down FROM kept WHERE round = ?4 AND tbl = ?1 AND key > ?2 ORDER BY key LIMIT ?3", table, round);

    /// <summary>Adds a candidate of a root's sample (root's index, its keyed hash); a candidate added again is one more copy of it.</summary>
    public void AddSample(int root, ulong hash, in KeyRow row)
    {
        lock (_lock)
        {
            var key = Utf8(row.Id);
            var keyLength = key.Length;
            var vals = Encode(row.Values, keyLength);
            Check(raw.sqlite3_bind_int(_sample, 1, root), "bind");
            // Unsigned order in a signed column: flip the top bit.
            Check(raw.sqlite3_bind_int64(_sample, 2, (long)(hash ^ 0x8000_0000_0000_0000UL)), "bind");
            Check(raw.sqlite3_bind_blob(_sample, 3, _buffer.AsSpan(0, keyLength)), "bind");
            Check(raw.sqlite3_bind_blob(_sample, 4, vals), "bind");
            Step(_sample);
        }
    }

    /// <summary>
    /// The <paramref name="limit"/> candidates of a root with the smallest hashes (then keys), a page at a time, each
    /// with how many times it was added (its copies).
    /// </summary>
    public IEnumerable<(KeyRow Row, long Copies)> Smallest(int root, long limit)
    {
        long offset = 0;
        while (offset < limit)
        {
            var take = (int)Math.Min(PageSize, limit - offset);
            List<(KeyRow, long)> page = [];
            lock (_lock)
            {
                using var statement = Prepare("SELECT key, vals, copies FROM sample WHERE root = ?1 ORDER BY hash, key LIMIT ?2 OFFSET ?3");
                Check(raw.sqlite3_bind_int(statement, 1, root), "bind");
                Check(raw.sqlite3_bind_int(statement, 2, take), "bind");
                Check(raw.sqlite3_bind_int64(statement, 3, offset), "bind");
                while (raw.sqlite3_step(statement) == raw.SQLITE_ROW)
                {
                    page.Add((new KeyRow(Encoding.UTF8.GetString(raw.sqlite3_column_blob(statement, 0)), Decode(raw.sqlite3_column_blob(statement, 1))),
                        raw.sqlite3_column_int64(statement, 2)));
                }
            }
            foreach (var row in page)
            {
                yield return row;
            }
            if (page.Count < take)
            {
                yield break;
            }
            offset += take;
        }
    }

    /// <summary>
    /// Every row <paramref name="sql"/> selects, a page at a time in key order: each page starts after the last key of
    /// the page before, so rows written between pages do not shift the next one.
    /// </summary>
    IEnumerable<List<(string Id, string?[] Values, bool Down)>> Pages(string sql, int table, int? round)
    {
        byte[]? after = null;
        // In memory: the rows as they are now, in key order; a page skips those that moved to a later round since.
        List<int>? records = null;
        var next = 0;
        lock (_lock)
        {
            if (_memory is { } memory)
            {
                records = memory.Sorted(KeptSet(table), round is int r ? record => memory.Round(record) == r : null);
            }
        }
        while (true)
        {
            var page = MemoryPage(table, records, round, ref next) ?? Page(sql, table, round, after);
            if (page.Count > 0)
            {
                yield return page;
            }
            if (page.Count < PageSize)
            {
                yield break;
            }
            after = Encoding.UTF8.GetBytes(page[^1].Id);
        }
    }

    /// <summary>
    /// The next page of <paramref name="records"/> from <paramref name="next"/> on, those still in round
    /// <paramref name="round"/>; null when the store moved to SQLite since (or never held them in memory).
    /// </summary>
    List<(string Id, string?[] Values, bool Down)>? MemoryPage(int table, List<int>? records, int? round, ref int next)
    {
        lock (_lock)
        {
            if (records is null || _memory is not { } memory)
            {
                return null;
            }
            var page = new List<(string, string?[], bool)>();
            for (; next < records.Count && page.Count < PageSize; next++)
            {
                // The key's record now: a row reached downward since the snapshot has a new one (its new round).
                var record = memory.Current(records[next]);
                if (round is null || memory.Round(record) == round)
                {
                    page.Add((Encoding.UTF8.GetString(memory.Key(record)), Decode(memory.Values(record)), memory.Down(record)));
                }
            }
            return page;
        }
    }

    /// <summary>
    /// Moves every kept row and asked tuple of the first tier to SQLite, in key order, and drops the tier: from now on
    /// SQLite answers. Leaves the buffer as it is (the caller's key and values are in it).
    /// </summary>
    void MoveToSqlite(MemoryKeys memory)
    {
        _memory = null;
        foreach (var set in memory.SetNumbers.Order().ToList())
        {
            var kept = (set & 1) == 0;
            foreach (var record in memory.Sorted(set, lean: true))
            {
                if (kept)
                {
                    Bind(_insertKept, set >> 1, memory.Key(record), memory.Round(record), memory.Values(record));
                    Check(raw.sqlite3_bind_int(_insertKept, 5, memory.Down(record) ? 1 : 0), "bind");
                    Step(_insertKept);
                }
                else
                {
                    Check(raw.sqlite3_bind_int(_ask, 1, set >> 1), "bind");
                    Check(raw.sqlite3_bind_blob(_ask, 2, memory.Key(record)), "bind");
                    Step(_ask);
                }
            }
        }
    }

    /// <summary>The first tier's set of a table's kept rows.</summary>
    static int KeptSet(int table) => table << 1;

    /// <summary>The first tier's set of the tuples asked along an asked-link number.</summary>
    static int AskedSet(int link) => (link << 1) | 1;

    /// <summary>One page of kept rows; the first (<paramref name="after"/> null) starts at the smallest key, even the empty one.</summary>
    List<(string Id, string?[] Values, bool Down)> Page(string sql, int table, int? round, byte[]? after)
    {
        var page = new List<(string, string?[], bool)>();
        lock (_lock)
        {
            using var statement = Prepare(after is null ? sql.Replace("key > ?2", "?2 IS NULL", StringComparison.Ordinal) : sql);
            Check(raw.sqlite3_bind_int(statement, 1, table), "bind");
            if (after is not null)
            {
                Check(raw.sqlite3_bind_blob(statement, 2, after), "bind");
            }
            Check(raw.sqlite3_bind_int(statement, 3, PageSize), "bind");
            if (round is int r)
            {
                Check(raw.sqlite3_bind_int(statement, 4, r), "bind");
            }
            while (raw.sqlite3_step(statement) == raw.SQLITE_ROW)
            {
                page.Add((Encoding.UTF8.GetString(raw.sqlite3_column_blob(statement, 0)), Decode(raw.sqlite3_column_blob(statement, 1)),
                    raw.sqlite3_column_int(statement, 2) == 1));
            }
        }
        return page;
    }

    /// <summary>The UTF-8 bytes of <paramref name="text"/> at the start of the reused buffer.</summary>
    ReadOnlySpan<byte> Utf8(string text)
    {
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_buffer.Length < length * 2 + 64)
        {
            _buffer = new byte[Math.Max(_buffer.Length * 2, length * 2 + 64)];
        }
        return _buffer.AsSpan(0, Encoding.UTF8.GetBytes(text, _buffer));
    }

    /// <summary>Key values as one blob (<see cref="KeyValues"/>) after the first <paramref name="start"/> bytes of the buffer.</summary>
    ReadOnlySpan<byte> Encode(string?[] values, int start)
    {
        var need = start + KeyValues.MaxEncodedLength(values);
        if (_buffer.Length < need)
        {
            Array.Resize(ref _buffer, need * 2);
        }
        return _buffer.AsSpan(start, KeyValues.Encode(values, _buffer.AsSpan(start)));
    }

    static string?[] Decode(ReadOnlySpan<byte> blob) => KeyValues.Decode(blob);

    void Bind(sqlite3_stmt statement, int table, ReadOnlySpan<byte> key, int round, ReadOnlySpan<byte> vals)
    {
        Check(raw.sqlite3_bind_int(statement, 1, table), "bind");
        Check(raw.sqlite3_bind_blob(statement, 2, key), "bind");
        Check(raw.sqlite3_bind_int(statement, 3, round), "bind");
        Check(raw.sqlite3_bind_blob(statement, 4, vals), "bind");
    }

    void Step(sqlite3_stmt statement)
    {
        var rc = raw.sqlite3_step(statement);
        Reset(statement);
        Check(rc == raw.SQLITE_DONE ? raw.SQLITE_OK : rc, "write");
    }

    static void Reset(sqlite3_stmt statement)
    {
        raw.sqlite3_reset(statement);
        raw.sqlite3_clear_bindings(statement);
    }

    sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_db, sql, out var statement), "prepare");
        return statement;
    }

    void Exec(string sql) => Check(raw.sqlite3_exec(_db, sql), "set up");

    void Check(int rc, string what)
    {
        if (rc != raw.SQLITE_OK)
        {
            var message = _db is null ? raw.sqlite3_errstr(rc).utf8_to_string() : raw.sqlite3_errmsg(_db).utf8_to_string();
            // Full disk is the likely one: say where the store lives.
            throw new BridgeException($"subset key store ({_directory}): {what} failed: {message}");
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        lock (_lock)
        {
            _upgrade?.Dispose();
            _insertKept?.Dispose();
            _isKept?.Dispose();
            _ask?.Dispose();
            _sample?.Dispose();
            _rows?.Dispose();
            _bits?.Dispose();
            _db?.Dispose();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is named replica-keys-*.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
