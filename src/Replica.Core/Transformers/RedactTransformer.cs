using System.Buffers;
using System.Text;

namespace Replica.Transformers;

/// <summary>
/// redact: keeps the first N characters and masks the rest. On integer and numeric columns only digits are masked (the
/// mask character must then be a digit), so the result is still a number of the same shape.
/// </summary>
internal sealed class RedactTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("redact",
            "Keeps the first 'keep' characters and replaces the others with a mask character. On numeric columns only " +
            "digits are masked, with a digit.",
            [
                new TransformerOption("keep", "How many leading characters stay visible.", "0"),
                new TransformerOption("character", "The mask character (one character; a digit on numeric columns).", "*"),
                new TransformerOption("width", "Write exactly this many mask characters, hiding the length (text columns only).", null),
            ],
            "transformer: redact\noptions:\n  keep: 2\n  character: '*'"),
        Build);

    readonly int _keep;
    readonly byte[] _mask;
    readonly int? _width;
    readonly bool _numeric;
    readonly TextShaper? _shaper;
    readonly (long Min, long Max)? _integerRange;
    readonly ByteBuilder _builder = new();

    RedactTransformer(int keep, byte[] mask, int? width, bool numeric, TextShaper? shaper, (long, long)? integerRange = null)
    {
        _integerRange = integerRange;
        _keep = keep;
        _mask = mask;
        _width = width;
        _numeric = numeric;
        _shaper = shaper;
    }

    static RedactTransformer? Build(TransformerSetup setup)
    {
        int keep = setup.GetInt("keep", 0, 0, 1_000_000);
        var character = setup.GetString("character") ?? "*";
        if (character.EnumerateRunes().Count() != 1)
        {
            throw setup.OptionError("character", $"must be exactly one character, not {setup.Shown("character", character)}");
        }

        int? width = setup.GetOptionalInt("width", 0, 1_000_000);
        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        bool numeric = column.Category is TypeCategory.Integer or TypeCategory.Numeric;
        if (numeric)
        {
            if (character.Length != 1 || !char.IsAsciiDigit(character[0]))
            {
                throw setup.ColumnError($"would write the mask character '{character}' into a number; use a digit such as '0' or '9'");
            }

            if (width is not null)
            {
                throw setup.ColumnError("cannot use 'width' on a numeric column: the mask keeps the number's digits and sign");
            }

            setup.RejectUnique("masking digits makes numbers collide");
            (long, long)? range = column.Category == TypeCategory.Integer ? (IntegerRange.Min(column), IntegerRange.Max(column)) : null;
            return new RedactTransformer(keep, Encoding.UTF8.GetBytes(character), null, numeric: true, shaper: null, range);
        }

        setup.RequireCategory("text", TypeCategory.Integer, TypeCategory.Numeric);
        var shaper = TextShaper.Create(setup, setup.IsUnique(byDefault: false));
        return new RedactTransformer(keep, Encoding.UTF8.GetBytes(character), width, numeric: false, shaper);
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        if (_numeric)
        {
            // PostgreSQL prints numbers in ASCII; anything else (NaN, Infinity) is kept, and so is an exponent, whose
            // masked digits could overflow a real.
            var span = output.GetSpan(value.Length);
            bool inExponent = false;
            for (int i = 0; i < value.Length; i++)
            {
                byte b = value[i];
                inExponent |= b is (byte)'e' or (byte)'E';
                span[i] = i >= _keep && !inExponent && Utf8Text.IsAsciiDigit(b) ? _mask[0] : b;
            }

            if (_integerRange is { } range
                && !(long.TryParse(span[..value.Length], out long maskedNumber) && maskedNumber >= range.Min && maskedNumber <= range.Max))
            {
                // A mask of nines can overflow the column's integer type: the nearest bound is still a masked value.
                bool negative = value.Length > 0 && value[0] == '-';
                return WriteInteger(negative ? range.Min : range.Max, output);
            }

            output.Advance(value.Length);
            return TransformResult.Value;
        }

        _builder.Clear();
        int offset = 0;
        int kept = 0;
        while (kept < _keep && offset < value.Length)
        {
            offset += Utf8Text.DecodeChar(value[offset..], out _, out _);
            kept++;
        }

        _builder.Append(value[..offset]);
        int masked = _width ?? Utf8Text.CountChars(value[offset..]);
        var mask = _builder.GetSpan(masked * _mask.Length);
        if (_mask.Length == 1)
        {
            mask[..masked].Fill(_mask[0]);
        }
        else
        {
            for (int i = 0; i < masked; i++)
            {
                _mask.CopyTo(mask[(i * _mask.Length)..]);
            }
        }

        _builder.Advance(masked * _mask.Length);

        return _shaper!.Write(_builder.WrittenSpan, value, output);
    }

    static TransformResult WriteInteger(long value, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(20);
        value.TryFormat(span, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        output.Advance(written);
        return TransformResult.Value;
    }
}

/// <summary>
/// keep-first-char: keeps only the first character (on numeric columns the sign and first digit, so it stays a number).
/// </summary>
internal sealed class KeepFirstCharTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("keep-first-char",
            "Keeps only the first character ('Smith' -> 'S'); on numeric columns the sign and first digit.", [],
            "transformer: keep-first-char"),
        Build);

    readonly bool _numeric;
    readonly TextShaper? _shaper;

    KeepFirstCharTransformer(bool numeric, TextShaper? shaper)
    {
        _numeric = numeric;
        _shaper = shaper;
    }

    static KeepFirstCharTransformer? Build(TransformerSetup setup)
    {
        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        if (column.Category is TypeCategory.Integer or TypeCategory.Numeric)
        {
            setup.RejectUnique("one digit cannot stay unique");
            return new KeepFirstCharTransformer(numeric: true, shaper: null);
        }

        setup.RequireCategory("text", TypeCategory.Integer, TypeCategory.Numeric);
        return new KeepFirstCharTransformer(numeric: false, TextShaper.Create(setup, setup.IsUnique(byDefault: false)));
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        if (_numeric)
        {
            int length = value.Length > 0 && value[0] is (byte)'-' or (byte)'+' ? 1 : 0;
            if (length >= value.Length || !Utf8Text.IsAsciiDigit(value[length]))
            {
                return TransformResult.Unchanged; // NaN, Infinity: nothing to hide
            }

            output.Write(value[..(length + 1)]);
            return TransformResult.Value;
        }

        int first = Utf8Text.DecodeChar(value, out _, out _);
        return _shaper!.Write(value[..first], value, output);
    }
}
