using System.Security.Cryptography;
using System.Text;
using Replica.Subsetting;

namespace Replica.Core.Tests.Subsetting;

/// <summary>
/// A dump file's row keys built from bytes: the same identities and tuples, byte for byte, as the UTF-8 of
/// SubsetClosure.Identity over the values as strings (what live mode and the closure use), and the store's encoding.
/// </summary>
public class RowKeyBytesTests
{
    /// <summary>A RowKeyBytes that has read <paramref name="values"/> as the rewriter hands them over (UTF-8, -1 for NULL).</summary>
    internal static RowKeyBytes Read(string?[] values)
    {
        var bytes = new List<byte>();
        var lengths = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var utf8 = values[i] is { } value ? Encoding.UTF8.GetBytes(value) : null;
            lengths[i] = utf8?.Length ?? -1;
            bytes.AddRange(utf8 ?? []);
        }
        var keys = new RowKeyBytes();
        keys.Read([.. bytes], lengths);
        return keys;
    }

    public static TheoryData<string> Tuples =>
    [
        "42",
        "1|23",
        "12:3|4",
        "1|2:34",
        "|",
        "tab\there|back\\slash\nnew line|\r",
        "Müller|Zoë",
        "\U0001F600 grin|日本語|x",
        "a\0b|\0",
        "Søren",
    ];

    [Theory]
    [MemberData(nameof(Tuples))]
    public void TryTuple_AnyValues_IsTheUtf8OfTheStringIdentity(string values)
    {
        var tuple = values.Split('|');
        var keys = Read([.. tuple, "other"]);
        int[] positions = [.. Enumerable.Range(0, tuple.Length)];
        Assert.True(keys.TryTuple(positions, 0, out var bytes));
        Assert.Equal(Encoding.UTF8.GetBytes(SubsetClosure.Identity(tuple)), bytes.ToArray());
        Assert.Equal(tuple, SubsetClosure.SplitIdentity(Encoding.UTF8.GetString(bytes), tuple.Length));
    }

    [Fact]
    public void TryTuple_OutOfOrderPositionsInTwoOutputs_StayApart()
    {
        var keys = Read(["Å", "b", "7"]);
        Assert.True(keys.TryTuple([2, 0], 0, out var first));
        Assert.True(keys.TryTuple([1, 2], 1, out var second));
        Assert.Equal(Encoding.UTF8.GetBytes(SubsetClosure.Identity(["7", "Å"])), first.ToArray());
        Assert.Equal(Encoding.UTF8.GetBytes(SubsetClosure.Identity(["b", "7"])), second.ToArray());
    }

    [Fact]
    public void TryTuple_ANullValue_IsNoTuple()
    {
        var keys = Read(["1", null, ""]);
        Assert.False(keys.TryTuple([0, 1], 0, out _));
        Assert.False(keys.TryTuple([1], 0, out _));
        // An empty string is a value, not NULL.
        Assert.True(keys.TryTuple([2], 0, out var empty));
        Assert.Equal(0, empty.Length);
    }

    [Fact]
    public void Values_NullsNonAsciiAndLongValues_AreWhatTheStoreEncodesAndDecodes()
    {
        string?[] values = ["7", null, "ü", "", new string('é', 100), null];
        var keys = Read(values);
        // Per value its UTF-8 length plus one as LEB128 (0: NULL), then its bytes: 200 bytes of é take two.
        Assert.Equal((byte[])[2, (byte)'7', 0, 3, 0xC3, 0xBC, 1, 201, 1], keys.Values[..9].ToArray());
        Assert.Equal(9 + 200 + 1, keys.Values.Length);
        Assert.Equal(values, KeyValues.Decode(keys.Values));
        var encoded = new byte[KeyValues.MaxEncodedLength(values)];
        Assert.Equal(keys.Values.ToArray(), encoded.AsSpan(0, KeyValues.Encode(values, encoded)).ToArray());
    }

    [Fact]
    public void Varint_EdgesOfEachByteCount_ReadBackAndACutOneFails()
    {
        var buffer = new byte[KeyValues.MaxVarintBytes];
        foreach (var value in new ulong[] { 0, 127, 128, 16_383, 16_384, uint.MaxValue, ulong.MaxValue })
        {
            var length = KeyValues.WriteVarint(buffer, value);
            ReadOnlySpan<byte> read = buffer.AsSpan(0, length);
            Assert.Equal(value, KeyValues.ReadVarint(ref read));
            Assert.Equal(0, read.Length);
        }
        Assert.Throws<BridgeException>(() =>
        {
            ReadOnlySpan<byte> cut = [0x80, 0x80];
            KeyValues.ReadVarint(ref cut);
        });
    }

    [Fact]
    public void Read_BytesThatAreNotUtf8_BecomeWhatAStringOfThemIs()
    {
        // A LATIN1 dump's "Zoë" (0xEB) and a lone continuation byte: as strings each was U+FFFD.
        byte[] values = [(byte)'Z', (byte)'o', 0xEB, 0x80, (byte)'1'];
        var keys = new RowKeyBytes();
        keys.Read(values, [3, 2]);
        var asStrings = new[] { Encoding.UTF8.GetString(values, 0, 3), Encoding.UTF8.GetString(values, 3, 2) };
        Assert.True(keys.TryTuple([0, 1], 0, out var tuple));
        Assert.Equal(Encoding.UTF8.GetBytes(SubsetClosure.Identity(asStrings)), tuple.ToArray());
        Assert.Equal(Read(asStrings).Values.ToArray(), keys.Values.ToArray());
    }

    [Fact]
    public void Read_ManyValuesThenFewer_ReusesItsBuffers()
    {
        var keys = new RowKeyBytes();
        var wide = Enumerable.Range(0, 40).Select(i => new string('x', i * 10)).ToArray();
        keys.Read(Encoding.UTF8.GetBytes(string.Concat(wide)), [.. wide.Select(w => w.Length)]);
        Assert.True(keys.TryTuple([.. Enumerable.Range(0, 40)], 0, out var tuple));
        Assert.Equal(Encoding.UTF8.GetBytes(SubsetClosure.Identity(wide)), tuple.ToArray());
        keys.Read("ab"u8, [1, 1]);
        Assert.True(keys.TryTuple([1, 0], 0, out tuple));
        Assert.Equal("1:b1:a"u8.ToArray(), tuple.ToArray());
    }

    [Fact]
    public void Digest_IsTheHexOfTheRowsSha256Half()
    {
        var row = "1\tMüller\t\\N"u8.ToArray();
        var keys = new RowKeyBytes();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(row).AsSpan(0, 16)), Encoding.ASCII.GetString(keys.Digest(row, 0)));
    }
}
