using CsCheck;
using Replica.Codecs;

namespace Replica.Core.Tests.Codecs;

/// <summary>
/// Round trips over generated chunks: runs of repeated bytes (compressible, as dump text is) mixed with random bytes,
/// written to an output that hands out only the span size asked for. A failure shrinks to the smallest chunk that fails.
/// </summary>
public class CodecPropertyTests
{
    /// <summary>A chunk of up to ~64 KiB: pieces that are either a random byte repeated or random bytes.</summary>
    static readonly Gen<byte[]> s_chunk =
        Gen.OneOf(
                Gen.Select(Gen.Byte, Gen.Int[1, 4096], (b, n) => Enumerable.Repeat(b, n).ToArray()),
                Gen.Byte.Array[0, 512])
            .Array[0, 32]
            .Select(pieces => pieces.SelectMany(p => p).ToArray());

    [Theory]
    [InlineData("zstd")]
    [InlineData("zstd-3")]
    [InlineData("gzip")]
    [InlineData("zstd+gzip")]
    public void EncodeDecode_GeneratedChunks_RoundTripThroughExactSpans(string codecs)
    {
        using var codec = codecs switch
        {
            "zstd" => new ZstdCodec(),
            "zstd-3" => new ZstdCodec(level: 3),
            "gzip" => (IChunkCodec)new GzipCodec(),
            _ => new CodecChain(new ZstdCodec(), new GzipCodec()),
        };
        var chunkIndex = 0;
        s_chunk.ForAll(plain =>
        {
            chunkIndex++;
            var stored = new ExactSpanWriter();
            var decoded = new ExactSpanWriter();
            codec.Encode(plain, chunkIndex, false, stored);
            codec.Decode(stored.WrittenSpan, chunkIndex, false, decoded);
            CodecTestData.AssertSameBytes(plain, decoded.WrittenSpan);
        }, cases: 60, print: plain => $"{plain.Length} bytes: {Convert.ToHexString(plain.AsSpan(0, Math.Min(plain.Length, 256)))}");
    }
}
