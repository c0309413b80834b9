using System.Buffers;
using System.Text;
using Replica.Lexing;

namespace Replica.Core.Tests.Lexing;

public class MySqlLiteralTests
{
    static byte[] Decode(string token)
    {
        var output = new ArrayBufferWriter<byte>();
        MySqlLiteral.Decode(Encoding.UTF8.GetBytes(token), output);
        return output.WrittenSpan.ToArray();
    }

    static string Encode(byte[] value) => Encoding.UTF8.GetString(EncodeBytes(value));

    static byte[] EncodeBytes(byte[] value)
    {
        var output = new ArrayBufferWriter<byte>();
        MySqlLiteral.Encode(value, output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void Decode_MySqlEscapes_GiveTheDocumentedBytes()
    {
        Assert.Equal([0, (byte)'\'', (byte)'"', 8, 10, 13, 9, 0x1A, (byte)'\\'], Decode(@"'\0\'\""\b\n\r\t\Z\\'"));
        Assert.Equal("\\%\\_x", Encoding.UTF8.GetString(Decode(@"'\%\_\x'"))); // \% and \_ keep their backslash
        Assert.Equal("it's \"q\"", Encoding.UTF8.GetString(Decode("'it''s \"q\"'")));
        Assert.Equal("say \"hi\" 'x'", Encoding.UTF8.GetString(Decode("\"say \"\"hi\"\" 'x'\"")));
        Assert.Equal("n", Encoding.UTF8.GetString(Decode("N'n'")));
    }

    [Fact]
    public void Encode_EveryByte_DecodesBackToItself()
    {
        var all = new byte[256];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = (byte)i;
        }
        var literal = EncodeBytes(all);
        Assert.DoesNotContain((byte)'\n', literal);
        Assert.DoesNotContain((byte)0, literal);
        var output = new ArrayBufferWriter<byte>();
        MySqlLiteral.Decode(literal, output);
        Assert.Equal(all, output.WrittenSpan.ToArray());
        Assert.Equal("'a\\'b\\\"c\\\\d\\ne\\0f\\Zg\th'", Encode(Encoding.UTF8.GetBytes("a'b\"c\\d\ne\0f\u001ag\th")));
    }

    [Fact]
    public void DecodeHex_BothSpellings_RoundTripThroughEncodeHex()
    {
        foreach (var token in new[] { "0x00FF5c", "X'00ff5C'" })
        {
            var output = new ArrayBufferWriter<byte>();
            MySqlLiteral.DecodeHex(Encoding.ASCII.GetBytes(token), output);
            Assert.Equal([0x00, 0xFF, 0x5C], output.WrittenSpan.ToArray());
            var encoded = new ArrayBufferWriter<byte>();
            MySqlLiteral.EncodeHex(output.WrittenSpan, encoded);
            Assert.Equal("0x00FF5C", Encoding.ASCII.GetString(encoded.WrittenSpan));
        }
        var empty = new ArrayBufferWriter<byte>();
        MySqlLiteral.EncodeHex([], empty);
        Assert.Equal("X''", Encoding.ASCII.GetString(empty.WrittenSpan));
    }
}
