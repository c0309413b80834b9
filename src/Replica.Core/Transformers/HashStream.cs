using System.Runtime.CompilerServices;

namespace Replica.Transformers;

/// <summary>
/// A stream of pseudo-random numbers seeded by one keyed SipHash of a value (SplitMix64 steps,
/// https://prng.di.unimi.it/splitmix64.c), so one hash per value serves every pick a fake needs without a seeded
/// Randomizer per value. Its entropy is the seed's 64 bits, which is plenty for picking fakes; uniqueness never rests
/// on it (see <see cref="UniqueSuffix"/>).
/// </summary>
internal struct HashStream(ulong seed)
{
    ulong _state = seed;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A number in [0, <paramref name="count"/>) by multiply-high (Lemire), bias below 2^-32 for our list sizes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NextBelow(int count) => (int)Math.BigMul(Next(), (ulong)count, out _);

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>], inclusive.</summary>
    public long NextInRange(long min, long max)
    {
        ulong span = (ulong)(max - min) + 1;
        return span == 0 ? (long)Next() : min + (long)Math.BigMul(Next(), span, out _);
    }

    /// <summary>A double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
}
