using System.Buffers;

namespace Replica.Pipeline;

/// <summary>
/// The segments of one pipe: blocks of one size, kept by the pipe's pool for as long as the pipe lives and reused by it
/// alone, at most <c>maxKept</c> of them. The shared array pool kept these 1 MiB blocks in per-thread slots and per-core
/// stacks that it trims by age at each gen2 GC; the pipe's writer and reader run on whichever thread-pool threads come
/// and go (a bridge dump blocks some of them in fsync), so blocks were dropped with retired threads or by trimming and
/// allocated anew in the large object heap, whose committed size then grew with the dump (issue 12: +5 MiB of GC
/// memory over 20 GiB). A pipe holds only a few segments at once (its pause threshold), so the blocks kept stay few.
/// The blocks a pipe can hold at once are made when the pool is, and written once, so that their pages are resident
/// from the start: made on demand, the pipe's working set grew late in a dump, when a table that is not masked made the
/// reader the slower stage and the pipe filled to its threshold for the first time (issue 12: +4 MiB at the synthetic
/// dump's first table boundary). Should a pipe ever hold more (a writer that writes far past the threshold before it
/// flushes), the pool makes more blocks and keeps them, up to <c>maxKept</c>.
/// </summary>
internal sealed class SegmentPool : MemoryPool<byte>
{
    readonly Lock _lock = new();
    readonly Stack<Block> _free;
    readonly int _blockSize;
    readonly int _maxKept;
    readonly ChunkerProbe? _probe;

    /// <param name="blockSize">The size of every block.</param>
    /// <param name="maxKept">The most blocks kept for reuse.</param>
    /// <param name="resident">Blocks made, and their pages touched, now.</param>
    /// <param name="probe">Counts the blocks made (a test hook).</param>
    public SegmentPool(int blockSize, int maxKept, int resident = 0, ChunkerProbe? probe = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(resident);
        _blockSize = blockSize;
        _probe = probe;
        _maxKept = Math.Max(maxKept, resident);
        _free = new(_maxKept);
        for (var i = 0; i < resident; i++)
        {
            var array = GC.AllocateUninitializedArray<byte>(blockSize);
            array.AsSpan().Clear();
            _free.Push(new Block(this, array));
            probe?.SegmentMade();
        }
        Created = resident;
    }

    public override int MaxBufferSize => _blockSize;

    /// <summary>Blocks made so far, the resident ones included (a test hook: it stops growing once the pipe has its working set).</summary>
    public int Created { get; private set; }

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > _blockSize)
        {
            // A pipe asks the array pool for what exceeds MaxBufferSize; anybody else gets a block of its own, not kept.
            return new Block(null, GC.AllocateUninitializedArray<byte>(minBufferSize));
        }
        lock (_lock)
        {
            if (_free.TryPop(out Block? block))
            {
                block.Rented = true;
                return block;
            }
            Created++;
        }
        _probe?.SegmentMade();
        return new Block(this, GC.AllocateUninitializedArray<byte>(_blockSize)) { Rented = true };
    }

    void Return(Block block)
    {
        lock (_lock)
        {
            if (!block.Rented)
            {
                throw new InvalidOperationException("A pipe segment was returned twice.");
            }
            block.Rented = false;
            if (_free.Count < _maxKept)
            {
                _free.Push(block);
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        lock (_lock)
        {
            _free.Clear();
        }
    }

    sealed class Block(SegmentPool? owner, byte[] array) : IMemoryOwner<byte>
    {
        public bool Rented { get; set; }

        public Memory<byte> Memory => array;

        public void Dispose() => owner?.Return(this);
    }
}
