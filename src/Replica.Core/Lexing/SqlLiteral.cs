using System.Buffers;
using System.Text;

namespace Replica.Lexing;

/// <summary>
/// SQL string constants: '...' with '' for a quote, and E'...' with C-style backslash escapes.
/// https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-STRINGS
/// </summary>
internal static class SqlLiteral
{
    /// <summary>Decodes a String or EString token (prefix and quotes included) into its value.</summary>
    public static void Decode(ReadOnlySpan<byte> token, bool backslashEscapes, IBufferWriter<byte> output)
    {
        var open = token.IndexOf((byte)'\'');
        var body = token[(open + 1)..^1];
        var i = 0;
        while (i < body.Length)
        {
            var k = backslashEscapes ? body[i..].IndexOfAny((byte)'\'', (byte)'\\') : body[i..].IndexOf((byte)'\'');
            if (k < 0)
            {
                output.Write(body[i..]);
                return;
            }
            output.Write(body.Slice(i, k));
            i += k;
            if (body[i] == (byte)'\'')
            {
                output.Write("'"u8);
                i += 2; // '' stands for one quote
                continue;
            }
            i++;
            if (i >= body.Length)
            {
                return;
            }
            var c = body[i++];
            switch (c)
            {
                case (byte)'b': WriteByte(output, 8); break;
                case (byte)'f': WriteByte(output, 12); break;
                case (byte)'n': WriteByte(output, 10); break;
                case (byte)'r': WriteByte(output, 13); break;
                case (byte)'t': WriteByte(output, 9); break;
                case >= (byte)'0' and <= (byte)'7':
                {
                    var value = c - '0';
                    for (var n = 0; n < 2 && i < body.Length && body[i] is >= (byte)'0' and <= (byte)'7'; n++)
                    {
                        value = (value << 3) + (body[i++] - '0');
                    }
                    WriteByte(output, (byte)value);
                    break;
                }
                case (byte)'x' when i < body.Length && CopyText.IsHex(body[i]):
                {
                    var value = CopyText.HexValue(body[i++]);
                    if (i < body.Length && CopyText.IsHex(body[i]))
                    {
                        value = (value << 4) + CopyText.HexValue(body[i++]);
                    }
                    WriteByte(output, (byte)value);
                    break;
                }
                case (byte)'u' or (byte)'U':
                {
                    var digits = c == (byte)'u' ? 4 : 8;
                    var value = 0;
                    var n = 0;
                    for (; n < digits && i < body.Length && CopyText.IsHex(body[i]); n++)
                    {
                        value = (value << 4) + CopyText.HexValue(body[i++]);
                    }
                    if (n == digits && Rune.IsValid(value))
                    {
                        Span<byte> utf8 = stackalloc byte[4];
                        var written = new Rune(value).EncodeToUtf8(utf8);
                        output.Write(utf8[..written]);
                    }
                    else
                    {
                        WriteByte(output, c);
                    }
                    break;
                }
                default:
                    WriteByte(output, c);
                    break;
            }
        }
    }

    /// <summary>Writes a value as a string constant: '...' doubling quotes, or E'...' escaping backslashes too.</summary>
    public static void Encode(ReadOnlySpan<byte> value, bool asEString, IBufferWriter<byte> output)
    {
        output.Write(asEString ? "E'"u8 : "'"u8);
        var i = 0;
        while (i < value.Length)
        {
            var k = asEString ? value[i..].IndexOfAny((byte)'\'', (byte)'\\') : value[i..].IndexOf((byte)'\'');
            if (k < 0)
            {
                output.Write(value[i..]);
                break;
            }
            output.Write(value.Slice(i, k + 1));
            output.Write(value[i + k] == (byte)'\'' ? "'"u8 : "\\"u8);
            i += k + 1;
        }
        output.Write("'"u8);
    }

    static void WriteByte(IBufferWriter<byte> output, byte b)
    {
        var span = output.GetSpan(1);
        span[0] = b;
        output.Advance(1);
    }
}
