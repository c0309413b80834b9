using System.Buffers;
using System.Text;

namespace Replica.Transformers;

/// <summary>
/// Character-level helpers over UTF-8 that may be invalid. A "character" is one Unicode scalar (a rune, as PostgreSQL
/// counts varchar(n) characters) or one maximal invalid byte sequence, which is kept as raw bytes rather than replaced,
/// so a dump in another client encoding passes through untouched where a transformer keeps characters.
/// </summary>
internal static class Utf8Text
{
    /// <summary>Decodes the character at the start of <paramref name="text"/>; returns its byte length (0 when empty).</summary>
    public static int DecodeChar(ReadOnlySpan<byte> text, out Rune rune, out bool isValid)
    {
        if (text.IsEmpty)
        {
            rune = default;
            isValid = false;
            return 0;
        }

        byte first = text[0];
        if (first < 0x80)
        {
            rune = new Rune(first);
            isValid = true;
            return 1;
        }

        isValid = Rune.DecodeFromUtf8(text, out rune, out int consumed) == OperationStatus.Done;
        return Math.Max(consumed, 1);
    }

    public static int CountChars(ReadOnlySpan<byte> text)
    {
        if (Ascii.IsValid(text))
        {
            return text.Length; // vectorized fast path for the common case
        }

        int count = 0;
        int offset = 0;
        while (offset < text.Length)
        {
            offset += text[offset] < 0x80 ? 1 : DecodeChar(text[offset..], out _, out _);
            count++;
        }

        return count;
    }

    /// <summary>The byte length of the first <paramref name="maxChars"/> characters (all of it when shorter).</summary>
    public static int PrefixLength(ReadOnlySpan<byte> text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text.Length;
        }

        int offset = 0;
        for (int count = 0; count < maxChars && offset < text.Length; count++)
        {
            offset += text[offset] < 0x80 ? 1 : DecodeChar(text[offset..], out _, out _);
        }

        return offset;
    }

    /// <summary>Appends <paramref name="text"/> lower- or upper-cased (invariant culture), keeping invalid bytes.</summary>
    public static void AppendCased(ByteBuilder builder, ReadOnlySpan<byte> text, bool upper)
    {
        int offset = 0;
        while (offset < text.Length)
        {
            byte b = text[offset];
            if (b < 0x80)
            {
                builder.Append(upper ? (byte)char.ToUpperInvariant((char)b) : (byte)char.ToLowerInvariant((char)b));
                offset++;
                continue;
            }

            int length = DecodeChar(text[offset..], out var rune, out bool valid);
            if (valid)
            {
                builder.Append(upper ? Rune.ToUpperInvariant(rune) : Rune.ToLowerInvariant(rune));
            }
            else
            {
                builder.Append(text.Slice(offset, length));
            }

            offset += length;
        }
    }

    public static bool IsAsciiDigit(byte b) => (uint)(b - '0') <= 9;
}
