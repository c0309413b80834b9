using System.Security.Cryptography;
using System.Text;
using Replica.Transformers;

namespace Replica.Core.Tests.Transformers;

public class HmacSha256Tests
{
    // RFC 4231 test cases 1, 2 and 6 (key longer than a block), HMAC-SHA-256.
    [Theory]
    [InlineData("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")]
    [InlineData("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")]
    [InlineData("aa x131",
        "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")]
    public void Rfc4231Vectors(string keyHex, string dataHex, string macHex)
    {
        foreach (bool useLibcrypto in (bool[])[true, false])
        {
            // "aa x131": the byte 0xaa 131 times (case 6's key).
            byte[] key = keyHex.Split(" x") is [var repeated, var count]
                ? Convert.FromHexString(string.Concat(Enumerable.Repeat(repeated, int.Parse(count))))
                : Convert.FromHexString(keyHex);
            using var hmac = new HmacSha256(key, useLibcrypto);
            var mac = new byte[HmacSha256.Length];
            hmac.Compute(Convert.FromHexString(dataHex), mac);
            Assert.Equal(macHex, Convert.ToHexStringLower(mac));
        }
    }

    [Fact]
    public void OnLinux_TheLibcryptoPathIsTaken()
    {
        // .NET's own cryptography needs libcrypto on Linux, so the fast path is always there; a binding that silently
        // fell back would cost a tenth of a masked dump's CPU.
        using var hmac = new HmacSha256("k"u8);
        Assert.Equal(OperatingSystem.IsLinux(), hmac.IsNative);
    }

    [Fact]
    public void EveryKeyAndValueLength_MatchesHmacSha256HashData()
    {
        // Block edges: a value of 55 bytes still fits the inner state's last block with its padding, 56 needs another;
        // past 256 bytes the update goes through a GC transition.
        var random = new Random(4231);
        int[] keyLengths = [0, 1, 31, 32, 63, 64, 65, 200];
        int[] valueLengths = [0, 1, 22, 54, 55, 56, 63, 64, 65, 119, 120, 128, 256, 257, 4097, 100_000];
        foreach (int keyLength in keyLengths)
        {
            var key = new byte[keyLength];
            random.NextBytes(key);
            using var hmac = new HmacSha256(key);
            foreach (int valueLength in valueLengths)
            {
                var value = new byte[valueLength];
                random.NextBytes(value);
                var mac = new byte[HmacSha256.Length];
                hmac.Compute(value, mac);
                Assert.Equal(HMACSHA256.HashData(key, value), mac);
            }
        }
    }

    [Fact]
    public void ManyValuesInTurn_EachMatches()
    {
        // The saved states are copied, never advanced: the thousandth value hashes as if it were the first.
        var key = Encoding.UTF8.GetBytes("replica-secret");
        using var hmac = new HmacSha256(key);
        var mac = new byte[HmacSha256.Length];
        for (int i = 0; i < 1000; i++)
        {
            var value = Encoding.UTF8.GetBytes($"DE{i:D20}");
            hmac.Compute(value, mac);
            Assert.Equal(HMACSHA256.HashData(key, value), mac);
        }
    }

    [Fact]
    public async Task SharedAcrossThreads_EachValueMatches()
    {
        var key = Encoding.UTF8.GetBytes("replica-secret");
        using var hmac = new HmacSha256(key, useLibcrypto: true);
        Assert.True(hmac.IsNative || !OperatingSystem.IsLinux());
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var mac = new byte[HmacSha256.Length];
            for (int i = 0; i < 2000; i++)
            {
                var value = Encoding.UTF8.GetBytes($"thread {t} value {i}");
                hmac.Compute(value, mac);
                Assert.Equal(HMACSHA256.HashData(key, value), mac);
            }
        })));
    }
}
