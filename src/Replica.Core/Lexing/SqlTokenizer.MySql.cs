using System.Text;

namespace Replica.Lexing;

// MySQL tokens: `identifiers`, '...' and "..." strings with backslash escapes (EString), X'..' / B'..' (String), 0x.. and
// 0b.. (Number), "#" and "-- " comments, and executable comments /*!NNNNN ... */ whose content is read as tokens.
// https://dev.mysql.com/doc/refman/8.0/en/lexical-structure.html
internal ref partial struct SqlTokenizer
{
    /// <summary>Reads the MySQL token at _pos (not at the end), setting Kind.</summary>
    void ReadTokenMySql()
    {
        var b = _sql[_pos];
        var next = _pos + 1 < _sql.Length ? _sql[_pos + 1] : (byte)0;
        if (b == (byte)'0' && (next | 0x20) is (byte)'x' or (byte)'b' && _pos + 2 < _sql.Length && EscapeTable.IsHex(_sql[_pos + 2]))
        {
            // 0x4142 (what mysqldump --hex-blob writes) or 0b0101.
            _pos += 2;
            while (_pos < _sql.Length && EscapeTable.IsHex(_sql[_pos]))
            {
                _pos++;
            }
            Kind = TokenKind.Number;
        }
        else if (IsIdentStart(b))
        {
            if (next == (byte)'\'' && (b | 0x20) is (byte)'x' or (byte)'b')
            {
                _pos++;
                ReadQuoted(false, TokenKind.String); // X'4142' or B'0101': hex digits or bits, never escapes
                return;
            }
            if (next == (byte)'\'' && (b | 0x20) == (byte)'n')
            {
                _pos++;
                ReadQuoted(true, TokenKind.EString); // N'...': a national character string
                return;
            }
            ReadWord();
        }
        else if (b == (byte)'`')
        {
            ReadQuoted(false, TokenKind.QuotedIdentifier);
        }
        else if (b is (byte)'\'' or (byte)'"')
        {
            ReadQuoted(true, TokenKind.EString);
        }
        else if (b is >= (byte)'0' and <= (byte)'9' || (b == (byte)'.' && next is >= (byte)'0' and <= (byte)'9'))
        {
            ReadNumber();
            Kind = TokenKind.Number;
        }
        else if (b is (byte)'(' or (byte)')' or (byte)',' or (byte)';' or (byte)'.')
        {
            _pos++;
            Kind = TokenKind.Punct;
        }
        else
        {
            _pos++;
            Kind = TokenKind.Other;
        }
    }

    /// <summary>Skips a comment at _pos, or the opener or closer of an executable comment; false when there is none.</summary>
    bool SkipCommentMySql()
    {
        var b = _sql[_pos];
        var next = _pos + 1 < _sql.Length ? _sql[_pos + 1] : (byte)0;
        if (StartsLineComment(_sql, _pos))
        {
            SkipLine();
        }
        else if (b == (byte)'/' && next == (byte)'*')
        {
            var p = _pos + 2;
            if (p < _sql.Length && _sql[p] == (byte)'M' && p + 1 < _sql.Length && _sql[p + 1] == (byte)'!')
            {
                p++;
            }
            if (p < _sql.Length && _sql[p] == (byte)'!')
            {
                // An executable comment: skip its opener and version number, read its content as tokens.
                p++;
                while (p < _sql.Length && _sql[p] is >= (byte)'0' and <= (byte)'9')
                {
                    p++;
                }
                _pos = p;
                _conditionalDepth++;
                return true;
            }
            var close = _sql[(_pos + 2)..].IndexOf("*/"u8);
            _pos = close < 0 ? _sql.Length : _pos + 2 + close + 2;
        }
        else if (b == (byte)'*' && next == (byte)'/' && _conditionalDepth > 0)
        {
            _conditionalDepth--;
            _pos += 2;
        }
        else
        {
            return false;
        }
        return true;
    }

    static string MySqlIdentifierName(ReadOnlySpan<byte> span)
    {
        // MySQL keeps identifiers as written; names are matched case-insensitively (see RewriteRules).
        if (span.Length >= 2 && span[0] == (byte)'`')
        {
            return Encoding.UTF8.GetString(span[1..^1]).Replace("``", "`");
        }
        if (span.Length >= 2 && span[0] == (byte)'"')
        {
            return Encoding.UTF8.GetString(span[1..^1]).Replace("\"\"", "\"");
        }
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>
    /// A name, or in MySQL also a "double-quoted" token: the server reads one as a name when sql_mode holds ANSI_QUOTES,
    /// which a dump can switch on where the lexer does not follow (SET sql_mode = ..., SET @@sql_mode, a variable). The
    /// restore's safety checks read it as a name either way (<see cref="IdentifierName"/> gives its content); outside
    /// ANSI_QUOTES such a string where a name belongs is a syntax error the server would refuse anyway.
    /// https://dev.mysql.com/doc/refman/8.0/en/sql-mode.html#sqlmode_ansi_quotes
    /// </summary>
    public readonly bool IsNameOrAnsiQuoted => IsIdentifier || (_mySql && Kind == TokenKind.EString && _sql[Start] == (byte)'"');

    /// <summary>MySQL: '#', or "--" followed by a blank or control byte (or the end), starts a comment to the end of the line.</summary>
    internal static bool StartsLineComment(ReadOnlySpan<byte> sql, int i) =>
        sql[i] == (byte)'#' || (sql[i] == (byte)'-' && i + 1 < sql.Length && sql[i + 1] == (byte)'-' && (i + 2 >= sql.Length || sql[i + 2] <= (byte)' '));

    /// <summary>Whether the current token is a charset introducer such as _binary or _utf8mb4 (a word starting with '_').</summary>
    public readonly bool IsIntroducer => _mySql && Kind == TokenKind.Word && End - Start > 1 && _sql[Start] == (byte)'_';
}
