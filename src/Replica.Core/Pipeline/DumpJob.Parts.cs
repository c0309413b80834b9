using Replica.Bridges;
using Replica.Config;
using Replica.Rewriting;
using Replica.Sources;

namespace Replica.Pipeline;

// replica dump --jobs N: a live PostgreSQL database in parts from one snapshot, up to N parts read, rewritten, chunked
// and stored at once.
public static partial class DumpJob
{
    /// <summary>
    /// Dumps <paramref name="source"/> in parts (issue 10 §3): the schema (pre-data) first, through
    /// <paramref name="rewriter"/>, which learns the tables from it; then up to <paramref name="jobs"/> parts at once
    /// (one per table, largest first, the rest of pg_dump's data section, post-data), each through a rewriter of its own
    /// with the same rules (<see cref="DumpRewriter.ForPart"/>) into its own part of the bridge. The manifest lists the
    /// parts in restore order, whatever order they finish in. A table whose rows the rules drop or skip gets no part:
    /// its COPY is cancelled unread. Any failure (source, rewriter, store) stops every part and nothing is listed;
    /// Ctrl+C likewise. Memory: at most <paramref name="jobs"/> parts in flight, each holding
    /// <see cref="WorkersPerPart"/> + 2 chunks (plain and encoded) and two pipes of 4 MiB.
    /// </summary>
    /// <param name="afterSnapshot">Runs once the snapshot is exported, before any part is read (a subset's closure).</param>
    public static async Task<DumpResult> RunPartsAsync(PostgresSnapshotSource source, DumpRewriter rewriter, IBridge bridge, string name,
        BridgeConfig settings, int jobs, CancellationToken cancellationToken, Func<CancellationToken, Task>? afterSnapshot = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(settings);
        DumpChunker.CheckChunkSize(settings.ChunkSize);
        await source.OpenAsync(cancellationToken).ConfigureAwait(false);
        if (afterSnapshot is not null)
        {
            // The pg_dumps read the catalog while the closure runs; their output waits in their pipes until stored.
            source.StartSchemaParts();
            await afterSnapshot(cancellationToken).ConfigureAwait(false);
        }
        return await RunPartsAsync(source.ReadPartsAsync, source.Description, rewriter, bridge, name, settings, jobs, probe: null, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// How many chunk workers each part in flight gets: the dump's workers (bridge.workers, default the core count up
    /// to 4) shared among the <paramref name="jobs"/> parts, at least one each.
    /// </summary>
    public static int WorkersPerPart(int workers, int jobs) => Math.Max(1, (workers + jobs - 1) / jobs);

    /// <summary>The parts of <paramref name="readParts"/> (restore order, pre-data first) as <see cref="RunPartsAsync(PostgresSnapshotSource, DumpRewriter, IBridge, string, BridgeConfig, int, CancellationToken)"/> stores them.</summary>
    internal static async Task<DumpResult> RunPartsAsync(Func<CancellationToken, IAsyncEnumerable<SnapshotPart>> readParts, string description,
        DumpRewriter rewriter, IBridge bridge, string name, BridgeConfig settings, int jobs, ChunkerProbe? probe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rewriter);
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentOutOfRangeException.ThrowIfLessThan(jobs, 1);
        DumpChunker.CheckChunkSize(settings.ChunkSize);
        var codecs = BridgeCodecs.ForNewDump(settings);
        using var codec = codecs.Codec;
        await using var writer = await bridge.BeginDumpAsync(name, cancellationToken).ConfigureAwait(false);
        return await RunPartsAsync(readParts, description, rewriter, writer, codecs, settings, jobs, probe, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The parts of <paramref name="readParts"/> into <paramref name="writer"/> (a bridge's, or psql into a scratch database), encoded by <paramref name="codecs"/>.</summary>
    static async Task<DumpResult> RunPartsAsync(Func<CancellationToken, IAsyncEnumerable<SnapshotPart>> readParts, string description,
        DumpRewriter rewriter, IDumpWriter writer, BridgeCodecs.ForWriting codecs, BridgeConfig settings, int jobs, ChunkerProbe? probe, CancellationToken cancellationToken)
    {
        var workers = WorkersPerPart(settings.Workers ?? DumpChunker.DefaultWorkers, jobs);
        var codec = codecs.Codec;
        rewriter.BeginParts();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A part holds a slot from before it is asked of the source until it is stored and disposed: at most `jobs` at once.
        using var slots = new SemaphoreSlim(jobs, jobs);
        // Each part in flight streams through a set of buffers of the dump's, made once and handed from part to part.
        using var shelf = new PartBuffers.Shelf(s_readBlockSize, (int)settings.ChunkSize, codec, workers, probe);
        var running = new List<Task<long>>();
        Exception? failure = null;

        // One part: read, rewritten, chunked into its part of the dump; the first failure of any part stops all.
        async Task<long> RunPartAsync(SnapshotPart part, DumpRewriter partRewriter, int index)
        {
            try
            {
                await using (part.ConfigureAwait(false))
                {
                    // A codec serves one thread at a time: each part encodes with its own fork.
                    using var fork = codec?.Fork();
                    var buffers = shelf.Take();
                    long size;
                    try
                    {
                        size = await StreamPartAsync(part.Content, partRewriter, writer, index, settings, fork, workers, probe, buffers, stop.Token)
                            .ConfigureAwait(false);
                    }
                    catch
                    {
                        buffers.Dispose();
                        throw;
                    }
                    shelf.GiveBack(buffers);
                    // Every stage of the part is done with its rewriter (not so after a failure, when the dump stops anyway);
                    // the schema's rewriter (the first part) is the dump's own, which the later parts read from.
                    if (!ReferenceEquals(partRewriter, rewriter))
                    {
                        partRewriter.EndPart();
                    }
                    return size;
                }
            }
            catch (Exception e)
            {
                if (!stop.IsCancellationRequested || e is not OperationCanceledException)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                slots.Release();
            }
        }

        long sizePlain = 0;
        try
        {
            var parts = readParts(stop.Token).GetAsyncEnumerator(stop.Token);
            await using (parts.ConfigureAwait(false))
            {
                for (var first = true; ; first = false)
                {
                    await slots.WaitAsync(stop.Token).ConfigureAwait(false);
                    bool more;
                    try
                    {
                        more = await parts.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch
                    {
                        slots.Release();
                        throw;
                    }
                    if (!more)
                    {
                        slots.Release();
                        break;
                    }
                    var part = parts.Current;
                    if (first)
                    {
                        if (part.Kind != SnapshotPartKind.PreData)
                        {
                            await part.DisposeAsync().ConfigureAwait(false);
                            slots.Release();
                            throw new InvalidOperationException("a dump in parts begins with its schema (pre-data)");
                        }
                        // The schema alone, through the dump's own rewriter: every later part's rewriter starts from what it learned.
                        sizePlain += await RunPartAsync(part, rewriter, writer.BeginPart(PartKind.PreData)).ConfigureAwait(false);
                        continue;
                    }
                    if (part.Table is { } table && !rewriter.KeepsRows(table.Schema, table.Name))
                    {
                        // Rows the rules drop or skip are not read at all; the part's COPY is cancelled.
                        await part.DisposeAsync().ConfigureAwait(false);
                        slots.Release();
                        continue;
                    }
                    var index = part.Kind switch
                    {
                        SnapshotPartKind.TableData => writer.BeginPart(PartKind.Data, part.Table!.PrintableName),
                        // The rest of pg_dump's data section (sequence values, large objects) comes after every table's
                        // rows and before the post-data: a post-data part, so that readers of bridge format v2 know its kind.
                        _ => writer.BeginPart(PartKind.PostData),
                    };
                    var partRewriter = rewriter.ForPart();
                    running.Add(Task.Run(() => RunPartAsync(part, partRewriter, index), CancellationToken.None));
                }
            }
        }
        catch (Exception e) when (failure is null && !(e is OperationCanceledException && stop.IsCancellationRequested))
        {
            // The source failed (or the first part): stop the parts still running.
            failure = e;
            await stop.CancelAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // A part failed (its error is kept) or Ctrl+C (rethrown below).
        }
        finally
        {
            // No part may still use the writer or the codec when they are disposed.
            try
            {
                await Task.WhenAll(running).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Each part recorded its failure.
            }
        }
        // Ctrl+C first: a part stopped by it may report its stop as a failure of its own (a cancelled COPY).
        cancellationToken.ThrowIfCancellationRequested();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        foreach (var part in running)
        {
            sizePlain += await part.ConfigureAwait(false);
        }
        // The checks a single stream makes at its end (rules that matched nothing), over every part.
        rewriter.CompleteParts();
        var statistics = rewriter.Statistics;
        var summary = new DumpSummary(statistics.BytesIn, description, codecs.Compression is not null, codecs.Encryption is not null)
        {
            Compression = codecs.Compression,
            Encryption = codecs.Encryption,
            AuthenticateChunks = codecs.AuthenticateChunks,
            SizePlain = sizePlain,
            Tables = statistics.Tables,
            Rows = Math.Max(0, statistics.Rows - statistics.DroppedRows),
        };
        var entry = await writer.CompleteAsync(summary, cancellationToken).ConfigureAwait(false);
        return new DumpResult(entry, statistics);
    }
}
