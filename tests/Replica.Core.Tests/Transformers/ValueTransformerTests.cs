using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

public class ValueTransformerTests
{
    [Fact]
    public void Transient_AnyValue_Unchanged()
    {
        using var transformer = Create("transient");
        Assert.Equal(TransformResult.Unchanged, transformer.ApplyRaw("x"u8.ToArray()).Result);
        Assert.Equal(TransformResult.Unchanged, transformer.ApplyRaw(null).Result);
    }

    [Fact]
    public void Null_AnyValue_Null() => Assert.Null(Create("null").Apply("secret"));

    [Fact]
    public void Constant_NullAndValue_BothReplaced()
    {
        using var transformer = Create("constant", ("value", "hidden"));
        Assert.Equal("hidden", transformer.Apply("secret"));
        Assert.Equal("hidden", transformer.Apply(null));
    }

    [Fact]
    public void Redact_KeepTwo_MasksRestPerCharacter()
    {
        using var transformer = Create("redact", ("keep", "2"));
        Assert.Equal("se****", transformer.Apply("secret"));
        Assert.Equal("Zo****", transformer.Apply("Zoë-日本")); // runes, not bytes
        Assert.Equal("a", transformer.Apply("a"));
    }

    [Fact]
    public void Redact_WidthAndCharacter_FixedMask()
    {
        using var transformer = Create("redact", ("keep", 1), ("character", "#"), ("width", 3));
        Assert.Equal("s###", transformer.Apply("secret value"));
    }

    [Fact]
    public void Redact_NumericColumnDigitMask_KeepsNumberShape()
    {
        using var transformer = Create(Spec("redact", ("character", "9")), Column(TypeCategory.Numeric, "numeric(8,2)"));
        Assert.Equal("-999.99", transformer.Apply("-123.45"));
        Assert.Equal("NaN", transformer.Apply("NaN"));
    }

    [Fact]
    public void Redact_IntegerColumnNinesOverflow_ClampsToTypeRange()
    {
        using var transformer = Create(Spec("redact", ("character", "9")), Column(TypeCategory.Integer, "integer"));
        Assert.Equal("2147483647", transformer.Apply("1000000000"));
        Assert.Equal("999", transformer.Apply("123"));
    }

    [Fact]
    public void Redact_InvalidUtf8_DoesNotThrowAndKeepsCharCount()
    {
        using var transformer = Create("redact", ("keep", "1"));
        var (result, text) = transformer.ApplyRaw([0xC3, (byte)'a', 0xFF, 0xE2, 0x82, (byte)'b']);
        Assert.Equal(TransformResult.Value, result);
        // 0xC3 (truncated sequence) is kept; then 'a', 0xFF, the truncated E2 82, 'b': four masked characters.
        Assert.EndsWith("****", text);
    }

    [Fact]
    public void KeepFirstChar_TextAndNumbers_FirstCharacterOnly()
    {
        using var text = Create("keep-first-char");
        Assert.Equal("É", text.Apply("Émile"));
        Assert.Equal("", text.Apply(""));
        using var number = Create(Spec("keep-first-char"), Column(TypeCategory.Integer, "integer"));
        Assert.Equal("-4", number.Apply("-42"));
        Assert.Equal("7", number.Apply("789"));
    }

    [Fact]
    public void Hash_Hex_IsHmacSha256OfValueWithSecret()
    {
        using var transformer = Create("hash");
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData("test-secret-1"u8, "alice"u8));
        Assert.Equal(expected, transformer.Apply("alice"));
        Assert.Equal(expected, transformer.Apply("alice")); // the reused incremental hash resets between values
    }

    [Fact]
    public void Hash_Base64AndLength_Truncated()
    {
        using var transformer = Create("hash", ("encoding", "base64"), ("length", "10"));
        var expected = Convert.ToBase64String(HMACSHA256.HashData("test-secret-1"u8, "alice"u8))[..10];
        Assert.Equal(expected, transformer.Apply("alice"));
    }

    [Fact]
    public void Hash_ByteaColumn_WritesHexBytea()
    {
        using var transformer = Create(Spec("hash"), Column(TypeCategory.Bytea, "bytea"));
        Assert.Matches("^\\\\x[0-9a-f]{64}$", transformer.Apply("\\x0102")!);
    }

    [Fact]
    public void Random_Text_KeepsShapeAndLength()
    {
        using var transformer = Create("random");
        const string input = "Ab-12 x.Y9 é";
        var output = transformer.Apply(input)!;
        Assert.NotEqual(input, output);
        Assert.Equal(CharCount(input), CharCount(output));
        var inRunes = input.EnumerateRunes().ToArray();
        var outRunes = output.EnumerateRunes().ToArray();
        for (int i = 0; i < inRunes.Length; i++)
        {
            var a = inRunes[i];
            var b = outRunes[i];
            if (Rune.IsDigit(a))
            {
                Assert.True(Rune.IsDigit(b));
            }
            else if (Rune.IsLetter(a))
            {
                Assert.True(Rune.IsLetter(b));
                Assert.Equal(Rune.IsUpper(a), Rune.IsUpper(b));
            }
            else
            {
                Assert.Equal(a, b);
            }
        }
    }

    [Fact]
    public void Random_IntegerColumn_SameDigitCountWithinRange()
    {
        using var transformer = Create(Spec("random"), Column(TypeCategory.Integer, "integer"));
        for (int i = 0; i < 500; i++)
        {
            var output = transformer.Apply("2147483" + i.ToString("000"))!;
            long number = long.Parse(output, CultureInfo.InvariantCulture);
            Assert.InRange(number, 1_000_000_000, int.MaxValue);
            var negative = long.Parse(transformer.Apply("-2147483648")!, CultureInfo.InvariantCulture);
            Assert.InRange(negative, int.MinValue, -1_000_000_000);
        }
    }

    [Fact]
    public void Random_NumericColumn_KeepsPointSignAndExponent()
    {
        using var transformer = Create(Spec("random"), Column(TypeCategory.Numeric, "double precision"));
        Assert.Matches(@"^-[1-9]\d\d\.\d\d$", transformer.Apply("-123.45")!);
        Assert.Matches(@"^[1-9]\.\d\de\+38$", transformer.Apply("3.40e+38")!);
        Assert.Equal("NaN", transformer.Apply("NaN"));
    }

    [Fact]
    public void CreditCard_Many_LuhnValidSixteenDigitsWithPrefix()
    {
        using var transformer = Create("credit-card", ("prefix", "51"));
        for (int i = 0; i < 1000; i++)
        {
            var card = transformer.Apply("card" + i)!;
            Assert.Matches("^51[0-9]{14}$", card);
            Assert.True(PassesLuhn(card), card);
        }
    }

    [Fact]
    public void CreditCard_SpacedInput_KeepsLayout()
    {
        using var transformer = Create("credit-card");
        var card = transformer.Apply("4111 1111 1111 1111")!;
        Assert.Matches("^4[0-9]{3} [0-9]{4} [0-9]{4} [0-9]{4}$", card);
        Assert.True(PassesLuhn(card.Replace(" ", "")));
    }

    static bool PassesLuhn(string digits)
    {
        int sum = 0;
        for (int i = 0; i < digits.Length; i++)
        {
            int digit = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1)
            {
                digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
            }

            sum += digit;
        }

        return sum % 10 == 0;
    }

    [Fact]
    public void IpAddress_V4V6AndCidr_KeepFamilyAndPrefix()
    {
        using var inet = Create(Spec("ip-address"), Column(TypeCategory.Inet, "inet"));
        var v4 = inet.Apply("192.168.1.10")!;
        Assert.True(System.Net.IPAddress.TryParse(v4, out var parsed4));
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, parsed4!.AddressFamily);
        var v6 = inet.Apply("2001:db8::1/64")!;
        Assert.EndsWith("/64", v6);
        Assert.True(System.Net.IPAddress.TryParse(v6[..^3], out var parsed6));
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, parsed6!.AddressFamily);

        using var cidr = Create(Spec("ip-address"), Column(TypeCategory.Inet, "cidr"));
        Assert.Matches(@"^\d+\.\d+\.0\.0/16$", cidr.Apply("10.1.0.0/16")!);
    }

    [Fact]
    public void Constant_IntegerColumnNonNumber_ConfigException()
    {
        var error = Assert.Throws<ConfigException>(() => Create(Spec("constant", ("value", "abc")), Column(TypeCategory.Integer, "integer")));
        Assert.Contains("public.users.col (integer)", error.Message);
        Assert.Equal("42", Create(Spec("constant", ("value", "42")), Column(TypeCategory.Integer, "integer")).Apply("7"));
    }
}
