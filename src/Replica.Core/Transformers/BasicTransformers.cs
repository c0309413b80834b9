using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Replica.Transformers;

/// <summary>transient: keeps the value exactly as it was.</summary>
internal sealed class TransientTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("transient", "Keeps the value unchanged (documents that the column was reviewed).", [],
            "transformer: transient"),
        setup => setup.ValidateOnly ? null : new TransientTransformer());

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output) =>
        TransformResult.Unchanged;
}

/// <summary>null: every value becomes SQL NULL.</summary>
internal sealed class NullTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("null", "Replaces every value with NULL (the column must allow NULL).", [],
            "transformer: 'null'  # quoted: a bare null is YAML's null"),
        setup => setup.ValidateOnly ? null : new NullTransformer());

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output) =>
        TransformResult.Null;
}

/// <summary>constant: every value, NULL included, becomes the configured value.</summary>
internal sealed class ConstantTransformer(byte[] bytes) : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("constant", "Replaces every value, NULL included, with one fixed value.",
            [new TransformerOption("value", "The value to write, as PostgreSQL text (use the null transformer for NULL).", null)],
            "transformer: constant\noptions:\n  value: 'redacted'"),
        Build);

    /// <summary>A value that already was the constant is written unchanged: the constant is no secret.</summary>
    public override double? PoolSize => 1;

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        output.Write(bytes);
        return TransformResult.Value;
    }

    static ConstantTransformer? Build(TransformerSetup setup)
    {
        if (setup.Has("value") && setup.GetRaw("value") is null)
        {
            throw setup.OptionError("value", "is null; use the 'null' transformer to write NULL");
        }

        var value = setup.GetString("value") ?? throw setup.OptionError("value", "is required: the value to write");
        if (string.Equals(value.Trim(), "null", StringComparison.OrdinalIgnoreCase))
        {
            throw setup.OptionError("value", "is 'null'; use the 'null' transformer to write NULL (quoting does not help: the text 'null' is rejected to avoid that mix-up)");
        }

        if (setup.ValidateOnly)
        {
            return null;
        }

        var column = setup.ColumnOrThrow;
        if (setup.IsUnique(byDefault: false))
        {
            throw setup.ColumnError("writes the same value for every row, which a unique column cannot hold");
        }

        if (!FitsCategory(value, column))
        {
            throw setup.ColumnError($"writes '{value}', which is not a valid value for this column's type");
        }

        int chars = value.EnumerateRunes().Count();
        if (column.MaxLength is int max && chars > max)
        {
            throw setup.ColumnError($"writes a value of {chars} characters, longer than the column's limit of {max}");
        }

        return new ConstantTransformer(Encoding.UTF8.GetBytes(value));
    }

    static bool FitsCategory(string value, ColumnInfo column)
    {
        var invariant = CultureInfo.InvariantCulture;
        var text = value.Trim();
        switch (column.Category)
        {
            case TypeCategory.Integer:
                return long.TryParse(text, NumberStyles.AllowLeadingSign, invariant, out long number)
                       && number >= IntegerRange.Min(column) && number <= IntegerRange.Max(column);
            case TypeCategory.Numeric:
                return text is "NaN" or "Infinity" or "-Infinity"
                       || double.TryParse(text, NumberStyles.Float, invariant, out _);
            case TypeCategory.Boolean:
                return text.ToLowerInvariant() is "t" or "f" or "true" or "false" or "yes" or "no" or "on" or "off" or "1" or "0" or "y" or "n";
            case TypeCategory.Date:
                return text is "infinity" or "-infinity"
                       || DateOnly.TryParseExact(text, "yyyy-MM-dd", invariant, DateTimeStyles.None, out _);
            case TypeCategory.Timestamp:
                return text is "infinity" or "-infinity"
                       || DateTimeOffset.TryParse(text, invariant, DateTimeStyles.AllowWhiteSpaces, out _);
            case TypeCategory.Time:
                return TimeOnly.TryParse(text, invariant, out _);
            case TypeCategory.Uuid:
                return Guid.TryParse(text, out _);
            case TypeCategory.Inet:
                int slash = text.IndexOf('/');
                return IPAddress.TryParse(slash < 0 ? text : text[..slash], out _);
            case TypeCategory.Json:
                try
                {
                    using var document = JsonDocument.Parse(text);
                    return true;
                }
                catch (JsonException)
                {
                    return false;
                }

            default:
                return true;
        }
    }
}

/// <summary>The value range of an integer column, from its type name (bigint when unknown).</summary>
internal static class IntegerRange
{
    public static long Max(ColumnInfo column) => Kind(column.TypeName) switch
    {
        2 => short.MaxValue,
        4 => int.MaxValue,
        _ => long.MaxValue,
    };

    public static long Min(ColumnInfo column) => Kind(column.TypeName) switch
    {
        2 => short.MinValue,
        4 => int.MinValue,
        _ => long.MinValue,
    };

    static int Kind(string? typeName) => typeName?.Trim() switch
    {
        "smallint" or "int2" or "smallserial" or "serial2" => 2,
        "integer" or "int" or "int4" or "serial" or "serial4" => 4,
        _ => 8,
    };
}
