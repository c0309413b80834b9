using System.Buffers;
using System.Text;

namespace Replica.Lexing;

/// <summary>
/// SQL string constants: '...' with '' for a quote, E'...' with C-style backslash escapes, U&amp;'...' with Unicode escapes
/// and dollar-quoted $tag$...$tag$.
/// https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-STRINGS
/// </summary>
internal static class SqlLiteral
{
    /// <summary>
    /// Decodes a String, EString or DollarString token (prefix and quotes included) into its value: U&amp;'...' with its
    /// \XXXX and \+XXXXXX escapes, $tag$...$tag$ as written between its tags.
    /// </summary>
    public static void Decode(ReadOnlySpan<byte> token, bool backslashEscapes, IBufferWriter<byte> output)
    {
        if (token[0] == (byte)'$')
        {
            var tagLength = token[1..].IndexOf((byte)'$') + 2;
            output.Write(token.Length >= 2 * tagLength ? token[tagLength..^tagLength] : token[tagLength..]);
            return;
        }
        if ((token[0] | 0x20) == 'u' && token.Length > 1 && token[1] == (byte)'&')
        {
            // UESCAPE 'c' after the string is another token: a value with one is an expression, so the escape is '\'.
            var inner = Encoding.UTF8.GetString(token[3..^1]).Replace("''", "'", StringComparison.Ordinal);
            output.Write(Encoding.UTF8.GetBytes(SqlTokenizer.DecodeUnicodeEscapes(inner, '\\')));
            return;
        }
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
