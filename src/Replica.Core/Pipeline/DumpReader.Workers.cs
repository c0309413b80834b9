using System.Buffers;
using System.Threading.Channels;
using Replica.Bridges;
using Replica.Codecs;
using Replica.Lexing;

namespace Replica.Pipeline;

public static partial class DumpReader
{
    /// <summary>
    /// Fetches, verifies and decodes the chunks of one dump ahead of the writer, in workers + 2 lanes: chunk i goes
    /// through lane i mod lanes, which starts chunk i + lanes only once chunk i was handed out and written. So at most
    /// workers + 2 chunks (each stored and decoded) are in memory, and at most workers decode at once, each with its
    /// own codec.
    /// </summary>
    sealed class ChunkFetcher : IAsyncDisposable
    {
        readonly IBridge _bridge;
        readonly string _name;
        readonly IReadOnlyList<ChunkInfo> _chunks;
        // Per chunk: its part and its number within the part (which the codec binds).
        readonly (PartInfo Part, int InPart)[] _positions;
        readonly bool _decode;
        readonly CancellationTokenSource _stop;
        readonly Channel<IChunkCodec> _codecs;
        readonly List<IChunkCodec> _forks = [];
        readonly Task<ReadOnlyMemory<byte>>?[] _lanes;
        readonly UnitBuffer?[] _decoded;
        // The plain bytes a chunk is expected to decode to (0: unknown), each lane's first decode buffer rented at that size.
        readonly int _plainHint;
        // Per lane, the stored bytes of its chunk, rented from the shared pool and reused while chunks fit.
        readonly byte[]?[] _stored;

        public ChunkFetcher(IBridge bridge, string name, IReadOnlyList<ChunkInfo> chunks, IReadOnlyList<PartInfo> parts, IChunkCodec? codec, int workers,
            CancellationToken cancellationToken, long plainHint = 0)
            : this(bridge, name, chunks, PositionsOf(chunks, parts), codec, workers, cancellationToken, plainHint)
        {
        }

        /// <summary>
        /// Fetches <paramref name="chunks"/> (any run of a dump's chunks), each with its part and number within the part.
        /// <paramref name="plainHint"/>: the plain bytes a chunk is expected to decode to, 0 when unknown.
        /// </summary>
        public ChunkFetcher(IBridge bridge, string name, IReadOnlyList<ChunkInfo> chunks, (PartInfo Part, int InPart)[] positions, IChunkCodec? codec, int workers,
            CancellationToken cancellationToken, long plainHint = 0)
        {
            _plainHint = (int)Math.Clamp(plainHint, 0, Array.MaxLength);
            _bridge = bridge;
            _name = name;
            _chunks = chunks;
            _positions = positions;
            _decode = codec is not null;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _codecs = Channel.CreateBounded<IChunkCodec>(workers);
            if (codec is not null)
            {
                _codecs.Writer.TryWrite(codec);
                for (int i = 1; i < workers; i++)
                {
                    var fork = codec.Fork();
                    _forks.Add(fork);
                    _codecs.Writer.TryWrite(fork);
                }
            }
            int lanes = Math.Min(workers + 2, chunks.Count);
            _lanes = new Task<ReadOnlyMemory<byte>>?[lanes];
            _decoded = new UnitBuffer?[lanes];
            _stored = new byte[]?[lanes];
            for (int i = 0; i < lanes; i++)
            {
                Start(i);
            }
        }

        /// <summary>Per chunk of the manifest's list: its part and its number within the part (the parts hold the chunks in order).</summary>
        internal static (PartInfo Part, int InPart)[] PositionsOf(IReadOnlyList<ChunkInfo> chunks, IReadOnlyList<PartInfo> parts)
        {
            var positions = new (PartInfo, int)[chunks.Count];
            int part = 0;
            int inPart = 0;
            for (int i = 0; i < chunks.Count; i++)
            {
                while (inPart == parts[part].ChunkCount)
                {
                    part++;
                    inPart = 0;
                }
                positions[i] = (parts[part], inPart++);
            }
            return positions;
        }

        /// <summary>
        /// Chunk <paramref name="index"/>, verified and decoded; valid until the next call. Indexes come in order, from 0.
        /// The call for chunk i + 1 tells that chunk i was written, so its lane moves on to the chunk after.
        /// </summary>
        public async Task<ReadOnlyMemory<byte>> NextAsync(int index)
        {
            if (index > 0 && index - 1 + _lanes.Length < _chunks.Count)
            {
                Start(index - 1 + _lanes.Length);
            }
            int lane = index % _lanes.Length;
            ReadOnlyMemory<byte> plain = await _lanes[lane]!.ConfigureAwait(false);
            return plain;
        }

        void Start(int index)
        {
            int lane = index % _lanes.Length;
            if (_decode)
            {
                // Rented from the shared pool at the expected plain size and kept by the lane: a buffer grown by doubling
                // left ~4 MiB of large-object garbage per lane (128 KiB ... 2 MiB), and in replica bench the dump's
                // returned 4 MiB chunk buffers sat unused in the pool beside new ones.
                _decoded[lane] ??= new UnitBuffer(_plainHint);
            }
            UnitBuffer? decoded = _decoded[lane];
            // The lane's previous chunk was written (or this is its first): its buffer is free. A new array per chunk
            // was large-object garbage that only a full collection frees (a restore peaked at 289 MiB with 8 MiB chunks
            // and 4 workers; bench/results/issue10-memory-2026-12-02.md).
            long size = _chunks[index].Size;
            if (size <= Array.MaxLength && (_stored[lane]?.Length ?? -1) < size)
            {
                if (_stored[lane] is { } smaller)
                {
                    ArrayPool<byte>.Shared.Return(smaller);
                }
                _stored[lane] = ArrayPool<byte>.Shared.Rent((int)size);
            }
            byte[]? buffer = _stored[lane];
            // Task.Run so the fetch proceeds even where a bridge does its I/O synchronously before its first await.
            _lanes[lane] = Task.Run(() => FetchAsync(index, buffer, decoded), _stop.Token);
        }

        async Task<ReadOnlyMemory<byte>> FetchAsync(int index, byte[]? buffer, UnitBuffer? decoded)
        {
            ChunkInfo chunk = _chunks[index];
            ReadOnlyMemory<byte> stored = await _bridge.ReadChunkAsync(_name, chunk, buffer, _stop.Token).ConfigureAwait(false);
            Verify(_name, chunk, stored.Span);
            if (decoded is null)
            {
                return stored;
            }
            IChunkCodec codec = await _codecs.Reader.ReadAsync(_stop.Token).ConfigureAwait(false);
            try
            {
                decoded.Clear();
                (PartInfo part, int inPart) = _positions[index];
                Decode(codec, _name, chunk, stored.Span, part, inPart, decoded);
            }
            finally
            {
                _codecs.Writer.TryWrite(codec);
            }
            return decoded.Memory;
        }

        public async ValueTask DisposeAsync()
        {
            // Done, failing or canceled: stop the fetches still running and wait for them, so that none outlives the
            // restore, uses a disposed codec or surfaces as an unobserved exception. Their outcome no longer matters.
            await _stop.CancelAsync().ConfigureAwait(false);
            foreach (Task<ReadOnlyMemory<byte>>? lane in _lanes)
            {
                if (lane is not null)
                {
                    await ((Task)lane).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
            _stop.Dispose();
            foreach (IChunkCodec fork in _forks)
            {
                fork.Dispose();
            }
            for (int i = 0; i < _stored.Length; i++)
            {
                if (_stored[i] is { } buffer)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    _stored[i] = null;
                }
                _decoded[i]?.Dispose();
                _decoded[i] = null;
            }
        }
    }
}
