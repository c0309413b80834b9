using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Replica.Subsetting;

/// <summary>
/// Records of (stream, key, value) that are written once, then read by key: appended in any order to an in-memory run
/// of at most the memory budget, each full run sorted and written to a file in the store's directory, and on the first
/// read the runs merged into one sorted file, of which a sparse index (the first record of each block) stays in memory.
/// Order: stream, then key by its bytes (memcmp, so UTF-8 text sorts by code point), then the order of the appends, so
/// the first of equal keys is read first. Per record a write is an append; the sort moves 24-byte entries by an 8-byte
/// key prefix; the merge and the writes are sequential. Not thread-safe: one writer, then readers on one thread.
/// </summary>
/// <remarks>
/// Why not indexed inserts (SQLite): a dump file's every row goes through here, and a B-tree insert per row ran at
/// ~100k rows/s; appends and one sort per run are what bench/results/issue11-keystore-2026-12-03.md measured at 755k
/// keys/s (the sorted-runs candidate), and file mode's lookups come in batches sorted by key, which read one block after
/// another. bench/results/issue11-keys-sorted-2026-12-03.md has the end-to-end figures.
/// </remarks>
internal sealed unsafe class SortedRuns : IDisposable
{
    /// <summary>A record's place in the in-memory run: at <see cref="Offset"/> in the arena, the key, its value's length (32 bits) and the value.</summary>
    record struct Entry(ulong Prefix, int Stream, int Offset, int KeyLength);

    /// <summary>Orders entries by stream, key prefix, key, then arena offset (the order of the appends): a total order.</summary>
    static int Compare(in Entry a, in Entry b, byte* arena)
    {
        if (a.Stream != b.Stream)
        {
            return a.Stream < b.Stream ? -1 : 1;
        }
        if (a.Prefix != b.Prefix)
        {
            return a.Prefix < b.Prefix ? -1 : 1;
        }
        if (a.KeyLength > 8 || b.KeyLength > 8)
        {
            var order = new ReadOnlySpan<byte>(arena + a.Offset, a.KeyLength).SequenceCompareTo(new ReadOnlySpan<byte>(arena + b.Offset, b.KeyLength));
            if (order != 0)
            {
                return order;
            }
        }
        else if (a.KeyLength != b.KeyLength)
        {
            // Equal zero-padded prefixes of keys of up to 8 bytes: the shorter key is a prefix of the longer.
            return a.KeyLength < b.KeyLength ? -1 : 1;
        }
        return a.Offset.CompareTo(b.Offset);
    }

    /// <summary>
    /// Sorts the run's entries (introsort: quicksort on a median of three, insertion sort below 16 entries, heapsort
    /// past a depth of 2 log n). Span.Sort with a comparer calls it through a delegate per comparison; this inlines it.
    /// </summary>
    static void Sort(Span<Entry> entries, byte* arena) =>
        IntroSort(entries, HeapSortOnly ? 0 : 2 * (BitOperations.Log2((uint)Math.Max(1, entries.Length)) + 1), arena);

    /// <summary>A setting for tests: every run sorts by the heapsort that is otherwise the quicksort's rare fallback.</summary>
    internal static bool HeapSortOnly { get; set; }

    static void IntroSort(Span<Entry> entries, int depth, byte* arena)
    {
        while (entries.Length > 16)
        {
            if (depth-- == 0)
            {
                HeapSort(entries, arena);
                return;
            }
            var last = entries.Length - 1;
            var middle = last >> 1;
            // The median of the first, middle and last entries goes to the end, as the pivot.
            SwapIfGreater(entries, 0, middle, arena);
            SwapIfGreater(entries, 0, last, arena);
            SwapIfGreater(entries, middle, last, arena);
            (entries[middle], entries[last - 1]) = (entries[last - 1], entries[middle]);
            var pivot = entries[last - 1];
            int left = 0, right = last - 1;
            while (true)
            {
                while (Compare(entries[++left], pivot, arena) < 0)
                {
                }
                while (Compare(pivot, entries[--right], arena) < 0)
                {
                }
                if (left >= right)
                {
                    break;
                }
                (entries[left], entries[right]) = (entries[right], entries[left]);
            }
            (entries[left], entries[last - 1]) = (entries[last - 1], entries[left]);
            // The smaller side recursively, the larger one in this loop: the stack stays at log n.
            if (left < entries.Length - left)
            {
                IntroSort(entries[..left], depth, arena);
                entries = entries[(left + 1)..];
            }
            else
            {
                IntroSort(entries[(left + 1)..], depth, arena);
                entries = entries[..left];
            }
        }
        for (var i = 1; i < entries.Length; i++)
        {
            var entry = entries[i];
            var j = i - 1;
            while (j >= 0 && Compare(entry, entries[j], arena) < 0)
            {
                entries[j + 1] = entries[j];
                j--;
            }
            entries[j + 1] = entry;
        }
    }

    static void SwapIfGreater(Span<Entry> entries, int i, int j, byte* arena)
    {
        if (Compare(entries[i], entries[j], arena) > 0)
        {
            (entries[i], entries[j]) = (entries[j], entries[i]);
        }
    }

    static void HeapSort(Span<Entry> entries, byte* arena)
    {
        for (var i = entries.Length / 2 - 1; i >= 0; i--)
        {
            SiftDown(entries, i, entries.Length, arena);
        }
        for (var end = entries.Length - 1; end > 0; end--)
        {
            (entries[0], entries[end]) = (entries[end], entries[0]);
            SiftDown(entries, 0, end, arena);
        }
    }

    static void SiftDown(Span<Entry> entries, int at, int count, byte* arena)
    {
        while (true)
        {
            var largest = at;
            var left = 2 * at + 1;
            if (left < count && Compare(entries[left], entries[largest], arena) > 0)
            {
                largest = left;
            }
            if (left + 1 < count && Compare(entries[left + 1], entries[largest], arena) > 0)
            {
                largest = left + 1;
            }
            if (largest == at)
            {
                return;
            }
            (entries[at], entries[largest]) = (entries[largest], entries[at]);
            at = largest;
        }
    }

    readonly string _directory;
    readonly long _budget;
    readonly List<string> _runs = [];
    // The in-memory run, in native memory so that it goes back to the system when the runs are sealed (the closure's
    // store takes the budget then), not when the GC next compacts: the records' bytes and the entries that sort them.
    byte* _arena;
    int _arenaLength;
    int _arenaUsed;
    Entry* _entries;
    int _entriesLength;
    int _count;
    long _records;
    // After the first read: the merged file and its index.
    SafeFileHandle? _file;
    RecordReader? _lookup;
    byte[] _indexKeys = [];
    int _indexKeysUsed;
    readonly List<(int Stream, int KeyOffset, int KeyLength, long Offset)> _index = [];

    /// <param name="directory">Where the run files go (the key store's temp directory).</param>
    /// <param name="memoryBudget">Bytes the in-memory run (arena and entries) and, later, the index and read buffers may take.</param>
    public SortedRuns(string directory, long memoryBudget)
    {
        _directory = directory;
        _budget = Math.Max(1L << 20, memoryBudget);
    }

    /// <summary>Records appended so far.</summary>
    public long Count => _records;

    /// <summary>Appends a record whose value is <paramref name="value"/> then <paramref name="valueTail"/>; only before the first read.</summary>
    public void Add(int stream, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ReadOnlySpan<byte> valueTail = default)
    {
        if (_file is not null)
        {
            throw new InvalidOperationException("records are added before the first read");
        }
        var need = key.Length + 4 + value.Length + valueTail.Length;
        if (_arena == null)
        {
            // Two thirds of the run's memory for the records' bytes (key, value, 4 bytes), a third for the 24-byte
            // entries that sort them: a row's keys take about 50 bytes.
            _arenaLength = (int)Math.Min(int.MaxValue, Math.Max(need, _budget * 2 / 3));
            _arena = (byte*)NativeMemory.Alloc((nuint)_arenaLength);
            _entriesLength = (int)Math.Min(int.MaxValue / 24, _budget / 3 / 24);
            _entries = (Entry*)NativeMemory.Alloc((nuint)_entriesLength, (nuint)sizeof(Entry));
        }
        else if (_arenaUsed + need > _arenaLength || _count == _entriesLength)
        {
            Spill();
            if (need > _arenaLength)
            {
                NativeMemory.Free(_arena);
                _arena = null;
                _arena = (byte*)NativeMemory.Alloc((nuint)need);
                _arenaLength = need;
            }
        }
        var at = _arenaUsed;
        var arena = new Span<byte>(_arena + at, need);
        key.CopyTo(arena);
        BinaryPrimitives.WriteInt32LittleEndian(arena[key.Length..], value.Length + valueTail.Length);
        value.CopyTo(arena[(key.Length + 4)..]);
        valueTail.CopyTo(arena[(key.Length + 4 + value.Length)..]);
        _arenaUsed += need;
        _entries[_count++] = new Entry(Prefix(key), stream, at, key.Length);
        _records++;
    }

    /// <summary>The first 8 bytes of a key as a big-endian number (zero padded): the sort's first comparison.</summary>
    static ulong Prefix(ReadOnlySpan<byte> key)
    {
        if (key.Length >= 8)
        {
            return BinaryPrimitives.ReadUInt64BigEndian(key);
        }
        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        key.CopyTo(padded);
        return BinaryPrimitives.ReadUInt64BigEndian(padded);
    }

    /// <summary>Sorts the in-memory run and writes it to a run file.</summary>
    void Spill()
    {
        var path = Path.Combine(_directory, $"run-{_runs.Count:D6}");
        using (var writer = new RecordWriter(path, index: null))
        {
            WriteSorted(writer);
        }
        _runs.Add(path);
    }

    void WriteSorted(RecordWriter writer)
    {
        var entries = new Span<Entry>(_entries, _count);
        Sort(entries, _arena);
        foreach (var entry in entries)
        {
            var record = new ReadOnlySpan<byte>(_arena + entry.Offset, _arenaUsed - entry.Offset);
            var valueLength = BinaryPrimitives.ReadInt32LittleEndian(record[entry.KeyLength..]);
            writer.Write(entry.Stream, record[..entry.KeyLength], record.Slice(entry.KeyLength + 4, valueLength));
        }
        _count = 0;
        _arenaUsed = 0;
    }

    /// <summary>On the first read: the last run and the files merged into one sorted file with its index; the run memory freed.</summary>
    void Seal()
    {
        if (_file is not null)
        {
            return;
        }
        var path = Path.Combine(_directory, "sorted");
        // The index keeps about one key per block; blocks grow with the file so that the index stays within an
        // eighth of the budget (48 bytes an entry, key included, is a generous guess for identities).
        var bytes = _runs.Sum(r => new FileInfo(r).Length) + (long)_arenaUsed + 8L * _count;
        var blockBytes = (int)Math.Clamp(bytes / Math.Max(1, _budget / 8 / 48), 4096, 1 << 20);
        var index = new IndexWriter(this, blockBytes);
        using (var writer = new RecordWriter(path, index))
        {
            if (_runs.Count == 0)
            {
                WriteSorted(writer);
            }
            else
            {
                if (_count > 0)
                {
                    Spill();
                }
                Merge(writer);
            }
        }
        foreach (var run in _runs)
        {
            File.Delete(run);
        }
        _runs.Clear();
        FreeRun();
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        _lookup = new RecordReader(_file, 4 * blockBytes);
    }

    /// <summary>A k-way merge of the run files: a heap of readers ordered by their current record (ties: the earlier run).</summary>
    void Merge(RecordWriter writer)
    {
        var bufferBytes = (int)Math.Clamp(_budget / 4 / _runs.Count, 4096, 1 << 20);
        var readers = new List<(SafeFileHandle File, RecordReader Reader)>();
        try
        {
            foreach (var run in _runs)
            {
                var handle = File.OpenHandle(run, FileMode.Open, FileAccess.Read);
                readers.Add((handle, new RecordReader(handle, bufferBytes)));
            }
            var heap = new List<int>();
            for (var i = 0; i < readers.Count; i++)
            {
                if (readers[i].Reader.Next())
                {
                    heap.Add(i);
                    SiftUp(heap, heap.Count - 1, readers);
                }
            }
            while (heap.Count > 0)
            {
                var top = readers[heap[0]].Reader;
                writer.Write(top.Stream, top.Key, top.Value);
                if (!top.Next())
                {
                    heap[0] = heap[^1];
                    heap.RemoveAt(heap.Count - 1);
                }
                if (heap.Count > 0)
                {
                    SiftDown(heap, 0, readers);
                }
            }
        }
        finally
        {
            foreach (var (handle, _) in readers)
            {
                handle.Dispose();
            }
        }
    }

    static bool Before(int a, int b, List<(SafeFileHandle File, RecordReader Reader)> readers)
    {
        var order = Compare(readers[a].Reader.Stream, readers[a].Reader.Key, readers[b].Reader.Stream, readers[b].Reader.Key);
        return order != 0 ? order < 0 : a < b;
    }

    static void SiftUp(List<int> heap, int at, List<(SafeFileHandle File, RecordReader Reader)> readers)
    {
        while (at > 0)
        {
            var parent = (at - 1) / 2;
            if (!Before(heap[at], heap[parent], readers))
            {
                return;
            }
            (heap[at], heap[parent]) = (heap[parent], heap[at]);
            at = parent;
        }
    }

    static void SiftDown(List<int> heap, int at, List<(SafeFileHandle File, RecordReader Reader)> readers)
    {
        while (true)
        {
            var smallest = at;
            var left = 2 * at + 1;
            if (left < heap.Count && Before(heap[left], heap[smallest], readers))
            {
                smallest = left;
            }
            if (left + 1 < heap.Count && Before(heap[left + 1], heap[smallest], readers))
            {
                smallest = left + 1;
            }
            if (smallest == at)
            {
                return;
            }
            (heap[at], heap[smallest]) = (heap[smallest], heap[at]);
            at = smallest;
        }
    }

    static int Compare(int streamA, ReadOnlySpan<byte> keyA, int streamB, ReadOnlySpan<byte> keyB) =>
        streamA != streamB ? streamA.CompareTo(streamB) : keyA.SequenceCompareTo(keyB);

    /// <summary>Where the records of <paramref name="stream"/> with keys from <paramref name="key"/> on may start: the last block that starts before it.</summary>
    long Start(int stream, ReadOnlySpan<byte> key)
    {
        int low = 0, high = _index.Count - 1, found = -1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var entry = _index[mid];
            if (Compare(entry.Stream, _indexKeys.AsSpan(entry.KeyOffset, entry.KeyLength), stream, key) < 0)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return found < 0 ? 0 : _index[found].Offset;
    }

    /// <summary>Calls <paramref name="action"/> with every record of <paramref name="stream"/> whose key is <paramref name="key"/>, first appended first.</summary>
    public void Find<TState>(int stream, ReadOnlySpan<byte> key, ref TState state, RecordAction<TState> action)
    {
        Seal();
        var reader = _lookup!;
        reader.Seek(Start(stream, key));
        while (reader.Next())
        {
            var order = Compare(reader.Stream, reader.Key, stream, key);
            if (order > 0)
            {
                return;
            }
            if (order == 0)
            {
                action(ref state, reader.Key, reader.Value);
            }
        }
    }

    /// <summary>A reader of every record of <paramref name="stream"/> in order, with a buffer of its own (lookups may run meanwhile).</summary>
    public StreamReader Read(int stream)
    {
        Seal();
        var reader = new RecordReader(_file!, 64 << 10);
        reader.Seek(Start(stream, []));
        return new StreamReader(reader, stream);
    }

    public delegate void RecordAction<TState>(ref TState state, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>The records of one stream, in order.</summary>
    public sealed class StreamReader(RecordReader reader, int stream)
    {
        bool _done;

        public ReadOnlySpan<byte> Key => reader.Key;

        public ReadOnlySpan<byte> Value => reader.Value;

        public bool Next()
        {
            while (!_done && reader.Next())
            {
                if (reader.Stream == stream)
                {
                    return true;
                }
                if (reader.Stream > stream)
                {
                    break;
                }
            }
            _done = true;
            return false;
        }
    }

    /// <summary>Keeps the first record of each block of the merged file (its stream, key and offset).</summary>
    sealed class IndexWriter(SortedRuns owner, int blockBytes)
    {
        long _next;

        public void Record(int stream, ReadOnlySpan<byte> key, long offset)
        {
            if (offset < _next)
            {
                return;
            }
            _next = offset + blockBytes;
            if (owner._indexKeysUsed + key.Length > owner._indexKeys.Length)
            {
                Array.Resize(ref owner._indexKeys, Math.Max(owner._indexKeys.Length * 2, owner._indexKeysUsed + key.Length + 4096));
            }
            key.CopyTo(owner._indexKeys.AsSpan(owner._indexKeysUsed));
            owner._index.Add((stream, owner._indexKeysUsed, key.Length, offset));
            owner._indexKeysUsed += key.Length;
        }
    }

    /// <summary>Writes records as [stream][key length][value length] (unsigned LEB128 each), key, value.</summary>
    sealed class RecordWriter : IDisposable
    {
        readonly FileStream _stream;
        readonly IndexWriter? _index;
        readonly byte[] _header = new byte[15];
        long _offset;

        public RecordWriter(string path, IndexWriter? index)
        {
            _stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
            _index = index;
        }

        public void Write(int stream, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            _index?.Record(stream, key, _offset);
            var length = WriteVarint(_header, 0, (uint)stream);
            length = WriteVarint(_header, length, (uint)key.Length);
            length = WriteVarint(_header, length, (uint)value.Length);
            _stream.Write(_header, 0, length);
            _stream.Write(key);
            _stream.Write(value);
            _offset += length + key.Length + value.Length;
        }

        static int WriteVarint(byte[] buffer, int at, uint value)
        {
            while (value >= 0x80)
            {
                buffer[at++] = (byte)(value | 0x80);
                value >>= 7;
            }
            buffer[at++] = (byte)value;
            return at;
        }

        public void Dispose() => _stream.Dispose();
    }

    /// <summary>Reads records from an offset on through a buffer of its own; a seek inside the buffered bytes reads nothing.</summary>
    public sealed class RecordReader(SafeFileHandle file, int bufferBytes)
    {
        byte[] _buffer = new byte[bufferBytes];
        // The buffer holds the file's bytes from _bufferStart on, _end of them; the next record starts at _position.
        long _bufferStart;
        int _position;
        int _end;
        int _keyAt;
        int _keyLength;
        int _valueLength;

        public int Stream { get; private set; }

        public ReadOnlySpan<byte> Key => _buffer.AsSpan(_keyAt, _keyLength);

        public ReadOnlySpan<byte> Value => _buffer.AsSpan(_keyAt + _keyLength, _valueLength);

        public void Seek(long offset)
        {
            if (offset >= _bufferStart && offset <= _bufferStart + _end)
            {
                _position = (int)(offset - _bufferStart);
                return;
            }
            _bufferStart = offset;
            _position = 0;
            _end = 0;
        }

        public bool Next()
        {
            // A header is at most 15 bytes; then the key and value.
            if (!Fill(15) && _end == _position)
            {
                return false;
            }
            var at = _position;
            Stream = (int)ReadVarint(ref at);
            _keyLength = (int)ReadVarint(ref at);
            _valueLength = (int)ReadVarint(ref at);
            var headerLength = at - _position;
            if (!Fill(headerLength + _keyLength + _valueLength))
            {
                throw new BridgeException($"subset key store: {_bufferStart + _position}: a record is cut short (the temp file was changed or truncated)");
            }
            _keyAt = _position + headerLength;
            _position = _keyAt + _keyLength + _valueLength;
            return true;
        }

        uint ReadVarint(ref int at)
        {
            uint value = 0;
            for (var shift = 0; ; shift += 7)
            {
                if (at >= _end || shift > 28)
                {
                    throw new BridgeException($"subset key store: {_bufferStart + at}: a record header is malformed (the temp file was changed or truncated)");
                }
                var b = _buffer[at++];
                value |= (uint)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }

        /// <summary>Makes <paramref name="need"/> bytes from the position on available; false at the end of the file with fewer.</summary>
        bool Fill(int need)
        {
            if (_end - _position >= need)
            {
                return true;
            }
            if (need > _buffer.Length)
            {
                var bigger = new byte[Math.Max(need, _buffer.Length * 2)];
                _buffer.AsSpan(_position, _end - _position).CopyTo(bigger);
                _buffer = bigger;
            }
            else
            {
                _buffer.AsSpan(_position, _end - _position).CopyTo(_buffer);
            }
            _bufferStart += _position;
            _end -= _position;
            _position = 0;
            while (_end < need)
            {
                var read = RandomAccess.Read(file, _buffer.AsSpan(_end), _bufferStart + _end);
                if (read == 0)
                {
                    return false;
                }
                _end += read;
            }
            return true;
        }
    }

    void FreeRun()
    {
        NativeMemory.Free(_arena);
        NativeMemory.Free(_entries);
        _arena = null;
        _entries = null;
        _count = 0;
        _arenaUsed = 0;
    }

    public void Dispose()
    {
        _file?.Dispose();
        FreeRun();
    }
}
