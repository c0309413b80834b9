using System.IO.Hashing;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using Replica.Destinations;
using Replica.Lexing;
using Replica.Rewriting;

namespace Replica.Pipeline;

/// <summary>
/// One table as the bench checker saw it: its rows, and an XxHash128 of the values of <paramref name="Columns"/> (the
/// columns no rule masks, comma-separated) in row order.
/// </summary>
public sealed record TableDigest(string Table, string Columns, long Rows, string Digest);

public static partial class BenchJob
{
    /// <summary>The digest of every table of the SQL in <paramref name="stream"/> (read to its end, then disposed).</summary>
    internal static Task<IReadOnlyList<TableDigest>> DigestAsync(Stream stream, RewriteRules rules, SqlDialect dialect, long maxRowBytes, CancellationToken cancellationToken) =>
        DigestAsync(reader => DiscardingPipeWriter.PassAsync(reader, stream, cancellationToken), rules, dialect, maxRowBytes);

    /// <summary>
    /// The digest of every table of the SQL that <paramref name="pass"/> reads through the rewriter it is given: the lexer
    /// reads the SQL as a restore would, nothing is rewritten (no rules), the filter sees every row.
    /// </summary>
    static async Task<IReadOnlyList<TableDigest>> DigestAsync(Func<DumpRewriter, Task> pass, RewriteRules rules, SqlDialect dialect, long maxRowBytes)
    {
        var filter = new DigestFilter(rules, dialect);
        using var reader = new DumpRewriter(RewriteRules.None, maxRowBytes, dialect) { Filter = filter };
        await pass(reader).ConfigureAwait(false);
        return filter.Digests();
    }

    /// <summary>Per table (as the rules would keep it), the values of the columns no rule masks, hashed row by row.</summary>
    sealed class DigestFilter(RewriteRules rules, SqlDialect dialect) : IRowFilter
    {
        readonly Dictionary<(TableName, string), Digester> _tables = [];

        public RowSelection? Choose(TableName table, IReadOnlyList<string> columns)
        {
            if (rules.ActionFor(table, dialect) != TableAction.Transform)
            {
                return null;
            }
            var reads = Enumerable.Range(0, columns.Count).Where(i => rules.SpecFor(table, columns[i], dialect) is null).ToArray();
            var names = string.Join(", ", reads.Select(i => columns[i]));
            if (!_tables.TryGetValue((table, names), out var digester))
            {
                _tables[(table, names)] = digester = new Digester(table.Schema.Length == 0 ? table.Table : $"{table.Schema}.{table.Table}", names) { Reads = reads };
            }
            return digester;
        }

        public IReadOnlyList<TableDigest> Digests() =>
            [.. _tables.Values.Select(d => d.Result()).OrderBy(d => d.Table, StringComparer.Ordinal).ThenBy(d => d.Columns, StringComparer.Ordinal)];
    }

    sealed class Digester(string table, string columns) : RowSelection
    {
        readonly XxHash128 _hash = new();
        long _rows;

        public override bool ReadsBytes => true;

        public override bool Keep(string?[] values, ReadOnlySpan<byte> row) => throw new NotSupportedException("the digest reads bytes");

        public override bool Keep(ReadOnlySpan<byte> values, ReadOnlySpan<int> lengths, ReadOnlySpan<byte> row)
        {
            _rows++;
            // The lengths first (-1 for NULL), so that no two rows hash the same stream of bytes.
            _hash.Append(MemoryMarshal.AsBytes(lengths));
            _hash.Append(values);
            return true;
        }

        public TableDigest Result() => new(table, columns, _rows, Convert.ToHexStringLower(_hash.GetCurrentHash()));
    }

    /// <summary>
    /// A restore destination that checks instead of storing: the restored SQL streams through a pipe into the digest
    /// (bounded: the pipe pauses the restore while the checker is behind), on a task of its own.
    /// </summary>
    sealed class CheckDestination(RewriteRules rules, SqlDialect dialect, long maxRowBytes) : IRestoreDestination
    {
        readonly Pipe _pipe = new(DumpJob.PipeOptionsFor(1 << 20));
        Task<IReadOnlyList<TableDigest>>? _checking;
        IReadOnlyList<TableDigest>? _digest;

        public string Description => "the bench checker";

        public IReadOnlyList<TableDigest> Digest => _digest ?? throw new InvalidOperationException("the restore was not committed");

        public Stream Open()
        {
            _checking = Task.Run(async () =>
            {
                try
                {
                    return await DigestAsync(reader => DiscardingPipeWriter.PassAsync(reader, _pipe.Reader, CancellationToken.None), rules, dialect, maxRowBytes).ConfigureAwait(false);
                }
                finally
                {
                    await _pipe.Reader.CompleteAsync().ConfigureAwait(false);
                }
            });
            return _pipe.Writer.AsStream(leaveOpen: true);
        }

        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            await _pipe.Writer.CompleteAsync().ConfigureAwait(false);
            _digest = await _checking!.ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            if (_checking is not null && _digest is null)
            {
                // The restore failed: stop the checker; its error (if any) is not the cause.
                await _pipe.Writer.CompleteAsync(new OperationCanceledException("the restore failed")).ConfigureAwait(false);
                try
                {
                    await _checking.ConfigureAwait(false);
                }
                catch (Exception)
                {
                }
            }
        }
    }
}
