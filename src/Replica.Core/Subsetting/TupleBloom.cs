using System.IO.Hashing;

namespace Replica.Subsetting;

/// <summary>
/// A Bloom filter of the tuples asked down one link in one round: a scan of the child (SubsetClosure) asks it first and
/// the key store only for the tuples it may hold, so the rows not wanted (most of a scan) cost a hash and a few bit
/// tests instead of a store lookup (a SQLite statement once the store has spilled). Ten bits a tuple and seven probes
/// (about 1 % false positives, which the store's answer removes), at most <c>maxBytes</c>: more tuples only raise the
/// false positives. https://en.wikipedia.org/wiki/Bloom_filter#Optimal_number_of_hash_functions
/// </summary>
internal sealed class TupleBloom
{
    const int Probes = 7;
    readonly ulong[] _bits;
    readonly ulong _mask;

    /// <param name="tuples">The tuples expected (sizes the filter).</param>
    public TupleBloom(long tuples, long maxBytes)
    {
        var bits = Math.Clamp(tuples * 10, 64, Math.Max(64, maxBytes * 8));
        // A power of two: a probe's bit is a mask away.
        var size = 64L;
        while (size < bits)
        {
            size *= 2;
        }
        _bits = new ulong[size / 64];
        _mask = (ulong)size - 1;
    }

    public void Add(ReadOnlySpan<byte> tuple)
    {
        var hash = XxHash3.HashToUInt64(tuple);
        var step = (hash >> 32) | 1;
        for (var i = 0; i < Probes; i++)
        {
            var bit = hash & _mask;
            _bits[bit >> 6] |= 1UL << (int)(bit & 63);
            hash += step;
        }
    }

    public bool MayContain(ReadOnlySpan<byte> tuple)
    {
        var hash = XxHash3.HashToUInt64(tuple);
        var step = (hash >> 32) | 1;
        for (var i = 0; i < Probes; i++)
        {
            var bit = hash & _mask;
            if ((_bits[bit >> 6] & (1UL << (int)(bit & 63))) == 0)
            {
                return false;
            }
            hash += step;
        }
        return true;
    }
}
