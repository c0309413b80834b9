using Replica.Codecs;

namespace Replica.Core.Tests.Codecs;

/// <summary>The zstd command-line tool (Debian package zstd) is the oracle: stored chunks are standard zstd frames.</summary>
public sealed class ZstdCliTests : IDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("replica-zstd-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("sql", CodecTestData.MaxSize, 1, 0)]
    [InlineData("sql", 1 << 20, 19, 0)]
    [InlineData("random", 1 << 20, 3, 0)]
    [InlineData("sql", CodecTestData.MaxSize, 3, 2)]
    [InlineData("sql", 1, 1, 0)]
    [InlineData("sql", 0, 1, 0)]
    public void Encode_Chunk_ZstdCliDecompressesToSameBytes(string kind, int size, int level, int workers)
    {
        var plain = CodecTestData.Get(kind, size).Span;
        using var codec = new ZstdCodec(level, workers);
        var path = Path.Combine(_directory, "chunk.zst");
        File.WriteAllBytes(path, CodecTestData.Encode(codec, plain));

        var decompressed = ExternalTool.Run("zstd", "zstd", ["-d", "-c", "-q", path]);

        CodecTestData.AssertSameBytes(plain, decompressed);
    }

    [Fact]
    public void Encode_Chunk_ZstdCliListsContentSizeAndChecksum()
    {
        using var codec = new ZstdCodec();
        var path = Path.Combine(_directory, "chunk.zst");
        File.WriteAllBytes(path, CodecTestData.Encode(codec, CodecTestData.Sql(1 << 20)));

        var listing = System.Text.Encoding.UTF8.GetString(ExternalTool.Run("zstd", "zstd", ["-l", "-v", path]));

        Assert.Contains("# Zstandard Frames: 1\n", listing);
        Assert.Contains("MiB (1048576 B)\nRatio", listing);
        Assert.Contains("Check: XXH64", listing);
    }

    [Theory]
    [InlineData("sql", CodecTestData.MaxSize, new[] { "-1" })]
    [InlineData("sql", 1 << 20, new[] { "-19" })]
    [InlineData("random", 1 << 20, new[] { "-3", "--no-check" })]
    [InlineData("sql", CodecTestData.MaxSize, new[] { "-3", "-T2" })]
    [InlineData("sql", 0, new[] { "-1" })]
    public void Decode_ZstdCliFileOutput_SameBytes(string kind, int size, string[] options)
    {
        var plain = CodecTestData.Get(kind, size).ToArray();
        var path = Path.Combine(_directory, "chunk");
        File.WriteAllBytes(path, plain);
        var stored = ExternalTool.Run("zstd", "zstd", [.. options, "-c", "-q", path]);

        using var codec = new ZstdCodec();
        var decoded = CodecTestData.Decode(codec, stored);

        CodecTestData.AssertSameBytes(plain, decoded);
    }

    [Fact]
    public void Decode_ZstdCliStdinOutputWithoutContentSize_SameBytes()
    {
        // Read from a pipe, zstd does not know the size in advance and leaves it out of the frame header.
        var plain = CodecTestData.Sql(3 << 20);
        var stored = ExternalTool.Run("zstd", "zstd", ["-1", "-c", "-q"], stdin: plain);

        using var codec = new ZstdCodec();
        var decoded = CodecTestData.Decode(codec, stored);

        CodecTestData.AssertSameBytes(plain, decoded);
    }
}
