using System.Buffers;
using System.Text;

namespace Replica.Lexing;

/// <summary>
/// One backslash-escape scheme as a table, so that one codec serves COPY text fields (<see cref="CopyText"/>),
/// PostgreSQL E'...' strings (<see cref="SqlLiteral"/>) and MySQL strings (<see cref="MySqlLiteral"/>): which byte
/// each escape letter stands for (any other escaped byte stands for itself), which numeric escapes exist, and which
/// bytes an encoder writes as which escape.
/// </summary>
internal sealed class EscapeTable
{
    /// <summary>COPY text: \b \f \n \r \t \v, octal \ooo and hex \xhh (https://www.postgresql.org/docs/current/sql-copy.html).</summary>
    public static readonly EscapeTable CopyText = new(
        [('b', 8), ('f', 12), ('n', 10), ('r', 13), ('t', 9), ('v', 11)], octalAndHex: true, unicode: false, keptWithBackslash: "",
        encoded: [('\\', '\\'), ('\t', 't'), ('\n', 'n'), ('\r', 'r'), ('\b', 'b'), ('\f', 'f'), ('\v', 'v')]);

    /// <summary>PostgreSQL E'...': \b \f \n \r \t, octal, hex and \u / \U (https://www.postgresql.org/docs/current/sql-syntax-lexical.html).</summary>
    public static readonly EscapeTable PostgresString = new(
        [('b', 8), ('f', 12), ('n', 10), ('r', 13), ('t', 9)], octalAndHex: true, unicode: true, keptWithBackslash: "", encoded: []);

    /// <summary>
    /// MySQL '...' and "...": \0 \b \n \r \t \Z; \% and \_ keep their backslash. Encoded as mysqldump does: NUL, \n, \r,
    /// \, ', ", Ctrl-Z (https://dev.mysql.com/doc/refman/8.0/en/string-literals.html).
    /// </summary>
    public static readonly EscapeTable MySqlString = new(
        [('0', 0), ('b', 8), ('n', 10), ('r', 13), ('t', 9), ('Z', 0x1A)], octalAndHex: false, unicode: false, keptWithBackslash: "%_",
        encoded: [('\0', '0'), ('\n', 'n'), ('\r', 'r'), ('\\', '\\'), ('\'', '\''), ('"', '"'), ('\x1A', 'Z')]);

    // Per escape letter: the byte it stands for, or one of the markers below.
    const short Itself = -1;
    const short Octal = -2;
    const short Hex = -3;
    const short Unicode = -4;
    const short KeptWithBackslash = -5;

    readonly short[] _decode = new short[256];
    // Per byte: the letter an encoder writes after a backslash for it; 0 when the byte is written as it is.
    readonly byte[] _encode = new byte[256];

    EscapeTable((char Letter, byte Value)[] letters, bool octalAndHex, bool unicode, string keptWithBackslash, (char Value, char Letter)[] encoded)
    {
        Array.Fill(_decode, Itself);
        foreach (var (letter, value) in letters)
        {
            _decode[letter] = value;
        }
        if (octalAndHex)
        {
            for (var digit = '0'; digit <= '7'; digit++)
            {
                _decode[digit] = Octal;
            }
            _decode['x'] = Hex;
        }
        if (unicode)
        {
            _decode['u'] = Unicode;
            _decode['U'] = Unicode;
        }
        foreach (var c in keptWithBackslash)
        {
            _decode[c] = KeptWithBackslash;
        }
        foreach (var (value, letter) in encoded)
        {
            _encode[value] = (byte)letter;
        }
        MustEscape = SearchValues.Create(encoded.Select(e => (byte)e.Value).ToArray());
    }

    /// <summary>The bytes an encoder escapes.</summary>
    public SearchValues<byte> MustEscape { get; }

    /// <summary>
    /// Reads the escape whose letter is <paramref name="text"/>[i] (the byte after the backslash) and returns the index
    /// past it. <paramref name="value"/> is the byte it stands for, or -1 when the escape wrote its bytes to
    /// <paramref name="output"/> itself (a \u escape's UTF-8, MySQL's \% with its backslash).
    /// </summary>
    public int Read(ReadOnlySpan<byte> text, int i, IBufferWriter<byte> output, out int value)
    {
        var c = text[i++];
        var kind = _decode[c];
        switch (kind)
        {
            case >= 0:
                value = kind;
                return i;
            case Octal:
                value = c - '0';
                for (var n = 0; n < 2 && i < text.Length && text[i] is >= (byte)'0' and <= (byte)'7'; n++)
                {
                    value = (value << 3) + (text[i++] - '0');
                }
                value &= 0xFF;
                return i;
            case Hex when i < text.Length && IsHex(text[i]):
                value = HexValue(text[i++]);
                if (i < text.Length && IsHex(text[i]))
                {
                    value = (value << 4) + HexValue(text[i++]);
                }
                return i;
            case Unicode:
                return ReadUnicode(text, i, c, output, out value);
            case KeptWithBackslash:
                // They only mean something in LIKE patterns.
                Write(output, (byte)'\\');
                Write(output, c);
                value = -1;
                return i;
            default:
                value = c;
                return i;
        }
    }

    static int ReadUnicode(ReadOnlySpan<byte> text, int i, byte c, IBufferWriter<byte> output, out int value)
    {
        var digits = c == (byte)'u' ? 4 : 8;
        var code = 0;
        var n = 0;
        for (; n < digits && i < text.Length && IsHex(text[i]); n++)
        {
            code = (code << 4) + HexValue(text[i++]);
        }
        // A high surrogate escape followed at once by a low one is one code point, as PostgreSQL reads E'\uD83D\uDE00'.
        if (n == digits && code is >= 0xD800 and <= 0xDBFF && i + 6 <= text.Length && text[i] == (byte)'\\' && text[i + 1] == (byte)'u'
            && IsHex(text[i + 2]) && IsHex(text[i + 3]) && IsHex(text[i + 4]) && IsHex(text[i + 5]))
        {
            var low = (HexValue(text[i + 2]) << 12) | (HexValue(text[i + 3]) << 8) | (HexValue(text[i + 4]) << 4) | HexValue(text[i + 5]);
            if (low is >= 0xDC00 and <= 0xDFFF)
            {
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                i += 6;
            }
        }
        if (n != digits || !Rune.IsValid(code))
        {
            value = c;
            return i;
        }
        Span<byte> utf8 = stackalloc byte[4];
        output.Write(utf8[..new Rune(code).EncodeToUtf8(utf8)]);
        value = -1;
        return i;
    }

    /// <summary>Writes <paramref name="value"/> with the bytes of <see cref="MustEscape"/> as backslash escapes.</summary>
    public void Encode(ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        var i = 0;
        while (i < value.Length)
        {
            var k = value[i..].IndexOfAny(MustEscape);
            if (k < 0)
            {
                output.Write(value[i..]);
                return;
            }
            output.Write(value.Slice(i, k));
            i += k;
            var span = output.GetSpan(2);
            span[0] = (byte)'\\';
            span[1] = _encode[value[i++]];
            output.Advance(2);
        }
    }

    /// <summary>As <see cref="Encode(ReadOnlySpan{byte}, IBufferWriter{byte})"/>, into <paramref name="destination"/> of at least twice the value's length; returns the bytes written.</summary>
    public int Encode(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        var written = 0;
        var i = 0;
        while (i < value.Length)
        {
            var k = value[i..].IndexOfAny(MustEscape);
            if (k < 0)
            {
                value[i..].CopyTo(destination[written..]);
                return written + value.Length - i;
            }
            value.Slice(i, k).CopyTo(destination[written..]);
            written += k;
            i += k;
            destination[written++] = (byte)'\\';
            destination[written++] = _encode[value[i++]];
        }
        return written;
    }

    /// <summary>
    /// Decodes the body of a quoted string (between its quotes): a doubled <paramref name="quote"/> is one quote, and
    /// with <paramref name="escapes"/> a backslash escapes as that table says.
    /// </summary>
    public static void DecodeQuoted(ReadOnlySpan<byte> body, byte quote, EscapeTable? escapes, IBufferWriter<byte> output)
    {
        var i = 0;
        while (i < body.Length)
        {
            var k = escapes is null ? body[i..].IndexOf(quote) : body[i..].IndexOfAny(quote, (byte)'\\');
            if (k < 0)
            {
                output.Write(body[i..]);
                return;
            }
            output.Write(body.Slice(i, k));
            i += k;
            if (body[i] == quote)
            {
                Write(output, quote);
                i += 2; // a doubled quote stands for one
                continue;
            }
            i++;
            if (i >= body.Length)
            {
                return;
            }
            i = escapes!.Read(body, i, output, out var value);
            if (value >= 0)
            {
                Write(output, (byte)value);
            }
        }
    }

    internal static void Write(IBufferWriter<byte> output, byte b)
    {
        var span = output.GetSpan(1);
        span[0] = b;
        output.Advance(1);
    }

    internal static bool IsHex(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f') or (>= (byte)'A' and <= (byte)'F');

    internal static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
