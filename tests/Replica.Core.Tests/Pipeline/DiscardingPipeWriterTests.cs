using Replica.Pipeline;

namespace Replica.Core.Tests.Pipeline;

/// <summary>The output of read-only passes: takes any amount, keeps none, allocates nothing per write.</summary>
public class DiscardingPipeWriterTests
{
    [Fact]
    public async Task Writes_OfAnySize_AllocateNothingOnceWarm()
    {
        var writer = new DiscardingPipeWriter();
        Assert.True(writer.GetSpan(1 << 20).Length >= 1 << 20);
        writer.Advance(1 << 20);
        await writer.FlushAsync();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            var span = writer.GetSpan(100 + i % 5000);
            Assert.True(span.Length >= 100 + i % 5000);
            span[0] = (byte)i;
            writer.Advance(1);
            var flush = await writer.FlushAsync();
            Assert.False(flush.IsCompleted);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
