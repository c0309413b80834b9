using System.Buffers;
using Replica.Codecs;

namespace Replica.Core.Tests.Codecs;

public sealed class GzipCodecTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("replica-gzip-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<int, string, int> RoundTripCases()
    {
        var data = new TheoryData<int, string, int>();
        foreach (var level in new[] { GzipCodec.FastestLevel, GzipCodec.DefaultLevel, GzipCodec.SmallestLevel })
        {
            foreach (var kind in new[] { "sql", "random" })
            {
                foreach (var size in CodecTestData.Sizes)
                {
                    if (level < GzipCodec.SmallestLevel || size <= 1 << 20)
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
        using var codec = new GzipCodec(level);

        var stored = CodecTestData.Encode(codec, plain, chunkIndex: 3);
        var decoded = CodecTestData.Decode(codec, stored, chunkIndex: 3);

        Assert.Equal([0x1F, 0x8B, 0x08], stored[..3]);
        CodecTestData.AssertSameBytes(plain, decoded);
        if (kind == "sql" && size >= 1 << 20)
        {
            Assert.True(stored.Length < size / 3, $"{size} bytes of SQL text compressed to {stored.Length} bytes at level {level}");
        }
    }

    [Fact]
    public void EncodeDecode_OutputGivesOnlyTheSizeAsked_RoundTrips()
    {
        var plain = CodecTestData.Get("sql", 1 << 20).Span;
        using var codec = new GzipCodec(GzipCodec.FastestLevel);
        var stored = new ExactSpanWriter();
        var decoded = new ExactSpanWriter();

        codec.Encode(plain, 0, true, stored);
        codec.Decode(stored.WrittenSpan, 0, true, decoded);

        CodecTestData.AssertSameBytes(plain, decoded.WrittenSpan);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1 << 20)]
    public void Encode_Chunk_GzipCliDecompressesToSameBytes(int size)
    {
        var plain = CodecTestData.Get("sql", size).Span;
        using var codec = new GzipCodec();
        var path = Path.Combine(_directory, "chunk.gz");
        File.WriteAllBytes(path, CodecTestData.Encode(codec, plain));

        var decompressed = ExternalTool.Run("gzip", "gzip", ["-d", "-c", path]);

        CodecTestData.AssertSameBytes(plain, decompressed);
    }

    [Fact]
    public void Decode_GzipCliOutput_SameBytes()
    {
        var plain = CodecTestData.Sql(1 << 20);
        var stored = ExternalTool.Run("gzip", "gzip", ["-c", "-n"], stdin: plain);

        using var codec = new GzipCodec();

        CodecTestData.AssertSameBytes(plain, CodecTestData.Decode(codec, stored));
    }

    [Fact]
    public void Decode_FlippedByteAfterHeader_ThrowsIntegrityExceptionOrYieldsTheSameBytes()
    {
        // Bytes 4..9 of the header (time, flags for the compressor, OS) describe the member, not its content, and no
        // checksum covers them. From byte 10 on, deflate data, CRC-32 and size: a flip may hit only unused padding bits
        // of the last deflate byte, which decodes to the same bytes; every other flip must fail.
        using var codec = new GzipCodec();
        var plain = CodecTestData.Sql(3000);
        var stored = CodecTestData.Encode(codec, plain);
        var detected = 0;
        var tried = 0;

        for (var i = 0; i < stored.Length; i++)
        {
            if (i is >= 4 and < 10)
            {
                continue;
            }
            foreach (var mask in new byte[] { 0x01, 0x80, 0xFF })
            {
                var corrupt = (byte[])stored.Clone();
                corrupt[i] ^= mask;
                tried++;
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
        Assert.True(detected > tried * 95 / 100, $"only {detected} of {tried} flips were detected");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3000)]
    public void Decode_TruncatedAtEveryLength_ThrowsIntegrityExceptionWithChunkIndex(int plainSize)
    {
        using var codec = new GzipCodec();
        var stored = CodecTestData.Encode(codec, CodecTestData.Sql(plainSize));

        for (var length = 0; length < stored.Length; length++)
        {
            var ex = Record.Exception(() => CodecTestData.Decode(codec, stored.AsSpan(0, length), chunkIndex: 12));
            Assert.True(ex is IntegrityException, $"truncating to {length} of {stored.Length} bytes: {ex?.ToString() ?? "no exception"}");
            Assert.Contains("Chunk index 12", ex!.Message);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    public void Decode_GarbageAfterMember_ThrowsIntegrityExceptionWithChunkIndex(int garbage)
    {
        using var codec = new GzipCodec();
        var stored = CodecTestData.Encode(codec, CodecTestData.Sql(10_000));
        var withGarbage = new byte[stored.Length + garbage];
        stored.CopyTo(withGarbage, 0);
        withGarbage.AsSpan(stored.Length).Fill(0xA5);

        var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, withGarbage, chunkIndex: 9));

        Assert.Contains("Chunk index 9 is truncated or has bytes after its gzip member", ex.Message);
    }

    [Fact]
    public void Decode_TwoMembers_ThrowsIntegrityException()
    {
        using var codec = new GzipCodec();
        var first = CodecTestData.Encode(codec, CodecTestData.Sql(1000));
        var second = CodecTestData.Encode(codec, CodecTestData.Sql(10));

        var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, [.. first, .. second], chunkIndex: 1));

        Assert.Contains("it decodes to 1010 bytes, but its last 4 bytes (the gzip size field) say 10", ex.Message);
    }

    [Fact]
    public void Decode_NotGzip_ThrowsIntegrityException()
    {
        using var codec = new GzipCodec();

        var ex = Assert.Throws<IntegrityException>(() => CodecTestData.Decode(codec, CodecTestData.Sql(100), chunkIndex: 0));

        Assert.StartsWith("Chunk index 0 is not a valid gzip member: ", ex.Message);
    }

    [Fact]
    public void EncodeDecode_SameCodecManyChunks_RoundTrip()
    {
        using var codec = new GzipCodec();
        var output = new ArrayBufferWriter<byte>();
        for (var i = 0; i < 5; i++)
        {
            var plain = CodecTestData.Sql(1000 * i);
            output.ResetWrittenCount();
            codec.Encode(plain, i, false, output);
            Assert.Equal(plain, CodecTestData.Decode(codec, output.WrittenSpan, i));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public void Constructor_LevelOutOfRange_ThrowsConfigException(int level)
    {
        var ex = Assert.Throws<ConfigException>(() => new GzipCodec(level));

        Assert.Contains("gzip compression level must be 1..9", ex.Message);
    }
}
