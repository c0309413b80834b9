using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Replica.Lexing;

/// <summary>
/// Finds the end of a COPY text row and counts its field delimiters in one pass: 32 bytes at a time, comparing against
/// tab, newline and backslash and walking the resulting bit masks (PopCount / TrailingZeroCount). Rows with a backslash
/// are counted again by <see cref="CountFieldsSlow"/>, which honours escapes (a backslash escapes the next byte).
/// COPY text format: https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2
/// </summary>
internal static class CopyRowScanner
{
    /// <summary>Vector loops unless REPLICA_FORCE_SCALAR=1 (<see cref="Switches.ForceScalar"/>); the JIT folds this constant.</summary>
    static readonly bool s_vector = Vector256.IsHardwareAccelerated && !Switches.ForceScalar;

    /// <summary>
    /// Returns the index of the row's terminating '\n' in <paramref name="data"/>, or -1 when there is none.
    /// <paramref name="tabs"/> counts the tabs before it; <paramref name="hasBackslashOrNul"/> says whether a backslash
    /// occurs before it (then the tab count must be redone with escapes in mind) or a NUL byte (which text COPY cannot
    /// carry and psql reads as the end of its line: the row is refused).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ScanRow(ReadOnlySpan<byte> data, out int tabs, out bool hasBackslashOrNul)
    {
        if (s_vector && data.Length >= Vector256<byte>.Count)
        {
            return ScanRowVector(data, out tabs, out hasBackslashOrNul);
        }
        return ScanRowScalar(data, 0, 0, false, out tabs, out hasBackslashOrNul);
    }

    static int ScanRowVector(ReadOnlySpan<byte> data, out int tabs, out bool hasBackslashOrNul)
    {
        ref var start = ref MemoryMarshal.GetReference(data);
        var lfs = Vector256.Create((byte)'\n');
        var tabv = Vector256.Create((byte)'\t');
        var bss = Vector256.Create((byte)'\\');
        var count = 0;
        uint anyBackslash = 0;
        var i = 0;
        var last = data.Length - Vector256<byte>.Count;
        for (; i <= last; i += Vector256<byte>.Count)
        {
            var v = Vector256.LoadUnsafe(ref start, (nuint)i);
            var lfMask = Vector256.Equals(v, lfs).ExtractMostSignificantBits();
            var tabMask = Vector256.Equals(v, tabv).ExtractMostSignificantBits();
            // A NUL counts as a backslash here: either sends the row to a closer look.
            var bsMask = (Vector256.Equals(v, bss) | Vector256.Equals(v, Vector256<byte>.Zero)).ExtractMostSignificantBits();
            if (lfMask != 0)
            {
                var at = BitOperations.TrailingZeroCount(lfMask);
                var before = (1u << at) - 1; // at < 32
                tabs = count + BitOperations.PopCount(tabMask & before);
                hasBackslashOrNul = (anyBackslash | (bsMask & before)) != 0;
                return i + at;
            }
            count += BitOperations.PopCount(tabMask);
            anyBackslash |= bsMask;
        }
        return ScanRowScalar(data, i, count, anyBackslash != 0, out tabs, out hasBackslashOrNul);
    }

    static int ScanRowScalar(ReadOnlySpan<byte> data, int from, int count, bool backslash, out int tabs, out bool hasBackslashOrNul)
    {
        for (var i = from; i < data.Length; i++)
        {
            var b = data[i];
            if (b == (byte)'\n')
            {
                tabs = count;
                hasBackslashOrNul = backslash;
                return i;
            }
            if (b == (byte)'\t')
            {
                count++;
            }
            else if (b is (byte)'\\' or 0)
            {
                backslash = true;
            }
        }
        tabs = count;
        hasBackslashOrNul = backslash;
        return -1;
    }

    /// <summary>
    /// Counts delimiters of a row (without its '\n') honouring escapes. Returns the index of a backslash that escapes
    /// nothing (the last byte of the row, or before the final '\r' of a CRLF row), or -1 when all escapes are whole.
    /// </summary>
    public static int CountFieldsSlow(ReadOnlySpan<byte> row, out int tabs)
    {
        var count = 0;
        var i = 0;
        while (true)
        {
            var k = row[i..].IndexOfAny((byte)'\t', (byte)'\\');
            if (k < 0)
            {
                tabs = count;
                return -1;
            }
            i += k;
            if (row[i] == (byte)'\t')
            {
                count++;
                i++;
                continue;
            }
            // A backslash escapes the next byte; at the end of the row it escapes the line break, which pg_dump never writes.
            if (i + 1 >= row.Length || (i + 2 == row.Length && row[i + 1] == (byte)'\r'))
            {
                tabs = count;
                return i;
            }
            i += 2;
        }
    }

    /// <summary>
    /// Finds the field delimiters of a row (without its line ending) in one vectorized pass and stores their indexes in
    /// <paramref name="tabs"/>. Returns how many there are; more than <paramref name="tabs"/> can hold returns
    /// tabs.Length + 1. Returns -1 when a tab follows a backslash: it may be escaped data, not a delimiter, and only
    /// the escape-aware split can tell (pg_dump never writes that; it escapes tabs as \t).
    /// </summary>
    public static int SplitFields(ReadOnlySpan<byte> row, Span<int> tabs)
    {
        var count = 0;
        var i = 0;
        if (s_vector)
        {
            ref var start = ref MemoryMarshal.GetReference(row);
            var tabv = Vector256.Create((byte)'\t');
            for (; i <= row.Length - Vector256<byte>.Count; i += Vector256<byte>.Count)
            {
                var mask = Vector256.Equals(Vector256.LoadUnsafe(ref start, (nuint)i), tabv).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    var at = i + BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    if (!Record(row, tabs, at, ref count))
                    {
                        return count;
                    }
                }
            }
        }
        for (; i < row.Length; i++)
        {
            if (row[i] == (byte)'\t' && !Record(row, tabs, i, ref count))
            {
                return count;
            }
        }
        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool Record(ReadOnlySpan<byte> row, Span<int> tabs, int at, ref int count)
    {
        if (at > 0 && row[at - 1] == (byte)'\\')
        {
            count = -1;
            return false;
        }
        if (count == tabs.Length)
        {
            count = tabs.Length + 1;
            return false;
        }
        tabs[count++] = at;
        return true;
    }
}
