using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Replica.Lexing;

namespace Replica.Destinations;

/// <summary>
/// What <see cref="RestoreGuard"/> refuses, one method each, that formats its own message from typed arguments (Sep's
/// SepThrow). Every refusal says "nothing was restored" (the caller rolls the restore back) and points at an absolute
/// offset inside the unit; the line is counted here, only when the error is thrown.
/// </summary>
internal static class RestoreGuardThrow
{
    [DoesNotReturn]
    [StackTraceHidden]
    public static void TextAfterCopyHeader(in DumpUnit u, ReadOnlySpan<byte> unit, long offset) =>
        Refused("text after COPY ... FROM stdin; on the same line (psql would run it after the data)", u, unit, offset);

    [DoesNotReturn]
    [StackTraceHidden]
    public static void BadDelimiter(in DumpUnit u, ReadOnlySpan<byte> unit) =>
        Refused(UnitScanner.BadDelimiterReason, u, unit, u.OpenedAt);

    /// <summary>A DELIMITER command the client reads otherwise than the guard (<see cref="UnitKind.MisplacedDelimiter"/>), at the command.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void MisplacedDelimiter(in DumpUnit u, ReadOnlySpan<byte> unit) =>
        Refused(UnitScanner.MisplacedDelimiterReason, u, unit, u.OpenedAt);

    [DoesNotReturn]
    [StackTraceHidden]
    public static void ConnectElsewhere(string? database, in DumpUnit u, ReadOnlySpan<byte> unit, long offset) =>
        Refused($"\\connect to database \"{database}\", which is not the destination: a restore runs in one transaction on one database", u, unit, offset);

    /// <summary>A psql meta-command that pg_dump does not write; it starts at <paramref name="offset"/>.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void MetaCommand(in DumpUnit u, ReadOnlySpan<byte> unit, long offset) =>
        Refused($"psql meta-command {MetaName(unit, offset - u.Offset)}: a restore runs no meta-command but those pg_dump writes (\\restrict, \\unrestrict, \\connect, \\encoding)", u, unit, offset);

    /// <summary>A backslash outside quotes inside a statement (at <see cref="DumpUnit.BackslashAt"/>): the client would run it as a command.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void BackslashOutsideQuotes(bool mySql, in DumpUnit u, ReadOnlySpan<byte> unit)
    {
        var what = mySql ? "the mysql client would run it as one of its commands" : "psql would run it as a meta-command";
        Refused($"{MetaName(unit, u.BackslashAt - u.Offset)} outside quotes: {what}", u, unit, u.BackslashAt);
    }

    /// <summary>ROLLBACK, ABORT or PREPARE TRANSACTION (its first word at <paramref name="offset"/>).</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void TransactionEnd(in DumpUnit u, ReadOnlySpan<byte> unit, long offset) =>
        Refused($"{StatementParser.FirstWord(unit[(int)(offset - u.Offset)..]).ToUpperInvariant()} would end the restore's transaction", u, unit, offset);

    [DoesNotReturn]
    [StackTraceHidden]
    public static void CopyWithOptions(in DumpUnit u, ReadOnlySpan<byte> unit, long offset) =>
        Refused("COPY ... FROM stdin with options (CSV, BINARY, DELIMITER ...), which pg_dump never writes", u, unit, offset);

    /// <summary>A statement that changes the server beyond the destination database (<see cref="StatementParser.FindReachBeyondDatabase"/>).</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void ReachBeyondDatabase(string what, bool mySql, in DumpUnit u, ReadOnlySpan<byte> unit, long offset) =>
        Refused(mySql
            ? $"{what} changes the server beyond the destination database (users, passwords, roles, grants, servers, plugins), which mysqldump of one database never writes"
            : $"{what} changes the cluster beyond the destination database (roles, passwords, memberships, other databases, tablespaces, server settings), which pg_dump of one database without --create never writes",
            u, unit, offset);

    /// <summary>A MySQL statement that would reach past the staging database (<see cref="StatementParser.FindStagingEscape"/>).</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void StagingEscape(string what, in DumpUnit u, ReadOnlySpan<byte> unit, long offset) =>
        Refused($"{what}: the restore runs in a staging database that replaces the destination only at the end, and this would reach past it, changing the destination at once, also when the restore then fails (mysqldump of one database writes none of these; events only with --events, which a restore cannot keep)", u, unit, offset);

    /// <summary>A MySQL statement that could run the body of <paramref name="definition"/>, which names the destination.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void RunsBodyNamingDestination(string how, string definition, in DumpUnit u, ReadOnlySpan<byte> unit, long offset) =>
        Refused($"{how} after {definition} whose body names the destination database: it could run that body during the restore (a trigger fires on its table's rows, a routine runs in an expression), changing the destination at once, also when the restore then fails (mysqldump writes a table's triggers after its rows and routines after every table; or restore into a database of another name)", u, unit, offset);

    /// <summary>A MySQL dump of several databases (its CREATE DATABASE / USE name a second one).</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void SecondDatabase(string first, string second, in DumpUnit u, ReadOnlySpan<byte> unit, long offset) =>
        Refused($"the dump holds more than one database ('{first}', then '{second}'; mysqldump --all-databases or --databases with several): a restore fills one database, so dump each on its own", u, unit, offset);

    /// <summary>A refusal whose reason the statement parser gives (<see cref="StatementParser.RefusalReason"/> and the like).</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void Refused(string reason, in DumpUnit u, ReadOnlySpan<byte> unit, long offset) =>
        throw new DumpFormatException($"refused: {reason}; nothing was restored", offset, DumpThrow.LineOf(u.LineNumber, unit, offset - u.Offset));

    /// <summary>The command's name as the user would see it: from the backslash at unit[index] to the next blank, at most 32 bytes.</summary>
    static string MetaName(ReadOnlySpan<byte> unit, long index)
    {
        var text = unit[(int)Math.Clamp(index, 0, unit.Length)..];
        var end = 1;
        while (end < text.Length && end < 32 && text[end] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
        {
            end++;
        }
        return System.Text.Encoding.UTF8.GetString(text[..end]);
    }
}
