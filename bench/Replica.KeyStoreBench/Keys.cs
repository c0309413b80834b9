using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text.Unicode;

namespace Replica.KeyStoreBench;

/// <summary>
/// The key space: distinct id <c>x</c> in [0, 2N) maps to one store key, <c>[set byte][UTF-8 row identity]</c>, with set = x mod 4.
/// Ids in [0, N) are inserted, ids in [N, 2N) never are, so every answer can be checked without remembering the keys.
/// One id in eight is a composite identity ("5:1001234:2:k…", about 30 bytes), the rest decimal ids ("1001234").
/// </summary>
internal static class Keys
{
    public const int Sets = 4;
    public const int MaxKeyBytes = 48;

    public static int Write(long id, Span<byte> destination)
    {
        destination[0] = (byte)(id % Sets);
        int written;
        bool ok = id % 8 == 5
            ? Utf8.TryWrite(destination[1..], CultureInfo.InvariantCulture, $"{id % 7}:{id + 1_000_000}:{id % 3}:k{(ulong)id * 0x9E3779B97F4A7C15UL:x16}", out written)
            : (id + 1000).TryFormat(destination[1..], out written, default, CultureInfo.InvariantCulture);
        if (!ok)
        {
            throw new InvalidOperationException("key buffer too small");
        }
        return written + 1;
    }

    /// <summary>The id a key (without its set byte) was made from, or -1 if it is no key of this space.</summary>
    public static long Parse(ReadOnlySpan<byte> key)
    {
        int colon = key.IndexOf((byte)':');
        if (colon < 0)
        {
            return long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v - 1000 : -1;
        }
        ReadOnlySpan<byte> rest = key[(colon + 1)..];
        int end = rest.IndexOf((byte)':');
        return end > 0 && long.TryParse(rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out long c) ? c - 1_000_000 : -1;
    }

    public static ulong Hash(ReadOnlySpan<byte> s)
    {
        ulong h = 0x9E3779B97F4A7C15UL ^ (ulong)s.Length;
        while (s.Length >= 8)
        {
            h ^= BinaryPrimitives.ReadUInt64LittleEndian(s) * 0xff51afd7ed558ccdUL;
            h = BitOperations.RotateLeft(h, 29) * 0xc4ceb9fe1a85ec53UL;
            s = s[8..];
        }
        ulong t = 0;
        for (int i = 0; i < s.Length; i++)
        {
            t |= (ulong)s[i] << (8 * i);
        }
        return Mix(h ^ (t * 0xff51afd7ed558ccdUL));
    }

    public static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}

/// <summary>A bijection of [0, n): a 4-round Feistel network on the next even bit width, cycle-walked into range.</summary>
internal sealed class Permutation(long n, ulong seed)
{
    readonly int _half = Math.Max(1, (64 - BitOperations.LeadingZeroCount((ulong)Math.Max(1, n - 1)) + 1) / 2);

    public long Map(long i)
    {
        ulong mask = (1UL << _half) - 1;
        ulong x = (ulong)i;
        do
        {
            ulong l = x >> _half, r = x & mask;
            for (ulong round = 0; round < 4; round++)
            {
                ulong f = Keys.Mix(r ^ (seed + (round * 0x632BE59BD9B4E019UL))) & mask;
                (l, r) = (r, l ^ f);
            }
            x = (l << _half) | r;
        }
        while (x >= (ulong)n);
        return (long)x;
    }
}

/// <summary>Up to 5000 store keys in one buffer.</summary>
internal sealed class KeyBatch
{
    public const int Capacity = 5000;
    public readonly byte[] Buffer = new byte[Capacity * Keys.MaxKeyBytes];
    public readonly int[] Offsets = new int[Capacity + 1];
    public int Count { get; private set; }

    public ReadOnlySpan<byte> this[int i] => Buffer.AsSpan(Offsets[i], Offsets[i + 1] - Offsets[i]);

    public Span<byte> Writable(int i) => Buffer.AsSpan(Offsets[i], Offsets[i + 1] - Offsets[i]);

    public void Clear() => Count = 0;

    public void Add(long id)
    {
        Offsets[Count + 1] = Offsets[Count] + Keys.Write(id, Buffer.AsSpan(Offsets[Count]));
        Count++;
    }
}

/// <summary>
/// The insert stream: N distinct ids in Feistel order, with N/4 duplicates (20% of all inserts) of ids already sent,
/// drawn at random positions; <c>expectedNew</c> says which are first sightings. Seeded, so every run sees the same stream.
/// </summary>
internal sealed class InsertStream(long distinct, int seed)
{
    readonly Permutation _perm = new(distinct, (ulong)seed);
    readonly Random _rng = new(seed);
    long _sent;
    long _dupLeft = distinct / 4;

    public long Total { get; } = distinct + (distinct / 4);

    public bool Fill(KeyBatch batch, bool[] expectedNew)
    {
        batch.Clear();
        while (batch.Count < KeyBatch.Capacity)
        {
            long newLeft = distinct - _sent;
            if (newLeft + _dupLeft == 0)
            {
                break;
            }
            bool dup = _sent > 0 && _rng.NextInt64(newLeft + _dupLeft) < _dupLeft;
            expectedNew[batch.Count] = !dup;
            if (dup)
            {
                _dupLeft--;
                batch.Add(_perm.Map(_rng.NextInt64(_sent)));
            }
            else
            {
                batch.Add(_perm.Map(_sent++));
            }
        }
        return batch.Count > 0;
    }
}

/// <summary>Lookups: half of ids stored ([0, N)), half never stored ([N, 2N)), uniform random order.</summary>
internal sealed class LookupStream(long distinct, long total, int seed)
{
    readonly Random _rng = new(seed + 1);
    long _done;

    public bool Fill(KeyBatch batch, bool[] expected)
    {
        batch.Clear();
        while (batch.Count < KeyBatch.Capacity && _done < total)
        {
            bool hit = _rng.Next(2) == 0;
            expected[batch.Count] = hit;
            batch.Add(_rng.NextInt64(distinct) + (hit ? 0 : distinct));
            _done++;
        }
        return batch.Count > 0;
    }
}
