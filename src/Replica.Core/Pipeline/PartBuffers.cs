using System.IO.Pipelines;
using Replica.Codecs;

namespace Replica.Pipeline;

/// <summary>
/// The buffers one stream of a dump streams through: the segments of its two pipes (source -> rewriter, rewriter ->
/// chunker) and the chunker's slots. They are made at their most and written whole when made (issue 12: so that the
/// dump's memory is reached at start and does not step up late in a long dump), ~15-25 MiB of memset, so a dump in parts
/// makes a set per part in flight and hands it from part to part (<see cref="Shelf"/>), not one per table.
/// </summary>
internal sealed class PartBuffers : IDisposable
{
    public PartBuffers(int readBlockSize, int chunkSize, IChunkCodec? codec, int workers, ChunkerProbe? probe)
    {
        Slots = new DumpChunker.ChunkSlots(chunkSize, codec, workers, probe);
        Input = DumpJob.InputPipeOptions(readBlockSize, probe);
        Rewritten = DumpJob.RewrittenPipeOptions(probe);
    }

    /// <summary>The source -> rewriter pipe's options (its segment pool).</summary>
    public PipeOptions Input { get; }

    /// <summary>The rewriter -> chunker pipe's options (its segment pool).</summary>
    public PipeOptions Rewritten { get; }

    public DumpChunker.ChunkSlots Slots { get; }

    public void Dispose()
    {
        Slots.Dispose();
        Input.Pool.Dispose();
        Rewritten.Pool.Dispose();
    }

    /// <summary>
    /// A dump's sets of buffers, one per part in flight: a part takes one (made if none is free), and gives it back when
    /// it is stored. A part that fails does not give its set back: a stage of it may still hold a segment (the source's
    /// reader may sit in a read that no token interrupts), so the set is disposed and never used again.
    /// </summary>
    public sealed class Shelf(int readBlockSize, int chunkSize, IChunkCodec? codec, int workers, ChunkerProbe? probe) : IDisposable
    {
        readonly Lock _lock = new();
        readonly Stack<PartBuffers> _free = new();

        public PartBuffers Take()
        {
            lock (_lock)
            {
                if (_free.TryPop(out var buffers))
                {
                    return buffers;
                }
            }
            return new PartBuffers(readBlockSize, chunkSize, codec, workers, probe);
        }

        /// <summary>Gives back the set of a part that was stored (every stage of it done).</summary>
        public void GiveBack(PartBuffers buffers)
        {
            lock (_lock)
            {
                _free.Push(buffers);
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                while (_free.TryPop(out var buffers))
                {
                    buffers.Dispose();
                }
            }
        }
    }
}
