using System.Buffers;

namespace Replica.Lexing;

/// <summary>
/// MySQL string and hexadecimal literals. In '...' and "..." a doubled quote is one quote and a backslash escapes:
/// \0 \' \" \b \n \r \t \Z \\ stand for bytes, \% and \_ keep their backslash, any other \c is c.
/// https://dev.mysql.com/doc/refman/8.0/en/string-literals.html , https://dev.mysql.com/doc/refman/8.0/en/hexadecimal-literals.html
/// </summary>
internal static class MySqlLiteral
{
    /// <summary>Decodes a quoted string token ('...', "..." or N'...', quotes included) into its bytes.</summary>
    public static void Decode(ReadOnlySpan<byte> token, IBufferWriter<byte> output)
    {
        var open = token.IndexOfAny((byte)'\'', (byte)'"');
        EscapeTable.DecodeQuoted(token[(open + 1)..^1], token[open], EscapeTable.MySqlString, output);
    }

    /// <summary>
    /// Writes a value as '...', escaping what mysqldump escapes (NUL, \n, \r, \, ', ", Ctrl-Z) so that the dump stays
    /// line-friendly and loads under any character set.
    /// </summary>
    public static void Encode(ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        output.Write("'"u8);
        EscapeTable.MySqlString.Encode(value, output);
        output.Write("'"u8);
    }

    /// <summary>Whether a token is a hexadecimal literal: 0x4142 or X'4142'.</summary>
    public static bool IsHex(ReadOnlySpan<byte> token) =>
        token.Length >= 2 && ((token[0] == (byte)'0' && token[1] == (byte)'x') || ((token[0] | 0x20) == (byte)'x' && token[1] == (byte)'\''));

    /// <summary>
    /// Whether a token is a bit-value literal: 0b01000001 or B'01000001', the bytes of a string as much as hex is
    /// (https://dev.mysql.com/doc/refman/8.0/en/bit-value-literals.html).
    /// </summary>
    public static bool IsBits(ReadOnlySpan<byte> token)
    {
        ReadOnlySpan<byte> digits;
        if (token.Length > 2 && token[0] == (byte)'0' && token[1] == (byte)'b')
        {
            digits = token[2..];
        }
        else if (token.Length >= 3 && (token[0] | 0x20) == (byte)'b' && token[1] == (byte)'\'' && token[^1] == (byte)'\'')
        {
            digits = token[2..^1];
        }
        else
        {
            return false;
        }
        return digits.IndexOfAnyExcept((byte)'0', (byte)'1') < 0;
    }

    /// <summary>Decodes 0x4142, X'4142', 0b0100 or B'0100' into its bytes.</summary>
    public static void DecodeHex(ReadOnlySpan<byte> token, IBufferWriter<byte> output)
    {
        if (IsBits(token))
        {
            DecodeBits(token[0] == (byte)'0' ? token[2..] : token[2..^1], output);
            return;
        }
        var digits = token[0] == (byte)'0' ? token[2..] : token[2..^1];
        var span = output.GetSpan(digits.Length / 2 + 1);
        var n = 0;
        var i = 0;
        if ((digits.Length & 1) == 1)
        {
            span[n++] = (byte)EscapeTable.HexValue(digits[i++]); // an odd count has an implied leading zero
        }
        for (; i + 1 < digits.Length; i += 2)
        {
            span[n++] = (byte)((EscapeTable.HexValue(digits[i]) << 4) | EscapeTable.HexValue(digits[i + 1]));
        }
        output.Advance(n);
    }

    /// <summary>Bits into bytes, right-aligned: a count that is no multiple of eight has leading zero bits.</summary>
    static void DecodeBits(ReadOnlySpan<byte> bits, IBufferWriter<byte> output)
    {
        var bytes = (bits.Length + 7) / 8;
        var span = output.GetSpan(bytes);
        var value = 0;
        var filled = (8 - bits.Length % 8) % 8; // the implied leading zero bits
        var n = 0;
        foreach (var bit in bits)
        {
            value = (value << 1) | (bit - '0');
            if (++filled == 8)
            {
                span[n++] = (byte)value;
                value = 0;
                filled = 0;
            }
        }
        output.Advance(n);
    }

    /// <summary>Writes bytes as 0x4142, as mysqldump --hex-blob does (X'' for no bytes: 0x needs a digit).</summary>
    public static void EncodeHex(ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        if (value.IsEmpty)
        {
            output.Write("X''"u8);
            return;
        }
        var span = output.GetSpan(2 + value.Length * 2);
        span[0] = (byte)'0';
        span[1] = (byte)'x';
        var n = 2;
        foreach (var b in value)
        {
            span[n++] = "0123456789ABCDEF"u8[b >> 4];
            span[n++] = "0123456789ABCDEF"u8[b & 15];
        }
        output.Advance(n);
    }
}
