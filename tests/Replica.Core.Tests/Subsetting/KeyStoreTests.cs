using System.Text;
using Replica.Subsetting;

namespace Replica.Core.Tests.Subsetting;

/// <summary>The subset key store: dedupe, upgrade to downward, rounds, order by UTF-8 bytes, spilling, clean-up.</summary>
public class KeyStoreTests
{
    [Fact]
    public void Reach_SameKeyTwice_IsNewOnceAndCountedOnce()
    {
        using var store = new KeyStore(4 << 20);
        Assert.True(store.Reach(0, "42", ["42", null], down: false, round: 1));
        Assert.False(store.Reach(0, "42", ["42", null], down: false, round: 1));
        Assert.True(store.Reach(1, "42", ["42"], down: false, round: 1));
        Assert.Equal(1, store.KeptCount(0));
        Assert.True(store.IsKept(0, "42"));
        Assert.False(store.IsKept(0, "43"));
    }

    [Fact]
    public void Reach_UpwardRowReachedDownward_WaitsAgainAsDownward()
    {
        using var store = new KeyStore(4 << 20);
        Assert.True(store.Reach(0, "7", ["7", "x"], down: false, round: 1));
        Assert.True(store.Reach(0, "7", ["7", "x"], down: true, round: 3));
        Assert.False(store.Reach(0, "7", ["7", "x"], down: true, round: 4));
        Assert.False(store.Reach(0, "7", ["7", "x"], down: false, round: 4));
        Assert.Empty(store.Pending(0, 1).SelectMany(page => page));
        var pending = Assert.Single(store.Pending(0, 3).SelectMany(page => page));
        Assert.Equal(("7", true), (pending.Id, pending.Down));
        Assert.Equal<string?>(["7", "x"], pending.Values.AsEnumerable());
        Assert.Equal(1, store.KeptCount(0));
    }

    [Fact]
    public void Kept_OrdersByUtf8Bytes()
    {
        using var store = new KeyStore(4 << 20);
        // UTF-16 order would put U+FF21 after U+1F600's surrogates; UTF-8 bytes put it before.
        string[] keys = ["b", "a", "\U0001F600", "\uFF21", "ab", "", "A"];
        foreach (var key in keys)
        {
            store.Reach(0, key, [key], down: true, round: 1);
        }
        var expected = keys.OrderBy(k => Encoding.UTF8.GetBytes(k), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();
        Assert.Equal(expected, store.Kept(0));
    }

    [Fact]
    public void Store_BeyondItsBudget_SpillsAndStaysExact()
    {
        using var store = new KeyStore(1 << 20);
        const int Count = 300_000;
        var newOnes = 0;
        // Every key twice, in an order that is not sorted.
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < Count; i++)
            {
                var key = ((i * 7919L) % Count).ToString("D9", System.Globalization.CultureInfo.InvariantCulture);
                newOnes += store.Reach(0, key, [key, "some other value"], down: true, round: 1) ? 1 : 0;
                newOnes += store.Ask(5, key) ? 1 : 0;
            }
        }
        Assert.Equal(2 * Count, newOnes);
        Assert.Equal(Count, store.KeptCount(0));
        Assert.True(store.DiskBytes > 4 << 20, $"{store.DiskBytes} bytes on disk: the store did not spill");
        var previous = "";
        var seen = 0;
        foreach (var key in store.Kept(0))
        {
            Assert.True(string.CompareOrdinal(previous, key) < 0);
            previous = key;
            seen++;
        }
        Assert.Equal(Count, seen);
        Assert.True(store.IsKept(0, "000123456"));
        Assert.False(store.IsKept(0, "000300000"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void MemoryTier_AnswersAsSqliteDoes_WhereverTheMoveFalls(int seed)
    {
        // The same questions to a store that starts in SQLite (the reference), ones whose memory tier moves to SQLite
        // early or midway (some while a round's pages are read), and one that never moves: every answer the same.
        var reference = Transcript(seed, 0, out _);
        foreach (var (tier, moves) in new[] { (3_000L, true), (12_000L, true), (1L << 30, false) })
        {
            Assert.Equal(reference, Transcript(seed, tier, out var inMemory));
            Assert.Equal(!moves, inMemory);
        }
    }

    [Theory]
    [InlineData(5, 870_000L)]
    [InlineData(6, 840_000L)]
    [InlineData(7, 1L << 30)]
    public void MemoryTier_OverSeveralPages_AnswersAsSqliteDoes(int seed, long tier)
    {
        // Rounds of more rows than a page, rows reached downward while earlier pages are read (they move to the next
        // round and must not come again in this one), and the move to SQLite between two pages of a round.
        var reference = Transcript(seed, 0, out _, keys: 30_000, first: 30_000, perPage: 700);
        Assert.Equal(reference, Transcript(seed, tier, out var inMemory, keys: 30_000, first: 30_000, perPage: 700));
        Assert.Equal(tier == 1L << 30, inMemory);
    }

    /// <summary>What a store answers to a closure-like run of random questions (see the theory above).</summary>
    static List<string> Transcript(int seed, long tier, out bool inMemory, int keys = 400, int first = 300, int perPage = 60)
    {
        var random = new Random(seed);
        var answers = new List<string>();
        using var store = new KeyStore(4 << 20, null, tier);
        string Key() => random.Next(14) switch
        {
            0 => "",
            // Keys that share their first eight bytes, or differ only in trailing NULs (the memory tier sorts by eight-byte prefixes first).
            4 => "customer:" + random.Next(30).ToString(System.Globalization.CultureInfo.InvariantCulture),
            5 => (random.Next(2) == 0 ? "ab" : "abcdefgh") + new string('\0', random.Next(3)),
            1 => "\u00e9" + random.Next(50).ToString(System.Globalization.CultureInfo.InvariantCulture),
            2 => "\U0001F600" + random.Next(50).ToString(System.Globalization.CultureInfo.InvariantCulture),
            3 => "a\0" + random.Next(20).ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => random.Next(keys).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        string?[] Values(string key) => random.Next(4) == 0 ? [key, null] : [key, "v" + random.Next(9).ToString(System.Globalization.CultureInfo.InvariantCulture)];
        void Reach(int round)
        {
            var table = random.Next(3);
            var key = Key();
            var down = random.Next(2) == 0;
            answers.Add($"reach {table} {key} {down}: {store.Reach(table, key, Values(key), down, round)}");
        }
        for (var i = 0; i < first; i++)
        {
            Reach(1);
        }
        for (var round = 1; round <= 4; round++)
        {
            for (var table = 0; table < 3; table++)
            {
                foreach (var page in store.Pending(table, round))
                {
                    answers.Add($"page {table} {round}: " + string.Join(" ", page.Select(p => $"{p.Id}/{string.Join(",", p.Values)}/{p.Down}")));
                    // While the round's rows are read: new rows and upgrades for the next round, asked tuples, lookups.
                    for (var i = 0; i < perPage; i++)
                    {
                        Reach(round + 1);
                        var link = random.Next(4);
                        var tuple = Key();
                        answers.Add($"ask {link} {tuple}: {store.Ask(link, tuple)}");
                        var kept = Key();
                        answers.Add($"kept {table} {kept}: {store.IsKept(table, kept)}");
                    }
                }
                answers.Add($"count {table}: {store.KeptCount(table)}");
            }
        }
        for (var table = 0; table < 4; table++)
        {
            answers.Add($"all {table}: " + string.Join(" ", store.Kept(table)));
        }
        inMemory = store.InMemory;
        return answers;
    }

    [Fact]
    public void Smallest_TakesTheLimitByHashThenKey_OverSeveralPages()
    {
        using var store = new KeyStore(4 << 20);
        for (var i = 0; i < 12_000; i++)
        {
            var id = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // Hashes near both ends of the range: the store must order them as unsigned.
            var hash = i % 2 == 0 ? (ulong)i : ulong.MaxValue - (ulong)i;
            store.AddSample(2, hash, new KeyRow(id, [id]));
        }
        store.AddSample(3, 0, new KeyRow("other root", ["x"]));
        var smallest = store.Smallest(2, 6_001).Select(r => r.Row.Id).ToList();
        Assert.Equal(6_001, smallest.Count);
        Assert.Equal(Enumerable.Range(0, 6_000).Select(i => (i * 2).ToString(System.Globalization.CultureInfo.InvariantCulture)), smallest.Take(6_000));
        Assert.Equal("11999", smallest[^1]);
    }

    [Fact]
    public void Smallest_CandidateAddedAgain_CountsItsCopies()
    {
        // Rows without a primary key of the same content share one identity: a limit counts their copies.
        using var store = new KeyStore(4 << 20);
        for (var copy = 0; copy < 3; copy++)
        {
            store.AddSample(0, 5, new KeyRow("thrice", ["thrice"]));
        }
        store.AddSample(0, 1, new KeyRow("once", ["once"]));
        store.AddSample(1, 5, new KeyRow("thrice", ["thrice"]));

        Assert.Equal([("once", 1L), ("thrice", 3L)], store.Smallest(0, 10).Select(s => (s.Row.Id, s.Copies)));
        Assert.Equal([("once", 1L)], store.Smallest(0, 1).Select(s => (s.Row.Id, s.Copies)));
        Assert.Equal([("thrice", 1L)], store.Smallest(1, 10).Select(s => (s.Row.Id, s.Copies)));
    }

    [Fact]
    public void FileRows_RecordedSeveralTimes_ReadEveryCopyAndKeepTheFirstCopiesACapAllows()
    {
        using var store = new KeyStore(4 << 20);
        string[] ids = ["dup", "one", "dup", "other", "other", "dup"];
        for (var number = 0; number < ids.Length; number++)
        {
            AddRow(store, 0, ids[number], [ids[number]], number);
        }

        Assert.Equal(["dup", "one", "other"], store.Rows(0).Select(r => r.Id));
        Assert.Equal(["dup", "dup", "dup", "one", "other", "other"], store.Rows(0, everyCopy: true).Select(r => r.Id));
        store.Reach(0, "dup", ["dup"], down: true, round: 1);
        store.Reach(0, "other", ["other"], down: true, round: 1);
        Assert.Equal([0L, 2, 3, 4, 5], store.KeptRowNumbers(0).Order());
        // Two copies of dup: its first two by row number; other has no cap, one never kept.
        Assert.Equal([0L, 2, 3, 4], store.KeptRowNumbers(0, new Dictionary<string, long> { ["dup"] = 2, ["one"] = 1 }).Order());
    }

    [Fact]
    public void FileRows_BeyondTheBudget_SpillSortedRunsAndAnswerLikeAnIndex()
    {
        using var store = new KeyStore(1 << 20);
        const int Count = 200_000;
        // Rows in an order that is not sorted, each with a parent tuple (many rows share one) and a NULL value; every
        // tenth row recorded twice (a table without a primary key, identical rows).
        var oracle = new Dictionary<string, string?[]>();
        var numbers = new Dictionary<string, List<long>>();
        long number = 0;
        for (var i = 0; i < Count; i++)
        {
            var n = (int)((i * 7919L) % Count);
            var id = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var parent = "p" + (n % 5000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            string?[] values = [id, parent, null];
            for (var copy = 0; copy < (n % 10 == 0 ? 2 : 1); copy++)
            {
                numbers.TryAdd(id, []);
                numbers[id].Add(number);
                AddRow(store, 3, id, values, number++);
                AddRef(store, 3, 0, parent, id, values);
            }
            oracle[id] = values;
        }
        AddRow(store, 4, "other table", ["x"], number++);
        Assert.True(store.DiskBytes > 4 << 20, $"{store.DiskBytes} bytes on disk: the rows did not spill");

        var rows = store.Rows(3).ToList();
        Assert.Equal(oracle.Keys.Order(StringComparer.Ordinal), rows.Select(r => r.Id));
        Assert.All(rows, r => Assert.Equal<string?>(oracle[r.Id].AsEnumerable(), r.Values.AsEnumerable()));
        Assert.Equal<string?>(["123", "p123", null], store.Row(3, "123")!.Value.Values.AsEnumerable());
        Assert.Null(store.Row(3, "200000"));
        Assert.Null(store.Row(4, "123"));
        var children = store.Matching(3, 0, "p42");
        Assert.Equal(Enumerable.Range(0, 40).Select(k => 42 + k * 5000).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal),
            children.Select(r => r.Id).Distinct().Order(StringComparer.Ordinal));
        Assert.All(children, r => Assert.Equal("p42", r.Values[1]));
        Assert.Empty(store.Matching(3, 0, "p5000"));
        Assert.Empty(store.Matching(3, 1, "p42"));
        Assert.Equal("other table", Assert.Single(store.Rows(4)).Id);

        // File mode's last pass: the numbers of the kept rows, both copies of a row recorded twice, none of a row not recorded.
        var kept = oracle.Keys.Where(id => int.Parse(id, System.Globalization.CultureInfo.InvariantCulture) % 7 == 0).Append("not recorded").ToList();
        foreach (var id in kept)
        {
            store.Reach(3, id, [id], down: true, round: 1);
        }
        Assert.Equal(kept.Where(numbers.ContainsKey).SelectMany(id => numbers[id]).Order(), store.KeptRowNumbers(3).Order());
        Assert.Empty(store.KeptRowNumbers(4));
    }

    [Fact]
    public void FileRows_KeysByUtf8BytesAndTuplesWithNulBytes_StayApart()
    {
        using var store = new KeyStore(4 << 20);
        // A MySQL binary key may hold NUL bytes: a tuple that extends another after a NUL is another tuple.
        string[] keys = ["b", "a", "\U0001F600", "\uFF21", "ab", "", "A", "a\0", "a\0b"];
        foreach (var key in keys)
        {
            AddRow(store, 0, key, [key], 0);
            AddRef(store, 0, 0, key, key, [key]);
        }
        var expected = keys.OrderBy(k => Encoding.UTF8.GetBytes(k), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();
        Assert.Equal(expected, store.Rows(0).Select(r => r.Id));
        foreach (var key in keys)
        {
            Assert.Equal(key, Assert.Single(store.Matching(0, 0, key)).Id);
        }
        Assert.Throws<InvalidOperationException>(() => AddRow(store, 0, "late", ["late"], 1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FileRows_KeysSortedReversedEqualAndSharingPrefixes_ReadBackInByteThenAppendOrder(bool heapSortOnly)
    {
        // Keys in the orders a run meets: ascending, descending, all equal, random with repeats; short keys that differ
        // only past their 8-byte prefix or by trailing NULs, and longer ones that share the prefix.
        var keys = new List<string>();
        keys.AddRange(Enumerable.Range(0, 3000).Select(i => i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)));
        keys.AddRange(Enumerable.Range(0, 3000).Select(i => (9999 - i).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        keys.AddRange(Enumerable.Repeat("same", 2000));
        var random = new Random(11);
        keys.AddRange(Enumerable.Range(0, 6000).Select(_ => random.Next(500).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        keys.AddRange(["abcdefgh", "abcdefghi", "abcdefgh\0", "abcdefg", "a", "a\0", "a\0\0", "", "abcdefgh\0x", "abcdefgi", "ab\u00e9"]);
        keys.AddRange(Enumerable.Range(0, 2000).Select(i => "abcdefgh" + (i % 300).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        SortedRunsSetting(heapSortOnly);
        try
        {
            using var store = new KeyStore(1 << 20);
            for (var i = 0; i < keys.Count; i++)
            {
                var n = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                AddRow(store, 0, keys[i], [keys[i], n], i);
                AddRef(store, 0, 0, keys[i], "r" + n, [keys[i], n]);
            }
            var byteOrder = Comparer<string>.Create((a, b) => Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b)));
            // Rows: each key once, the first appended, in byte order.
            var rows = store.Rows(0).ToList();
            Assert.Equal(keys.Distinct().Order(byteOrder), rows.Select(r => r.Id));
            Assert.All(rows, r => Assert.Equal(keys.IndexOf(r.Id).ToString(System.Globalization.CultureInfo.InvariantCulture), r.Values[1]));
            // References: every record of a key, in the order appended.
            foreach (var key in new[] { "same", "abcdefgh", "a\0", "", "42", "abcdefgh7" })
            {
                Assert.Equal(Enumerable.Range(0, keys.Count).Where(i => keys[i] == key).Select(i => "r" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    store.Matching(0, 0, key).Select(r => r.Id));
            }
        }
        finally
        {
            SortedRunsSetting(false);
        }
    }

    static void SortedRunsSetting(bool heapSortOnly) => SortedRuns.HeapSortOnly = heapSortOnly;

    [Fact]
    public void Dispose_RemovesTheTempDirectory()
    {
        var parent = Directory.CreateTempSubdirectory("replica-keystore-test-").FullName;
        try
        {
            var store = new KeyStore(4 << 20, parent);
            store.Reach(0, "1", ["1"], down: true, round: 1);
            Assert.True(Directory.Exists(store.DirectoryPath));
            Assert.StartsWith(parent, store.DirectoryPath, StringComparison.Ordinal);
            store.Dispose();
            Assert.Empty(Directory.EnumerateFileSystemEntries(parent));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    /// <summary>Records a row as pass 2 does, from its values as UTF-8 bytes (RowKeyBytes).</summary>
    static void AddRow(KeyStore store, int table, string id, string?[] values, long number) =>
        store.AddRow(table, Encoding.UTF8.GetBytes(id), RowKeyBytesTests.Read(values).Values, number);

    static void AddRef(KeyStore store, int table, int columns, string tuple, string id, string?[] values) =>
        store.AddRef(table, columns, Encoding.UTF8.GetBytes(tuple), Encoding.UTF8.GetBytes(id), RowKeyBytesTests.Read(values).Values);
}
