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
    /// the client (psql, mysql) into <paramref name="scratch"/>, created for this dump; the statements run after the
    /// data; then pg_dump (mysqldump) of the scratch database (plain format, <paramref name="dataFormat"/>) is stored like any
    /// dump (chunks, compression, encryption) but not masked again: its values are masked already, and masking twice
    /// would change them. Everything streams through pipes. A failure anywhere (a statement, named; the guard; pg_dump)
    /// stores nothing; the scratch database is dropped on success, failure and Ctrl+C. The result's statistics are the
    /// masking rewriter's; the stored dump's size, tables and rows are those after the statements.
    /// </summary>
    public static Task<DumpResult> RunSanitizedAsync(IDumpSource source, DumpRewriter rewriter, ScratchDatabase scratch, IBridge bridge, string name,
        BridgeConfig settings, DataFormat dataFormat, Action<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        return SanitizeAsync(source.Description, rewriter, scratch, bridge, name, settings, dataFormat, progress, source.PrepareAsync, async (output, token) =>
        {
            var stream = source.Open();
            await using (stream.ConfigureAwait(false))
            {
                await RewriteAsync(stream, rewriter, settings.Workers ?? DumpChunker.DefaultWorkers, InputPipeOptions(s_readBlockSize, probe: null),
                    RewrittenPipeOptions(probe: null), masked => CopyAsync(masked, output, token), token).ConfigureAwait(false);
            }
            await source.CompleteAsync(token).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>
    /// <see cref="RunSanitizedAsync"/> for a live PostgreSQL source read in parts from one snapshot, one part at a time
    /// in restore order (a subset is read so: <paramref name="afterSnapshot"/> computes it), each part's masked bytes
    /// into the scratch database in turn. With <paramref name="jobs"/> above 1 the scratch database is stored in parts
    /// too, read on that many connections from one snapshot of it (pg_dump's restrict key <paramref name="restrictKey"/>),
    /// so that `restore --jobs` restores it in parts; psql takes the masked parts one at a time whatever the jobs.
    /// </summary>
    public static Task<DumpResult> RunSanitizedPartsAsync(PostgresSnapshotSource source, DumpRewriter rewriter, ScratchDatabase scratch, IBridge bridge, string name,
        BridgeConfig settings, DataFormat dataFormat, Action<string>? progress, Func<CancellationToken, Task>? afterSnapshot, CancellationToken cancellationToken,
        int jobs = 1, string? restrictKey = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return SanitizeAsync(source.Description, rewriter, scratch, bridge, name, settings, dataFormat, progress, async token =>
        {
            await source.OpenAsync(token).ConfigureAwait(false);
            if (afterSnapshot is not null)
            {
                await afterSnapshot(token).ConfigureAwait(false);
            }
        }, async (output, token) =>
        {
            // One part at a time (jobs 1): each is stored, here into psql, before the next is read, so they arrive in restore order.
            await using var writer = new ScratchInputWriter(output);
            await RunPartsAsync(source.ReadPartsAsync, source.Description, rewriter, writer, new BridgeCodecs.ForWriting(null, null, null), settings, jobs: 1,
                probe: null, token).ConfigureAwait(false);
        }, cancellationToken, jobs, restrictKey);
    }

    /// <summary>
    /// The scratch round trip: <paramref name="prepare"/> (the source connects: a wrong password fails before the scratch
    /// database exists), the scratch database created, <paramref name="restore"/> writes the masked dump into the
    /// restore guard in front of the client, the statements and the commit, then the scratch database's dump into the bridge.
    /// </summary>
    static async Task<DumpResult> SanitizeAsync(string description, DumpRewriter rewriter, ScratchDatabase scratch, IBridge bridge, string name, BridgeConfig settings,
        DataFormat dataFormat, Action<string>? progress, Func<CancellationToken, Task> prepare, Func<Stream, CancellationToken, Task> restore, CancellationToken cancellationToken,
        int jobs = 1, string? restrictKey = null)
    {
        ArgumentNullException.ThrowIfNull(rewriter);
        ArgumentNullException.ThrowIfNull(scratch);
        ArgumentNullException.ThrowIfNull(settings);
        DumpChunker.CheckChunkSize(settings.ChunkSize);
        await using (scratch.ConfigureAwait(false))
        {
            await prepare(cancellationToken).ConfigureAwait(false);
            await scratch.CreateAsync(cancellationToken).ConfigureAwait(false);
            progress?.Invoke($"sanitize: restoring the masked dump into the scratch {scratch.Uri.Describe()}");
            var destination = scratch.Destination;
            await destination.PrepareAsync(cancellationToken).ConfigureAwait(false);
            // Restored like a stored dump: nothing in it may run on this machine or end the transaction.
            using (var guard = RestoreGuard.For(destination, rewriter.MaxUnitBytes)!)
            {
                var guarded = new RestoreJob.GuardedStream(destination.Open(), guard);
                await restore(guarded, cancellationToken).ConfigureAwait(false);
                await guarded.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            await destination.CommitAsync(cancellationToken).ConfigureAwait(false);
            var steps = scratch.StepCount;
            using var stored = new DumpRewriter(RewriteRules.None, rewriter.MaxUnitBytes, scratch.Dialect);
            DumpResult result;
            if (jobs > 1)
            {
                progress?.Invoke($"sanitize: {steps} {(steps == 1 ? "step" : "steps")} ran; storing the scratch database in parts ({jobs} jobs)");
                var parts = new PostgresSnapshotSource(scratch.Uri, new SourceOptions(), PostgresTools.Find(scratch.ChildEnvironment), jobs) { RestrictKey = restrictKey };
                await using (parts.ConfigureAwait(false))
                {
                    await parts.OpenAsync(cancellationToken).ConfigureAwait(false);
                    result = await RunPartsAsync(parts.ReadPartsAsync, $"{description}, sanitized", stored, bridge, name, settings, jobs, probe: null, cancellationToken)
                        .ConfigureAwait(false);
                }
            }
            else
            {
                var sanitized = ScratchSource(scratch, dataFormat);
                progress?.Invoke($"sanitize: {steps} {(steps == 1 ? "step" : "steps")} ran; storing {sanitized.Tool} of the scratch database");
                // pg_dump and mysqldump sources stop their tool and remove their password file when disposed.
                await using (((IAsyncDisposable)sanitized.Source).ConfigureAwait(false))
                {
                    result = await RunAsync(new Relabeled(sanitized.Source, $"{description}, sanitized"), stored, bridge, name, settings, cancellationToken)
                        .ConfigureAwait(false);
                }
            }
            // Listed: now the scratch database must go, and a failure to drop it is an error of its own.
            try
            {
                await scratch.DropAsync().ConfigureAwait(false);
            }
            catch (DatabaseException ex)
            {
                throw new DatabaseException($"dump {result.Entry.Name} is stored, but the scratch {scratch.Uri.Describe()} could not be dropped "
                    + $"(drop it before the next dump): {ex.Message}", ex);
            }
            return result with { Statistics = rewriter.Statistics };
        }
    }

    /// <summary>The dump of the scratch database by its server's own tool (pg_dump, mysqldump), in the source's data format.</summary>
    static (IDumpSource Source, string Tool) ScratchSource(ScratchDatabase scratch, DataFormat dataFormat)
    {
        var options = new SourceOptions { DataFormat = dataFormat };
        if (scratch.Dialect == SqlDialect.MySql)
        {
            var tools = MysqlTools.Find(scratch.ChildEnvironment);
            return (new MysqlDumpSource(scratch.Uri, options, tools), Path.GetFileName(tools.Dump));
        }
        return (new PgDumpSource(scratch.Uri, options, PostgresTools.Find(scratch.ChildEnvironment)), "pg_dump");
    }

    static async Task<bool> CopyAsync(PipeReader masked, Stream output, CancellationToken cancellationToken)
    {
        try
        {
            await masked.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            await masked.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await masked.CompleteAsync(e).ConfigureAwait(false);
            throw;
        }
        return true;
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

    /// <summary>
    /// A dump writer whose chunks (plain: no codec) go to a stream in the order they come, for parts stored one at a
    /// time: psql's input, through the restore guard. Nothing is listed anywhere.
    /// </summary>
    sealed class ScratchInputWriter(Stream output) : IDumpWriter
    {
        int _parts;

        public string Name => "scratch";

        public int BeginPart(string kind, string? table = null) => _parts++;

        public Task WriteChunkAsync(ReadOnlyMemory<byte> chunk, ReadOnlyMemory<byte> sha256, CancellationToken cancellationToken) =>
            output.WriteAsync(chunk, cancellationToken).AsTask();

        public Task<DumpEntry> CompleteAsync(DumpSummary summary, CancellationToken cancellationToken) =>
            Task.FromResult(new DumpEntry(Name, DumpEntry.Complete, summary.SizeIn, 0, 0, Compressed: false, Encrypted: false, ChunkCount: 0));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
