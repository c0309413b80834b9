using System.Buffers;

namespace Replica.Lexing;

/// <summary>
/// Decoding and encoding of one field in COPY text format: \N is NULL; backslash escapes \b \f \n \r \t \v \\, octal
/// \ooo (1-3 digits), hex \xhh (1-2 digits), and any other escaped byte stands for itself.
/// https://www.postgresql.org/docs/current/sql-copy.html (File Formats, Text Format)
/// </summary>
internal static class CopyText
{
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
            i = EscapeTable.CopyText.Read(field, i, output, out var value);
            if (value == 0)
            {
                return escapeAt;
            }
            EscapeTable.Write(output, (byte)value);
        }
        return -1;
    }

    /// <summary>Encodes a decoded value as a COPY text field (not NULL).</summary>
    public static void Encode(ReadOnlySpan<byte> value, IBufferWriter<byte> output) => EscapeTable.CopyText.Encode(value, output);

    /// <summary>Encodes a decoded value into <paramref name="destination"/>, which holds at least twice its length; returns the bytes written.</summary>
    public static int EncodeInto(ReadOnlySpan<byte> value, Span<byte> destination) => EscapeTable.CopyText.Encode(value, destination);

    public static void WriteNull(IBufferWriter<byte> output) => output.Write("\\N"u8);
}
