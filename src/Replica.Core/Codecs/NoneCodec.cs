using System.Buffers;

namespace Replica.Codecs;

/// <summary>Stores chunks as they are: compression "none".</summary>
public sealed class NoneCodec : IChunkCodec
{
    public string Name => "none";

    public void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, IBufferWriter<byte> output) => output.Write(plain);

    public void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, IBufferWriter<byte> output) => output.Write(stored);

    public int? MaxEncodedLength(int plainLength) => plainLength;

    public IChunkCodec Fork() => new NoneCodec();

    public void Dispose() { }
}
