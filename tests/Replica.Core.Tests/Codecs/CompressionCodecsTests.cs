using Replica.Codecs;

namespace Replica.Core.Tests.Codecs;

public class CompressionCodecsTests
{
    [Theory]
    [InlineData("zstd", 3)]
    [InlineData("gzip", 1)]
    [InlineData("none", null)]
    public void Fork_SameSettings_SameStoredBytes(string algorithm, int? level)
    {
        // The chunker's workers each encode with a fork; a dump must not depend on which worker took a chunk.
        using var codec = CompressionCodecs.Create(algorithm, level);
        using var fork = codec.Fork();
        byte[] plain = CodecTestData.Sql(100_000);

        byte[] stored = CodecTestData.Encode(fork, plain);

        Assert.NotSame(codec, fork);
        Assert.Equal(CodecTestData.Encode(codec, plain), stored);
        CodecTestData.AssertSameBytes(plain, CodecTestData.Decode(codec, stored));
    }

    [Fact]
    public void Create_Zstd_DefaultsToLevelOneNoWorkers()
    {
        using var codec = CompressionCodecs.Create("zstd", null, null);

        var zstd = Assert.IsType<ZstdCodec>(codec);
        Assert.Equal((1, 0), (zstd.Level, zstd.Workers));
    }

    [Fact]
    public void Create_ZstdWithLevelAndWorkers_AnyCase()
    {
        using var codec = CompressionCodecs.Create("ZStd", 19, 2);

        var zstd = Assert.IsType<ZstdCodec>(codec);
        Assert.Equal((19, 2), (zstd.Level, zstd.Workers));
    }

    [Fact]
    public void Create_Gzip_DefaultsToLevelSix()
    {
        using var codec = CompressionCodecs.Create("gzip", null, null);

        Assert.Equal(6, Assert.IsType<GzipCodec>(codec).Level);
    }

    [Fact]
    public void Create_None_StoresChunksAsTheyAre()
    {
        using var codec = CompressionCodecs.Create("none", null, 0);
        var plain = CodecTestData.Sql(100);

        Assert.IsType<NoneCodec>(codec);
        Assert.Equal(plain, CodecTestData.Encode(codec, plain));
        Assert.Equal(plain, CodecTestData.Decode(codec, plain));
    }

    [Fact]
    public void Create_UnknownAlgorithm_ListsAcceptedValues()
    {
        var ex = Assert.Throws<ConfigException>(() => CompressionCodecs.Create("lz4", null, null));

        Assert.Equal("unknown compression algorithm 'lz4'; accepted values are zstd, gzip, none", ex.Message);
    }

    [Theory]
    [InlineData("gzip", null, 2, "compression 'gzip' has no worker threads")]
    [InlineData("none", null, 1, "compression 'none' has no worker threads")]
    [InlineData("none", 3, null, "compression 'none' takes no level")]
    [InlineData("gzip", 12, null, "gzip compression level must be 1..9")]
    [InlineData("zstd", 0, null, "zstd compression level must be 1..22")]
    public void Create_InvalidOption_ThrowsConfigException(string algorithm, int? level, int? workers, string expected)
    {
        var ex = Assert.Throws<ConfigException>(() => CompressionCodecs.Create(algorithm, level, workers));

        Assert.Contains(expected, ex.Message);
    }
}
