using System.Numerics;
using System.Runtime.InteropServices;

namespace Replica.Pipeline;

/// <summary>The memory one leak check may hold in hash tables of originals, shared by its tables.</summary>
internal sealed class LeakBudget(long bytes)
{
    long _used;

    public long Bytes => bytes;

    /// <summary>The most held at once.</summary>
    public long Peak { get; private set; }

    public bool TryReserve(long count)
    {
        if (_used + count > bytes)
        {
            return false;
        }
        _used += count;
        Peak = Math.Max(Peak, _used);
        return true;
    }

    public void Release(long count) => _used -= count;
}

/// <summary>
/// Fixed-width rows of 64-bit words keyed by their first word (a keyed hash, never 0: 0 marks an empty slot), in one
/// open-addressing array: 8 bytes per word and no object per row, so the budget counts what is really held.
/// </summary>
internal sealed class HashRows
{
    readonly int _width;
    ulong[] _slots;
    int _capacity;
    int _count;

    public HashRows(int width, int capacity)
    {
        _width = width;
        _capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, capacity));
        _slots = new ulong[(long)_capacity * width];
    }

    public int Count => _count;

    public long Bytes => _slots.LongLength * sizeof(ulong);

    /// <summary>Bytes after the next <see cref="Grow"/> (the array doubles).</summary>
    public long GrownBytes => Bytes * 2;

    /// <summary>Whether one more row would fill the array past three quarters.</summary>
    public bool IsFull => (_count + 1) * 4L > _capacity * 3L;

    public void Grow()
    {
        var old = _slots;
        var oldCapacity = _capacity;
        _capacity *= 2;
        _slots = new ulong[(long)_capacity * _width];
        _count = 0;
        for (var i = 0; i < oldCapacity; i++)
        {
            var row = old.AsSpan(i * _width, _width);
            if (row[0] != 0)
            {
                Add(row);
            }
        }
    }

    /// <summary>Adds a row; false (and nothing changes) when a row with its key is there already.</summary>
    public bool Add(ReadOnlySpan<ulong> row)
    {
        var mask = _capacity - 1;
        for (var slot = (int)row[0] & mask; ; slot = (slot + 1) & mask)
        {
            var at = _slots.AsSpan(slot * _width, _width);
            if (at[0] == row[0])
            {
                return false;
            }
            if (at[0] == 0)
            {
                row.CopyTo(at);
                _count++;
                return true;
            }
        }
    }

    /// <summary>The row with <paramref name="key"/>, or an empty span.</summary>
    public ReadOnlySpan<ulong> Find(ulong key)
    {
        var mask = _capacity - 1;
        for (var slot = (int)key & mask; ; slot = (slot + 1) & mask)
        {
            var at = _slots.AsSpan(slot * _width, _width);
            if (at[0] == key)
            {
                return at;
            }
            if (at[0] == 0)
            {
                return [];
            }
        }
    }

    /// <summary>Writes every row to <paramref name="files"/> (its partition by key).</summary>
    public void WriteTo(SpillFiles files)
    {
        for (var i = 0; i < _capacity; i++)
        {
            var row = _slots.AsSpan(i * _width, _width);
            if (row[0] != 0)
            {
                files.Write(row);
            }
        }
    }
}

/// <summary>
/// Rows of 64-bit words spilled to disk, split into partitions by their key (the first word): a grace hash join
/// partitions both sides alike, then joins partition by partition, each small enough for memory.
/// </summary>
internal sealed class SpillFiles : IDisposable
{
    const int BufferBytes = 16 << 10;
    readonly FileStream[] _files;
    readonly string[] _paths;
    readonly int _width;

    public SpillFiles(string directory, string prefix, int partitions, int width)
    {
        _width = width;
        _files = new FileStream[partitions];
        _paths = new string[partitions];
        for (var p = 0; p < partitions; p++)
        {
            _paths[p] = Path.Combine(directory, $"{prefix}-{p}.bin");
            // A small buffer per partition: a spilled table holds up to 64 partitions on each side.
            _files[p] = new FileStream(_paths[p], FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, BufferBytes, FileOptions.DeleteOnClose);
        }
    }

    public int Partitions => _files.Length;

    public int Width => _width;

    public long Bytes => _files.Sum(f => f.Length);

    /// <summary>The partition of a key: its top bits (the hash tables use the low ones).</summary>
    public static int PartitionOf(ulong key, int partitions) => (int)((key >> 32) * (ulong)partitions >> 32);

    public void Write(ReadOnlySpan<ulong> row) => _files[PartitionOf(row[0], _files.Length)].Write(MemoryMarshal.AsBytes(row));

    /// <summary>The bytes partition <paramref name="partition"/> holds.</summary>
    public long LengthOf(int partition) => _files[partition].Length;

    /// <summary>Reads partition <paramref name="partition"/> a block of whole rows at a time into <paramref name="block"/>; returns the words read.</summary>
    public IEnumerable<int> Read(int partition, ulong[] block)
    {
        var file = _files[partition];
        file.Flush();
        file.Position = 0;
        var rowsPerBlock = block.Length / _width;
        while (true)
        {
            var bytes = MemoryMarshal.AsBytes(block.AsSpan(0, rowsPerBlock * _width));
            var read = file.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (read == 0)
            {
                yield break;
            }
            yield return read / sizeof(ulong);
        }
    }

    public void Dispose()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }
    }
}

/// <summary>
/// How many distinct values a column holds, estimated in 4 KiB whatever their number (HyperLogLog, Flajolet et al. 2007,
/// with linear counting for small sets): what chance explains of a small-pool fake is counted per distinct value.
/// </summary>
internal sealed class DistinctCounter
{
    const int Bits = 12;
    const int Registers = 1 << Bits;
    readonly byte[] _registers = new byte[Registers];

    /// <summary>Counts a value by its keyed 64-bit hash.</summary>
    public void Add(ulong hash)
    {
        var index = (int)(hash >> (64 - Bits));
        var rank = (byte)(BitOperations.LeadingZeroCount((hash << Bits) | (1UL << (Bits - 1))) + 1);
        if (rank > _registers[index])
        {
            _registers[index] = rank;
        }
    }

    public double Estimate
    {
        get
        {
            double sum = 0;
            var zeros = 0;
            foreach (var register in _registers)
            {
                sum += Math.Pow(2, -register);
                zeros += register == 0 ? 1 : 0;
            }
            var alpha = 0.7213 / (1 + 1.079 / Registers);
            var estimate = alpha * Registers * Registers / sum;
            return estimate <= 2.5 * Registers && zeros > 0 ? Registers * Math.Log((double)Registers / zeros) : estimate;
        }
    }
}
