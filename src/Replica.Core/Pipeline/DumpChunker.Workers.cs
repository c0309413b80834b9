using System.Buffers;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Replica.Bridges;
using Replica.Codecs;

namespace Replica.Pipeline;

public static partial class DumpChunker
{
    /// <summary>
    /// The slots of a chunker (workers + 2 chunks, each plain and encoded), made once and lent to one chunker run after
    /// another: a dump in parts hands them from part to part (a set per part in flight, <see cref="PartBuffers"/>).
    /// Each slot's encoded buffer is made at the codec's bound and written whole (issue 12), so making them per part
    /// cost ~15-25 MiB of memset per table: a schema of 10,000 small tables would have written ~200 GB.
    /// </summary>
    internal sealed class ChunkSlots : IDisposable
    {
        bool _disposed;

        public ChunkSlots(int chunkSize, IChunkCodec? codec, int workers, ChunkerProbe? probe = null)
        {
            CheckChunkSize(chunkSize);
            CheckWorkers(workers);
            ChunkSize = chunkSize;
            Workers = workers;
            Encoded = codec is not null;
            Items = new Slot[workers + 2];
            for (int i = 0; i < Items.Length; i++)
            {
                Items[i] = new Slot(chunkSize, codec);
                probe?.SlotMade();
            }
        }

        public int ChunkSize { get; }

        public int Workers { get; }

        /// <summary>Whether the slots have an encoded buffer (the chunks have a codec).</summary>
        public bool Encoded { get; }

        internal Slot[] Items { get; }

        /// <summary>The plain buffers go back to the array pool: only once no chunker uses the slots.</summary>
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            foreach (var slot in Items)
            {
                ArrayPool<byte>.Shared.Return(slot.Plain);
            }
        }
    }

    /// <summary>One chunk in flight: its plain bytes, its encoded form, its hash, and where it is in the dump.</summary>
    internal sealed class Slot(int chunkSize, IChunkCodec? codec)
    {
        public byte[] Plain { get; } = ArrayPool<byte>.Shared.Rent(chunkSize);

        /// <summary>
        /// The stored form when there is a codec, reused for every chunk. Sized once to the codec's bound for a full
        /// chunk (zstd's worst case plus the AES-GCM tag), so it never grows (growing left the smaller arrays behind as
        /// garbage, ~2 MiB per slot), and written whole once here, so that all its pages are resident from the start.
        /// Untouched, its resident size followed the largest compressed chunk so far: RSS stepped up at each table that
        /// compressed worse than those before it (issue 12: +3.4 MiB at the synthetic dump's table boundaries).
        /// </summary>
        public ArrayBufferWriter<byte>? Encoded { get; } = codec is null ? null : Resident(EncodedCapacity(codec, chunkSize));

        public byte[] Sha256 { get; } = new byte[SHA256.HashSizeInBytes];

        public int Length { get; set; }

        public int Index { get; set; }

        public bool IsLast { get; set; }

        /// <summary>Completes when a worker has encoded and hashed the chunk; a new one for each use of the slot.</summary>
        public TaskCompletionSource Done { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The codec's bound, or for a codec without one (gzip grows its output on demand) a little over a chunk.</summary>
        internal static int EncodedCapacity(IChunkCodec codec, int chunkSize) =>
            codec.MaxEncodedLength(chunkSize) ?? (int)Math.Min(Array.MaxLength, chunkSize + (long)(chunkSize >> 4) + 4096);

        static ArrayBufferWriter<byte> Resident(int capacity)
        {
            var buffer = new ArrayBufferWriter<byte>(capacity);
            buffer.GetSpan(capacity).Clear();
            return buffer;
        }

        public ReadOnlyMemory<byte> Stored => Encoded is { } encodedBytes ? encodedBytes.WrittenMemory : Plain.AsMemory(0, Length);
    }

    /// <summary>
    /// The workers and the store behind the reading loop. A fixed set of workers + 2 slots circulates: the reader rents
    /// a free slot and fills it, <see cref="Submit"/> queues it for the workers (any order) and for the store (dump
    /// order), and the store hands it back once the bridge took it. Every queue is bounded by the number of slots.
    /// The first failure of any stage is recorded and cancels <see cref="Token"/>, which stops all the others.
    /// </summary>
    sealed class ChunkEncoder : IAsyncDisposable
    {
        readonly IDumpWriter _writer;
        readonly int _partIndex;
        // Whether the caller began the part (RunPartAsync): its chunks then go to that part by index, so that several
        // parts can be stored at once.
        readonly bool _partBegun;
        readonly ChunkerProbe? _probe;
        readonly CancellationTokenSource _stop;
        // Made for this run and disposed with it, or null when the slots are lent (and outlive it).
        readonly ChunkSlots? _ownSlots;
        readonly Slot[] _slots;
        readonly Channel<Slot> _free;
        readonly Channel<Slot> _toEncode;
        readonly Channel<Slot> _toStore;
        readonly List<IChunkCodec> _forks = [];
        readonly Task[] _workers;
        readonly Task _store;
        Exception? _failure;

        public ChunkEncoder(IDumpWriter writer, IChunkCodec? codec, int chunkSize, int workers, int partIndex, bool partBegun, ChunkerProbe? probe,
            ChunkSlots? lent, CancellationToken cancellationToken)
        {
            if (lent is not null && (lent.ChunkSize != chunkSize || lent.Workers != workers || lent.Encoded != codec is not null))
            {
                throw new ArgumentException($"The slots lent are for chunks of {lent.ChunkSize} bytes, {lent.Workers} workers and "
                    + $"{(lent.Encoded ? "a codec" : "no codec")}; this run has {chunkSize}, {workers} and {(codec is null ? "none" : "one")}.", nameof(lent));
            }
            _ownSlots = lent is null ? new ChunkSlots(chunkSize, codec, workers, probe) : null;
            _slots = (lent ?? _ownSlots!).Items;
            _writer = writer;
            _partIndex = partIndex;
            _partBegun = partBegun;
            _probe = probe;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _free = Bounded(_slots.Length, singleReader: true);
            _toEncode = Bounded(_slots.Length, singleReader: false);
            _toStore = Bounded(_slots.Length, singleReader: true);
            foreach (var slot in _slots)
            {
                _free.Writer.TryWrite(slot);
            }
            _workers = new Task[workers];
            try
            {
                for (int i = 0; i < workers; i++)
                {
                    // The first worker uses the caller's codec; each other one a fork with its own state (a codec serves
                    // one thread at a time).
                    IChunkCodec? own = codec;
                    if (i > 0 && codec is not null)
                    {
                        own = codec.Fork();
                        _forks.Add(own);
                    }
                    _workers[i] = Task.Run(() => EncodeLoopAsync(own), CancellationToken.None);
                }
            }
            catch
            {
                // The workers started so far stop; nothing else was started.
                _stop.Cancel();
                _toEncode.Writer.TryComplete();
                foreach (var fork in _forks)
                {
                    fork.Dispose();
                }
                _ownSlots?.Dispose();
                throw;
            }
            _store = Task.Run(StoreLoopAsync, CancellationToken.None);
        }

        public CancellationToken Token => _stop.Token;

        /// <summary>Chunks submitted so far.</summary>
        public int Submitted { get; private set; }

        /// <summary>A free slot, waiting while every slot is in flight.</summary>
        public async ValueTask<Slot> RentAsync()
        {
            if (!_free.Reader.TryRead(out Slot? slot))
            {
                _probe?.WaitingForChunk?.Invoke(_probe.InFlight);
                slot = await _free.Reader.ReadAsync(_stop.Token).ConfigureAwait(false);
            }
            _probe?.Taken();
            slot.Length = 0;
            return slot;
        }

        /// <summary>Queues a filled slot as the dump's next chunk.</summary>
        public void Submit(Slot slot, bool isLast)
        {
            slot.Index = Submitted++;
            slot.IsLast = isLast;
            slot.Done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // Never full: there are only as many slots as places in each queue.
            _toStore.Writer.TryWrite(slot);
            _toEncode.Writer.TryWrite(slot);
        }

        /// <summary>Waits until every submitted chunk is stored; throws the first failure of any stage.</summary>
        public async Task CompleteAsync()
        {
            _toEncode.Writer.TryComplete();
            _toStore.Writer.TryComplete();
            await WaitForAllAsync().ConfigureAwait(false);
            if (_failure is not null)
            {
                ExceptionDispatchInfo.Throw(_failure);
            }
        }

        /// <summary>Records <paramref name="failure"/> unless a failure came first, stops every stage, and returns the first.</summary>
        public Exception Fail(Exception failure)
        {
            Interlocked.CompareExchange(ref _failure, failure, null);
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already disposed: everything has stopped.
            }
            return _failure;
        }

        async Task EncodeLoopAsync(IChunkCodec? codec)
        {
            try
            {
                while (await _toEncode.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
                {
                    while (_toEncode.Reader.TryRead(out Slot? slot))
                    {
                        _stop.Token.ThrowIfCancellationRequested();
                        Encode(slot, codec, _partIndex);
                        slot.Done.TrySetResult();
                    }
                }
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }

        static void Encode(Slot slot, IChunkCodec? codec, int partIndex)
        {
            if (codec is not null)
            {
                slot.Encoded!.ResetWrittenCount();
                codec.Encode(slot.Plain.AsSpan(0, slot.Length), partIndex, slot.Index, slot.IsLast, slot.Encoded);
            }
            SHA256.HashData(slot.Stored.Span, slot.Sha256);
        }

        async Task StoreLoopAsync()
        {
            try
            {
                while (await _toStore.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
                {
                    while (_toStore.Reader.TryRead(out Slot? slot))
                    {
                        // In dump order, whichever worker finishes first. A chunk whose worker failed is never done:
                        // the failure cancels the token, which ends this wait.
                        await slot.Done.Task.WaitAsync(_stop.Token).ConfigureAwait(false);
                        _stop.Token.ThrowIfCancellationRequested(); // a chunk done before the stop is not stored after it
                        await (_partBegun
                            ? _writer.WriteChunkAsync(_partIndex, slot.Stored, slot.Sha256, _stop.Token)
                            : _writer.WriteChunkAsync(slot.Stored, slot.Sha256, _stop.Token)).ConfigureAwait(false);
                        _probe?.Returned();
                        _free.Writer.TryWrite(slot);
                    }
                }
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }

        async Task WaitForAllAsync()
        {
            await _store.ConfigureAwait(false);
            // The store has stopped, after a failure or with every chunk stored: the workers have nothing left to do.
            _toEncode.Writer.TryComplete();
            await Task.WhenAll(_workers).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            _toEncode.Writer.TryComplete();
            _toStore.Writer.TryComplete();
            if (!_store.IsCompleted || _workers.Any(w => !w.IsCompleted))
            {
                // Failing or canceled: stop the stages that still run and wait for them, so that no buffer is read after
                // it went back to the pool.
                Fail(new OperationCanceledException("The dump stopped."));
                await WaitForAllAsync().ConfigureAwait(false);
            }
            _stop.Dispose();
            foreach (var fork in _forks)
            {
                fork.Dispose();
            }
            // Lent slots stay with their owner: no stage of this run touches them any more.
            _ownSlots?.Dispose();
        }

        static Channel<Slot> Bounded(int capacity, bool singleReader) => Channel.CreateBounded<Slot>(new BoundedChannelOptions(capacity)
        {
            SingleReader = singleReader,
            SingleWriter = true,
        });
    }
}
