namespace Replica.Transformers;

/// <summary>
/// The suffix that keeps a unique column unique: 16 base32 characters (a-z, 2-7) carrying 80 bits of the 128-bit keyed
/// SipHash of the original value. SipHash is a pseudo-random function under its secret key, so for n distinct inputs
/// the chance that any two suffixes collide is at most n(n-1)/2 / 2^80: below 3e-11 for the ~8 million values of a
/// 1 GB dump and below 5e-7 for a billion. The base32 alphabet is lower-case only, so uniqueness also survives
/// case-insensitive comparison (lower(email), citext).
/// </summary>
internal static class UniqueSuffix
{
    /// <summary>Suffix characters, without the separator.</summary>
    public const int Length = 16;

    /// <summary>The separator and the suffix together.</summary>
    public const int LengthWithSeparator = Length + 1;

    public const byte Separator = (byte)'_';

    static ReadOnlySpan<byte> Alphabet => "abcdefghijklmnopqrstuvwxyz234567"u8;

    /// <summary>Writes the 16 suffix characters of <paramref name="value"/> into <paramref name="destination"/>.</summary>
    public static void Write(in SipKey key, ReadOnlySpan<byte> value, Span<byte> destination)
    {
        var hash = SipHash.Hash128(key, value);
        var alphabet = Alphabet;
        for (int i = 0; i < Length; i++)
        {
            destination[i] = alphabet[(int)(hash & 31)];
            hash >>= 5;
        }
    }
}
