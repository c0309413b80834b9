using System.IO.Pipelines;
using Replica.Pipeline;

namespace Replica.Core.Tests.Pipeline;

/// <summary>A dump's pipes keep their own segments: the bytes flowing through do not make new ones (issue 12).</summary>
public class SegmentPoolTests
{
    [Fact]
    public async Task DumpPipe_ManyBytesAcrossThreads_MakesNoNewSegmentsOnceWarm()
    {
        const int SegmentSize = 64 << 10;
        var options = DumpJob.PipeOptionsFor(SegmentSize);
        var pool = Assert.IsType<SegmentPool>(options.Pool);
        var pipe = new Pipe(options);
        const long Total = 512L * SegmentSize;

        // Writer and reader on thread-pool threads, in pieces that straddle segments, as the rewriter and chunker do.
        var writing = Task.Run(async () =>
        {
            long written = 0;
            while (written < Total)
            {
                int size = (int)Math.Min(Total - written, 20_000 + written % 50_000);
                pipe.Writer.GetSpan(size)[..size].Fill((byte)written);
                pipe.Writer.Advance(size);
                written += size;
                await pipe.Writer.FlushAsync();
            }
            await pipe.Writer.CompleteAsync();
        });
        long read = 0;
        while (true)
        {
            var result = await pipe.Reader.ReadAsync();
            read += result.Buffer.Length;
            pipe.Reader.AdvanceTo(result.Buffer.End);
            await Task.Yield();
            if (result.IsCompleted)
            {
                break;
            }
        }
        await pipe.Reader.CompleteAsync();
        await writing;

        Assert.Equal(Total, read);
        // The pipe pauses its writer at four segments: a few more are in use while it fills and drains, never 512.
        Assert.InRange(pool.Created, 1, 8);
    }

    [Fact]
    public async Task DumpPipe_ReaderSlowerThanWriter_UsesOnlyTheSegmentsMadeUpFront()
    {
        // The rewriter -> chunker pipe: the rewriter flushes after each quarter of a segment (a masking slice), and in a
        // table that is not masked the chunker is the slower stage, so the pipe fills to its threshold. Its segments are
        // made (and their pages touched) with the pipe, not when a late table first fills it (issue 12: +4 MiB of RSS
        // at the synthetic dump's first table boundary).
        const int SegmentSize = 64 << 10;
        var options = DumpJob.PipeOptionsFor(SegmentSize, pauseSegments: 1);
        var pool = Assert.IsType<SegmentPool>(options.Pool);
        var pipe = new Pipe(options);
        int upFront = pool.Created;
        const long Total = 256L * SegmentSize;

        var writing = Task.Run(async () =>
        {
            long written = 0;
            while (written < Total)
            {
                for (var piece = 0; piece < 4 && written < Total; piece++)
                {
                    int size = (int)Math.Min(Total - written, 3_000 + written % 13_000);
                    pipe.Writer.GetSpan(size)[..size].Fill((byte)written);
                    pipe.Writer.Advance(size);
                    written += size;
                }
                await pipe.Writer.FlushAsync();
            }
            await pipe.Writer.CompleteAsync();
        });
        long read = 0;
        while (true)
        {
            var result = await pipe.Reader.ReadAsync();
            // The chunker takes what fits in its current chunk: often less than the pipe holds.
            long take = Math.Min(result.Buffer.Length, 5_000 + read % 40_000);
            read += take;
            pipe.Reader.AdvanceTo(result.Buffer.GetPosition(take));
            await Task.Yield();
            if (result.IsCompleted && take == result.Buffer.Length)
            {
                break;
            }
        }
        await pipe.Reader.CompleteAsync();
        await writing;

        Assert.Equal(Total, read);
        Assert.True(upFront >= 2, $"{upFront} segments made with the pipe");
        Assert.Equal(upFront, pool.Created);
    }

    [Fact]
    public void Rent_LargerThanABlock_IsNotKept()
    {
        using var pool = new SegmentPool(blockSize: 1024, maxKept: 2);
        using (var big = pool.Rent(4096))
        {
            Assert.True(big.Memory.Length >= 4096);
        }
        var first = pool.Rent();
        Assert.Equal(1024, first.Memory.Length);
        first.Dispose();
        using var again = pool.Rent(10);
        Assert.Same(first, again);
        Assert.Equal(1, pool.Created);
    }
}
