using System.Buffers;
using System.Text;

namespace Replica.Transformers;

/// <summary>
/// random: a value of the same shape, picked deterministically from the value's keyed hash: digits stay digits,
/// letters stay letters of the same case, everything else is kept. On integer columns it is a number with as many
/// digits and the same sign, within the column type's range; on numeric columns the digits change, not the sign,
/// decimal point, exponent or NaN/Infinity.
/// </summary>
internal sealed class RandomTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("random",
            "Replaces each digit with a digit and each letter with a letter of the same case, keeping other characters " +
            "and the length (deterministic per value).", [],
            "transformer: random"),
        Build);

    enum Mode
    {
        Text,
        Integer,
        Numeric,
    }

    readonly Mode _mode;
    readonly SipKey _key;
    readonly TextShaper? _shaper;
    readonly long _min;
    readonly long _max;
    readonly ByteBuilder _builder = new();

    RandomTransformer(Mode mode, SipKey key, TextShaper? shaper, long min, long max)
    {
        _mode = mode;
        _key = key;
        _shaper = shaper;
        _min = min;
        _max = max;
    }

    static RandomTransformer? Build(TransformerSetup setup)
    {
        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        switch (column.Category)
        {
            case TypeCategory.Integer:
                setup.RejectUnique("random digits of the same length collide");
                return new RandomTransformer(Mode.Integer, setup.Keys.Pick, null, IntegerRange.Min(column), IntegerRange.Max(column));
            case TypeCategory.Numeric:
                setup.RejectUnique("random digits of the same length collide");
                return new RandomTransformer(Mode.Numeric, setup.Keys.Pick, null, 0, 0);
            default:
                setup.RequireCategory("text", TypeCategory.Integer, TypeCategory.Numeric);
                return new RandomTransformer(Mode.Text, setup.Keys.Pick, TextShaper.Create(setup, setup.IsUnique(byDefault: false)), 0, 0);
        }
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        var random = new HashStream(SipHash.Hash64(_key, value));
        switch (_mode)
        {
            case Mode.Integer:
                return WriteInteger(value, ref random, output);
            case Mode.Numeric:
                return WriteNumeric(value, ref random, output);
        }

        _builder.Clear();
        int offset = 0;
        while (offset < value.Length)
        {
            byte b = value[offset];
            if (b < 0x80)
            {
                _builder.Append(b switch
                {
                    >= (byte)'0' and <= (byte)'9' => (byte)('0' + random.NextBelow(10)),
                    >= (byte)'a' and <= (byte)'z' => (byte)('a' + random.NextBelow(26)),
                    >= (byte)'A' and <= (byte)'Z' => (byte)('A' + random.NextBelow(26)),
                    _ => b,
                });
                offset++;
                continue;
            }

            int length = Utf8Text.DecodeChar(value[offset..], out var rune, out bool valid);
            if (valid && Rune.IsLetter(rune))
            {
                // Non-ASCII letters become ASCII letters of the same case (uncased scripts become lower case).
                _builder.Append(Rune.IsUpper(rune) ? (byte)('A' + random.NextBelow(26)) : (byte)('a' + random.NextBelow(26)));
            }
            else if (valid && Rune.IsDigit(rune))
            {
                _builder.Append((byte)('0' + random.NextBelow(10)));
            }
            else
            {
                _builder.Append(value.Slice(offset, length));
            }

            offset += length;
        }

        return _shaper!.Write(_builder.WrittenSpan, value, output);
    }

    public override bool RepeatsByChance => true;

    /// <summary>
    /// The chance that every character drawn comes out as it was: 1/10 per digit, 1/26 per ASCII letter (a non-ASCII
    /// letter or digit becomes ASCII: never), 1 / the size of the range an integer is drawn from; 0 with a unique suffix.
    /// </summary>
    public override double ChanceUnchanged(ReadOnlySpan<byte> value)
    {
        if (_mode == Mode.Integer && IntegerRangeOf(value) is ({ } low, { } high))
        {
            return 1 / ((double)(high - low) + 1);
        }
        if (_mode != Mode.Text)
        {
            return NumericChance(value);
        }
        if (_shaper!.Unique)
        {
            return 0;
        }
        double chance = 1;
        for (int offset = 0; offset < value.Length;)
        {
            byte b = value[offset];
            if (b < 0x80)
            {
                chance *= b switch
                {
                    >= (byte)'0' and <= (byte)'9' => 0.1,
                    >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' => 1.0 / 26,
                    _ => 1,
                };
                offset++;
                continue;
            }
            offset += Utf8Text.DecodeChar(value[offset..], out var rune, out bool valid);
            if (valid && (Rune.IsLetter(rune) || Rune.IsDigit(rune)))
            {
                return 0;
            }
        }
        return chance;
    }

    static double NumericChance(ReadOnlySpan<byte> value)
    {
        double chance = 1;
        bool leading = true;
        foreach (byte b in value)
        {
            if (b is (byte)'e' or (byte)'E')
            {
                break;
            }
            if (Utf8Text.IsAsciiDigit(b))
            {
                chance *= leading && b != '0' ? 1.0 / 9 : 0.1;
                leading = false;
            }
        }
        return chance;
    }

    /// <summary>The magnitudes an integer of this many digits is drawn from (null: not a plain integer).</summary>
    (ulong Low, ulong High)? IntegerRangeOf(ReadOnlySpan<byte> value)
    {
        bool negative = value.Length > 0 && value[0] == '-';
        int start = value.Length > 0 && value[0] is (byte)'-' or (byte)'+' ? 1 : 0;
        var digits = value[start..];
        if (digits.IsEmpty || digits.Length > 19 || digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            return null;
        }

        // Same number of digits, within the type's range: [10^(d-1), min(10^d - 1, bound)].
        ulong low = digits.Length == 1 ? 0 : Pow10(digits.Length - 1);
        ulong high = digits.Length == 19 ? ulong.MaxValue : Pow10(digits.Length) - 1;
        ulong bound = negative ? (ulong)-(_min + 1) + 1 : (ulong)_max;
        high = Math.Min(high, bound);
        return (Math.Min(low, high), high);
    }

    TransformResult WriteInteger(ReadOnlySpan<byte> value, ref HashStream random, IBufferWriter<byte> output)
    {
        if (IntegerRangeOf(value) is not var (low, high))
        {
            return WriteNumeric(value, ref random, output);
        }

        bool negative = value[0] == '-';
        ulong magnitude = low + Math.BigMul(random.Next(), high - low + 1, out _);
        var span = output.GetSpan(21);
        int written = 0;
        if (negative && magnitude != 0)
        {
            span[written++] = (byte)'-';
        }

        magnitude.TryFormat(span[written..], out int count, default, System.Globalization.CultureInfo.InvariantCulture);
        output.Advance(written + count);
        return TransformResult.Value;
    }

    static TransformResult WriteNumeric(ReadOnlySpan<byte> value, ref HashStream random, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(value.Length);
        bool inExponent = false;
        bool leading = true;
        for (int i = 0; i < value.Length; i++)
        {
            byte b = value[i];
            inExponent |= b is (byte)'e' or (byte)'E';
            if (inExponent || !Utf8Text.IsAsciiDigit(b))
            {
                span[i] = b;
                continue;
            }

            // The first digit stays non-zero when it was, so the number keeps its magnitude (and numeric(p,s) fits).
            span[i] = leading && b != '0' ? (byte)('1' + random.NextBelow(9)) : (byte)('0' + random.NextBelow(10));
            leading = false;
        }

        output.Advance(value.Length);
        return TransformResult.Value;
    }

    static ulong Pow10(int exponent)
    {
        ulong result = 1;
        for (int i = 0; i < exponent; i++)
        {
            result *= 10;
        }

        return result;
    }
}
