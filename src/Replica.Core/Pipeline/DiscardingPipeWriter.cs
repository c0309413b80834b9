using System.IO.Pipelines;

namespace Replica.Pipeline;

/// <summary>
/// Drops what is written, into one reused buffer: the output of passes that read a dump through the rewriter only for
/// what it learns (a subset's first passes over a file, replica bench's checker). <c>PipeWriter.Create(Stream.Null)</c>
/// rented a small pool segment per write and held them until the next flush, beyond what the pool keeps: about 0.75
/// bytes of garbage per byte read, and a resident set that grew by a hundred MiB.
/// </summary>
internal sealed class DiscardingPipeWriter : PipeWriter
{
    byte[] _buffer = new byte[1 << 16];

    /// <summary>Reads <paramref name="input"/> to its end through <paramref name="rewriter"/>, for what it learns; drops its output.</summary>
    public static Task PassAsync(Rewriting.DumpRewriter rewriter, PipeReader input, CancellationToken cancellationToken) =>
        rewriter.RunAsync(input, new DiscardingPipeWriter(), cancellationToken);

    /// <summary>The same over <paramref name="stream"/>, read in 1 MiB blocks and disposed at the end.</summary>
    public static async Task PassAsync(Rewriting.DumpRewriter rewriter, Stream stream, CancellationToken cancellationToken)
    {
        await using (stream.ConfigureAwait(false))
        {
            await PassAsync(rewriter, PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 1 << 20)), cancellationToken).ConfigureAwait(false);
        }
    }

    public override void Advance(int bytes)
    {
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (sizeHint > _buffer.Length)
        {
            _buffer = new byte[sizeHint];
        }
        return _buffer;
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
    }
}
