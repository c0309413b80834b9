using System.Text;
using Npgsql;
using Replica.Clients;

namespace Replica.Sources;

/// <summary>What a <see cref="SnapshotPart"/> holds, in the order <see cref="PostgresSnapshotSource"/> yields them (restore order).</summary>
public enum SnapshotPartKind
{
    /// <summary>pg_dump --section=pre-data: types, tables, functions (no indexes, constraints or triggers).</summary>
    PreData,

    /// <summary>One table's rows: a COPY ... FROM stdin; block as pg_dump writes it.</summary>
    TableData,

    /// <summary>
    /// The rest of pg_dump's data section: sequence values, large objects, and the data of any table the source did not
    /// copy itself (e.g. an extension's configuration table).
    /// </summary>
    OtherData,

    /// <summary>pg_dump --section=post-data: indexes, constraints, triggers, rules.</summary>
    PostData,
}

/// <summary>
/// A leaf table whose rows a <see cref="PostgresSnapshotSource"/> copies: an ordinary table or a partition, never a
/// partitioned parent (it holds no rows). Names are quoted as PostgreSQL's quote_ident quotes them, as pg_dump does.
/// </summary>
/// <param name="Schema">The schema's name, unquoted.</param>
/// <param name="Name">The table's name, unquoted.</param>
/// <param name="QualifiedName">schema.table, each part quoted where needed (<c>public."order"</c>).</param>
/// <param name="ColumnList">The quoted columns COPY reads, comma-separated; empty for a table without columns.</param>
/// <param name="Bytes">The table's main fork size when the snapshot was taken (pg_relation_size), for order and progress.</param>
public sealed record SnapshotTable(string Schema, string Name, string QualifiedName, string ColumnList, long Bytes)
{
    /// <summary>
    /// <see cref="QualifiedName"/> for the manifest and messages: a part whose name holds a control character is written
    /// with Unicode escapes (<see cref="Identifiers.DelimitedPrintable"/>), the same table to SQL (restore --jobs reads the
    /// manifest's name as SQL) but one the manifest reader accepts, as it refuses names that would print a newline or a
    /// terminal's escape sequence.
    /// </summary>
    public string PrintableName => !QualifiedName.Any(char.IsControl) ? QualifiedName
        : $"{Identifiers.DelimitedPrintable(Schema)}.{Identifiers.DelimitedPrintable(Name)}";

    /// <summary>The columns COPY reads, unquoted, in <see cref="ColumnList"/>'s order.</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];

    /// <summary>For a partition, the partitioned table at the top of its tree ("schema.name", unquoted); else null.</summary>
    public string? PartitionRoot { get; init; }

    /// <summary>
    /// The statement that opens the table's data, byte for byte as pg_dump writes it (fmtCopyColumnList: no
    /// parentheses for a table without columns).
    /// </summary>
    public string CopyFromHeader => $"COPY {QualifiedName} {(ColumnList.Length == 0 ? "" : $"({ColumnList})")} FROM stdin;\n";

    /// <summary>The statement that reads the rows (https://www.postgresql.org/docs/current/sql-copy.html, text format).</summary>
    internal string CopyToStatement => ColumnList.Length == 0 ? $"COPY {QualifiedName} TO STDOUT" : $"COPY {QualifiedName} ({ColumnList}) TO STDOUT";
}

/// <summary>
/// One part of a snapshot dump: its kind, its table for <see cref="SnapshotPartKind.TableData"/>, and its SQL as a stream
/// read straight from the server or pg_dump (nothing is buffered beyond a read buffer). A failure of the server or of
/// pg_dump surfaces from <see cref="Content"/>'s reads as a <see cref="DatabaseException"/>; a part read to its end is
/// complete. Dispose every part once done with it: a table part holds one of the source's N connections until then.
/// </summary>
public sealed class SnapshotPart : IAsyncDisposable
{
    readonly Func<bool, ValueTask> _release;

    internal SnapshotPart(SnapshotPartKind kind, SnapshotTable? table, Stream content, Func<bool, ValueTask> release)
    {
        Kind = kind;
        Table = table;
        Content = content;
        _release = release;
    }

    public SnapshotPartKind Kind { get; }

    /// <summary>The table whose rows this part holds; null for the other kinds.</summary>
    public SnapshotTable? Table { get; }

    /// <summary>The part's SQL (UTF-8), as pg_dump's plain format would have it.</summary>
    public Stream Content { get; }

    /// <summary>A short name for messages and manifests: "pre-data", "data public.users", "other data", "post-data".</summary>
    public string Description => Kind switch
    {
        SnapshotPartKind.PreData => "pre-data",
        SnapshotPartKind.TableData => $"data {Table!.PrintableName}",
        SnapshotPartKind.OtherData => "other data",
        _ => "post-data",
    };

    bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        var complete = Content is TableCopyStream { Ended: true } or not TableCopyStream;
        try
        {
            await Content.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            // Even when ending the COPY failed: the connection is then closed, and its job slot freed.
            await _release(complete).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// One table's data part: pg_dump's COPY header, the rows exactly as the server sends them for COPY TO STDOUT in text
/// format (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2), then the end marker and the blank
/// lines pg_dump writes after it. The rows come from the raw COPY stream under Npgsql's text reader, never through its
/// decoding: bytes are copied, not decoded.
/// A subset's table reads its rows through several COPY statements, as one block, in order. With a second connection
/// (<paramref name="ahead"/>) each next statement runs ahead on the connection the one before it freed
/// (<see cref="CopyAhead"/>), so the two connections take turns; without, one after the other on the same connection.
/// </summary>
sealed class TableCopyStream(SnapshotTable table, TextReader first, string server, NpgsqlConnection connection, IEnumerator<string> statements,
    TableCopyStream.Helper? ahead = null) : ReadOnlyStream
{
    /// <summary>A second connection inside the snapshot, its lock on the table, and where it goes back to after the table.</summary>
    internal sealed record Helper(NpgsqlConnection Connection, Func<NpgsqlConnection, CancellationToken, Task> Lock, Func<NpgsqlConnection, bool, ValueTask> Release);

    static readonly byte[] s_trailer = "\\.\n\n\n"u8.ToArray();

    readonly byte[] _header = Encoding.UTF8.GetBytes(table.CopyFromHeader);
    TextReader? _copy = first;
    Stream _rows = ((StreamReader)first).BaseStream;
    // With a helper: the statement being read (null while the first one is read from _copy), and the next one, running.
    CopyAhead? _current;
    CopyAhead? _next = ahead is not null && statements.MoveNext() ? new CopyAhead(ahead.Connection, statements.Current, ahead.Lock) : null;
    int _headerIndex;
    int _trailerIndex = -1;
    bool _disposed;

    /// <summary>Whether the COPY was read to its end (then its connection can copy the next table).</summary>
    public bool Ended => _trailerIndex >= 0;

    public override int Read(Span<byte> buffer)
    {
        if (TryReadFramed(buffer, out var framed))
        {
            return framed;
        }
        if (ahead is not null)
        {
            // The statements running ahead are read through pipes, which wait without a thread: the async path, waited for.
            var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
            try
            {
                var count = ReadAsync(rented.AsMemory(0, buffer.Length)).AsTask().GetAwaiter().GetResult();
                rented.AsSpan(0, count).CopyTo(buffer);
                return count;
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
        int read;
        try
        {
            while ((read = _rows.Read(buffer)) == 0 && statements.MoveNext())
            {
                _copy!.Dispose();
                _copy = connection.BeginTextExport(statements.Current);
                _rows = ((StreamReader)_copy).BaseStream;
            }
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            throw Failure(e);
        }
        return read > 0 ? read : StartTrailer(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (TryReadFramed(buffer.Span, out var framed))
        {
            return framed;
        }
        int read;
        try
        {
            while ((read = await _rows.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) == 0
                && await NextStatementAsync(cancellationToken).ConfigureAwait(false))
            {
            }
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            throw Failure(e);
        }
        return read > 0 ? read : StartTrailer(buffer.Span);
    }

    /// <summary>After a statement's last row: reads from the next statement; false when there is none.</summary>
    async ValueTask<bool> NextStatementAsync(CancellationToken cancellationToken)
    {
        if (ahead is null)
        {
            if (!statements.MoveNext())
            {
                return false;
            }
            _copy!.Dispose();
            _copy = await connection.BeginTextExportAsync(statements.Current, cancellationToken).ConfigureAwait(false);
            _rows = ((StreamReader)_copy).BaseStream;
            return true;
        }
        NpgsqlConnection freed;
        if (_current is { } done)
        {
            _current = null;
            if (!await done.FinishAsync().ConfigureAwait(false))
            {
                throw new IOException("a COPY run ahead ended before its last row");
            }
            await done.DisposeAsync().ConfigureAwait(false);
            freed = done.Connection;
        }
        else
        {
            // The first statement, read straight from the part's own connection: reading its completion frees it.
            _copy!.Dispose();
            _copy = null;
            freed = connection;
        }
        if (_next is null)
        {
            return false;
        }
        _current = _next;
        _rows = _current.Rows;
        // The helper took the table's lock with its first statement; its transaction holds it to the end.
        _next = statements.MoveNext() ? new CopyAhead(freed, statements.Current, start: null) : null;
        return true;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Serves the header before the rows and the trailer after them; false while rows are being read.</summary>
    bool TryReadFramed(Span<byte> buffer, out int count)
    {
        count = 0;
        if (buffer.IsEmpty)
        {
            return true;
        }
        if (_headerIndex < _header.Length)
        {
            count = Math.Min(buffer.Length, _header.Length - _headerIndex);
            _header.AsSpan(_headerIndex, count).CopyTo(buffer);
            _headerIndex += count;
            return true;
        }
        if (_trailerIndex >= 0)
        {
            count = Math.Min(buffer.Length, s_trailer.Length - _trailerIndex);
            s_trailer.AsSpan(_trailerIndex, count).CopyTo(buffer);
            _trailerIndex += count;
            return true;
        }
        return false;
    }

    int StartTrailer(Span<byte> buffer)
    {
        _trailerIndex = 0;
        TryReadFramed(buffer, out var count);
        return count;
    }

    DatabaseException Failure(Exception e) => PostgresSnapshotSource.CopyFailure(table, server, e);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            CloseAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        // Stream's own DisposeAsync runs Dispose(true), which finds the COPY already closed.
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the COPY: after its end this only reads the server's completion; before it, Npgsql cancels the COPY. A helper
    /// goes back to the source when its statements ended, else it is closed.
    /// </summary>
    async ValueTask CloseAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            _copy?.Dispose();
        }
        finally
        {
            statements.Dispose();
            if (ahead is not null)
            {
                var clean = true;
                foreach (var copy in new[] { _current, _next })
                {
                    if (copy is not null)
                    {
                        clean &= await copy.FinishAsync().ConfigureAwait(false);
                        await copy.DisposeAsync().ConfigureAwait(false);
                    }
                }
                await ahead.Release(ahead.Connection, clean && Ended).ConfigureAwait(false);
            }
        }
    }
}
