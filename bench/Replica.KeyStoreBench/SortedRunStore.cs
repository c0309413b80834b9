using System.Runtime;
using Microsoft.Win32.SafeHandles;

namespace Replica.KeyStoreBench;

/// <summary>
/// "Sorted runs written here". Half the budget is an open-addressing hash table over a byte arena (the memtable); when it
/// fills it is sorted and written as a run file of 4 KiB blocks ([len][key bytes]..., zero padded). Each run keeps in memory
/// the first key of every block (a sparse index) and a Bloom filter whose bits per key (at most 10) are what the rest of the
/// budget allows. A probe checks the memtable, then each run: filter, binary search of the index, one block read (pread).
/// When four runs share a size tier they are merged into one.
/// </summary>
internal sealed class SortedRunStore : IKeyStore
{
    const int BlockSize = 4096;
    const int MergeWidth = 4;

    readonly string _dir;
    readonly int[] _slots;     // arena offset + 1; 0 = empty
    readonly uint[] _tags;     // high hash bits, to skip most key compares
    readonly byte[] _arena;    // entries [len][bytes]
    readonly int[] _sorted;    // spill scratch
    readonly int _maxMem;
    readonly long _metaBudget;
    readonly List<Run> _runs = [];
    readonly byte[] _block = new byte[BlockSize];
    int _arenaUsed, _memCount, _runSeq;

    public SortedRunStore(string dir, long budget)
    {
        _dir = dir;
        int slots = 1 << 10;
        while ((long)slots * 2 * 8 <= budget / 4)
        {
            slots *= 2;
        }
        _slots = new int[slots];
        _tags = new uint[slots];
        _arena = new byte[budget / 4];
        _maxMem = slots / 4 * 3;
        _sorted = new int[_maxMem];
        _metaBudget = budget - ((long)slots * 8) - _arena.Length - ((long)_maxMem * 4);
    }

    public void Insert(KeyBatch batch, bool[] isNew)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            ReadOnlySpan<byte> key = batch[i];
            ulong h = Keys.Hash(key);
            if (MemFind(key, h, out int slot) || InRuns(key, h))
            {
                isNew[i] = false;
                continue;
            }
            if (_memCount >= _maxMem || _arenaUsed + 1 + key.Length > _arena.Length)
            {
                Spill();
                MemFind(key, h, out slot);
            }
            _arena[_arenaUsed] = (byte)key.Length;
            key.CopyTo(_arena.AsSpan(_arenaUsed + 1));
            _slots[slot] = _arenaUsed + 1;
            _tags[slot] = (uint)(h >> 32);
            _arenaUsed += 1 + key.Length;
            _memCount++;
            isNew[i] = true;
        }
    }

    public void Contains(KeyBatch batch, bool[] found)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            ulong h = Keys.Hash(batch[i]);
            found[i] = MemFind(batch[i], h, out _) || InRuns(batch[i], h);
        }
    }

    public long Enumerate(byte set, KeyVisitor visit)
    {
        var cursors = new List<ICursor> { new MemCursor(_arena, _sorted, SortMem(set)) };
        cursors.AddRange(_runs.Select(r => r.Open(_dir, [set])));
        long n = 0;
        try
        {
            foreach (ReadOnlyMemory<byte> key in Merge(cursors))
            {
                if (key.Span[0] != set)
                {
                    break;
                }
                visit(key.Span[1..]);
                n++;
            }
        }
        finally
        {
            cursors.ForEach(c => c.Dispose());
        }
        return n;
    }

    public long Count() => _memCount + _runs.Sum(r => r.Count);

    public void Dispose() => _runs.ForEach(r => r.Dispose());

    bool MemFind(ReadOnlySpan<byte> key, ulong h, out int slot)
    {
        int mask = _slots.Length - 1;
        uint tag = (uint)(h >> 32);
        for (slot = (int)h & mask; _slots[slot] != 0; slot = (slot + 1) & mask)
        {
            int at = _slots[slot] - 1;
            if (_tags[slot] == tag && _arena.AsSpan(at + 1, _arena[at]).SequenceEqual(key))
            {
                return true;
            }
        }
        return false;
    }

    bool InRuns(ReadOnlySpan<byte> key, ulong h)
    {
        for (int r = _runs.Count - 1; r >= 0; r--)
        {
            if (_runs[r].Contains(key, h, _block))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Sorts the arena offsets of the memtable's keys (of one set, or all when set is null) into _sorted; returns how many.</summary>
    int SortMem(byte? set)
    {
        int n = 0;
        for (int at = 0; at < _arenaUsed; at += 1 + _arena[at])
        {
            if (set is null || _arena[at + 1] == set)
            {
                _sorted[n++] = at;
            }
        }
        Array.Sort(_sorted, 0, n, new ArenaComparer(_arena));
        return n;
    }

    void Spill()
    {
        Run run = Write(Merge([new MemCursor(_arena, _sorted, SortMem(null))]), _memCount, []);
        _runs.Add(run);
        Array.Clear(_slots);
        _arenaUsed = 0;
        _memCount = 0;
        // Size-tiered: merge as soon as MergeWidth runs share a tier (tier = log4 of size in memtables).
        while (true)
        {
            var tier = _runs.GroupBy(r => (int)Math.Log(Math.Max(1.0, (double)r.Count / _maxMem), MergeWidth))
                .FirstOrDefault(g => g.Count() >= MergeWidth);
            if (tier is null)
            {
                break;
            }
            List<Run> inputs = [.. tier];
            var cursors = inputs.Select(r => (ICursor)r.Open(_dir, [])).ToList();
            Run merged = Write(Merge(cursors), inputs.Sum(r => r.Count), inputs);
            cursors.ForEach(c => c.Dispose());
            foreach (Run r in inputs)
            {
                _runs.Remove(r);
                r.Dispose();
                File.Delete(Path.Combine(_dir, r.Name));
            }
            _runs.Add(merged);
        }
        // The old runs' filters and indexes are large-object garbage now: give the memory back before the memtable refills.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect();
    }

    /// <summary>Writes a run; its Bloom filter gets the bits per key that the metadata budget has left (none below 1).</summary>
    Run Write(IEnumerable<ReadOnlyMemory<byte>> keys, long count, List<Run> replaced)
    {
        long metaLeft = _metaBudget - _runs.Except(replaced).Sum(r => r.MetaBytes) - (count * 16 / 200);
        int bitsPerKey = (int)Math.Clamp(metaLeft * 8 / Math.Max(1, count), 0, 10);
        var bloom = bitsPerKey >= 1 ? new Bloom(count * bitsPerKey, bitsPerKey) : null;
        string name = $"run-{_runSeq++:D5}.dat";
        var firstKeys = new MemoryStream((int)Math.Min(int.MaxValue, (count / 200 * 14) + 4096));
        var firstOffsets = new List<int>((int)(count / 200) + 16);
        var block = new byte[BlockSize];
        int pos = 0;
        long n = 0;
        using (var file = new FileStream(Path.Combine(_dir, name), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            foreach (ReadOnlyMemory<byte> key in keys)
            {
                if (pos + 1 + key.Length > BlockSize)
                {
                    Array.Clear(block, pos, BlockSize - pos);
                    file.Write(block);
                    pos = 0;
                }
                if (pos == 0)
                {
                    firstOffsets.Add((int)firstKeys.Length);
                    firstKeys.Write(key.Span);
                }
                block[pos] = (byte)key.Length;
                key.Span.CopyTo(block.AsSpan(pos + 1));
                pos += 1 + key.Length;
                bloom?.Add(Keys.Hash(key.Span));
                n++;
            }
            if (pos > 0)
            {
                Array.Clear(block, pos, BlockSize - pos);
                file.Write(block);
            }
        }
        firstOffsets.Add((int)firstKeys.Length);
        return new Run(name, n, firstKeys.ToArray(), [.. firstOffsets], bloom, File.OpenHandle(Path.Combine(_dir, name)));
    }

    /// <summary>K-way merge of ascending cursors (few of them: a linear scan for the least).</summary>
    static IEnumerable<ReadOnlyMemory<byte>> Merge(List<ICursor> cursors)
    {
        var live = cursors.Where(c => c.Valid).ToList();
        while (live.Count > 0)
        {
            int least = 0;
            for (int i = 1; i < live.Count; i++)
            {
                if (live[i].Current.Span.SequenceCompareTo(live[least].Current.Span) < 0)
                {
                    least = i;
                }
            }
            yield return live[least].Current;
            if (!live[least].MoveNext())
            {
                live.RemoveAt(least);
            }
        }
    }

    sealed class ArenaComparer(byte[] arena) : IComparer<int>
    {
        public int Compare(int x, int y) => arena.AsSpan(x + 1, arena[x]).SequenceCompareTo(arena.AsSpan(y + 1, arena[y]));
    }

    interface ICursor : IDisposable
    {
        bool Valid { get; }

        ReadOnlyMemory<byte> Current { get; }

        bool MoveNext();
    }

    sealed class MemCursor(byte[] arena, int[] sorted, int count) : ICursor
    {
        int _i;

        public bool Valid => _i < count;

        public ReadOnlyMemory<byte> Current => arena.AsMemory(sorted[_i] + 1, arena[sorted[_i]]);

        public bool MoveNext() => ++_i < count;

        public void Dispose() { }
    }

    /// <summary>Reads a run file block by block from the block that may hold <c>from</c>, skipping keys below it.</summary>
    sealed class RunCursor : ICursor
    {
        readonly FileStream _file;
        readonly byte[] _block = new byte[BlockSize];
        int _pos;

        public RunCursor(string path, long startBlock, ReadOnlySpan<byte> from)
        {
            _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            _file.Position = startBlock * BlockSize;
            Valid = LoadBlock();
            while (Valid && Current.Span.SequenceCompareTo(from) < 0)
            {
                MoveNext();
            }
        }

        public bool Valid { get; private set; }

        public ReadOnlyMemory<byte> Current => _block.AsMemory(_pos + 1, _block[_pos]);

        public bool MoveNext()
        {
            _pos += 1 + _block[_pos];
            if (_pos >= BlockSize || _block[_pos] == 0)
            {
                Valid = LoadBlock();
            }
            return Valid;
        }

        bool LoadBlock()
        {
            _pos = 0;
            return _file.ReadAtLeast(_block, BlockSize, throwOnEndOfStream: false) == BlockSize;
        }

        public void Dispose() => _file.Dispose();
    }

    sealed class Run(string name, long count, byte[] firstKeys, int[] firstOffsets, Bloom? bloom, SafeFileHandle handle) : IDisposable
    {
        public string Name => name;

        public long Count => count;

        public long MetaBytes => firstKeys.Length + (firstOffsets.Length * 4L) + (bloom?.Bytes ?? 0);

        int Blocks => firstOffsets.Length - 1;

        ReadOnlySpan<byte> First(int b) => firstKeys.AsSpan(firstOffsets[b], firstOffsets[b + 1] - firstOffsets[b]);

        /// <summary>The last block whose first key is at most key, or -1.</summary>
        int BlockFor(ReadOnlySpan<byte> key)
        {
            int lo = 0, hi = Blocks - 1, found = -1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (First(mid).SequenceCompareTo(key) <= 0)
                {
                    found = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            return found;
        }

        public bool Contains(ReadOnlySpan<byte> key, ulong h, byte[] block)
        {
            if (bloom is not null && !bloom.MayContain(h))
            {
                return false;
            }
            int b = BlockFor(key);
            if (b < 0)
            {
                return false;
            }
            RandomAccess.Read(handle, block, (long)b * BlockSize);
            for (int pos = 0; pos < BlockSize && block[pos] != 0; pos += 1 + block[pos])
            {
                int c = block.AsSpan(pos + 1, block[pos]).SequenceCompareTo(key);
                if (c >= 0)
                {
                    return c == 0;
                }
            }
            return false;
        }

        public RunCursor Open(string dir, ReadOnlySpan<byte> from) => new(Path.Combine(dir, name), Math.Max(0, BlockFor(from)), from);

        public void Dispose() => handle.Dispose();
    }

    sealed class Bloom
    {
        readonly ulong[] _bits;
        readonly int _probes;

        public Bloom(long bits, int bitsPerKey)
        {
            _bits = new ulong[Math.Max(1, (bits + 63) / 64)];
            _probes = Math.Max(1, (int)Math.Round(bitsPerKey * 0.69));
        }

        public long Bytes => _bits.Length * 8L;

        public void Add(ulong h)
        {
            ulong m = (ulong)_bits.Length * 64, a = h, step = (h >> 32) | 1;
            for (int i = 0; i < _probes; i++, a += step)
            {
                ulong bit = a % m;
                _bits[bit >> 6] |= 1UL << (int)(bit & 63);
            }
        }

        public bool MayContain(ulong h)
        {
            ulong m = (ulong)_bits.Length * 64, a = h, step = (h >> 32) | 1;
            for (int i = 0; i < _probes; i++, a += step)
            {
                ulong bit = a % m;
                if ((_bits[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
                {
                    return false;
                }
            }
            return true;
        }
    }
}
