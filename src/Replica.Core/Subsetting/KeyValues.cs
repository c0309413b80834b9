using System.Text;

namespace Replica.Subsetting;

/// <summary>
/// How the key store writes a row's key values (SQLite's blobs and the sorted runs' records alike): per value an
/// unsigned LEB128 of its UTF-8 length plus one (0: NULL), then its bytes. Row numbers and lengths inside a record are
/// LEB128 too: a dump file's every row is written to disk and read back once or twice, so its bytes are kept few.
/// </summary>
internal static class KeyValues
{
    /// <summary>The most bytes a LEB128 of 64 bits takes.</summary>
    public const int MaxVarintBytes = 10;

    /// <summary>Writes <paramref name="value"/> as unsigned LEB128 at the start of <paramref name="to"/>; returns the bytes written.</summary>
    public static int WriteVarint(Span<byte> to, ulong value)
    {
        var at = 0;
        while (value >= 0x80)
        {
            to[at++] = (byte)(value | 0x80);
            value >>= 7;
        }
        to[at++] = (byte)value;
        return at;
    }

    /// <summary>Reads an unsigned LEB128 from the start of <paramref name="from"/> and moves past it.</summary>
    public static ulong ReadVarint(ref ReadOnlySpan<byte> from)
    {
        ulong value = 0;
        for (int at = 0, shift = 0; at < from.Length && shift < 64; at++, shift += 7)
        {
            var b = from[at];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                from = from[(at + 1)..];
                return value;
            }
        }
        throw new BridgeException("subset key store: a stored number is malformed (the temp files were changed or truncated)");
    }

    /// <summary>Bytes <see cref="Encode"/> needs at most for <paramref name="values"/>.</summary>
    public static int MaxEncodedLength(string?[] values)
    {
        var need = 0;
        foreach (var value in values)
        {
            need += 5 + (value is null ? 0 : Encoding.UTF8.GetMaxByteCount(value.Length));
        }
        return need;
    }

    /// <summary>Writes <paramref name="values"/> at the start of <paramref name="to"/> (<see cref="MaxEncodedLength"/> bytes); returns the bytes written.</summary>
    public static int Encode(string?[] values, Span<byte> to)
    {
        var pos = 0;
        Span<byte> length = stackalloc byte[5];
        foreach (var value in values)
        {
            if (value is null)
            {
                to[pos++] = 0;
                continue;
            }
            // The length goes before the bytes: encoded where they will be, then moved after the length.
            var bytes = Encoding.UTF8.GetBytes(value, to[(pos + 5)..]);
            var lengthBytes = WriteVarint(length, (ulong)bytes + 1);
            length[..lengthBytes].CopyTo(to[pos..]);
            to.Slice(pos + 5, bytes).CopyTo(to[(pos + lengthBytes)..]);
            pos += lengthBytes + bytes;
        }
        return pos;
    }

    /// <summary>The values <see cref="Encode"/> (or <see cref="RowKeyBytes"/>) wrote.</summary>
    public static string?[] Decode(ReadOnlySpan<byte> blob)
    {
        var values = new List<string?>();
        while (blob.Length > 0)
        {
            var length = ReadVarint(ref blob);
            if (length == 0)
            {
                values.Add(null);
                continue;
            }
            if (length - 1 > (ulong)blob.Length)
            {
                throw new BridgeException("subset key store: a stored value is cut short (the temp files were changed or truncated)");
            }
            values.Add(Encoding.UTF8.GetString(blob[..(int)(length - 1)]));
            blob = blob[(int)(length - 1)..];
        }
        return [.. values];
    }
}
