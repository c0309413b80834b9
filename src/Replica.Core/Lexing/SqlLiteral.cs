using System.Buffers;

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
        EscapeTable.DecodeQuoted(token[(open + 1)..^1], (byte)'\'', backslashEscapes ? EscapeTable.PostgresString : null, output);
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
}
