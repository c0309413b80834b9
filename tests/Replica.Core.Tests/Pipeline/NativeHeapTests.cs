using System.Runtime.InteropServices;
using Replica.Pipeline;

namespace Replica.Core.Tests.Pipeline;

/// <summary>Tests that read which of malloc's pages are resident: they run alone, so no other test's allocations land in
/// the pages they free before the trim.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeHeapCollection
{
    public const string Name = "native heap";
}

/// <summary>
/// What a long dump relies on to keep its RSS flat: memory freed in the middle of glibc's heap stays resident until
/// malloc_trim gives it back, and <see cref="NativeHeap.TrimNow"/> does. Resident pages are read with mincore(2), so the
/// other tests' memory does not matter.
/// </summary>
[Collection(NativeHeapCollection.Name)]
public sealed unsafe partial class NativeHeapTests
{
    /// <summary>
    /// Blocks of 15 pages and more, below malloc's mmap threshold (128 KiB at least): each freed block alone holds whole
    /// pages, so the test does not need malloc to place blocks side by side in a heap that other tests left with holes
    /// (with blocks of 4000 bytes it once found at most 349 of 8192 adjacent).
    /// </summary>
    const int Block = 64_000;
    const int Blocks = 512;

    /// <summary>
    /// The bytes glibc keeps at the start of a free chunk (size fields and list links, 48 on 64-bit); malloc_trim gives
    /// back whole pages after them.
    /// </summary>
    const int FreeChunkHeader = 48;

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
        // The last block allocated keeps the heap's top in use, so free() gives back little or nothing below it. The
        // pages looked at are those wholly inside the other blocks, or runs of them that lie one after the other:
        // freed, each run is one free chunk.
        var spans = Pages(blocks, Blocks - 1);
        Assert.True(Resident(spans).Count(r => r) > 0.9 * PageCount(spans), "the blocks just written are not resident");
        for (int i = 0; i < Blocks - 1; i++)
        {
            NativeMemory.Free(blocks[i]);
        }
        var before = Resident(spans);

        Assert.True(NativeHeap.TrimNow());

        var after = Resident(spans);
        NativeMemory.Free(blocks[Blocks - 1]);
        // Only the pages free() kept count (a block that happened to lie next to the top may have gone with it).
        int kept = before.Count(r => r), left = before.Zip(after).Count(p => p.First && p.Second);
        Assert.True(kept > PageCount(spans) / 2, $"free() already gave back {PageCount(spans) - kept} of {PageCount(spans)} pages");
        Assert.True(left < kept / 10, $"{left} of the {kept} freed pages are still resident after the trim");
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

    /// <summary>
    /// The page-aligned spans inside the runs of the first <paramref name="count"/> blocks with no gap between them (malloc's own chunk header apart), past
    /// the header the run's free chunk will have.
    /// </summary>
    static List<(nint Start, nint Length)> Pages(byte*[] blocks, int count)
    {
        var sorted = new nint[count];
        for (int i = 0; i < count; i++)
        {
            sorted[i] = (nint)blocks[i];
        }
        Array.Sort(sorted);
        // Adjacent blocks: malloc's chunk for a block is its size plus an 8-byte size field, rounded up to 16.
        const int stride = (Block + 8 + 15) & ~15;
        nint page = Environment.SystemPageSize;
        var spans = new List<(nint, nint)>();
        for (int from = 0, i = 1; i <= sorted.Length; i++)
        {
            if (i == sorted.Length || sorted[i] - sorted[i - 1] != stride)
            {
                nint start = (sorted[from] + FreeChunkHeader + page - 1) / page * page;
                nint end = (sorted[i - 1] + Block) / page * page;
                if (end > start)
                {
                    spans.Add((start, end - start));
                }
                from = i;
            }
        }
        long pages = PageCount(spans);
        Assert.True(pages >= Blocks, $"malloc placed the {Blocks} blocks so that only {pages} pages lie wholly inside runs of them");
        return spans;
    }

    static int PageCount(List<(nint Start, nint Length)> spans) => (int)(spans.Sum(s => (long)s.Length) / Environment.SystemPageSize);

    /// <summary>Page by page, the spans one after the other: whether it is in memory.</summary>
    static bool[] Resident(List<(nint Start, nint Length)> spans)
    {
        var resident = new List<bool>();
        foreach (var (start, length) in spans)
        {
            var vector = new byte[length / Environment.SystemPageSize];
            fixed (byte* v = vector)
            {
                Assert.Equal(0, MinCore(start, (nuint)length, v));
            }
            resident.AddRange(vector.Select(b => (b & 1) != 0));
        }
        return [.. resident];
    }

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int MinCore(nint start, nuint length, byte* vector);
}
