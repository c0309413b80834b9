using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Replica.Transformers;

/// <summary>A 128-bit SipHash key, as two little-endian 64-bit words (bytes 0..7 and 8..15 of the key).</summary>
public readonly record struct SipKey(ulong K0, ulong K1)
{
    /// <summary>Reads a key from its first 16 bytes.</summary>
    public static SipKey FromBytes(ReadOnlySpan<byte> key16)
    {
        if (key16.Length < 16)
        {
            throw new ArgumentException("A SipHash key needs 16 bytes.", nameof(key16));
        }

        return new SipKey(BinaryPrimitives.ReadUInt64LittleEndian(key16), BinaryPrimitives.ReadUInt64LittleEndian(key16[8..]));
    }
}

/// <summary>
/// SipHash-2-4 (Aumasson and Bernstein, https://www.aumasson.jp/siphash/siphash.pdf): a keyed pseudo-random function,
/// fast on short inputs, so every masked value can be hashed with the run's derived key without allocating.
/// Both the 64-bit output and the 128-bit output mode of the reference implementation are provided; the 128-bit mode
/// gives more independent bits from one pass (for unique suffixes and UUIDs).
/// </summary>
public static class SipHash
{
    /// <summary>SipHash-2-4 with a 64-bit result (the reference's little-endian output read as a number).</summary>
    public static ulong Hash64(in SipKey key, ReadOnlySpan<byte> data)
    {
        ulong v0 = 0x736f6d6570736575UL ^ key.K0;
        ulong v1 = 0x646f72616e646f6dUL ^ key.K1;
        ulong v2 = 0x6c7967656e657261UL ^ key.K0;
        ulong v3 = 0x7465646279746573UL ^ key.K1;
        Compress(ref v0, ref v1, ref v2, ref v3, data);
        v2 ^= 0xff;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    /// <summary>
    /// SipHash-2-4 in its 128-bit output mode. The low 64 bits are the reference's first 8 output bytes (little-endian),
    /// the high 64 bits its last 8.
    /// </summary>
    public static UInt128 Hash128(in SipKey key, ReadOnlySpan<byte> data)
    {
        ulong v0 = 0x736f6d6570736575UL ^ key.K0;
        ulong v1 = 0x646f72616e646f6dUL ^ key.K1 ^ 0xee;
        ulong v2 = 0x6c7967656e657261UL ^ key.K0;
        ulong v3 = 0x7465646279746573UL ^ key.K1;
        Compress(ref v0, ref v1, ref v2, ref v3, data);
        v2 ^= 0xee;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        ulong low = v0 ^ v1 ^ v2 ^ v3;
        v1 ^= 0xdd;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        ulong high = v0 ^ v1 ^ v2 ^ v3;
        return new UInt128(high, low);
    }

    /// <summary>Writes <see cref="Hash128"/> as the reference implementation's 16 output bytes.</summary>
    public static void Hash128(in SipKey key, ReadOnlySpan<byte> data, Span<byte> destination16)
    {
        var hash = Hash128(key, data);
        BinaryPrimitives.WriteUInt64LittleEndian(destination16, (ulong)hash);
        BinaryPrimitives.WriteUInt64LittleEndian(destination16[8..], (ulong)(hash >> 64));
    }

    // The message is consumed in 8-byte little-endian words with two rounds each (the "2" of 2-4); the last word
    // carries the remaining bytes and the message length modulo 256 in its top byte.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Compress(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3, ReadOnlySpan<byte> data)
    {
        int wholeWordsEnd = data.Length & ~7;
        for (int offset = 0; offset < wholeWordsEnd; offset += 8)
        {
            ulong m = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(offset, 8));
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        ulong last = (ulong)data.Length << 56;
        var tail = data[wholeWordsEnd..];
        for (int i = 0; i < tail.Length; i++)
        {
            last |= (ulong)tail[i] << (8 * i);
        }

        v3 ^= last;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = ulong.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = ulong.RotateLeft(v0, 32);
        v2 += v3;
        v3 = ulong.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = ulong.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = ulong.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = ulong.RotateLeft(v2, 32);
    }
}
