using System.Text;

namespace Replica.Lexing;

internal enum TokenKind : byte
{
    End,
    Word,
    QuotedIdentifier,
    /// <summary>'...' or a prefixed form (U&amp;'...', B'...', X'...'): '' doubles a quote, backslash is literal.</summary>
    String,
    /// <summary>E'...': backslash escapes (or any string when standard_conforming_strings is off).</summary>
    EString,
    DollarString,
    Number,
    /// <summary>One of ( ) [ ] , ; . or the cast operator ::.</summary>
    Punct,
    /// <summary>Operators, parameters and anything else.</summary>
    Other,
}

/// <summary>
/// Splits one complete SQL statement into tokens, skipping whitespace and comments. It runs on statements that the
/// <see cref="UnitScanner"/> has already delimited, so it only classifies; it never decides where a statement ends.
/// https://www.postgresql.org/docs/current/sql-syntax-lexical.html
/// </summary>
internal ref partial struct SqlTokenizer
{
    readonly ReadOnlySpan<byte> _sql;
    readonly bool _nonStandardStrings;
    readonly bool _mySql;
    int _pos;
    int _conditionalDepth;

    public SqlTokenizer(ReadOnlySpan<byte> sql, bool nonStandardStrings = false, int start = 0, bool mySql = false)
    {
        _sql = sql;
        _nonStandardStrings = nonStandardStrings;
        _mySql = mySql;
        _conditionalDepth = 0;
        _pos = start;
        Kind = TokenKind.End;
        Start = 0;
        End = 0;
    }

    public TokenKind Kind { get; private set; }
    public int Start { get; private set; }
    public int End { get; private set; }
    public readonly ReadOnlySpan<byte> Span => _sql[Start..End];
    public readonly int Position => _pos;

    public readonly bool IsWord(ReadOnlySpan<byte> lowerCaseWord) =>
        Kind == TokenKind.Word && System.Text.Ascii.EqualsIgnoreCase(Span, lowerCaseWord);

    public readonly bool IsPunct(byte c) => Kind == TokenKind.Punct && End - Start == 1 && _sql[Start] == c;

    /// <summary>Whether the token is the one-byte operator <paramref name="c"/> (=, @ ...), which the tokenizer reads as Other.</summary>
    public readonly bool IsOther(byte c) => Kind == TokenKind.Other && End - Start == 1 && _sql[Start] == c;

    public readonly bool IsCast => Kind == TokenKind.Punct && End - Start == 2;

    /// <summary>Moves to the next token; false at the end of the statement.</summary>
    public bool Next()
    {
        while (_pos < _sql.Length && (SkipSpace(_sql[_pos]) || (_mySql ? SkipCommentMySql() : SkipComment())))
        {
        }
        Start = _pos;
        if (_pos >= _sql.Length)
        {
            Kind = TokenKind.End;
            End = _pos;
            return false;
        }
        if (_mySql)
        {
            ReadTokenMySql();
        }
        else
        {
            ReadToken();
        }
        End = _pos;
        return true;
    }

    /// <summary>Reads the PostgreSQL token at _pos (not at the end), setting Kind.</summary>
    void ReadToken()
    {
        var b = _sql[_pos];
        if (IsIdentStart(b))
        {
            var prefixEnd = _pos + 1;
            // E'...', B'...', X'...', N'...' and U&'...' are strings with a prefix, when the letter does not end a longer
            // name (as the UnitScanner reads them: a$E'...' is a name and a plain string). psql reads B'...' and X'...'
            // (like U&'...') without backslash escapes whatever standard_conforming_strings says; N'...' is a plain string.
            if (prefixEnd < _sql.Length && _sql[prefixEnd] == (byte)'\'' && (b | 0x20) is (byte)'e' or (byte)'b' or (byte)'x' or (byte)'n'
                && (_pos == 0 || !UnitScanner.IsIdentifierByte(_sql[_pos - 1])))
            {
                _pos = prefixEnd;
                var escapes = (b | 0x20) == 'e' || ((b | 0x20) == 'n' && _nonStandardStrings);
                ReadQuoted(escapes, escapes ? TokenKind.EString : TokenKind.String);
                return;
            }
            if ((b | 0x20) == 'u' && prefixEnd + 1 < _sql.Length && _sql[prefixEnd] == (byte)'&' && _sql[prefixEnd + 1] is (byte)'\'' or (byte)'"')
            {
                _pos = prefixEnd + 1;
                var identifier = _sql[_pos] == (byte)'"';
                ReadQuoted(false, identifier ? TokenKind.QuotedIdentifier : TokenKind.String);
                if (identifier)
                {
                    ReadUescape();
                }
                return;
            }
            ReadWord();
        }
        else if (b == (byte)'"')
        {
            ReadQuoted(false, TokenKind.QuotedIdentifier);
        }
        else if (b == (byte)'\'')
        {
            // After "U&" (the U ending a longer name too, as the UnitScanner reads it) the string takes no escapes.
            var escapes = _nonStandardStrings && !UnitScanner.FollowsUnicodePrefix(_sql, _pos);
            ReadQuoted(escapes, escapes ? TokenKind.EString : TokenKind.String);
        }
        else if (b is >= (byte)'0' and <= (byte)'9' || (b == (byte)'.' && _pos + 1 < _sql.Length && _sql[_pos + 1] is >= (byte)'0' and <= (byte)'9'))
        {
            ReadNumber();
            Kind = TokenKind.Number;
        }
        else if (b == (byte)'$' && TryReadDollarString())
        {
            Kind = TokenKind.DollarString;
        }
        else if (b is (byte)'(' or (byte)')' or (byte)'[' or (byte)']' or (byte)',' or (byte)';' or (byte)'.')
        {
            _pos++;
            Kind = TokenKind.Punct;
        }
        else if (b == (byte)':' && _pos + 1 < _sql.Length && _sql[_pos + 1] == (byte)':')
        {
            _pos += 2;
            Kind = TokenKind.Punct;
        }
        else
        {
            _pos++;
            if (b == (byte)'$')
            {
                while (_pos < _sql.Length && _sql[_pos] is >= (byte)'0' and <= (byte)'9')
                {
                    _pos++;
                }
            }
            Kind = TokenKind.Other;
        }
    }

    /// <summary>
    /// After a U&amp;"..." identifier: a UESCAPE 'c' clause (comments and whitespace around it) joins the token, so that
    /// <see cref="IdentifierName"/> decodes the name with its own escape character and a reader of names never takes
    /// UESCAPE for the next word. https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS-UESCAPE
    /// </summary>
    void ReadUescape()
    {
        var end = _pos;
        while (_pos < _sql.Length && (SkipSpace(_sql[_pos]) || SkipComment()))
        {
        }
        if (_pos + 7 <= _sql.Length && System.Text.Ascii.EqualsIgnoreCase(_sql.Slice(_pos, 7), "uescape"u8)
            && (_pos + 7 == _sql.Length || !UnitScanner.IsIdentifierByte(_sql[_pos + 7])))
        {
            _pos += 7;
            while (_pos < _sql.Length && (SkipSpace(_sql[_pos]) || SkipComment()))
            {
            }
            if (_pos + 3 <= _sql.Length && _sql[_pos] == (byte)'\'' && _sql[_pos + 2] == (byte)'\'' && _sql[_pos + 1] != (byte)'\'')
            {
                _pos += 3;
                return;
            }
        }
        _pos = end;
    }

    /// <summary>Skips a comment at _pos; false when there is none.</summary>
    bool SkipComment()
    {
        var b = _sql[_pos];
        if (b == (byte)'-' && _pos + 1 < _sql.Length && _sql[_pos + 1] == (byte)'-')
        {
            SkipLine();
        }
        else if (b == (byte)'/' && _pos + 1 < _sql.Length && _sql[_pos + 1] == (byte)'*')
        {
            var depth = 1; // block comments nest in PostgreSQL
            _pos += 2;
            while (_pos < _sql.Length && depth > 0)
            {
                if (_sql[_pos] == (byte)'*' && _pos + 1 < _sql.Length && _sql[_pos + 1] == (byte)'/')
                {
                    depth--;
                    _pos += 2;
                }
                else if (_sql[_pos] == (byte)'/' && _pos + 1 < _sql.Length && _sql[_pos + 1] == (byte)'*')
                {
                    depth++;
                    _pos += 2;
                }
                else
                {
                    _pos++;
                }
            }
        }
        else
        {
            return false;
        }
        return true;
    }

    // The steps both dialects' tokenizers share; what differs (which quote is an identifier, which strings take
    // backslash escapes, the comment forms) is decided in ReadToken, ReadTokenMySql and their SkipComment.

    /// <summary>Skips whitespace or a UTF-8 byte order mark at _pos (b is the byte there); false when there is none.</summary>
    bool SkipSpace(byte b)
    {
        if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or (byte)'\v')
        {
            _pos++;
            return true;
        }
        if (b == 0xEF && _sql[_pos..].StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            _pos += 3;
            return true;
        }
        return false;
    }

    /// <summary>Skips a -- or # comment: to the line feed, or for PostgreSQL a carriage return too (as UnitScanner).</summary>
    void SkipLine()
    {
        var lf = _mySql ? _sql[_pos..].IndexOf((byte)'\n') : _sql[_pos..].IndexOfAny((byte)'\n', (byte)'\r');
        _pos = lf < 0 ? _sql.Length : _pos + lf + 1;
    }

    void ReadWord()
    {
        _pos++;
        while (_pos < _sql.Length && UnitScanner.IsIdentifierByte(_sql[_pos]))
        {
            _pos++;
        }
        Kind = TokenKind.Word;
    }

    /// <summary>Reads a quoted token starting at the quote under _pos, with doubling, and backslash escapes if asked.</summary>
    void ReadQuoted(bool backslashEscapes, TokenKind kind)
    {
        Kind = kind;
        var quote = _sql[_pos++];
        while (_pos < _sql.Length)
        {
            var b = _sql[_pos++];
            if (backslashEscapes && b == (byte)'\\')
            {
                _pos++;
            }
            else if (b == quote)
            {
                if (_pos < _sql.Length && _sql[_pos] == quote)
                {
                    _pos++;
                }
                else
                {
                    return;
                }
            }
        }
        _pos = Math.Min(_pos, _sql.Length);
    }

    void ReadNumber()
    {
        while (_pos < _sql.Length && _sql[_pos] is >= (byte)'0' and <= (byte)'9' or (byte)'.' or (byte)'_')
        {
            _pos++;
        }
        if (_pos < _sql.Length && (_sql[_pos] | 0x20) == 'e')
        {
            var p = _pos + 1;
            if (p < _sql.Length && _sql[p] is (byte)'+' or (byte)'-')
            {
                p++;
            }
            if (p < _sql.Length && _sql[p] is >= (byte)'0' and <= (byte)'9')
            {
                _pos = p;
                while (_pos < _sql.Length && _sql[_pos] is >= (byte)'0' and <= (byte)'9')
                {
                    _pos++;
                }
            }
        }
    }

    bool TryReadDollarString()
    {
        var p = _pos + 1;
        while (p < _sql.Length && _sql[p] != (byte)'$' && UnitScanner.IsIdentifierByte(_sql[p]))
        {
            p++;
        }
        if (p >= _sql.Length || _sql[p] != (byte)'$' || (p > _pos + 1 && _sql[_pos + 1] is >= (byte)'0' and <= (byte)'9'))
        {
            return false;
        }
        var tag = _sql[_pos..(p + 1)];
        var close = _sql[(p + 1)..].IndexOf(tag);
        _pos = close < 0 ? _sql.Length : p + 1 + close + tag.Length;
        return true;
    }

    static bool IsIdentStart(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (byte)'_' or >= 0x80;

    /// <summary>The name a Word or QuotedIdentifier token stands for, as PostgreSQL stores it.</summary>
    public readonly string IdentifierName()
    {
        var span = Span;
        if (_mySql)
        {
            return MySqlIdentifierName(span);
        }
        if (Kind == TokenKind.QuotedIdentifier)
        {
            if (span[0] != (byte)'"')
            {
                return UnicodeIdentifierName(span);
            }
            var inner = Encoding.UTF8.GetString(span[1..^1]);
            return inner.Replace("\"\"", "\"");
        }
        var text = Encoding.UTF8.GetString(span);
        return Identifiers.FoldCase(text);
    }

    public readonly bool IsIdentifier => Kind is TokenKind.Word or TokenKind.QuotedIdentifier;

    /// <summary>
    /// The name of a U&amp;"..." token [UESCAPE 'c'], decoded as the server does (str_udeescape): the escape character and
    /// four hex digits, or it and + and six, is a code point (a surrogate pair as two escapes); the escape character twice is
    /// itself. A name the server would reject (a bad escape) comes back as written: its statement fails on restore.
    /// </summary>
    static string UnicodeIdentifierName(ReadOnlySpan<byte> span)
    {
        // span: U&"..."["" doubled inside] [UESCAPE 'c']
        var close = 3;
        while (close < span.Length && !(span[close] == (byte)'"' && (close + 1 >= span.Length || span[close + 1] != (byte)'"')))
        {
            close += span[close] == (byte)'"' ? 2 : 1;
        }
        var inner = Encoding.UTF8.GetString(span[3..Math.Min(close, span.Length)]).Replace("\"\"", "\"");
        var escape = close + 1 < span.Length ? (char)span[^2] : '\\';
        if (char.IsAsciiHexDigit(escape) || escape is '+' or '"' or ' ' or '\t' or '\n' or '\r' or '\f')
        {
            return inner;
        }
        return DecodeUnicodeEscapes(inner, escape);
    }

    /// <summary>
    /// The text of a U&amp;"..." name or U&amp;'...' string between its quotes (doubled quotes already made one) with
    /// <paramref name="escape"/>'s escapes decoded as the server does (str_udeescape); with a bad escape, the text as written.
    /// </summary>
    internal static string DecodeUnicodeEscapes(string inner, char escape)
    {
        var text = new StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            if (inner[i] != escape)
            {
                text.Append(inner[i]);
                continue;
            }
            if (i + 1 < inner.Length && inner[i + 1] == escape)
            {
                text.Append(escape);
                i++;
                continue;
            }
            if (!TryReadCodePoint(inner, i, out var code, out var length))
            {
                return inner;
            }
            i += length - 1;
            if (code is >= 0xD800 and <= 0xDBFF)
            {
                // A high surrogate must be followed at once by an escaped low one.
                if (i + 1 >= inner.Length || inner[i + 1] != escape || !TryReadCodePoint(inner, i + 1, out var low, out var lowLength)
                    || low is < 0xDC00 or > 0xDFFF)
                {
                    return inner;
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                i += lowLength;
            }
            else if (code is 0 or > 0x10FFFF or (>= 0xD800 and <= 0xDFFF))
            {
                return inner;
            }
            text.Append(char.ConvertFromUtf32(code));
        }
        return text.ToString();
    }

    /// <summary>At inner[at] (the escape character): 4 hex digits, or + and 6; length counts the escape character.</summary>
    static bool TryReadCodePoint(string inner, int at, out int code, out int length)
    {
        var plus = at + 1 < inner.Length && inner[at + 1] == '+';
        var digits = plus ? 6 : 4;
        var first = at + (plus ? 2 : 1);
        code = 0;
        length = first - at + digits;
        if (first + digits > inner.Length)
        {
            return false;
        }
        for (var k = first; k < first + digits; k++)
        {
            var c = inner[k];
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
            code = (code << 4) | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        return true;
    }
}
