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
