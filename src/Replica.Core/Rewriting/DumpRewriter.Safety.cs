using Replica.Lexing;

namespace Replica.Rewriting;

// What a restore refuses is refused here already, so it never reaches a bridge: psql meta-commands other than those
// pg_dump writes, a backslash outside quotes inside a statement (psql and the mysql client run it as a command), COPY
// from or to a program or a server file, an unsafe client encoding (in MySQL also NO_BACKSLASH_ESCAPES), and the mysql
// client's own commands and LOAD DATA.
// See RestoreGuard for the restore side, which checks again whatever the bridge holds, and refuses more: transaction ends,
// COPY forms pg_dump does not write, and statements that change the server beyond the destination database (roles,
// passwords, other databases: StatementParser.FindReachBeyondDatabase), which a dump may still hold for a restore to a file.
public sealed partial class DumpRewriter
{
    /// <summary>MySQL user variables the dump gave a value a SET may not restore the session from (see <see cref="StatementParser.FindUnsafeMySqlSession"/>).</summary>
    readonly HashSet<string> _taintedVariables = new(StringComparer.Ordinal);

    void CheckMetaCommand(ReadOnlySpan<byte> unit)
    {
        if (StatementParser.ClassifyMetaCommand(unit, out _, out var at) == MetaCommand.Other)
        {
            RewriteThrow.RefusedMetaCommand(_unit, unit, at);
        }
    }

    void CheckStatement(ReadOnlySpan<byte> unit)
    {
        if (_unit.BackslashAt >= 0)
        {
            RewriteThrow.RefusedBackslash(_lexer.MySql, _unit, unit);
        }
        CheckBackslashAfterNonAscii(unit);
        if (_lexer.MySql && StatementParser.FindUnsafeMySqlSession(unit, _taintedVariables, out var sessionAt) is { } session)
        {
            Refuse(session, unit, sessionAt);
        }
        if (StartsWithInsert(unit))
        {
            // pg_dump --inserts and mysqldump write one INSERT per row or batch; nothing refused below starts with INSERT,
            // so the common case costs a comparison instead of two tokenizer passes (6% of an INSERT-form dump's CPU).
            // Only a set_config() call inside one (a value, INSERT ... SELECT) is looked for, when its name may be there.
            if (!_lexer.MySql && StatementParser.MayNameSetConfig(unit)
                && StatementParser.FindSettingTheLexerMisses(unit, _unit.NonStandardStrings, out var inInsert) is var call and >= 0)
            {
                Refuse(inInsert!, unit, call);
            }
            return;
        }
        var kind = StatementParser.Classify(unit, _lexer.MySql, _unit.NonStandardStrings, out var at);
        if (StatementParser.RefusalReason(kind, unit[at..]) is { } refused)
        {
            Refuse(refused, unit, at);
        }
        if (!_lexer.MySql && StatementParser.SetsUnsafeClientEncoding(unit))
        {
            Refuse(StatementParser.UnsafeClientEncodingReason, unit, at);
        }
        if (!_lexer.MySql && StatementParser.FindSettingTheLexerMisses(unit, _unit.NonStandardStrings, out var missed) is var setting and >= 0)
        {
            Refuse(missed!, unit, setting);
        }
    }

    /// <summary>
    /// PostgreSQL, outside COPY data: a backslash right after a non-ASCII byte, as the restore refuses it
    /// (<see cref="StatementParser.FindBackslashAfterNonAscii"/>). Under a client encoding such as SJIS, which a dump can
    /// switch to where the lexer cannot see, psql and the server read it as part of a character, where the lexer reads an
    /// escape that hides a string's end: a real value would then stand where the rewriter sees another column, or a comment.
    /// </summary>
    void CheckBackslashAfterNonAscii(ReadOnlySpan<byte> unit)
    {
        if (!_lexer.MySql && StatementParser.FindBackslashAfterNonAscii(unit) is var trail and >= 0)
        {
            Refuse(StatementParser.BackslashAfterNonAsciiReason, unit, trail);
        }
    }

    /// <summary>Whether the first token is the word INSERT (no comment or other word before it).</summary>
    static bool StartsWithInsert(ReadOnlySpan<byte> unit)
    {
        var i = unit.IndexOfAnyExcept(" \t\r\n"u8);
        return i >= 0 && unit.Length - i > 6 && System.Text.Ascii.EqualsIgnoreCase(unit.Slice(i, 6), "insert"u8)
            && !UnitScanner.IsIdentifierByte(unit[i + 6]);
    }

    void Refuse(string reason, ReadOnlySpan<byte> unit, int at) => RewriteThrow.Refused(reason, _unit, unit, at);
}
