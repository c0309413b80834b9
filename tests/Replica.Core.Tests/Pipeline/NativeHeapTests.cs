using System.Runtime.InteropServices;
using Replica.Pipeline;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// What a long dump relies on to keep its RSS flat: memory freed in the middle of glibc's heap stays resident until
/// malloc_trim gives it back, and <see cref="NativeHeap.TrimNow"/> does. Resident pages are read with mincore(2), so the
/// other tests' memory does not matter.
/// </summary>
public sealed unsafe partial class NativeHeapTests
{
    const int Block = 4000;
    const int Blocks = 8192;

    [Fact]
    public void TrimNow_FreedBlocksBelowALiveOne_TheirPagesLeaveMemory()
    {
        Assert.True(OperatingSystem.IsLinux(), "these tests run on Linux (glibc)");
        var blocks = new byte*[Blocks];
        for (int i = 0; i < Blocks; i++)
        {
            blocks[i] = (byte*)NativeMemory.Alloc(Block);
            new Span<byte>(blocks[i], Block).Fill(1);
        }
        // Pages wholly inside the longest run of blocks that lie one after the other in this thread's heap.
        var (start, length) = Pages(blocks);
        Assert.True(Resident(start, length) > 0.9, "the blocks just written are not resident");
        // Freed, except the last one, which keeps the heap's top in use: free() gives nothing back below it.
        for (int i = 0; i < Blocks - 1; i++)
        {
            NativeMemory.Free(blocks[i]);
        }
        double before = Resident(start, length);

        Assert.True(NativeHeap.TrimNow());

        double after = Resident(start, length);
        NativeMemory.Free(blocks[Blocks - 1]);
        Assert.True(before > 0.9, $"free() already gave back {1 - before:P0} of the pages");
        Assert.True(after < 0.1, $"{after:P0} of the freed pages are still resident after the trim");
    }

    [Fact]
    public void KeepTrimmed_WhileHeld_Trims()
    {
        using (NativeHeap.KeepTrimmed())
        using (NativeHeap.KeepTrimmed())
        {
            Assert.True(NativeHeap.IsTrimming);
        }
    }

    /// <summary>The page-aligned span inside the longest run of blocks with no gap between them (malloc's own chunk header apart).</summary>
    static (nint Start, nint Length) Pages(byte*[] blocks)
    {
        var sorted = new nint[blocks.Length];
        for (int i = 0; i < blocks.Length; i++)
        {
            sorted[i] = (nint)blocks[i];
        }
        Array.Sort(sorted);
        nint stride = Enumerable.Range(1, sorted.Length - 1).Min(i => sorted[i] - sorted[i - 1]);
        int bestFrom = 0, bestLength = 1;
        for (int from = 0, i = 1; i <= sorted.Length; i++)
        {
            if (i == sorted.Length || sorted[i] - sorted[i - 1] != stride)
            {
                if (i - from > bestLength)
                {
                    (bestFrom, bestLength) = (from, i - from);
                }
                from = i;
            }
        }
        Assert.True(bestLength >= Blocks / 4, $"malloc placed at most {bestLength} of {Blocks} blocks one after the other");
        nint page = Environment.SystemPageSize;
        nint start = (sorted[bestFrom] + page - 1) / page * page;
        nint end = (sorted[bestFrom + bestLength - 1] + Block) / page * page;
        return (start, end - start);
    }

    /// <summary>The share of the pages in [start, start + length) that are in memory.</summary>
    static double Resident(nint start, nint length)
    {
        int pages = (int)(length / Environment.SystemPageSize);
        var vector = new byte[pages];
        fixed (byte* v = vector)
        {
            Assert.Equal(0, MinCore(start, (nuint)length, v));
        }
        return vector.Count(b => (b & 1) != 0) / (double)pages;
    }

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int MinCore(nint start, nuint length, byte* vector);
}
