using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

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
    // Block comments nest in PostgreSQL, unlike the SQL standard and MySQL: only there does a "/*" inside one count.
    static readonly SearchValues<byte> s_blockCommentSpecials = SearchValues.Create("*/"u8);
    static readonly SearchValues<byte> s_myBlockCommentSpecials = SearchValues.Create("*"u8);

    /// <summary>
    /// Scans <paramref name="data"/> from <paramref name="from"/> in the current mode. Returns the index just past the
    /// unit's last byte, or -1 when the unit goes on past the data. <paramref name="dataOffset"/> is the absolute offset
    /// of data[0], used to remember where quotes open.
    /// </summary>
    public static int Scan(ref LexerState s, ReadOnlySpan<byte> data, int from, long dataOffset)
    {
        if (s.Mode != LexerMode.Sql)
        {
            return PastLineEnd(data, from);
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
                            s.OpenedAt = dataOffset + i; // where a /* comment would start
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
                            Open(ref s, dataOffset + i, SqlState.Quoted, b);
                            break;
                        case (byte)'\'':
                            // E'...' takes backslash escapes: the E must stand alone, not end an identifier. B'...', X'...' and
                            // U&'...' never do, not even when standard_conforming_strings is off (psql's xb, xh and xus states).
                            Open(ref s, dataOffset + i, (s.Prev is (byte)'E' or (byte)'e') && !IsIdentifierByte(s.Prev2)
                                || s.NonStandardStrings && !(s.Prev is (byte)'B' or (byte)'b' or (byte)'X' or (byte)'x' && !IsIdentifierByte(s.Prev2))
                                    && !(s.Prev == (byte)'&' && s.Prev2 is (byte)'U' or (byte)'u')
                                ? SqlState.Escaped
                                : SqlState.Quoted, b);
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
                case SqlState.DollarOpen:
                {
                    var b = data[i];
                    if (b == (byte)'$')
                    {
                        if (s.TagLength > DollarTag.Length)
                        {
                            // psql and the server take $tag$ as a dollar quote whatever the tag's length, and only its
                            // whole tag closes it: a tag cut to the first 64 bytes could close it early, a tag read as
                            // text would leave the scanner outside a quote that psql is in. The unit ends here, refused.
                            s.Sql = SqlState.LongDollarTag;
                            return i + 1;
                        }
                        s.Sql = SqlState.Dollar;
                        i++;
                    }
                    else if (IsTagByte(b, s.TagLength == 0))
                    {
                        // Past the limit only the count goes on (to Length + 1): a '$' after it opens a quote, refused above;
                        // anything else makes $tag plain text, as in psql.
                        if (s.TagLength < DollarTag.Length)
                        {
                            s.Tag[s.TagLength++] = b;
                        }
                        else
                        {
                            s.TagLength = DollarTag.Length + 1;
                        }
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
                    return PastLineEnd(data, i);
                case SqlState.LongDollarTag:
                    return i; // the unit ended at the opener; DumpLexer.Complete hands it out before anything more is read
                default:
                    i = ScanShared(ref s, data, i);
                    if (i < 0)
                    {
                        return -1;
                    }
                    break;
            }
        }
        return -1;
    }

    /// <summary>Whether the statement scanned so far may end at end of input (no open quote or comment).</summary>
    public static bool CanEndAtEof(in LexerState s) => s.Sql switch
    {
        SqlState.MyDashDash or SqlState.MyBackslash or SqlState.DelimiterWord or SqlState.DelimiterLine or SqlState.DelimiterMatch => true,
        SqlState.Normal or SqlState.NormalDash or SqlState.NormalSlash or SqlState.LineComment or SqlState.MetaLine
            or SqlState.QuotedQuote or SqlState.EscapedQuote or SqlState.DollarOpen => true,
        SqlState.DollarClose => false,
        _ => false,
    };

    /// <summary>Names what is left open at end of input, for the error message.</summary>
    public static string DescribeOpen(in LexerState s) => s.Sql switch
    {
        SqlState.BlockComment or SqlState.BlockCommentStar or SqlState.BlockCommentSlash or SqlState.MySlashStar
            or SqlState.MySlashStarM => "unterminated /* comment",
        SqlState.Escaped or SqlState.EscapedBackslash => s.MySql ? "unterminated quoted string" : "unterminated E'' string",
        SqlState.Quoted => s.Quote switch
        {
            (byte)'`' => "unterminated `quoted` identifier",
            (byte)'"' => "unterminated quoted identifier",
            _ => "unterminated quoted string",
        },
        _ => "unterminated dollar-quoted string",
    };

    // The states both dialects share: quotes closed by a doubled quote, quotes with backslash escapes, line comments and
    // the end of a block comment. What differs is data: the quote byte (LexerState.Quote), which quote the dialect opens
    // in which state, and the state after "--" or "/*". Each step takes the byte index and returns the next one, or -1
    // when the state goes on past the data; they are inlined into the scanners' loops. (Prev and Prev2 are read by the
    // PostgreSQL scanner only.)

    /// <summary>The states <see cref="ScanSql"/> and <see cref="ScanMySql"/> share, run from their loops.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int ScanShared(ref LexerState s, ReadOnlySpan<byte> data, int i)
    {
        switch (s.Sql)
        {
            case SqlState.NormalDash: // "--" is a comment in PostgreSQL, maybe one in MySQL
                return AfterDash(ref s, data, i, s.MySql ? SqlState.MyDashDash : SqlState.LineComment);
            case SqlState.NormalSlash: // "/*" may be an executable comment in MySQL
                return AfterSlash(ref s, data, i, s.MySql ? SqlState.MySlashStar : SqlState.BlockComment);
            case SqlState.LineComment:
                return SkipLineComment(ref s, data, i);
            case SqlState.BlockComment:
            {
                var k = data[i..].IndexOfAny(s.MySql ? s_myBlockCommentSpecials : s_blockCommentSpecials);
                if (k < 0)
                {
                    return -1;
                }
                i += k;
                s.Sql = data[i] == (byte)'*' ? SqlState.BlockCommentStar : SqlState.BlockCommentSlash;
                return i + 1;
            }
            case SqlState.BlockCommentStar:
                return InCommentAfter(ref s, data, i, (byte)'*');
            case SqlState.BlockCommentSlash: // PostgreSQL only
                return InCommentAfter(ref s, data, i, (byte)'/');
            case SqlState.Quoted:
                return SkipPastQuote(ref s, data, i);
            case SqlState.QuotedQuote:
                return AfterQuote(ref s, data, i, SqlState.Quoted); // a doubled quote is one quote inside the text
            case SqlState.Escaped:
                return SkipPastQuoteOrBackslash(ref s, data, i);
            case SqlState.EscapedBackslash:
                s.Sql = SqlState.Escaped; // this byte is escaped
                return i + 1;
            case SqlState.EscapedQuote:
                return AfterQuote(ref s, data, i, SqlState.Escaped);
            default:
                ThrowNotAScannerState(s.Sql, s.MySql);
                return -1;
        }
    }

    [DoesNotReturn, StackTraceHidden]
    static void ThrowNotAScannerState(SqlState state, bool mySql) =>
        throw new InvalidOperationException($"state {state} is not a {(mySql ? "MySQL" : "PostgreSQL")} scanner state");

    /// <summary>The index just past the next newline, or -1 when the line goes on past the data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int PastLineEnd(ReadOnlySpan<byte> data, int i)
    {
        var lf = data[i..].IndexOf((byte)'\n');
        return lf < 0 ? -1 : i + lf + 1;
    }

    /// <summary>Opens a quote (or a MySQL client command) at <paramref name="at"/>, closed by <paramref name="quote"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Open(ref LexerState s, long at, SqlState state, byte quote)
    {
        s.HasContent = true;
        s.OpenedAt = at;
        s.Quote = quote;
        s.Sql = state;
    }

    /// <summary>After a '-': a second one goes to <paramref name="afterDashes"/> (a comment, or in MySQL maybe one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int AfterDash(ref LexerState s, ReadOnlySpan<byte> data, int i, SqlState afterDashes)
    {
        if (data[i] == (byte)'-')
        {
            s.Sql = afterDashes;
            return i + 1;
        }
        NotAComment(ref s, (byte)'-');
        return i;
    }

    /// <summary>After a '/' (whose offset is in OpenedAt): a '*' opens a block comment in <paramref name="afterSlashStar"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int AfterSlash(ref LexerState s, ReadOnlySpan<byte> data, int i, SqlState afterSlashStar)
    {
        if (data[i] == (byte)'*')
        {
            s.CommentDepth = 1;
            s.Sql = afterSlashStar;
            return i + 1;
        }
        NotAComment(ref s, (byte)'/');
        return i;
    }

    /// <summary>The byte after a '-' or '/' that starts no comment: the '-' or '/' was content, this byte is read again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void NotAComment(ref LexerState s, byte b)
    {
        s.HasContent = true;
        Shift(ref s, b);
        s.Sql = SqlState.Normal;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int SkipLineComment(ref LexerState s, ReadOnlySpan<byte> data, int i)
    {
        // PostgreSQL and psql end a -- comment at a carriage return too (scan.l: non_newline [^\n\r]): what follows a lone
        // CR on the same line is read, and a meta-command there runs. The mysql client ends # and -- comments at a line feed.
        var lf = s.MySql ? data[i..].IndexOf((byte)'\n') : data[i..].IndexOfAny((byte)'\n', (byte)'\r');
        if (lf < 0)
        {
            return -1;
        }
        s.Sql = SqlState.Normal;
        Shift(ref s, data[i + lf]);
        return i + lf + 1;
    }

    /// <summary>
    /// Inside a block comment after a '*' or '/' (<paramref name="prev"/>): "*/" ends it (or one nesting level), "/*" opens
    /// a nested one (PostgreSQL only reaches the '/' state), a repeat of <paramref name="prev"/> may start either pair.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int InCommentAfter(ref LexerState s, ReadOnlySpan<byte> data, int i, byte prev)
    {
        var b = data[i];
        if (b == prev)
        {
            return i + 1;
        }
        s.Sql = SqlState.BlockComment;
        if (b is not ((byte)'*' or (byte)'/'))
        {
            return i; // comment text: read again in BlockComment
        }
        s.CommentDepth += prev == (byte)'/' ? 1 : -1;
        if (s.CommentDepth == 0)
        {
            s.Sql = SqlState.Normal;
            Shift(ref s, (byte)' ');
        }
        return i + 1;
    }

    /// <summary>Inside a quote that only a doubled quote escapes: past the next quote.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int SkipPastQuote(ref LexerState s, ReadOnlySpan<byte> data, int i)
    {
        var k = data[i..].IndexOf(s.Quote);
        if (k < 0)
        {
            return -1;
        }
        s.Sql = SqlState.QuotedQuote;
        return i + k + 1;
    }

    /// <summary>Inside a quote with backslash escapes: past the next quote or backslash, into the state for that byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int SkipPastQuoteOrBackslash(ref LexerState s, ReadOnlySpan<byte> data, int i)
    {
        var k = data[i..].IndexOfAny(s.Quote, (byte)'\\');
        if (k < 0)
        {
            return -1;
        }
        i += k;
        s.Sql = data[i] == (byte)'\\' ? SqlState.EscapedBackslash : SqlState.EscapedQuote;
        return i + 1;
    }

    /// <summary>After a quote: a second one is part of the text (back to <paramref name="inside"/>), anything else ends it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int AfterQuote(ref LexerState s, ReadOnlySpan<byte> data, int i, SqlState inside)
    {
        var quote = s.Quote;
        if (data[i] == quote)
        {
            s.Sql = inside;
            return i + 1;
        }
        EndQuote(ref s, quote);
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void EndQuote(ref LexerState s, byte closing)
    {
        s.Sql = SqlState.Normal;
        s.Prev2 = closing;
        s.Prev = closing;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Shift(ref LexerState s, byte b)
    {
        s.Prev2 = s.Prev;
        s.Prev = b;
    }

    /// <summary>Whether the quote at <paramref name="quote"/> follows "U&amp;" (read as the scanner reads it: the two bytes before).</summary>
    internal static bool FollowsUnicodePrefix(ReadOnlySpan<byte> sql, int quote) =>
        quote >= 2 && sql[quote - 1] == (byte)'&' && sql[quote - 2] is (byte)'U' or (byte)'u';

    internal static bool IsIdentifierByte(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'_' or (byte)'$' or >= 0x80;

    static bool IsTagByte(byte b, bool first) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (byte)'_' or >= 0x80
        || (!first && b is >= (byte)'0' and <= (byte)'9');
}
