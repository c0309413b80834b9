using System.Buffers;

namespace Replica.Lexing;

// The MySQL / MariaDB dialect: statements as the mysql client splits them when it loads a dump, since that client is
// what restores mysqldump output. https://dev.mysql.com/doc/refman/8.0/en/string-literals.html ,
// https://dev.mysql.com/doc/refman/8.0/en/comments.html , https://dev.mysql.com/doc/refman/8.0/en/mysql-commands.html
// - '...' and "..." are strings with backslash escapes and doubled quotes; `...` is an identifier with doubled backticks.
// - "#" and "-- " (dashes then a space or control character) start line comments; /* */ comments do not nest.
// - /*!NNNNN ... */ and MariaDB's /*M!NNNNN ... */ hold executable SQL: like the client, the scanner reads their content
//   as SQL (quotes inside count) and the closing */ as plain text, so a ';' inside one ends the statement as it does there.
// - DELIMITER xx at the start of a statement is a client command taking the rest of its line; it sets the terminator.
//   The client (mysql.cc, --binary-mode as the restore runs it; checked against MariaDB 10.11's) takes a line as the
//   command when, after spaces, its first nine bytes spell "delimiter" in Latin-1 without case (D\xC9LIMITER,
//   DELIMITERX and "DELIMITER" alone too) and no statement is open; elsewhere it adds the line to the statement and, at
//   the statement's end, takes the whole statement as the command if it starts so: "SELECT 1; DELIMITER $$" swallows
//   what follows up to the next ';' into the command (not run), and then runs the rest under a terminator of the
//   command's first word up to a space, at most 15 bytes. The lexer applies only the plain form alone at the start of
//   a line, with a terminator the client reads the same; it hands out any other as a unit the consumers refuse.
internal static partial class UnitScanner
{
    static readonly SearchValues<byte> s_myNormalSpecials = SearchValues.Create("'\"`-/#;\\"u8);
    static readonly SearchValues<byte> s_myWhitespace = SearchValues.Create([(byte)' ', (byte)'\t', (byte)'\r', (byte)'\n', (byte)'\f', (byte)'\v', 0xEF, 0xBB, 0xBF]);

    /// <summary>
    /// The MySQL scanner. <paramref name="replay"/> is set when the bytes of a partly matched custom delimiter are read
    /// again with their ordinary meaning: they then can neither be a delimiter nor start the DELIMITER command.
    /// </summary>
    static int ScanMySql(ref LexerState s, ReadOnlySpan<byte> data, int from, long dataOffset, bool replay)
    {
        var i = from;
        while (i < data.Length)
        {
            switch (s.Sql)
            {
                case SqlState.Normal:
                {
                    if (!s.HasContent)
                    {
                        var ws = data[i..].IndexOfAnyExcept(s_myWhitespace);
                        if (ws < 0)
                        {
                            return -1;
                        }
                        i += ws;
                        var first = data[i];
                        // A byte above 0x7F may be a Latin-1 letter the client folds to D (Ð).
                        if (((first | 0x20) == (byte)'d' || first >= 0x80) && !replay)
                        {
                            s.Sql = SqlState.DelimiterWord;
                            s.OpenedAt = dataOffset + i; // where the command starts, for TryApplyDelimiter
                            s.TagMatched = 0;
                            s.DelimiterOdd = false;
                            break;
                        }
                        if (!s_myNormalSpecials.Contains(first))
                        {
                            s.HasContent = true;
                        }
                    }
                    var rest = data[i..];
                    var k = rest.IndexOfAny(s_myNormalSpecials);
                    var custom = s.DelimiterLength > 0 && !replay;
                    if (custom)
                    {
                        var d = rest.IndexOf(s.Delimiter[0]);
                        if (d >= 0 && (k < 0 || d < k))
                        {
                            k = d;
                        }
                    }
                    if (k < 0)
                    {
                        return -1;
                    }
                    i += k;
                    var b = data[i];
                    if (custom && b == s.Delimiter[0])
                    {
                        s.HasContent = true;
                        i++;
                        if (s.DelimiterLength == 1)
                        {
                            return i;
                        }
                        s.OpenedAt = dataOffset + i - 1;
                        s.TagMatched = 1;
                        s.Sql = SqlState.DelimiterMatch;
                        break;
                    }
                    switch (b)
                    {
                        case (byte)';':
                            s.HasContent = true;
                            if (s.DelimiterLength == 0)
                            {
                                return i + 1;
                            }
                            break; // under a custom delimiter (or replayed) a ';' is plain text
                        case (byte)'-':
                            s.Sql = SqlState.NormalDash;
                            break;
                        case (byte)'/':
                            s.OpenedAt = dataOffset + i;
                            s.Sql = SqlState.NormalSlash;
                            break;
                        case (byte)'#':
                            s.Sql = SqlState.LineComment;
                            break;
                        case (byte)'\\':
                            // The client runs \x outside strings as one of its own commands (\! is system); the next byte says which.
                            Open(ref s, dataOffset + i, SqlState.MyBackslash, b);
                            break;
                        case (byte)'`':
                            Open(ref s, dataOffset + i, SqlState.Quoted, b);
                            break;
                        default: // ' or "
                            Open(ref s, dataOffset + i, SqlState.Escaped, b);
                            break;
                    }
                    i++;
                    break;
                }
                case SqlState.MyDashDash:
                    // "--" starts a comment only before a space or control character; "1--1" is arithmetic.
                    if (data[i] <= (byte)' ')
                    {
                        s.Sql = SqlState.LineComment;
                    }
                    else
                    {
                        s.HasContent = true;
                        s.Sql = SqlState.Normal;
                    }
                    break;
                case SqlState.MySlashStar:
                    if (data[i] == (byte)'!')
                    {
                        s.HasContent = true; // executable comment: its content is SQL
                        s.Sql = SqlState.Normal;
                        i++;
                    }
                    else if (data[i] == (byte)'M')
                    {
                        s.Sql = SqlState.MySlashStarM;
                        i++;
                    }
                    else
                    {
                        s.Sql = SqlState.BlockComment; // this byte is comment text (or the '*' of "/**/")
                    }
                    break;
                case SqlState.MySlashStarM:
                    if (data[i] == (byte)'!')
                    {
                        s.HasContent = true;
                        s.Sql = SqlState.Normal;
                        i++;
                    }
                    else
                    {
                        s.Sql = SqlState.BlockComment;
                    }
                    break;
                case SqlState.MyBackslash:
                    // \- is MariaDB's sandbox command (mariadb-dump writes it first, inside /*M!999999 */): after it the client
                    // refuses system, source, tee and the like. Any other command is recorded; this byte is read again.
                    if (data[i] != (byte)'-' && s.BackslashAt < 0)
                    {
                        s.BackslashAt = s.OpenedAt;
                    }
                    s.Sql = SqlState.Normal;
                    break;
                case SqlState.DelimiterWord:
                {
                    var b = data[i];
                    if (s.TagMatched == DelimiterCommand.Length)
                    {
                        // The client checks only these nine bytes: "DELIMITERS $$", "DELIMITER;" and "DELIMITER" alone on
                        // its line are the command to it too (refused, DelimiterOdd), not SQL.
                        s.HasContent = true;
                        s.Sql = SqlState.DelimiterLine;
                        if (b is not ((byte)' ' or (byte)'\t'))
                        {
                            s.DelimiterOdd = true;
                        }
                    }
                    else if ((b | 0x20) == DelimiterCommand[s.TagMatched] || b >= 0x80)
                    {
                        s.DelimiterOdd |= b >= 0x80;
                        s.TagMatched++;
                        i++;
                    }
                    else
                    {
                        s.HasContent = true;
                        s.Sql = SqlState.Normal;
                    }
                    break;
                }
                case SqlState.DelimiterLine:
                    return PastLineEnd(data, i);
                case SqlState.DelimiterMatch:
                {
                    if (data[i] == s.Delimiter[s.TagMatched])
                    {
                        i++;
                        if (++s.TagMatched == s.DelimiterLength)
                        {
                            s.Sql = SqlState.Normal;
                            return i;
                        }
                        break;
                    }
                    // Not the delimiter after all: the bytes matched so far have their ordinary meaning (a "/" of
                    // "/*" under DELIMITER //, say). They are the delimiter's first bytes, so they are read from there.
                    Span<byte> matched = stackalloc byte[DollarTag.Length];
                    var n = s.TagMatched;
                    ((ReadOnlySpan<byte>)s.Delimiter)[..n].CopyTo(matched);
                    s.Sql = SqlState.Normal;
                    ScanMySql(ref s, matched[..n], 0, s.OpenedAt, replay: true);
                    break; // and this byte is read again in whatever state that left
                }
                default:
                    if ((i = ScanShared(ref s, data, i)) < 0)
                    {
                        return -1;
                    }
                    break;
            }
        }
        return -1;
    }

    static ReadOnlySpan<byte> DelimiterCommand => "delimiter"u8;

    /// <summary>The longest terminator the client keeps (its buffer holds 15 bytes; a longer one it cuts short).</summary>
    public const int MaxDelimiterLength = 15;

    /// <summary>Why a DELIMITER command of <see cref="UnitKind.BadDelimiter"/> is refused.</summary>
    public const string BadDelimiterReason =
        "DELIMITER needs a terminator of 1 to 15 bytes without letters, quotes or backslashes (the mysql client cuts a longer one short, strips quotes and escapes, and the restore's check reads letters as the start of a command)";

    /// <summary>Why a DELIMITER command of <see cref="UnitKind.MisplacedDelimiter"/> is refused.</summary>
    public const string MisplacedDelimiterReason =
        "a DELIMITER command after other text on its line, or spelled otherwise than DELIMITER and a space (DELIMITERX, a Latin-1 letter, DELIMITER alone): "
        + "the mysql client takes such a statement as the command where the restore's check does not (\"SELECT 1; DELIMITER $$\" swallows the text up to the next ';' and runs what follows), "
        + "or the other way round; mysqldump writes DELIMITER alone at the start of a line";

    /// <summary>
    /// Whether the DELIMITER command (at <see cref="LexerState.OpenedAt"/>) starts its line, as the client needs to take
    /// it there: only spaces, tabs, carriage returns, vertical tabs and form feeds before it since the last line break of
    /// the unit, or of the units before it (a comment before it on its line is text to the client).
    /// </summary>
    public static bool DelimiterStartsLine(in LexerState s, ReadOnlySpan<byte> unit)
    {
        var before = unit[..(int)Math.Clamp(s.OpenedAt - s.UnitOffset, 0, unit.Length)];
        var lf = before.LastIndexOf((byte)'\n');
        return before[(lf + 1)..].IndexOfAnyExcept(" \t\r\v\f"u8) < 0 && (lf >= 0 || s.UnitAtLineStart);
    }

    /// <summary>
    /// Applies a DELIMITER command (a unit scanned into state <see cref="SqlState.DelimiterLine"/>, whose command word
    /// starts at <see cref="LexerState.OpenedAt"/>): the new terminator is the client's, the first word after the command
    /// up to a space or the line's end (a tab or carriage return is part of it, as in the client). Returns false when the
    /// client would read it otherwise or not at all (<see cref="BadDelimiterReason"/>): none, longer than
    /// <see cref="MaxDelimiterLength"/>, a quote first, a backslash, or a letter or byte above 0x7F (which the scanner may
    /// read as the start of a DELIMITER command instead).
    /// </summary>
    public static bool TryApplyDelimiter(ref LexerState s, ReadOnlySpan<byte> unit)
    {
        var start = (int)Math.Clamp(s.OpenedAt - s.UnitOffset, 0, unit.Length);
        var rest = unit[Math.Min(start + DelimiterCommand.Length, unit.Length)..];
        var from = rest.IndexOfAnyExcept(" \t\r\v\f"u8);
        if (from < 0)
        {
            return false;
        }
        rest = rest[from..];
        var end = rest.IndexOfAny((byte)' ', (byte)'\n');
        var word = end < 0 ? rest : rest[..end];
        if (word.Length == 0 || word.Length > MaxDelimiterLength || word[0] is (byte)'\'' or (byte)'"' or (byte)'`'
            || word.IndexOf((byte)'\\') >= 0 || word.IndexOfAnyInRange((byte)'A', (byte)'Z') >= 0
            || word.IndexOfAnyInRange((byte)'a', (byte)'z') >= 0 || word.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0)
        {
            return false;
        }
        if (word.SequenceEqual(";"u8))
        {
            s.DelimiterLength = 0;
            return true;
        }
        word.CopyTo(s.Delimiter);
        s.DelimiterLength = word.Length;
        return true;
    }
}
