using System.IO.Pipelines;
using Replica.Bridges;
using Replica.Clients;
using Replica.Config;
using Replica.Destinations;
using Replica.Lexing;
using Replica.Rewriting;
using Replica.Sources;

namespace Replica.Pipeline;

// sanitize: (issue 13 §2) the masked dump goes through a scratch database, where the config's statements run, before it is stored.
public static partial class DumpJob
{
    /// <summary>
    /// A dump with sanitize statements: source → <paramref name="rewriter"/> (the masking rules) → the restore guard →
    /// psql into <paramref name="scratch"/>, created for this dump; the statements run in the same transaction after
    /// the data; then pg_dump of the scratch database (plain format, <paramref name="dataFormat"/>) is stored like any
    /// dump (chunks, compression, encryption) but not masked again: its values are masked already, and masking twice
    /// would change them. Everything streams through pipes. A failure anywhere (a statement, named; the guard; pg_dump)
    /// stores nothing; the scratch database is dropped on success, failure and Ctrl+C. The result's statistics are the
    /// masking rewriter's; the stored dump's size, tables and rows are those after the statements.
    /// </summary>
    public static async Task<DumpResult> RunSanitizedAsync(IDumpSource source, DumpRewriter rewriter, ScratchDatabase scratch, IBridge bridge, string name,
        BridgeConfig settings, DataFormat dataFormat, Action<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(rewriter);
        ArgumentNullException.ThrowIfNull(scratch);
        ArgumentNullException.ThrowIfNull(settings);
        DumpChunker.CheckChunkSize(settings.ChunkSize);
        await using (scratch.ConfigureAwait(false))
        {
            await source.PrepareAsync(cancellationToken).ConfigureAwait(false);
            await scratch.CreateAsync(cancellationToken).ConfigureAwait(false);
            progress?.Invoke($"sanitize: restoring the masked dump into the scratch {scratch.Uri.Describe()}");
            await RestoreIntoScratchAsync(source, rewriter, scratch.Destination, settings.Workers ?? DumpChunker.DefaultWorkers, cancellationToken).ConfigureAwait(false);
            progress?.Invoke($"sanitize: {scratch.Destination.AfterRestore.Count} {(scratch.Destination.AfterRestore.Count == 1 ? "step" : "steps")} ran; storing pg_dump of the scratch database");
            var sanitized = new PgDumpSource(scratch.Uri, new SourceOptions { DataFormat = dataFormat }, PostgresTools.Find());
            await using (sanitized.ConfigureAwait(false))
            {
                using var stored = new DumpRewriter(RewriteRules.None, rewriter.MaxUnitBytes, SqlDialect.PostgreSql);
                var result = await RunAsync(new Relabeled(sanitized, $"{source.Description}, sanitized"), stored, bridge, name, settings, cancellationToken)
                    .ConfigureAwait(false);
                // Listed: now the scratch database must go, and a failure to drop it is an error of its own.
                await scratch.DropAsync().ConfigureAwait(false);
                return result with { Statistics = rewriter.Statistics };
            }
        }
    }

    /// <summary>
    /// The masked stream into the scratch database through a <see cref="RestoreGuard"/> (it is restored like a stored
    /// dump: nothing in it may run on this machine or end the transaction), then the sanitize statements and COMMIT.
    /// </summary>
    static async Task RestoreIntoScratchAsync(IDumpSource source, DumpRewriter rewriter, PsqlDestination destination, int workers,
        CancellationToken cancellationToken)
    {
        await destination.PrepareAsync(cancellationToken).ConfigureAwait(false);
        using var guard = new RestoreGuard(SqlDialect.PostgreSql, destination.Database, rewriter.MaxUnitBytes);
        var guarded = new RestoreJob.GuardedStream(destination.Open(), guard);
        var stream = source.Open();
        await using (stream.ConfigureAwait(false))
        {
            await RewriteAsync(stream, rewriter, workers, async masked =>
            {
                try
                {
                    await masked.CopyToAsync(guarded, cancellationToken).ConfigureAwait(false);
                    await masked.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    await masked.CompleteAsync(e).ConfigureAwait(false);
                    throw;
                }
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        await source.CompleteAsync(cancellationToken).ConfigureAwait(false);
        await guarded.CompleteAsync(cancellationToken).ConfigureAwait(false);
        await destination.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A source under another name: the manifest names the dump's real source, not the scratch database.</summary>
    sealed class Relabeled(IDumpSource inner, string description) : IDumpSource
    {
        public string Description => description;

        public long? Length => inner.Length;

        public Task PrepareAsync(CancellationToken cancellationToken) => inner.PrepareAsync(cancellationToken);

        public Stream Open() => inner.Open();

        public Task CompleteAsync(CancellationToken cancellationToken) => inner.CompleteAsync(cancellationToken);
    }
}
