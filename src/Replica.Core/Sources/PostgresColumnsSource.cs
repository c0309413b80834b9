using System.IO.Pipelines;
using System.Text;
using Npgsql;
using Replica.Catalog;
using Replica.Clients;

namespace Replica.Sources;

/// <summary>
/// A few columns of a live PostgreSQL database as a plain dump would hold them: per table a COPY block of only the
/// columns asked for (`COPY t (c, ...) TO STDOUT` in text format, streamed as the server sends it, so its escaping is
/// the dump's), read on one connection in one REPEATABLE READ, READ ONLY transaction. What `replica leakcheck --source`
/// compares a stored dump with: the key and the masked columns, nothing else.
/// https://www.postgresql.org/docs/current/sql-copy.html
/// </summary>
public sealed class PostgresColumnsSource(DatabaseUri uri, IReadOnlyList<(CatalogTable Table, IReadOnlyList<string> Columns)> reads) : IDumpSource
{
    public string Description => uri.Describe();

    public long? Length => null;

    public int? TableCount => reads.Count;

    public Stream Open()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4L << 20, resumeWriterThreshold: 2L << 20, useSynchronizationContext: false));
        _ = Task.Run(async () =>
        {
            try
            {
                await WriteAsync(pipe.Writer).ConfigureAwait(false);
                await pipe.Writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await pipe.Writer.CompleteAsync(e is NpgsqlException ? new DatabaseException($"reading {uri.Describe()} failed: {e.Message}", e) : e).ConfigureAwait(false);
            }
        });
        return pipe.Reader.AsStream();
    }

    async Task WriteAsync(PipeWriter writer)
    {
        await using var connection = await PostgresCatalog.OpenAsync(uri, CancellationToken.None).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead).ConfigureAwait(false);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
        {
            await readOnly.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        var output = writer.AsStream(leaveOpen: true);
        var chars = new char[1 << 15];
        var bytes = new byte[Encoding.UTF8.GetMaxByteCount(chars.Length)];
        var encoder = Encoding.UTF8.GetEncoder();
        foreach (var (table, columns) in reads)
        {
            var list = string.Join(", ", columns.Select(Identifiers.Quote));
            await output.WriteAsync(Encoding.UTF8.GetBytes($"COPY {table.QualifiedName} ({list}) FROM stdin;\n")).ConfigureAwait(false);
            // Npgsql streams raw bytes for binary COPY only; text COPY comes as characters (the connection's client
            // encoding is UTF-8), written back as UTF-8 a block at a time.
            using (var copy = await connection.BeginTextExportAsync($"COPY {table.QualifiedName} ({list}) TO STDOUT").ConfigureAwait(false))
            {
                int read;
                while ((read = await copy.ReadAsync(chars).ConfigureAwait(false)) > 0)
                {
                    var count = encoder.GetBytes(chars.AsSpan(0, read), bytes, flush: false);
                    await output.WriteAsync(bytes.AsMemory(0, count)).ConfigureAwait(false);
                }
            }
            await output.WriteAsync("\\.\n\n"u8.ToArray()).ConfigureAwait(false);
            var flush = await writer.FlushAsync().ConfigureAwait(false);
            if (flush.IsCompleted)
            {
                return; // the reader stopped (it failed)
            }
        }
        await transaction.CommitAsync().ConfigureAwait(false);
    }
}
