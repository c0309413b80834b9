using Replica.Config;

namespace Replica.Core.Tests.Config;

public class ByteSizeTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("123B", 123)]
    [InlineData("1KiB", 1024)]
    [InlineData("1kb", 1000)]
    [InlineData(" 3 GiB ", 3L << 30)]
    [InlineData("2TB", 2_000_000_000_000)]
    [InlineData("1TiB", 1L << 40)]
    public void TryParse_Valid(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("MiB")]
    [InlineData("1 M")]
    [InlineData("1 MiB extra")]
    [InlineData("+1")]
    [InlineData("99999999999999999999")]
    [InlineData("9999999999TiB")]
    public void TryParse_Invalid(string text)
    {
        Assert.False(ByteSize.TryParse(text, out _));
    }

    [Theory]
    [InlineData(33554432, "32MiB")]
    [InlineData(1000, "1000B")]
    [InlineData(1536, "1536B")]
    [InlineData(3L << 40, "3TiB")]
    public void Format_UsesLargestExactBinaryUnit(long bytes, string expected)
    {
        Assert.Equal(expected, ByteSize.Format(bytes));
    }
}
