using System.Buffers;

namespace Replica.Transformers;

/// <summary>
/// date-shift: moves a date or timestamp by a whole number of days in [-days, +days] (never 0), chosen by the value's
/// keyed hash; the time of day, fraction and time zone are kept byte for byte. Reads PostgreSQL's ISO output
/// (DateStyle ISO, what pg_dump writes): 'YYYY-MM-DD' and 'YYYY-MM-DD HH:MM:SS[.ffffff][+TZ]'; 'infinity',
/// '-infinity' and BC dates are left alone.
/// </summary>
internal sealed class DateShiftTransformer : Transformer
{
    public static readonly TransformerKind Kind = new(
        new TransformerDescriptor("date-shift",
            "Shifts dates and timestamps by a deterministic number of days in [-days, +days], keeping the format.",
            [new TransformerOption("days", "The largest shift in days, either way.", "30")],
            "transformer: date-shift\noptions:\n  days: 30"),
        Build);

    readonly int _days;
    readonly SipKey _key;
    readonly string _type;

    DateShiftTransformer(int days, SipKey key, string type)
    {
        _days = days;
        _key = key;
        _type = type;
    }

    static DateShiftTransformer? Build(TransformerSetup setup)
    {
        int days = setup.GetInt("days", 30, 1, 100_000);
        if (setup.ValidateOnly)
        {
            return null;
        }

        setup.RequireCategory("a date or timestamp", TypeCategory.Date, TypeCategory.Timestamp);
        setup.RejectUnique("shifted dates can coincide");
        var column = setup.ColumnOrThrow;
        return new DateShiftTransformer(days, setup.Keys.Pick, column.TypeName ?? column.Category.ToString().ToLowerInvariant());
    }

    public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
    {
        if (isNull)
        {
            return TransformResult.Null;
        }

        if (value.IsEmpty || value.SequenceEqual("infinity"u8) || value.SequenceEqual("-infinity"u8) || value.EndsWith(" BC"u8))
        {
            return TransformResult.Unchanged;
        }

        if (!TryParseDate(value, out var date))
        {
            throw new TransformerException(
                $"date-shift expects ISO dates such as 2024-01-31 or 2024-01-31 12:00:00+00 " +
                $"(PostgreSQL's DateStyle ISO, as pg_dump writes them) and got a {_type} value in another format.");
        }

        var random = new HashStream(SipHash.Hash64(_key, value));
        int pick = random.NextBelow(2 * _days);
        int shift = pick < _days ? -(pick + 1) : pick - _days + 1;
        DateOnly shifted;
        try
        {
            shifted = date.AddDays(shift);
        }
        catch (ArgumentOutOfRangeException)
        {
            shifted = date.AddDays(-shift); // near year 1 or 9999 only the other way stays in range
        }

        var span = output.GetSpan(value.Length);
        WriteDigits(span, shifted.Year, 4);
        span[4] = (byte)'-';
        WriteDigits(span[5..], shifted.Month, 2);
        span[7] = (byte)'-';
        WriteDigits(span[8..], shifted.Day, 2);
        value[10..].CopyTo(span[10..]);
        output.Advance(value.Length);
        return TransformResult.Value;
    }

    static bool TryParseDate(ReadOnlySpan<byte> value, out DateOnly date)
    {
        date = default;
        if (value.Length < 10 || value[4] != '-' || value[7] != '-' || (value.Length > 10 && value[10] is not ((byte)' ' or (byte)'T')))
        {
            return false;
        }

        if (!TryReadDigits(value[..4], out int year) || !TryReadDigits(value.Slice(5, 2), out int month)
            || !TryReadDigits(value.Slice(8, 2), out int day)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        date = new DateOnly(year, month, day);
        return true;
    }

    static bool TryReadDigits(ReadOnlySpan<byte> digits, out int number)
    {
        number = 0;
        foreach (byte b in digits)
        {
            if (!Utf8Text.IsAsciiDigit(b))
            {
                return false;
            }

            number = number * 10 + (b - '0');
        }

        return true;
    }

    static void WriteDigits(Span<byte> destination, int number, int count)
    {
        for (int i = count - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + number % 10);
            number /= 10;
        }
    }
}
