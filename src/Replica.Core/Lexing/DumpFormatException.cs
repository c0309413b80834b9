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

/// <summary>Throw helpers kept out of hot methods so those stay small and inlinable.</summary>
internal static class DumpThrow
{
    [DoesNotReturn]
    public static void Format(string reason, long byteOffset, long lineNumber, string? table = null, long rowNumber = 0) =>
        throw new DumpFormatException(reason, byteOffset, lineNumber, table, rowNumber);
}
