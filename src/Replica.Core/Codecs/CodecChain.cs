using System.Buffers;
using Replica.Codecs.Encryption;

namespace Replica.Codecs;

/// <summary>
/// Several codecs applied as one: <see cref="Encode"/> runs them in order (compress, then encrypt) and
/// <see cref="Decode"/> in reverse, each codec seeing the same part and chunk index and last-chunk flag. The intermediate results
/// live in two buffers owned by the chain and reused for every chunk, so after the largest chunk has been seen, nothing
/// is allocated per chunk. A chain that ends in AES-256-GCM encodes without them: the step before it writes straight
/// into the output's free space and the chunk is encrypted where it lies (<see cref="InPlaceWriter"/>). The chain owns
/// its codecs and disposes them.
/// </summary>
public sealed class CodecChain : IChunkCodec
{
    readonly IChunkCodec[] _codecs;
    // Ping-pong buffers for the results between two codecs; only chains of two or more codecs need them.
    readonly ArrayBufferWriter<byte>? _first;
    readonly ArrayBufferWriter<byte>? _second;
    // Set when the chain is compress-then-encrypt with AES-256-GCM (the encryption can run in place).
    readonly InPlaceWriter? _inPlace;

    /// <summary>Chains <paramref name="codecs"/> in encoding order. An empty chain stores chunks as they are.</summary>
    public CodecChain(params IEnumerable<IChunkCodec> codecs)
    {
        ArgumentNullException.ThrowIfNull(codecs);
        _codecs = [.. codecs];
        foreach (var codec in _codecs)
        {
            ArgumentNullException.ThrowIfNull(codec, nameof(codecs));
        }
        if (_codecs.Length >= 2)
        {
            _first = new ArrayBufferWriter<byte>();
            _second = new ArrayBufferWriter<byte>();
            if (_codecs.Length == 2 && _codecs[1] is AesGcmChunkCodec)
            {
                _inPlace = new InPlaceWriter(_first);
            }
        }
        Name = _codecs.Length == 0 ? "none" : string.Join('+', _codecs.Select(c => c.Name));
    }

    /// <summary>The codecs in encoding order.</summary>
    public IReadOnlyList<IChunkCodec> Codecs => _codecs;

    /// <summary>The codec names joined in encoding order, e.g. "zstd+aes-256-gcm"; "none" for an empty chain.</summary>
    public string Name { get; }

    public void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, IBufferWriter<byte> output) =>
        Encode(plain, 0, chunkIndex, isLast, output);

    public void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, IBufferWriter<byte> output) =>
        Decode(stored, 0, chunkIndex, isLast, output);

    public void Encode(ReadOnlySpan<byte> plain, int partIndex, int chunkIndex, bool isLast, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var last = _codecs.Length - 1;
        if (last < 0)
        {
            output.Write(plain);
            return;
        }
        if (_inPlace is not null)
        {
            EncodeInPlace(plain, partIndex, chunkIndex, isLast, output);
            return;
        }
        var input = plain;
        for (var i = 0; i < last; i++)
        {
            var buffer = Intermediate(i);
            buffer.ResetWrittenCount();
            _codecs[i].Encode(input, partIndex, chunkIndex, isLast, buffer);
            input = buffer.WrittenSpan;
        }
        _codecs[last].Encode(input, partIndex, chunkIndex, isLast, output);
    }

    public void Decode(ReadOnlySpan<byte> stored, int partIndex, int chunkIndex, bool isLast, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var last = _codecs.Length - 1;
        if (last < 0)
        {
            output.Write(stored);
            return;
        }
        var input = stored;
        for (var i = last; i > 0; i--)
        {
            var buffer = Intermediate(i);
            buffer.ResetWrittenCount();
            _codecs[i].Decode(input, partIndex, chunkIndex, isLast, buffer);
            input = buffer.WrittenSpan;
        }
        _codecs[0].Decode(input, partIndex, chunkIndex, isLast, output);
    }

    /// <summary>
    /// Each codec's bound applied to the one before's (null when one of them does not know). With the in-place path the
    /// output is asked for the first codec's bound plus the tag, which is the same sum.
    /// </summary>
    public int? MaxEncodedLength(int plainLength)
    {
        long length = plainLength;
        foreach (var codec in _codecs)
        {
            if (codec.MaxEncodedLength((int)Math.Min(length, Array.MaxLength)) is not { } next)
            {
                return null;
            }
            length = next;
        }
        return (int)Math.Min(length, Array.MaxLength);
    }

    /// <summary>Forks every codec of the chain into a new chain (with its own intermediate buffers).</summary>
    public IChunkCodec Fork()
    {
        var forks = new List<IChunkCodec>(_codecs.Length);
        try
        {
            foreach (var codec in _codecs)
            {
                forks.Add(codec.Fork());
            }
            return new CodecChain(forks);
        }
        catch
        {
            forks.ForEach(c => c.Dispose());
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var codec in _codecs)
        {
            codec.Dispose();
        }
    }

    /// <summary>
    /// Compress, then encrypt in the output: the first codec writes into the output's free space (its span is asked for
    /// once, with room for the tag after it), and AES-GCM turns those bytes into ciphertext where they lie and writes the
    /// tag after them. The stored bytes are the same as through the intermediate buffer; what goes away is that buffer
    /// (a ~4.2 MiB array per worker whose pages the largest compressed chunk so far had touched; issue 12). When the
    /// first codec needs more than the span it got, what it wrote moves into the intermediate buffer and the chain goes
    /// on as without this path.
    /// </summary>
    void EncodeInPlace(ReadOnlySpan<byte> plain, int partIndex, int chunkIndex, bool isLast, IBufferWriter<byte> output)
    {
        var writer = _inPlace!;
        writer.Start(output, AesGcmChunkCodec.TagSize);
        try
        {
            _codecs[0].Encode(plain, partIndex, chunkIndex, isLast, writer);
        }
        finally
        {
            writer.Stop();
        }
        var aes = (AesGcmChunkCodec)_codecs[1];
        if (writer.Spilled)
        {
            aes.Encode(_first!.WrittenSpan, partIndex, chunkIndex, isLast, output);
            return;
        }
        var memory = writer.Written;
        var span = memory.Span;
        aes.EncryptInPlace(span[..writer.WrittenCount], span.Slice(writer.WrittenCount, AesGcmChunkCodec.TagSize), partIndex, chunkIndex, isLast);
        output.Advance(writer.WrittenCount + AesGcmChunkCodec.TagSize);
    }

    /// <summary>
    /// The first codec's output for <see cref="EncodeInPlace"/>: the free space of the chain's output, less the room kept
    /// for the tag, advanced only once the encryption is done. Should the codec ask for more than is left, what it
    /// wrote is copied into the spill buffer (the chain's intermediate) and it goes on writing there.
    /// </summary>
    sealed class InPlaceWriter(ArrayBufferWriter<byte> spill) : IBufferWriter<byte>
    {
        IBufferWriter<byte>? _output;
        Memory<byte> _memory;
        int _reserve;

        public int WrittenCount { get; private set; }

        public bool Spilled { get; private set; }

        /// <summary>The output's span the codec wrote into (valid until the output is advanced).</summary>
        public Memory<byte> Written => _memory;

        public void Start(IBufferWriter<byte> output, int reserve)
        {
            (_output, _memory, _reserve, WrittenCount, Spilled) = (output, Memory<byte>.Empty, reserve, 0, false);
        }

        public void Stop() => _output = null;

        public void Advance(int count)
        {
            if (Spilled)
            {
                spill.Advance(count);
                return;
            }
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _memory.Length - _reserve - WrittenCount);
            WrittenCount += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            if (Spilled)
            {
                return spill.GetMemory(sizeHint);
            }
            var need = Math.Max(sizeHint, 1);
            if (_memory.IsEmpty)
            {
                ObjectDisposedException.ThrowIf(_output is null, this);
                _memory = _output.GetMemory(need + _reserve);
            }
            var free = _memory.Length - _reserve - WrittenCount;
            if (free >= need)
            {
                return _memory.Slice(WrittenCount, free);
            }
            spill.ResetWrittenCount();
            spill.Write(_memory.Span[..WrittenCount]);
            Spilled = true;
            return spill.GetMemory(sizeHint);
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }

    // Step i writes into one buffer while reading the other (written by step i-1 or i+1).
    ArrayBufferWriter<byte> Intermediate(int step) => (step & 1) == 0 ? _first! : _second!;
}
