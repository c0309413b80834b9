using System.Runtime.CompilerServices;

namespace Replica.Lexing;

/// <summary>What the lexer is reading: SQL statements, the rest of a COPY command's line, or COPY data rows.</summary>
internal enum LexerMode : byte
{
    Sql,
    CopyHeaderTail,
    CopyData,
}

/// <summary>Where the SQL scanner stands inside a statement; see <see cref="UnitScanner"/>.</summary>
internal enum SqlState : byte
{
    Normal,
    NormalDash,
    NormalSlash,
    LineComment,
    BlockComment,
    BlockCommentStar,
    BlockCommentSlash,
    // Quotes both dialects share; the closing byte is LexerState.Quote (UnitScanner.DescribeOpen names them per dialect).
    /// <summary>Inside a quote that only a doubled quote escapes: PostgreSQL '...' and "...", MySQL `...`.</summary>
    Quoted,
    QuotedQuote,
    /// <summary>Inside a quote with backslash escapes and doubling: PostgreSQL E'...', MySQL '...' and "...".</summary>
    Escaped,
    EscapedBackslash,
    EscapedQuote,
    DollarOpen,
    Dollar,
    DollarClose,
    /// <summary>
    /// A dollar quote opened whose tag is longer than <see cref="DollarTag.Length"/> bytes: psql and the server read it as
    /// a quote (they have no limit), the scanner cannot follow it. The unit ends at the opener's closing '$'; the lexer
    /// hands it out as <see cref="UnitKind.LongDollarTag"/>, which every consumer refuses.
    /// </summary>
    LongDollarTag,
    MetaLine,
    // MySQL only (see UnitScanner.MySql.cs).
    /// <summary>Saw "--": a comment only if a space or control character follows.</summary>
    MyDashDash,
    /// <summary>Saw "/*": "/*!" and "/*M!" open an executable comment, anything else a plain one.</summary>
    MySlashStar,
    MySlashStarM,
    /// <summary>After a backslash outside strings: the next byte names a client command (\- is the sandbox, allowed).</summary>
    MyBackslash,
    /// <summary>At the start of a statement, reading what may be the client command DELIMITER.</summary>
    DelimiterWord,
    DelimiterLine,
    /// <summary>Matched the first <see cref="LexerState.TagMatched"/> bytes of a custom delimiter.</summary>
    DelimiterMatch,
}

/// <summary>A dollar-quote tag; PostgreSQL identifiers are at most 63 bytes, pg_dump's tags are a few underscores.</summary>
[InlineArray(Length)]
internal struct DollarTag
{
    public const int Length = 64;
    byte _element0;
}

/// <summary>
/// Everything the lexer must remember between two blocks of input: small, plain, copied by value. A unit (statement,
/// meta-command line or COPY row) that is cut by a block boundary is resumed from here without rescanning its start.
/// </summary>
internal struct LexerState
{
    public LexerMode Mode;
    public SqlState Sql;
    /// <summary>A byte other than whitespace or comment was seen in the current statement.</summary>
    public bool HasContent;
    public byte Prev;
    public byte Prev2;
    public int CommentDepth;
    /// <summary>The bytes of the dollar-quote tag read so far; past <see cref="DollarTag.Length"/> it stops at Length + 1.</summary>
    public int TagLength;
    public int TagMatched;
    public DollarTag Tag;
    /// <summary>Absolute offset where the innermost open quote or comment began, for "unterminated" errors.</summary>
    public long OpenedAt;
    /// <summary>SET standard_conforming_strings: when off, plain '...' strings take backslash escapes too.</summary>
    public bool NonStandardStrings;

    /// <summary>The input is a MySQL dump (<see cref="SqlDialect.MySql"/>).</summary>
    public bool MySql;
    /// <summary>MySQL: the quote byte of the open string, ' or ".</summary>
    public byte Quote;
    /// <summary>MySQL: the statement terminator set by the client command DELIMITER; length 0 means ';'.</summary>
    public DollarTag Delimiter;
    public int DelimiterLength;
    /// <summary>
    /// MySQL: the DELIMITER command being read is spelled otherwise than "DELIMITER" and a space or tab (a byte that
    /// Latin-1 may fold to its letter, another byte right after it), which the client still takes as the command.
    /// </summary>
    public bool DelimiterOdd;
    /// <summary>The current unit starts a line: the unit before it ended with a line break (or none came before).</summary>
    public bool UnitAtLineStart;

    /// <summary>
    /// Absolute offset of the first backslash of the current statement that is outside quotes and comments and not at its
    /// start (-1: none). psql runs such a backslash as a meta-command wherever it stands (SELECT 1 \! cmd), and the mysql
    /// client does the same outside strings; no SQL statement contains one.
    /// </summary>
    public long BackslashAt;

    /// <summary>Absolute byte offset of the current unit's first byte.</summary>
    public long UnitOffset;
    /// <summary>1-based line number of the current unit's first byte.</summary>
    public long UnitLineNumber;

    public static LexerState Initial => new() { UnitLineNumber = 1, BackslashAt = -1, UnitAtLineStart = true };

    public void BeginStatement()
    {
        Sql = SqlState.Normal;
        HasContent = false;
        Prev = (byte)'\n';
        Prev2 = (byte)'\n';
        CommentDepth = 0;
        TagLength = 0;
        TagMatched = 0;
        BackslashAt = -1;
    }
}
