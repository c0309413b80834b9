using System.Buffers;

namespace Replica.Lexing;

/// <summary>
/// Decoding and encoding of one field in COPY text format: \N is NULL; backslash escapes \b \f \n \r \t \v \\, octal
/// \ooo (1-3 digits), hex \xhh (1-2 digits), and any other escaped byte stands for itself.
/// https://www.postgresql.org/docs/current/sql-copy.html (File Formats, Text Format)
/// </summary>
internal static class CopyText
{
    static readonly SearchValues<byte> s_mustEscape = SearchValues.Create("\\\t\n\r\b\f\v"u8);

    public static bool IsNull(ReadOnlySpan<byte> field) => field.Length == 2 && field[0] == (byte)'\\' && field[1] == (byte)'N';

    /// <summary>
    /// Decodes an escaped field into <paramref name="output"/>. Returns -1, or the index inside the field of an escape
    /// that decodes to a zero byte, which PostgreSQL rejects in text.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> field, IBufferWriter<byte> output)
    {
        var i = 0;
        while (i < field.Length)
        {
            var k = field[i..].IndexOf((byte)'\\');
            if (k < 0)
            {
                output.Write(field[i..]);
                return -1;
            }
            output.Write(field.Slice(i, k));
            i += k;
            var escapeAt = i;
            i++;
            if (i >= field.Length)
            {
                output.Write("\\"u8);
                return -1;
            }
            var c = field[i++];
            int value;
            switch (c)
            {
                case (byte)'b': value = 8; break;
                case (byte)'f': value = 12; break;
                case (byte)'n': value = 10; break;
                case (byte)'r': value = 13; break;
                case (byte)'t': value = 9; break;
                case (byte)'v': value = 11; break;
                case >= (byte)'0' and <= (byte)'7':
                    value = c - '0';
                    for (var n = 0; n < 2 && i < field.Length && field[i] is >= (byte)'0' and <= (byte)'7'; n++)
                    {
                        value = (value << 3) + (field[i++] - '0');
                    }
                    value &= 0xFF;
                    break;
                case (byte)'x' when i < field.Length && IsHex(field[i]):
                    value = HexValue(field[i++]);
                    if (i < field.Length && IsHex(field[i]))
                    {
                        value = (value << 4) + HexValue(field[i++]);
                    }
                    break;
                default:
                    value = c;
                    break;
            }
            if (value == 0)
            {
                return escapeAt;
            }
            var span = output.GetSpan(1);
            span[0] = (byte)value;
            output.Advance(1);
        }
        return -1;
    }

    /// <summary>Encodes a decoded value as a COPY text field (not NULL).</summary>
    public static void Encode(ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        var i = 0;
        while (i < value.Length)
        {
            var k = value[i..].IndexOfAny(s_mustEscape);
            if (k < 0)
            {
                output.Write(value[i..]);
                return;
            }
            output.Write(value.Slice(i, k));
            i += k;
            var escaped = value[i++] switch
            {
                (byte)'\\' => (byte)'\\',
                (byte)'\t' => (byte)'t',
                (byte)'\n' => (byte)'n',
                (byte)'\r' => (byte)'r',
                (byte)'\b' => (byte)'b',
                (byte)'\f' => (byte)'f',
                _ => (byte)'v',
            };
            var span = output.GetSpan(2);
            span[0] = (byte)'\\';
            span[1] = escaped;
            output.Advance(2);
        }
    }

    /// <summary>Encodes a decoded value into <paramref name="destination"/>, which holds at least twice its length; returns the bytes written.</summary>
    public static int EncodeInto(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        var written = 0;
        var i = 0;
        while (i < value.Length)
        {
            var k = value[i..].IndexOfAny(s_mustEscape);
            if (k < 0)
            {
                value[i..].CopyTo(destination[written..]);
                return written + value.Length - i;
            }
            value.Slice(i, k).CopyTo(destination[written..]);
            written += k;
            i += k;
            destination[written++] = (byte)'\\';
            destination[written++] = value[i++] switch
            {
                (byte)'\\' => (byte)'\\',
                (byte)'\t' => (byte)'t',
                (byte)'\n' => (byte)'n',
                (byte)'\r' => (byte)'r',
                (byte)'\b' => (byte)'b',
                (byte)'\f' => (byte)'f',
                _ => (byte)'v',
            };
        }
        return written;
    }

    public static void WriteNull(IBufferWriter<byte> output) => output.Write("\\N"u8);

    internal static bool IsHex(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f') or (>= (byte)'A' and <= (byte)'F');

    internal static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
