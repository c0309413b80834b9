using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Replica.Subsetting;

/// <summary>
/// The key store's first tier: sets of byte keys, each key with a small record (its round, whether it was reached
/// downward, its key values), in pages of one arena with an open-addressing index per set. Holds what a closure of a
/// few million rows knows in a few tens of MiB, at a hash lookup a question instead of a SQLite statement; the store
/// moves everything to SQLite once and for all when <see cref="TryAdd"/> would pass the limit (<see cref="KeyStore"/>).
/// Not thread-safe: the store's lock guards it.
/// </summary>
/// <remarks>
/// A record: the key's 32-bit hash, the round (int32), flags (one byte: down, replaced), the key's and the values'
/// lengths (LEB128), the key, the values (<see cref="KeyValues"/>). A record never spans pages; a slot holds its page
/// and offset plus one (0: empty). Changing a record's values appends a new record and points the slot at it: the old
/// bytes stay until the tier is dropped, counted against the limit like the rest, and the old record's round becomes
/// its successor (<see cref="Current"/>).
/// </remarks>
internal sealed class MemoryKeys
{
    const int PageBits = 18;
    const int PageBytes = 1 << PageBits;
    const int Header = 9;
    const byte DownFlag = 1;
    const byte Replaced = 2;
    // A record's page and offset are one int (plus one in a slot): at most 2 GiB of pages, whatever the budget.
    const int MaxPages = (int.MaxValue >> PageBits) - 1;

    /// <summary>The largest record a page takes; a larger key sends the store to SQLite.</summary>
    public const int MaxRecord = PageBytes / 4;

    readonly long _limit;
    readonly List<byte[]> _pages = [];
    readonly Dictionary<int, Set> _sets = [];
    int _used = PageBytes;
    long _bytes;

    /// <param name="limit">Bytes the records and indexes may take (the pages hold them, plus at most one page's free end).</param>
    public MemoryKeys(long limit) => _limit = limit;

    /// <summary>Bytes the records and indexes take now.</summary>
    public long Bytes => _bytes;

    /// <summary>The sets held, by their number (the store numbers tables and asked links apart).</summary>
    public IEnumerable<int> SetNumbers => _sets.Keys;

    sealed class Set
    {
        public int[] Slots = new int[64];
        public int Count;
    }

    /// <summary>The record of <paramref name="key"/> in set <paramref name="set"/>, or -1.</summary>
    public int Find(int set, ReadOnlySpan<byte> key)
    {
        if (!_sets.TryGetValue(set, out var s))
        {
            return -1;
        }
        var hash = Hash(key);
        var mask = s.Slots.Length - 1;
        for (var i = (int)hash & mask; ; i = (i + 1) & mask)
        {
            var slot = s.Slots[i];
            if (slot == 0)
            {
                return -1;
            }
            if (Matches(slot - 1, hash, key))
            {
                return slot - 1;
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="key"/> to set <paramref name="set"/> with its record, or, when <paramref name="replace"/>
    /// is a record of that key (<see cref="Find"/>), points the key at the new record. False when the tier would pass
    /// its limit (nothing changed).
    /// </summary>
    public bool TryAdd(int set, ReadOnlySpan<byte> key, int round, bool down, ReadOnlySpan<byte> values, int replace = -1)
    {
        var length = Header + 2 * KeyValues.MaxVarintBytes + key.Length + values.Length;
        if (length > MaxRecord)
        {
            return false;
        }
        if (!_sets.TryGetValue(set, out var s))
        {
            if (_bytes + 64 * sizeof(int) > _limit)
            {
                return false;
            }
            _sets[set] = s = new Set();
            _bytes += 64 * sizeof(int);
        }
        if (_used + length > PageBytes && _pages.Count >= MaxPages)
        {
            return false;
        }
        var grow = replace < 0 && (s.Count + 1) * 2 > s.Slots.Length;
        if (_bytes + length + (grow ? s.Slots.Length * sizeof(int) : 0) > _limit)
        {
            return false;
        }
        if (grow)
        {
            Grow(s);
        }
        if (_used + length > PageBytes)
        {
            _pages.Add(new byte[PageBytes]);
            _used = 0;
        }
        var hash = Hash(key);
        var record = ((_pages.Count - 1) << PageBits) | _used;
        var to = _pages[^1].AsSpan(_used);
        BinaryPrimitives.WriteUInt32LittleEndian(to, hash);
        BinaryPrimitives.WriteInt32LittleEndian(to[4..], round);
        to[8] = down ? DownFlag : (byte)0;
        var at = Header;
        at += KeyValues.WriteVarint(to[at..], (ulong)key.Length);
        at += KeyValues.WriteVarint(to[at..], (ulong)values.Length);
        key.CopyTo(to[at..]);
        values.CopyTo(to[(at + key.Length)..]);
        _used += at + key.Length + values.Length;
        _bytes += at + key.Length + values.Length;

        var mask = s.Slots.Length - 1;
        for (var i = (int)hash & mask; ; i = (i + 1) & mask)
        {
            if (s.Slots[i] == 0)
            {
                s.Slots[i] = record + 1;
                s.Count++;
                return true;
            }
            if (s.Slots[i] == replace + 1)
            {
                s.Slots[i] = record + 1;
                // The old record points at its successor (Current), in place of its round.
                var old = Span(replace);
                old[8] |= Replaced;
                BinaryPrimitives.WriteInt32LittleEndian(old[4..], record);
                return true;
            }
        }
    }

    /// <summary>The round of a record that holds its key now (<see cref="Find"/>, <see cref="Current"/>).</summary>
    public int Round(int record) => BinaryPrimitives.ReadInt32LittleEndian(Span(record)[4..]);

    /// <summary>Whether a record was reached downward.</summary>
    public bool Down(int record) => (Span(record)[8] & DownFlag) != 0;

    /// <summary>
    /// The record that holds <paramref name="record"/>'s key now: itself, or the one that replaced it (a record
    /// replaced by <see cref="TryAdd"/> keeps its successor where its round was). What <see cref="Find"/> of its key
    /// answers, without hashing and probing.
    /// </summary>
    public int Current(int record)
    {
        while ((Span(record)[8] & Replaced) != 0)
        {
            record = BinaryPrimitives.ReadInt32LittleEndian(Span(record)[4..]);
        }
        return record;
    }

    /// <summary>A record's key.</summary>
    public ReadOnlySpan<byte> Key(int record)
    {
        ReadOnlySpan<byte> span = Span(record)[Header..];
        var keyLength = (int)KeyValues.ReadVarint(ref span);
        _ = KeyValues.ReadVarint(ref span);
        return span[..keyLength];
    }

    /// <summary>A record's key values (<see cref="KeyValues"/>).</summary>
    public ReadOnlySpan<byte> Values(int record)
    {
        ReadOnlySpan<byte> span = Span(record)[Header..];
        var keyLength = (int)KeyValues.ReadVarint(ref span);
        var valuesLength = (int)KeyValues.ReadVarint(ref span);
        return span.Slice(keyLength, valuesLength);
    }

    /// <summary>Every record of set <paramref name="set"/> for which <paramref name="keep"/> holds, ordered by key bytes.</summary>
    /// <param name="lean">
    /// Compares whole keys instead of sorting by prefixes first (<see cref="SortByKey"/>), which takes 8 bytes a record
    /// beside the tier: for the move to SQLite, which comes when the tier is full.
    /// </param>
    public List<int> Sorted(int set, Func<int, bool>? keep = null, bool lean = false)
    {
        var records = new List<int>();
        if (_sets.TryGetValue(set, out var s))
        {
            foreach (var slot in s.Slots)
            {
                if (slot != 0 && (keep is null || keep(slot - 1)))
                {
                    records.Add(slot - 1);
                }
            }
        }
        if (lean)
        {
            records.Sort((a, b) => Key(a).SequenceCompareTo(Key(b)));
        }
        else
        {
            SortByKey(CollectionsMarshal.AsSpan(records));
        }
        return records;
    }

    /// <summary>
    /// Sorts records by key bytes: first by each key's first eight bytes as one big-endian number (a primitive sort,
    /// without decoding two records a comparison), then each run of equal numbers by whole keys. Zero-padding keeps the
    /// numbers in key order (a shorter key pads with the smallest byte), so only keys that share their first eight
    /// bytes, or differ in trailing NULs, are compared whole.
    /// </summary>
    void SortByKey(Span<int> records)
    {
        var prefixes = new ulong[records.Length];
        for (var i = 0; i < records.Length; i++)
        {
            prefixes[i] = Prefix(Key(records[i]));
        }
        prefixes.AsSpan().Sort(records);
        for (var start = 0; start < records.Length;)
        {
            var end = start + 1;
            while (end < records.Length && prefixes[end] == prefixes[start])
            {
                end++;
            }
            if (end - start > 1)
            {
                records[start..end].Sort((a, b) => Key(a).SequenceCompareTo(Key(b)));
            }
            start = end;
        }
    }

    static ulong Prefix(ReadOnlySpan<byte> key)
    {
        if (key.Length >= sizeof(ulong))
        {
            return BinaryPrimitives.ReadUInt64BigEndian(key);
        }
        Span<byte> padded = stackalloc byte[sizeof(ulong)];
        padded.Clear();
        key.CopyTo(padded);
        return BinaryPrimitives.ReadUInt64BigEndian(padded);
    }

    Span<byte> Span(int record) => _pages[record >> PageBits].AsSpan(record & (PageBytes - 1));

    bool Matches(int record, uint hash, ReadOnlySpan<byte> key)
    {
        var span = Span(record);
        return BinaryPrimitives.ReadUInt32LittleEndian(span) == hash && Key(record).SequenceEqual(key);
    }

    void Grow(Set s)
    {
        var slots = new int[s.Slots.Length * 2];
        var mask = slots.Length - 1;
        foreach (var slot in s.Slots)
        {
            if (slot == 0)
            {
                continue;
            }
            var i = (int)BinaryPrimitives.ReadUInt32LittleEndian(Span(slot - 1)) & mask;
            while (slots[i] != 0)
            {
                i = (i + 1) & mask;
            }
            slots[i] = slot;
        }
        _bytes += (slots.Length - s.Slots.Length) * sizeof(int);
        s.Slots = slots;
    }

    static uint Hash(ReadOnlySpan<byte> key) => (uint)XxHash3.HashToUInt64(key);
}
