using System.Buffers;
using System.Text;
using Replica.Codecs;
using Replica.Codecs.Encryption;

namespace Replica.Core.Tests.Codecs;

public class CodecChainTests
{
    [Fact]
    public void Encode_AppliesCodecsInOrder_DecodeInReverse()
    {
        var log = new List<string>();
        using var chain = new CodecChain(new TagCodec("a", log), new TagCodec("b", log), new TagCodec("c", log));
        var plain = "row"u8.ToArray();

        var stored = CodecTestData.Encode(chain, plain, chunkIndex: 4, isLast: true);
        var decoded = CodecTestData.Decode(chain, stored, chunkIndex: 4, isLast: true);

        Assert.Equal("rowabc", Encoding.ASCII.GetString(stored));
        Assert.Equal(plain, decoded);
        Assert.Equal(["encode a 4 True", "encode b 4 True", "encode c 4 True", "decode c 4 True", "decode b 4 True", "decode a 4 True"], log);
        Assert.Equal("a+b+c", chain.Name);
    }

    [Fact]
    public void EncodeDecode_ZstdThenGzip_EqualsStepByStep()
    {
        var plain = CodecTestData.Sql(1 << 20);
        using var chain = new CodecChain(new ZstdCodec(), new GzipCodec());
        using var zstd = new ZstdCodec();
        using var gzip = new GzipCodec();

        var stored = CodecTestData.Encode(chain, plain, 2);

        Assert.Equal(plain, CodecTestData.Decode(zstd, CodecTestData.Decode(gzip, stored, 2), 2));
        Assert.Equal(plain, CodecTestData.Decode(chain, stored, 2));
        Assert.Equal("zstd+gzip", chain.Name);
    }

    [Fact]
    public void EncodeDecode_LargeThenSmallChunks_ReusedBuffersHoldOnlyTheCurrentChunk()
    {
        var log = new List<string>();
        using var chain = new CodecChain(new ZstdCodec(), new TagCodec("t", log), new NoneCodec());
        int[] sizes = [4 << 20, 10, 0, 100_000, 1];
        for (var i = 0; i < sizes.Length; i++)
        {
            var plain = CodecTestData.Get("random", sizes[i]).ToArray();
            var stored = CodecTestData.Encode(chain, plain, i);
            Assert.Equal(plain, CodecTestData.Decode(chain, stored, i));
        }
    }

    [Theory]
    [InlineData("sql", 0)]
    [InlineData("sql", 1)]
    [InlineData("sql", 100_000)]
    [InlineData("sql", 4 << 20)]
    [InlineData("random", 4 << 20)]
    public void Encode_ZstdThenAesGcm_EncryptedInTheOutput_SameBytesAsStepByStep(string kind, int size)
    {
        // The dump's case: the output is the slot's buffer, sized for a chunk that does not compress, with bytes before.
        using var chain = new CodecChain(new ZstdCodec(), Aes());
        using var zstd = new ZstdCodec();
        using var aes = Aes();
        var plain = CodecTestData.Get(kind, size).Span;
        for (var chunk = 0; chunk < 3; chunk++)
        {
            var output = new ArrayBufferWriter<byte>(size + (size >> 4) + 4096);
            output.Write("head"u8);
            chain.Encode(plain, partIndex: 2, chunkIndex: chunk, isLast: chunk == 2, output);

            var compressed = new ArrayBufferWriter<byte>();
            zstd.Encode(plain, chunk, chunk == 2, compressed); // compression does not depend on the part
            var expected = new ArrayBufferWriter<byte>();
            aes.Encode(compressed.WrittenSpan, 2, chunk, chunk == 2, expected);
            Assert.Equal([.. "head"u8, .. expected.WrittenSpan], output.WrittenSpan.ToArray());
            var decoded = new ArrayBufferWriter<byte>();
            chain.Decode(output.WrittenSpan[4..], 2, chunk, chunk == 2, decoded);
            Assert.True(plain.SequenceEqual(decoded.WrittenSpan));
        }
    }

    [Fact]
    public void MaxEncodedLength_ZstdThenAesGcm_IsZstdsBoundPlusTheTag()
    {
        using var chain = new CodecChain(new ZstdCodec(), Aes());
        using var gzipChain = new CodecChain(new GzipCodec(), Aes());

        // ZSTD_COMPRESSBOUND(4 MiB) = 4 MiB + 4 MiB / 256, and the 16-byte tag.
        Assert.Equal((4 << 20) + (4 << 12) + 16, chain.MaxEncodedLength(4 << 20));
        Assert.Null(gzipChain.MaxEncodedLength(4 << 20)); // gzip's output grows on demand
    }

    [Theory]
    [InlineData("sql", 4 << 20)]
    [InlineData("random", 4 << 20)]
    [InlineData("random", 100_000)]
    [InlineData("random", 1)]
    [InlineData("random", 0)]
    public void Encode_ZstdThenAesGcm_OutputOfMaxEncodedLength_NeverGrowsAndSameBytes(string kind, int size)
    {
        // The dump's case: each slot's output buffer is made once at the bound of a full chunk (and its pages touched),
        // so no chunk, however badly it compresses, may make it grow (issue 12).
        using var chain = new CodecChain(new ZstdCodec(), Aes());
        using var zstd = new ZstdCodec();
        using var aes = Aes();
        var plain = CodecTestData.Get(kind, size).Span;
        var bound = chain.MaxEncodedLength(size)!.Value;
        var output = new ArrayBufferWriter<byte>(bound);

        chain.Encode(plain, partIndex: 0, chunkIndex: 0, isLast: true, output);

        Assert.Equal(bound, output.Capacity);
        var expected = CodecTestData.Encode(aes, CodecTestData.Encode(zstd, plain, 0, true), 0, true);
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Encode_GzipThenAesGcm_OutputSpanTooSmall_SpillsAndStoresTheSameBytes()
    {
        // gzip asks for 64 KiB at a time: an output that grows on demand gives the first request only, so the rest of
        // the chunk goes through the intermediate buffer.
        using var chain = new CodecChain(new GzipCodec(), Aes());
        using var gzip = new GzipCodec();
        using var aes = Aes();
        var plain = CodecTestData.Get("random", 1 << 20).Span;
        for (var chunk = 0; chunk < 2; chunk++)
        {
            var stored = CodecTestData.Encode(chain, plain, chunk, isLast: chunk == 1);

            var expected = CodecTestData.Encode(aes, CodecTestData.Encode(gzip, plain, chunk, chunk == 1), chunk, chunk == 1);
            Assert.Equal(expected, stored);
            Assert.True(plain.SequenceEqual(CodecTestData.Decode(chain, stored, chunk, chunk == 1)));
        }
    }

    static AesGcmChunkCodec Aes() =>
        new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), Enumerable.Range(50, 16).Select(i => (byte)i).ToArray(), [9, 8, 7, 6], bindsParts: true);

    [Fact]
    public void Decode_DamagedChunk_ErrorFromTheCodecThatFailed()
    {
        using var chain = new CodecChain(new ZstdCodec(), new NoneCodec());
        var stored = CodecTestData.Encode(chain, CodecTestData.Sql(5000), 6);
        stored[^1] ^= 0x40;

        var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(chain, stored, 6));

        Assert.Contains("Chunk index 6", ex.Message);
        Assert.Contains("zstd", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void EncodeDecode_EmptyOrNoneChain_StoresChunkAsIs(int noneCodecs)
    {
        using var chain = noneCodecs == 0 ? new CodecChain() : new CodecChain(new NoneCodec());
        var plain = CodecTestData.Sql(1000);

        var stored = CodecTestData.Encode(chain, plain);

        Assert.Equal(plain, stored);
        Assert.Equal(plain, CodecTestData.Decode(chain, stored));
        Assert.Equal("none", chain.Name);
    }

    [Fact]
    public void EncodeDecode_AfterWarmUp_AllocatesNothing()
    {
        var plain = CodecTestData.Get("sql", 4 << 20).Span;
        using var chain = new CodecChain(new ZstdCodec(), new NoneCodec());
        var stored = new ArrayBufferWriter<byte>(plain.Length);
        var decoded = new ArrayBufferWriter<byte>(plain.Length);
        chain.Encode(plain, 0, false, stored);
        chain.Decode(stored.WrittenSpan, 0, false, decoded);

        // The least of a few rounds of three: a per-chunk allocation shows in every round, while the runtime's own
        // one-off work on this thread (tiered JIT promoting a method mid-round on a loaded machine: 144 bytes once in
        // CI) shows in one.
        var allocated = long.MaxValue;
        for (var round = 0; round < 5 && allocated > 0; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 1; i <= 3; i++)
            {
                stored.ResetWrittenCount();
                decoded.ResetWrittenCount();
                chain.Encode(plain, i, false, stored);
                chain.Decode(stored.WrittenSpan, i, false, decoded);
            }
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, allocated);
        CodecTestData.AssertSameBytes(plain, decoded.WrittenSpan);
    }

    [Fact]
    public void Dispose_DisposesEveryCodec()
    {
        var log = new List<string>();
        var chain = new CodecChain(new TagCodec("a", log), new TagCodec("b", log));

        chain.Dispose();

        Assert.Equal(["dispose a", "dispose b"], log);
    }

    [Fact]
    public void Fork_ForksEveryCodec_EncodesTheSameAndDisposesOnItsOwn()
    {
        var log = new List<string>();
        using var chain = new CodecChain(new TagCodec("a", log), new TagCodec("b", log));

        using (var fork = chain.Fork())
        {
            var output = new ArrayBufferWriter<byte>();
            fork.Encode("x"u8, 3, isLast: true, output);

            Assert.Equal("xab", Encoding.ASCII.GetString(output.WrittenSpan));
            Assert.Equal("a+b", fork.Name);
        }

        // The fork's codecs are its own: disposing it leaves the chain's codecs alone.
        Assert.Equal(["fork a", "fork b", "encode a 3 True", "encode b 3 True", "dispose a", "dispose b"], log);
    }

    /// <summary>Appends its tag on encode and checks and removes it on decode, logging what it was given.</summary>
    sealed class TagCodec(string tag, List<string> log) : IChunkCodec
    {
        public string Name => tag;

        public void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, IBufferWriter<byte> output)
        {
            log.Add($"encode {tag} {chunkIndex} {isLast}");
            output.Write(plain);
            output.Write(Encoding.ASCII.GetBytes(tag));
        }

        public void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, IBufferWriter<byte> output)
        {
            log.Add($"decode {tag} {chunkIndex} {isLast}");
            if (!stored.EndsWith(Encoding.ASCII.GetBytes(tag)))
            {
                throw new IntegrityException($"chunk index {chunkIndex} does not end with tag {tag}");
            }
            output.Write(stored[..^tag.Length]);
        }

        public IChunkCodec Fork()
        {
            log.Add($"fork {tag}");
            return new TagCodec(tag, log);
        }

        public void Dispose() => log.Add($"dispose {tag}");
    }
}
