using System.Buffers;

namespace Replica.Lexing;

/// <summary>
/// Finds where the current unit ends: a SQL statement at its terminating semicolon, a psql meta-command or COPY row at its
/// newline. It is a resumable state machine: fed any split of the input, it gives the same answer, and it never looks
/// back at bytes of earlier blocks (a dollar-quote tag is kept in the state).
/// Lexical rules: https://www.postgresql.org/docs/current/sql-syntax-lexical.html
/// </summary>
internal static partial class UnitScanner
{
    static readonly SearchValues<byte> s_normalSpecials = SearchValues.Create("'\"$-/;\\"u8);
    // The bytes of a UTF-8 byte order mark count as whitespace here, so that a dump starting with one still begins with a
    // statement (or meta-command) and not with content.
    static readonly SearchValues<byte> s_whitespace = SearchValues.Create([(byte)' ', (byte)'\t', (byte)'\r', (byte)'\n', (byte)'\f', (byte)'\v', 0xEF, 0xBB, 0xBF]);
    static readonly SearchValues<byte> s_blockCommentSpecials = SearchValues.Create("*/"u8);
    static readonly SearchValues<byte> s_eQuoteSpecials = SearchValues.Create("'\\"u8);

    /// <summary>
    /// Scans <paramref name="data"/> from <paramref name="from"/> in the current mode. Returns the index just past the
    /// unit's last byte, or -1 when the unit goes on past the data. <paramref name="dataOffset"/> is the absolute offset
    /// of data[0], used to remember where quotes open.
    /// </summary>
    public static int Scan(ref LexerState s, ReadOnlySpan<byte> data, int from, long dataOffset)
    {
        if (s.Mode != LexerMode.Sql)
        {
            var lf = data[from..].IndexOf((byte)'\n');
            return lf < 0 ? -1 : from + lf + 1;
        }
        return s.MySql ? ScanMySql(ref s, data, from, dataOffset, replay: false) : ScanSql(ref s, data, from, dataOffset);
    }

    static int ScanSql(ref LexerState s, ReadOnlySpan<byte> data, int from, long dataOffset)
    {
        var i = from;
        while (i < data.Length)
        {
            switch (s.Sql)
            {
                case SqlState.Normal:
                {
                    var rest = data[i..];
                    var k = rest.IndexOfAny(s_normalSpecials);
                    var skipped = k < 0 ? rest : rest[..k];
                    if (!s.HasContent && skipped.IndexOfAnyExcept(s_whitespace) >= 0)
                    {
                        s.HasContent = true;
                    }
                    if (skipped.Length >= 2)
                    {
                        s.Prev2 = skipped[^2];
                        s.Prev = skipped[^1];
                    }
                    else if (skipped.Length == 1)
                    {
                        s.Prev2 = s.Prev;
                        s.Prev = skipped[0];
                    }
                    if (k < 0)
                    {
                        return -1;
                    }
                    i += k;
                    var b = data[i];
                    switch (b)
                    {
                        case (byte)';':
                            s.HasContent = true;
                            return i + 1;
                        case (byte)'-':
                            s.Sql = SqlState.NormalDash;
                            break;
                        case (byte)'/':
                            s.Sql = SqlState.NormalSlash;
                            break;
                        case (byte)'\\':
                            if (!s.HasContent)
                            {
                                s.Sql = SqlState.MetaLine;
                                s.HasContent = true;
                            }
                            else
                            {
                                if (s.BackslashAt < 0)
                                {
                                    s.BackslashAt = dataOffset + i;
                                }
                                Shift(ref s, b);
                            }
                            break;
                        case (byte)'"':
                            s.HasContent = true;
                            s.OpenedAt = dataOffset + i;
                            s.Sql = SqlState.DoubleQuote;
                            break;
                        case (byte)'\'':
                            s.HasContent = true;
                            s.OpenedAt = dataOffset + i;
                            // E'...' takes backslash escapes: the E must stand alone, not end an identifier.
                            s.Sql = (s.Prev is (byte)'E' or (byte)'e') && !IsIdentifierByte(s.Prev2)
                                || s.NonStandardStrings
                                ? SqlState.EQuote
                                : SqlState.SingleQuote;
                            break;
                        default: // '$'
                            s.HasContent = true;
                            if (IsIdentifierByte(s.Prev))
                            {
                                Shift(ref s, b); // part of an identifier such as a$b
                            }
                            else
                            {
                                s.OpenedAt = dataOffset + i;
                                s.TagLength = 0;
                                s.Sql = SqlState.DollarOpen;
                            }
                            break;
                    }
                    i++;
                    break;
                }
                case SqlState.NormalDash:
                    if (data[i] == (byte)'-')
                    {
                        s.Sql = SqlState.LineComment;
                        i++;
                    }
                    else
                    {
                        s.HasContent = true;
                        Shift(ref s, (byte)'-');
                        s.Sql = SqlState.Normal;
                    }
                    break;
                case SqlState.NormalSlash:
                    if (data[i] == (byte)'*')
                    {
                        s.OpenedAt = dataOffset + i - 1;
                        s.CommentDepth = 1;
                        s.Sql = SqlState.BlockComment;
                        i++;
                    }
                    else
                    {
                        s.HasContent = true;
                        Shift(ref s, (byte)'/');
                        s.Sql = SqlState.Normal;
                    }
                    break;
                case SqlState.LineComment:
                {
                    var lf = data[i..].IndexOf((byte)'\n');
                    if (lf < 0)
                    {
                        return -1;
                    }
                    i += lf + 1;
                    s.Sql = SqlState.Normal;
                    Shift(ref s, (byte)'\n');
                    break;
                }
                case SqlState.BlockComment:
                {
                    var k = data[i..].IndexOfAny(s_blockCommentSpecials);
                    if (k < 0)
                    {
                        return -1;
                    }
                    i += k;
                    s.Sql = data[i] == (byte)'*' ? SqlState.BlockCommentStar : SqlState.BlockCommentSlash;
                    i++;
                    break;
                }
                case SqlState.BlockCommentStar:
                    if (data[i] == (byte)'/')
                    {
                        i++;
                        if (--s.CommentDepth == 0)
                        {
                            s.Sql = SqlState.Normal;
                            Shift(ref s, (byte)' ');
                        }
                        else
                        {
                            s.Sql = SqlState.BlockComment;
                        }
                    }
                    else if (data[i] == (byte)'*')
                    {
                        i++;
                    }
                    else
                    {
                        s.Sql = SqlState.BlockComment;
                    }
                    break;
                case SqlState.BlockCommentSlash:
                    if (data[i] == (byte)'*')
                    {
                        // Block comments nest in PostgreSQL, unlike the SQL standard.
                        s.CommentDepth++;
                        s.Sql = SqlState.BlockComment;
                        i++;
                    }
                    else if (data[i] == (byte)'/')
                    {
                        i++;
                    }
                    else
                    {
                        s.Sql = SqlState.BlockComment;
                    }
                    break;
                case SqlState.SingleQuote:
                {
                    var k = data[i..].IndexOf((byte)'\'');
                    if (k < 0)
                    {
                        return -1;
                    }
                    i += k + 1;
                    s.Sql = SqlState.SingleQuoteQuote;
                    break;
                }
                case SqlState.SingleQuoteQuote:
                    if (data[i] == (byte)'\'')
                    {
                        s.Sql = SqlState.SingleQuote; // '' is one quote inside the string
                        i++;
                    }
                    else
                    {
                        EndQuote(ref s, (byte)'\'');
                    }
                    break;
                case SqlState.EQuote:
                {
                    var k = data[i..].IndexOfAny(s_eQuoteSpecials);
                    if (k < 0)
                    {
                        return -1;
                    }
                    i += k;
                    s.Sql = data[i] == (byte)'\'' ? SqlState.EQuoteQuote : SqlState.EQuoteBackslash;
                    i++;
                    break;
                }
                case SqlState.EQuoteBackslash:
                    s.Sql = SqlState.EQuote;
                    i++;
                    break;
                case SqlState.EQuoteQuote:
                    if (data[i] == (byte)'\'')
                    {
                        s.Sql = SqlState.EQuote;
                        i++;
                    }
                    else
                    {
                        EndQuote(ref s, (byte)'\'');
                    }
                    break;
                case SqlState.DoubleQuote:
                {
                    var k = data[i..].IndexOf((byte)'"');
                    if (k < 0)
                    {
                        return -1;
                    }
                    i += k + 1;
                    s.Sql = SqlState.DoubleQuoteQuote;
                    break;
                }
                case SqlState.DoubleQuoteQuote:
                    if (data[i] == (byte)'"')
                    {
                        s.Sql = SqlState.DoubleQuote;
                        i++;
                    }
                    else
                    {
                        EndQuote(ref s, (byte)'"');
                    }
                    break;
                case SqlState.DollarOpen:
                {
                    var b = data[i];
                    if (b == (byte)'$')
                    {
                        s.Sql = SqlState.Dollar;
                        i++;
                    }
                    else if (IsTagByte(b, s.TagLength == 0) && s.TagLength < DollarTag.Length)
                    {
                        s.Tag[s.TagLength++] = b;
                        i++;
                    }
                    else
                    {
                        // Not a dollar quote ($1 parameter, or a '$' that starts no tag): plain text.
                        Shift(ref s, (byte)'$');
                        s.Sql = SqlState.Normal;
                    }
                    break;
                }
                case SqlState.Dollar:
                {
                    var k = data[i..].IndexOf((byte)'$');
                    if (k < 0)
                    {
                        return -1;
                    }
                    i += k + 1;
                    s.TagMatched = 0;
                    s.Sql = SqlState.DollarClose;
                    break;
                }
                case SqlState.DollarClose:
                {
                    var b = data[i++];
                    if (s.TagMatched == s.TagLength)
                    {
                        if (b == (byte)'$')
                        {
                            EndQuote(ref s, (byte)'$');
                        }
                        else
                        {
                            s.Sql = SqlState.Dollar;
                        }
                    }
                    else if (b == s.Tag[s.TagMatched])
                    {
                        s.TagMatched++;
                    }
                    else if (b == (byte)'$')
                    {
                        s.TagMatched = 0; // this '$' may open the closing tag
                    }
                    else
                    {
                        s.Sql = SqlState.Dollar;
                    }
                    break;
                }
                case SqlState.MetaLine:
                {
                    var lf = data[i..].IndexOf((byte)'\n');
                    return lf < 0 ? -1 : i + lf + 1;
                }
            }
        }
        return -1;
    }

    /// <summary>Whether the statement scanned so far may end at end of input (no open quote or comment).</summary>
    public static bool CanEndAtEof(in LexerState s) => s.Sql switch
    {
        SqlState.MyDashDash or SqlState.MyBackslash or SqlState.MyQuoteQuote or SqlState.BacktickQuote or SqlState.DelimiterWord or SqlState.DelimiterLine
            or SqlState.DelimiterMatch => true,
        SqlState.Normal or SqlState.NormalDash or SqlState.NormalSlash or SqlState.LineComment or SqlState.MetaLine
            or SqlState.SingleQuoteQuote or SqlState.EQuoteQuote or SqlState.DoubleQuoteQuote or SqlState.DollarOpen => true,
        SqlState.DollarClose => false,
        _ => false,
    };

    /// <summary>Names what is left open at end of input, for the error message.</summary>
    public static string DescribeOpen(in LexerState s) => s.Sql switch
    {
        SqlState.BlockComment or SqlState.BlockCommentStar or SqlState.BlockCommentSlash or SqlState.MySlashStar
            or SqlState.MySlashStarM => "unterminated /* comment",
        SqlState.MyQuote or SqlState.MyQuoteBackslash => "unterminated quoted string",
        SqlState.Backtick => "unterminated `quoted` identifier",
        SqlState.SingleQuote => "unterminated quoted string",
        SqlState.EQuote or SqlState.EQuoteBackslash => "unterminated E'' string",
        SqlState.DoubleQuote => "unterminated quoted identifier",
        _ => "unterminated dollar-quoted string",
    };

    static void EndQuote(ref LexerState s, byte closing)
    {
        s.Sql = SqlState.Normal;
        s.Prev2 = closing;
        s.Prev = closing;
    }

    static void Shift(ref LexerState s, byte b)
    {
        s.Prev2 = s.Prev;
        s.Prev = b;
    }

    internal static bool IsIdentifierByte(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'_' or (byte)'$' or >= 0x80;

    static bool IsTagByte(byte b, bool first) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (byte)'_' or >= 0x80
        || (!first && b is >= (byte)'0' and <= (byte)'9');
}
