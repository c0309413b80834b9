namespace Replica;

/// <summary>The base of every failure Replica reports to a user; <see cref="Kind"/> picks the exit code.</summary>
public abstract class ReplicaException : Exception
{
    protected ReplicaException(string message, Exception? inner = null) : base(message, inner) { }

    public abstract ReplicaErrorKind Kind { get; }
}

/// <summary>Distinct failure classes, each mapped to its own process exit code by the CLI.</summary>
public enum ReplicaErrorKind
{
    Config = 2,
    MalformedDump = 3,
    Bridge = 4,
    Integrity = 5,
    Transformer = 6,
    Database = 7,
    /// <summary>Not a failure: `replica leakcheck` ran and found a masked value equal to an original.</summary>
    LeakFound = 8,
}

/// <summary>A configuration problem: a bad key, value or option. Says where (file, line, column) when known.</summary>
public sealed class ConfigException : ReplicaException
{
    public ConfigException(string message, string? file = null, int lineNumber = 0, int columnNumber = 0, string? key = null)
        : base(Format(message, file, lineNumber, columnNumber, key))
    {
        File = file;
        LineNumber = lineNumber;
        ColumnNumber = columnNumber;
        Key = key;
    }

    /// <summary>A problem with the value written at <paramref name="at"/>: its file, line, column and key path.</summary>
    public ConfigException(string message, ConfigLocation at)
        : this(message, at?.File, at?.LineNumber ?? 0, at?.ColumnNumber ?? 0, at?.Key)
    {
    }

    public string? File { get; }
    public int LineNumber { get; }
    public int ColumnNumber { get; }
    public string? Key { get; }
    public override ReplicaErrorKind Kind => ReplicaErrorKind.Config;

    static string Format(string message, string? file, int line, int column, string? key)
    {
        var where = file is null ? "" : line > 0 ? $"{file}:{line}:{column}: " : $"{file}: ";
        var what = key is null ? "" : $"'{key}': ";
        return where + what + message;
    }
}

/// <summary>
/// A failure while running a transformer (a value it cannot read, a custom command that died). A transformer throws it
/// with the reason only; the rewriter adds where, as the lexer's DumpFormatException does: the field's byte offset
/// (0-based) and line number (1-based), the table, the column, and the row number (1-based: within the COPY block, or
/// among the table's INSERT rows so far).
/// </summary>
public sealed class TransformerException : ReplicaException
{
    public TransformerException(string reason, Exception? inner = null) : base(reason, inner) => Reason = reason;

    public TransformerException(string reason, long byteOffset, long lineNumber, string table, string column, long rowNumber, Exception? inner = null)
        : base(Format(reason, byteOffset, lineNumber, table, column, rowNumber), inner)
    {
        Reason = reason;
        ByteOffset = byteOffset;
        LineNumber = lineNumber;
        Table = table;
        Column = column;
        RowNumber = rowNumber;
    }

    public string Reason { get; }
    public long ByteOffset { get; }
    public long LineNumber { get; }
    /// <summary>The table; null while the failure has no position yet.</summary>
    public string? Table { get; }
    public string? Column { get; }
    public long RowNumber { get; }
    public override ReplicaErrorKind Kind => ReplicaErrorKind.Transformer;

    static string Format(string reason, long offset, long line, string table, string column, long row) =>
        $"transformer failure at line {line}, byte offset {offset}, table {table}, row {row}, column {column}: {reason}";
}

/// <summary>A bridge (storage) or I/O failure.</summary>
public sealed class BridgeException : ReplicaException
{
    public BridgeException(string message, Exception? inner = null) : base(message, inner) { }

    public override ReplicaErrorKind Kind => ReplicaErrorKind.Bridge;
}

/// <summary>Stored data does not match what its manifest promises (checksum, size, missing chunk).</summary>
public sealed class IntegrityException : ReplicaException
{
    public IntegrityException(string message, Exception? inner = null) : base(message, inner) { }

    public override ReplicaErrorKind Kind => ReplicaErrorKind.Integrity;
}

/// <summary>
/// A source or destination database (or its client tool: pg_dump, psql, mysqldump, mysql) failed: cannot connect, wrong
/// password, a statement the server refused. The message carries the tool's own error text, never a password.
/// </summary>
public sealed class DatabaseException : ReplicaException
{
    public DatabaseException(string message, Exception? inner = null) : base(message, inner) { }

    public override ReplicaErrorKind Kind => ReplicaErrorKind.Database;
}
