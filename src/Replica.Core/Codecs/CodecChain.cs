using System.Buffers;

namespace Replica.Codecs;

/// <summary>
/// Several codecs applied as one: <see cref="Encode"/> runs them in order (compress, then encrypt) and
/// <see cref="Decode"/> in reverse, each codec seeing the same part and chunk index and last-chunk flag. The intermediate results
/// live in two buffers owned by the chain and reused for every chunk, so after the largest chunk has been seen, nothing
/// is allocated per chunk. The chain owns its codecs and disposes them.
/// </summary>
public sealed class CodecChain : IChunkCodec
{
    readonly IChunkCodec[] _codecs;
    // Ping-pong buffers for the results between two codecs; only chains of two or more codecs need them.
    readonly ArrayBufferWriter<byte>? _first;
    readonly ArrayBufferWriter<byte>? _second;

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

    // Step i writes into one buffer while reading the other (written by step i-1 or i+1).
    ArrayBufferWriter<byte> Intermediate(int step) => (step & 1) == 0 ? _first! : _second!;
}
