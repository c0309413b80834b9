using System.Buffers;

namespace Replica.Transformers;

/// <summary>
/// credit-card: a 16-digit number that passes the Luhn check, starting with a configurable issuer prefix. When the
/// input is 16 digits with separators ("4111 1111 1111 1111"), the output keeps that layout.
/// </summary>
internal sealed class CreditCardTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("credit-card",
            "A Luhn-valid 16-digit card number (deterministic per value), keeping the input's spaces or dashes.",
            [new TransformerOption("prefix", "Leading digits (issuer), 1 to 6 digits: 4 looks like Visa, 51-55 like Mastercard.", "4")],
            "transformer: credit-card\noptions:\n  prefix: '4'"),
        Build);

    const int CardLength = 16;

    readonly byte[] _prefix;
    readonly SipKey _key;
    readonly bool _plain;

    CreditCardTransformer(byte[] prefix, SipKey key, bool plain)
    {
        _prefix = prefix;
        _key = key;
        _plain = plain;
    }

    static CreditCardTransformer? Build(TransformerSetup setup)
    {
        var prefix = setup.GetString("prefix") ?? "4";
        if (prefix.Length is < 1 or > 6 || !prefix.All(char.IsAsciiDigit))
        {
            throw setup.OptionError("prefix", $"must be 1 to 6 digits, not {setup.Shown("prefix", prefix)}");
        }

        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        setup.RequireCategory("a 16-digit number", TypeCategory.Integer, TypeCategory.Numeric);
        if (column.Category == TypeCategory.Integer && IntegerRange.Max(column) < 9_999_999_999_999_999)
        {
            throw setup.ColumnError("writes 16-digit numbers, which this integer type cannot hold; use bigint, numeric or text");
        }

        if (column.MaxLength is int max && max < CardLength)
        {
            throw setup.ColumnError($"writes {CardLength} digits but the column holds {max} characters");
        }

        setup.RejectUnique("16 Luhn-valid digits hold about 50 bits");
        bool plain = column.Category is TypeCategory.Integer or TypeCategory.Numeric;
        return new CreditCardTransformer(System.Text.Encoding.ASCII.GetBytes(prefix), setup.Keys.Pick, plain);
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        var random = new HashStream(SipHash.Hash64(_key, value));
        Span<byte> digits = stackalloc byte[CardLength];
        _prefix.CopyTo(digits);
        for (int i = _prefix.Length; i < CardLength - 1; i++)
        {
            digits[i] = (byte)('0' + random.NextBelow(10));
        }

        digits[CardLength - 1] = (byte)('0' + LuhnCheckDigit(digits[..(CardLength - 1)]));

        // Keep the layout when the input is a card number with separators; it has the input's length, so it fits.
        if (!_plain && value.Length > CardLength && CountDigits(value) == CardLength)
        {
            var span = output.GetSpan(value.Length);
            int next = 0;
            for (int i = 0; i < value.Length; i++)
            {
                span[i] = Utf8Text.IsAsciiDigit(value[i]) ? digits[next++] : value[i];
            }

            output.Advance(value.Length);
            return TransformResult.Value;
        }

        output.Write(digits);
        return TransformResult.Value;
    }

    /// <summary>The digit that makes <paramref name="payload"/> + digit pass the Luhn check (ISO/IEC 7812-1).</summary>
    internal static int LuhnCheckDigit(ReadOnlySpan<byte> payload)
    {
        int sum = 0;
        bool doubled = true; // the payload's last digit is doubled once the check digit follows it
        for (int i = payload.Length - 1; i >= 0; i--)
        {
            int digit = payload[i] - '0';
            if (doubled)
            {
                digit *= 2;
                if (digit > 9)
                {
                    digit -= 9;
                }
            }

            sum += digit;
            doubled = !doubled;
        }

        return (10 - sum % 10) % 10;
    }

    static int CountDigits(ReadOnlySpan<byte> value)
    {
        int count = 0;
        foreach (byte b in value)
        {
            if (Utf8Text.IsAsciiDigit(b))
            {
                count++;
            }
        }

        return count;
    }
}
