using System.Buffers;
using Replica.Codecs;

namespace Replica.Core.Tests.Codecs;

public class ZstdCodecTests
{
    static readonly byte[] s_frameMagic = [0x28, 0xB5, 0x2F, 0xFD];

    public static TheoryData<int, string, int> RoundTripCases()
    {
        var data = new TheoryData<int, string, int>();
        foreach (var level in new[] { 1, 3, 19 })
        {
            foreach (var kind in new[] { "sql", "random" })
            {
                foreach (var size in CodecTestData.Sizes)
                {
                    // Level 19 takes about 40 s for 16 MiB of text on the 2-core test machine; 1 MiB shows the same paths.
                    if (level < 19 || size <= 1 << 20)
                    {
                        data.Add(level, kind, size);
                    }
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void EncodeDecode_LevelKindSize_RoundTrips(int level, string kind, int size)
    {
        var plain = CodecTestData.Get(kind, size).Span;
        using var codec = new ZstdCodec(level);

        var stored = CodecTestData.Encode(codec, plain, chunkIndex: 3);
        var decoded = CodecTestData.Decode(codec, stored, chunkIndex: 3);

        Assert.Equal(s_frameMagic, stored[..4]);
        CodecTestData.AssertSameBytes(plain, decoded);
        if (kind == "sql" && size >= 1 << 20)
        {
            Assert.True(stored.Length < size / 4, $"{size} bytes of SQL text compressed to {stored.Length} bytes at level {level}");
        }
        else
        {
            // Incompressible data is stored in raw blocks: only the frame header, block headers and checksum are added.
            Assert.True(stored.Length <= size + 32 + size / (128 << 10) * 3, $"{size} bytes grew to {stored.Length}");
        }
    }

    [Fact]
    public void Encode_HigherLevel_IsSmaller()
    {
        var plain = CodecTestData.Sql(1 << 20);
        using var fast = new ZstdCodec(1);
        using var small = new ZstdCodec(19);

        Assert.True(CodecTestData.Encode(small, plain).Length < CodecTestData.Encode(fast, plain).Length);
    }

    [Theory]
    [InlineData("sql")]
    [InlineData("random")]
    public void EncodeDecode_OutputGivesOnlyTheSizeAsked_RoundTrips(string kind)
    {
        var plain = CodecTestData.Get(kind, 3 << 20).Span;
        using var codec = new ZstdCodec();
        var stored = new ExactSpanWriter();
        var decoded = new ExactSpanWriter();

        codec.Encode(plain, 0, true, stored);
        codec.Decode(stored.WrittenSpan, 0, true, decoded);

        CodecTestData.AssertSameBytes(plain, decoded.WrittenSpan);
        Assert.True(decoded.SpanCount > 10, $"decoding asked for {decoded.SpanCount} spans");
        Assert.Equal(stored.WrittenSpan.ToArray(), CodecTestData.Encode(codec, plain));
    }

    [Fact]
    public void EncodeDecode_TwoWorkers_RoundTrips()
    {
        var plain = CodecTestData.Get("sql", CodecTestData.MaxSize).Span;
        using var codec = new ZstdCodec(level: 3, workers: 2);

        var decoded = CodecTestData.Decode(codec, CodecTestData.Encode(codec, plain));

        CodecTestData.AssertSameBytes(plain, decoded);
    }

    [Fact]
    public void Encode_ManyChunksOneCodec_EachDecodesAlone()
    {
        using var writer = new ZstdCodec();
        var chunks = new[] { CodecTestData.Sql(200_000), CodecTestData.Get("random", 5000).ToArray(), [], CodecTestData.Sql(7) };
        var stored = new byte[chunks.Length][];
        for (var i = 0; i < chunks.Length; i++)
        {
            stored[i] = CodecTestData.Encode(writer, chunks[i], i, i == chunks.Length - 1);
        }

        using var reader = new ZstdCodec();
        for (var i = chunks.Length - 1; i >= 0; i--)
        {
            Assert.Equal(chunks[i], CodecTestData.Decode(reader, stored[i], i, i == chunks.Length - 1));
        }
    }

    [Fact]
    public void Decode_FlippedByteAnywhere_ThrowsIntegrityExceptionOrYieldsTheSameBytes()
    {
        // A few bits of a compressed frame do not affect the content (e.g. inside entropy table descriptions); flipping
        // them decodes to the same bytes, which the frame checksum confirms. Any flip that changes the content must fail.
        using var codec = new ZstdCodec();
        var plain = CodecTestData.Sql(3000);
        var stored = CodecTestData.Encode(codec, plain);
        var detected = 0;

        for (var i = 0; i < stored.Length; i++)
        {
            foreach (var mask in new byte[] { 0x01, 0x80, 0xFF })
            {
                var corrupt = (byte[])stored.Clone();
                corrupt[i] ^= mask;
                byte[]? decoded = null;
                var ex = Record.Exception(() => decoded = CodecTestData.Decode(codec, corrupt, chunkIndex: 41));
                if (ex is null)
                {
                    Assert.True(plain.AsSpan().SequenceEqual(decoded), $"flipping byte {i} with {mask:x2} decoded to different bytes");
                    continue;
                }
                Assert.True(ex is IntegrityException, $"flipping byte {i} with {mask:x2}: {ex}");
                Assert.Contains("Chunk index 41", ex.Message);
                detected++;
            }
        }
        Assert.True(detected > stored.Length * 3 * 95 / 100, $"only {detected} of {stored.Length * 3} flips were detected");
    }

    [Fact]
    public void Decode_FlippedByteInLargeChunk_NamesLibzstdError()
    {
        using var codec = new ZstdCodec();
        var stored = CodecTestData.Encode(codec, CodecTestData.Sql(4 << 20));
        stored[stored.Length / 2] ^= 0xFF;

        var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, stored, chunkIndex: 7));

        Assert.Contains("Chunk index 7 is not a valid zstd frame: libzstd reports '", ex.Message);
    }

    [Fact]
    public void Decode_ChecksumDamaged_ReportsChecksumError()
    {
        using var codec = new ZstdCodec();
        var stored = CodecTestData.Encode(codec, CodecTestData.Sql(100_000));
        stored[^1] ^= 0x01;

        var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, stored, chunkIndex: 2));

        Assert.Contains("Chunk index 2", ex.Message);
        Assert.Contains("checksum", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3000)]
    public void Decode_TruncatedAtEveryLength_ThrowsIntegrityExceptionWithChunkIndex(int plainSize)
    {
        using var codec = new ZstdCodec();
        var stored = CodecTestData.Encode(codec, CodecTestData.Sql(plainSize));

        for (var length = 0; length < stored.Length; length++)
        {
            var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, stored.AsSpan(0, length), chunkIndex: 12));
            Assert.Contains("Chunk index 12", ex.Message);
        }
    }

    [Fact]
    public void Decode_TruncatedLargeChunk_SaysTruncated()
    {
        using var codec = new ZstdCodec();
        var stored = CodecTestData.Encode(codec, CodecTestData.Get("random", 1 << 20).Span);

        var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, stored.AsSpan(0, stored.Length - 100), chunkIndex: 5));

        Assert.Contains("Chunk index 5 ends inside its zstd frame (truncated", ex.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    public void Decode_GarbageAfterFrame_ThrowsIntegrityExceptionWithChunkIndex(int garbage)
    {
        using var codec = new ZstdCodec();
        var stored = CodecTestData.Encode(codec, CodecTestData.Sql(10_000));
        var withGarbage = new byte[stored.Length + garbage];
        stored.CopyTo(withGarbage, 0);
        withGarbage.AsSpan(stored.Length).Fill(0xA5);

        var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, withGarbage, chunkIndex: 9));

        Assert.Contains($"Chunk index 9 has {garbage} unexpected bytes after its zstd frame", ex.Message);
    }

    [Fact]
    public void Decode_TwoFrames_ThrowsIntegrityException()
    {
        using var codec = new ZstdCodec();
        var first = CodecTestData.Encode(codec, CodecTestData.Sql(1000));
        var second = CodecTestData.Encode(codec, CodecTestData.Sql(10));

        var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, [.. first, .. second], chunkIndex: 1));

        Assert.Contains($"has {second.Length} unexpected bytes after its zstd frame", ex.Message);
    }

    [Fact]
    public void Decode_NotZstd_NamesLibzstdError()
    {
        using var codec = new ZstdCodec();

        var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, CodecTestData.Sql(100), chunkIndex: 0));

        Assert.Contains("Chunk index 0 is not a valid zstd frame: libzstd reports 'Unknown frame descriptor'", ex.Message);
    }

    [Fact]
    public void Decode_OutputWithRoomForTheChunk_SameBytesAndSameErrorsAsStreaming()
    {
        // With room for the whole frame the chunk is decoded in one call (no window buffer in the context); without, it
        // is streamed. Both give the same bytes, and a damaged chunk the same error.
        using var codec = new ZstdCodec();
        var plain = CodecTestData.Sql(1 << 20);
        var stored = CodecTestData.Encode(codec, plain);
        var truncated = stored.AsSpan(0, stored.Length - 100).ToArray();
        var garbage = (byte[])[.. stored, 0xA5, 0xA5];
        var flipped = (byte[])stored.Clone();
        flipped[flipped.Length / 2] ^= 0xFF;
        var checksum = (byte[])stored.Clone();
        checksum[^1] ^= 0x01;

        var roomy = new ArrayBufferWriter<byte>(2 << 20);
        codec.Decode(stored, 3, false, roomy);
        CodecTestData.AssertSameBytes(plain, roomy.WrittenSpan);
        CodecTestData.AssertSameBytes(plain, CodecTestData.Decode(codec, stored, chunkIndex: 3));

        foreach (var damaged in new[] { truncated, garbage, flipped, checksum })
        {
            var streamed = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, damaged, chunkIndex: 4));
            var output = new ArrayBufferWriter<byte>(2 << 20);
            var whole = Assert.Throws<IntegrityException>(() => codec.Decode(damaged, 4, false, output));
            // The offset a libzstd error is reported at depends on how much output space each streaming call had.
            Assert.Equal(WithoutOffset(streamed.Message), WithoutOffset(whole.Message));
        }
    }

    static string WithoutOffset(string message) => message.Split(" at or before stored byte offset ")[0];

    [Fact]
    public void Decode_AfterCorruptChunk_NextChunkDecodes()
    {
        using var codec = new ZstdCodec();
        var plain = CodecTestData.Sql(500_000);
        var stored = CodecTestData.Encode(codec, plain);
        var truncated = stored.AsSpan(0, stored.Length / 2).ToArray();

        Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, truncated));

        Assert.Equal(plain, CodecTestData.Decode(codec, stored));
    }

    [Fact]
    public void EncodeDecode_AfterWarmUp_AllocatesNothing()
    {
        var plain = CodecTestData.Get("sql", 4 << 20).Span;
        using var codec = new ZstdCodec();
        var stored = new ArrayBufferWriter<byte>(plain.Length + (64 << 10));
        var decoded = new ArrayBufferWriter<byte>(plain.Length);
        codec.Encode(plain, 0, false, stored);
        codec.Decode(stored.WrittenSpan, 0, false, decoded);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1; i <= 3; i++)
        {
            stored.ResetWrittenCount();
            decoded.ResetWrittenCount();
            codec.Encode(plain, i, false, stored);
            codec.Decode(stored.WrittenSpan, i, false, decoded);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        CodecTestData.AssertSameBytes(plain, decoded.WrittenSpan);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(23, 0)]
    [InlineData(-5, 0)]
    [InlineData(1, -1)]
    [InlineData(1, 201)]
    public void Constructor_OutOfRange_ThrowsConfigException(int level, int workers)
    {
        var ex = Assert.Throws<ConfigException>(() => new ZstdCodec(level, workers));

        Assert.Contains(level is < 1 or > 22 ? "level must be 1..22" : "workers must be 0..200", ex.Message);
    }

    [Fact]
    public void Constructor_Defaults_LevelOneNoWorkers()
    {
        using var codec = new ZstdCodec();

        Assert.Equal(("zstd", 1, 0), (codec.Name, codec.Level, codec.Workers));
    }

    [Fact]
    public void Encode_AfterDispose_ThrowsObjectDisposedException()
    {
        var codec = new ZstdCodec();
        codec.Dispose();

        Assert.Throws<ObjectDisposedException>(() => CodecTestData.Encode(codec, [1, 2, 3]));
        Assert.Throws<ObjectDisposedException>(() => CodecTestData.Decode(codec, [1, 2, 3]));
    }

    [Fact]
    public void MissingLibraryMessage_NamesLibraryAndPackage()
    {
        var reason = new DllNotFoundException("Unable to load shared library 'libzstd.so.1' or one of its dependencies.");

        var ex = ZstdNative.LibraryMissing(reason);

        Assert.Equal(ReplicaErrorKind.Config, ex.Kind);
        Assert.Equal(
            "zstd compression needs the system library libzstd (libzstd.so.1), which could not be loaded: "
            + "Unable to load shared library 'libzstd.so.1' or one of its dependencies. "
            + "Install it with 'apt-get install libzstd1' (Debian/Ubuntu), or choose compression 'gzip' or 'none'.",
            ex.Message);
    }
}
