using System.Buffers;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Replica.Transformers;

/// <summary>
/// number-noise: multiplies a number by a factor in [1 - percent/100, 1 + percent/100] chosen by the value's keyed
/// hash, keeping whole numbers whole and the count of decimals; results stay within the column type's range
/// (smallint/integer/bigint, numeric(p,s)). NaN and Infinity are left alone.
/// </summary>
internal sealed partial class NumberNoiseTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("number-noise",
            "Adds deterministic noise of up to ±percent to numbers, keeping whole numbers whole and the decimals.",
            [new TransformerOption("percent", "The largest change, in percent of the value (above 0, at most 100).", "10")],
            "transformer: number-noise\noptions:\n  percent: 5"),
        Build);

    static readonly string[] s_fixedFormats = Enumerable.Range(0, 29).Select(i => "F" + i).ToArray();

    readonly double _fraction;
    readonly SipKey _key;
    readonly decimal _min;
    readonly decimal _max;
    readonly bool _integer;
    readonly string _type;

    NumberNoiseTransformer(double fraction, SipKey key, decimal min, decimal max, bool integer, string type)
    {
        _fraction = fraction;
        _key = key;
        _min = min;
        _max = max;
        _integer = integer;
        _type = type;
    }

    static NumberNoiseTransformer? Build(TransformerSetup setup)
    {
        double percent = setup.GetDouble("percent", 10, 0, 100);
        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        setup.RequireCategory("a number", TypeCategory.Integer, TypeCategory.Numeric);
        setup.RejectUnique("noisy numbers can coincide");
        decimal min = decimal.MinValue, max = decimal.MaxValue;
        bool integer = column.Category == TypeCategory.Integer;
        if (integer)
        {
            min = IntegerRange.Min(column);
            max = IntegerRange.Max(column);
        }
        else if (column.TypeName is not null && NumericTypeRegex().Match(column.TypeName) is { Success: true } match)
        {
            // numeric(p,s) holds |x| < 10^(p-s); the largest value with s decimals is 10^(p-s) - 10^-s.
            int precision = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            int scale = match.Groups[2].Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
            int integerDigits = precision - scale;
            if (integerDigits is >= 0 and <= 28 && scale is >= 0 and <= 28)
            {
                max = Pow10(integerDigits) - 1m / Pow10(scale);
                min = -max;
            }
        }

        var type = column.TypeName ?? column.Category.ToString().ToLowerInvariant();
        return new NumberNoiseTransformer(percent / 100, setup.Keys.Pick, min, max, integer, type);
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        if (KeptAsIs(value))
        {
            return TransformResult.Unchanged;
        }

        var random = new HashStream(SipHash.Hash64(_key, value));
        double factor = 1 + (2 * random.NextDouble() - 1) * _fraction;

        int point = value.IndexOf((byte)'.');
        bool exponent = value.IndexOfAny((byte)'e', (byte)'E') >= 0;
        int decimals = point < 0 || exponent || _integer ? 0 : value.Length - point - 1;
        if (!exponent && decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture, out decimal number))
        {
            decimal noisy;
            try
            {
                noisy = Math.Round(number * (decimal)factor, decimals, MidpointRounding.AwayFromZero);
            }
            catch (OverflowException)
            {
                noisy = number;
            }

            noisy = Math.Clamp(noisy, _min, _max);
            if (decimals > 0 && noisy != Math.Round(noisy, decimals))
            {
                noisy = Math.Round(noisy, decimals, MidpointRounding.ToZero); // the clamp bound had more decimals
            }

            var span = output.GetSpan(64);
            noisy.TryFormat(span, out int written, s_fixedFormats[Math.Min(decimals, 28)], CultureInfo.InvariantCulture);
            output.Advance(written);
            return TransformResult.Value;
        }

        // Exponent notation (real, double precision) or beyond decimal's 28 digits: double arithmetic, shortest output.
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double floating))
        {
            throw new TransformerException($"number-noise got a {_type} value that is not a number.");
        }

        double result = floating * factor;
        if (decimals == 0 && !exponent)
        {
            result = Math.Round(result);
        }

        var buffer = output.GetSpan(64);
        result.TryFormat(buffer, out int count, "R", CultureInfo.InvariantCulture);
        output.Advance(count);
        return TransformResult.Value;
    }

    /// <summary>The empty value, NaN and the infinities: no noise to add.</summary>
    static bool KeptAsIs(ReadOnlySpan<byte> value) =>
        value.IsEmpty || value.SequenceEqual("NaN"u8) || value.EndsWith("Infinity"u8) || value.EndsWith("inf"u8);

    public override bool RepeatsByChance => true;

    /// <summary>
    /// value × factor is uniform over value ± percent·|value|, and rounds back to value when it falls within half a unit
    /// of its last decimal: unit / (2·percent·|value|), at most 1 (0 and the small whole numbers never change).
    /// Exponent notation and NaN/Infinity: what <see cref="Transform"/> does with them (shortest round trip: ~0; kept: 1).
    /// </summary>
    public override double ChanceUnchanged(ReadOnlySpan<byte> value)
    {
        if (KeptAsIs(value))
        {
            return 1;
        }
        int point = value.IndexOf((byte)'.');
        if (value.IndexOfAny((byte)'e', (byte)'E') >= 0
            || !decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number))
        {
            return 0;
        }
        int decimals = point < 0 || _integer ? 0 : value.Length - point - 1;
        double width = 2 * _fraction * Math.Abs((double)number);
        double unit = Math.Pow(10, -decimals);
        return width <= unit ? 1 : unit / width;
    }

    static decimal Pow10(int exponent)
    {
        decimal result = 1;
        for (int i = 0; i < exponent; i++)
        {
            result *= 10;
        }

        return result;
    }

    [GeneratedRegex(@"^\s*(?:numeric|decimal)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*$")]
    private static partial Regex NumericTypeRegex();
}
