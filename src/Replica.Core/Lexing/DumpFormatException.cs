using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Replica.Lexing;

/// <summary>
/// The dump is malformed. Says where: byte offset (0-based), line number (1-based), and, inside a COPY block, the table and
/// the row number (1-based within the block).
/// </summary>
public sealed class DumpFormatException : ReplicaException
{
    public DumpFormatException(string reason, long byteOffset, long lineNumber, string? table = null, long rowNumber = 0)
        : base(Format(reason, byteOffset, lineNumber, table, rowNumber))
    {
        Reason = reason;
        ByteOffset = byteOffset;
        LineNumber = lineNumber;
        Table = table;
        RowNumber = rowNumber;
    }

    public string Reason { get; }
    public long ByteOffset { get; }
    public long LineNumber { get; }
    public string? Table { get; }
    public long RowNumber { get; }
    public override ReplicaErrorKind Kind => ReplicaErrorKind.MalformedDump;

    static string Format(string reason, long offset, long line, string? table, long row)
    {
        var where = $"line {line}, byte offset {offset}";
        if (table is not null)
        {
            where += row > 0 ? $", table {table}, row {row}" : $", table {table}";
        }
        return $"malformed dump at {where}: {reason}";
    }
}

/// <summary>
/// Throw helpers for what every consumer of the lexer refuses alike (the rewriter's and the restore guard's own failures
/// are in RewriteThrow and RestoreGuardThrow). Each failure is one method that formats its own message, so hot methods
/// hold one call and build no strings.
/// </summary>
internal static class DumpThrow
{
    /// <summary>A row or statement is over limits.max_row_size.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void UnitTooLarge(bool row, long limit, long byteOffset, long lineNumber, string? table = null, long rowNumber = 0) =>
        throw new DumpFormatException($"a {(row ? "row" : "statement")} is larger than the limit of {limit} bytes (limits.max_row_size)",
            byteOffset, lineNumber, table, rowNumber);

    /// <summary>
    /// A quote, comment or dollar-quoted string that the last unit (<paramref name="unit"/>, not yet completed) opened is
    /// still open at the end of the input. <paramref name="refusedRestore"/>: said as the restore guard refuses, the
    /// restore rolled back.
    /// </summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void OpenAtEnd(DumpLexer lexer, ReadOnlySpan<byte> unit, bool refusedRestore = false)
    {
        var open = $"{lexer.DescribeOpen()} that starts here runs to the end of the dump";
        throw new DumpFormatException(refusedRestore ? $"refused: {open}; nothing was restored" : open,
            lexer.OpenedAt, LineOf(lexer.UnitLineNumber, unit, lexer.OpenedAt - lexer.UnitOffset));
    }

    /// <summary>The line number of <paramref name="bytes"/>[<paramref name="index"/>] (clamped into them), the line of bytes[0] being <paramref name="firstLine"/>.</summary>
    public static long LineOf(long firstLine, ReadOnlySpan<byte> bytes, long index) =>
        firstLine + bytes[..(int)Math.Clamp(index, 0, bytes.Length)].Count((byte)'\n');
}
