using System.IO.Pipelines;
using Replica.Bridges;
using Replica.Sources;

namespace Replica.Pipeline;

/// <summary>The outcome of a dump: its index entry and the rewriter's counters.</summary>
public sealed record DumpResult(DumpEntry Entry, RewriteStatistics Statistics);

/// <summary>
/// Wires one dump: source → rewriter (lexer + transformers) → chunker → bridge. The rewriter and the chunker run
/// concurrently, joined by a pipe whose back-pressure bounds memory. The dump is listed only when every stage succeeded;
/// on any failure the bridge writer is disposed uncompleted, which removes what was written.
/// </summary>
public static class DumpJob
{
#if DEBUG
    // Tiny blocks in Debug builds, so that every test crosses block boundaries inside statements and rows.
    const int ReadBlockSize = 509;
#else
    const int ReadBlockSize = 1 << 20;
#endif

    public static async Task<DumpResult> RunAsync(IDumpSource source, DumpRewriter rewriter, IBridge bridge, string name, int chunkSize, CancellationToken cancellationToken)
    {
        await using var writer = await bridge.BeginDumpAsync(name, cancellationToken).ConfigureAwait(false);
        await using var stream = source.Open();
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ReadBlockSize, minimumReadSize: Math.Max(ReadBlockSize / 4, 128), leaveOpen: true));
        // At most ~1 MiB in flight, in 64 KiB segments: few enough that returned segments fit the shared array pool's
        // per-core caches and are reused. With 8 MiB in flight most were dropped and reallocated (measured: 380 MiB of
        // garbage per GB of dump, peak RSS growing with the dump; now 4 MiB per GB).
        var pipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: 1 << 20,
            resumeWriterThreshold: 1 << 19,
            minimumSegmentSize: 1 << 16,
            useSynchronizationContext: false));

        var rewriting = Task.Run(async () =>
        {
            try
            {
                await rewriter.RunAsync(input, pipe.Writer, cancellationToken).ConfigureAwait(false);
                await pipe.Writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
                throw;
            }
            finally
            {
                await input.CompleteAsync().ConfigureAwait(false);
            }
        }, cancellationToken);
        var chunking = DumpChunker.RunAsync(pipe.Reader, writer, chunkSize, cancellationToken);
        try
        {
            await Task.WhenAll(rewriting, chunking).ConfigureAwait(false);
        }
        catch
        {
            // The rewriter's error is the cause; the chunker only saw the pipe fail because of it.
            if (rewriting.IsFaulted)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(rewriting.Exception!.InnerException!);
            }
            throw;
        }
        await source.CompleteAsync(cancellationToken).ConfigureAwait(false);
        var summary = new DumpSummary(rewriter.Statistics.BytesIn, source.Description, Compressed: false, Encrypted: false);
        var entry = await writer.CompleteAsync(summary, cancellationToken).ConfigureAwait(false);
        return new DumpResult(entry, rewriter.Statistics);
    }
}
