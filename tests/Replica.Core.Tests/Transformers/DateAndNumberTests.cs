using System.Globalization;
using CsCheck;
using Replica.Transformers;
using static Replica.Core.Tests.Transformers.TransformerTestKit;

namespace Replica.Core.Tests.Transformers;

public class DateAndNumberTests
{
    [Fact]
    public void DateShift_Dates_KeepFormatAndShiftWithinDays()
    {
        using var transformer = Create(Spec("date-shift", ("days", "10")), Column(TypeCategory.Date, "date"));
        var start = new DateOnly(2020, 1, 1);
        var shifts = new HashSet<int>();
        for (int i = 0; i < 1000; i++)
        {
            var input = start.AddDays(i);
            var output = transformer.Apply(input.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))!;
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", output);
            int shift = DateOnly.ParseExact(output, "yyyy-MM-dd", CultureInfo.InvariantCulture).DayNumber - input.DayNumber;
            Assert.InRange(Math.Abs(shift), 1, 10);
            shifts.Add(shift);
        }

        Assert.Equal(20, shifts.Count); // every shift in [-10, -1] and [1, 10] occurs
    }

    [Theory]
    [InlineData("2024-02-29 13:45:12", @" 13:45:12$")]
    [InlineData("2024-02-29 13:45:12.123456+02", @" 13:45:12\.123456\+02$")]
    [InlineData("2024-02-29 00:00:00-05:30", @" 00:00:00-05:30$")]
    [InlineData("2024-02-29T08:00:00Z", @"T08:00:00Z$")]
    public void DateShift_Timestamps_KeepTimeAndZone(string input, string tailPattern)
    {
        using var transformer = Create(Spec("date-shift", ("days", 365)), Column(TypeCategory.Timestamp, "timestamp with time zone"));
        var output = transformer.Apply(input)!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}" + tailPattern, output);
        Assert.Equal(input.Length, output.Length);
        Assert.NotEqual(input[..10], output[..10]);
        Assert.True(DateOnly.TryParseExact(output[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
    }

    [Theory]
    [InlineData("infinity")]
    [InlineData("-infinity")]
    [InlineData("0044-03-15 BC")]
    public void DateShift_SpecialValues_Unchanged(string input)
    {
        using var transformer = Create(Spec("date-shift"), Column(TypeCategory.Date, "date"));
        Assert.Equal(TransformResult.Unchanged, transformer.ApplyRaw(System.Text.Encoding.UTF8.GetBytes(input)).Result);
    }

    [Fact]
    public void DateShift_NotADate_TransformerExceptionSaysWhatItExpectsNotTheValue()
    {
        using var transformer = Create(Spec("date-shift"), Column(TypeCategory.Date, "date"));
        var error = Assert.Throws<TransformerException>(() => transformer.Apply("15/03/2024"));
        // The rewriter adds table, column, row and byte offset (TransformerFailureTests).
        Assert.Contains("date-shift expects ISO dates such as 2024-01-31", error.Message);
        Assert.Contains("got a date value in another format", error.Message);
        Assert.DoesNotContain("15/03/2024", error.Message);
    }

    [Fact]
    public void NumberNoise_Decimals_WithinPercentAndSameDecimals()
    {
        using var transformer = Create(Spec("number-noise", ("percent", "5")), Column(TypeCategory.Numeric, "numeric(12,2)"));
        int changed = 0;
        for (int i = 0; i < 1000; i++)
        {
            var input = (1000m + i * 3.17m).ToString("F2", CultureInfo.InvariantCulture);
            var output = transformer.Apply(input)!;
            Assert.Matches(@"^\d+\.\d{2}$", output);
            decimal before = decimal.Parse(input, CultureInfo.InvariantCulture);
            decimal after = decimal.Parse(output, CultureInfo.InvariantCulture);
            Assert.InRange(after, before * 0.95m - 0.01m, before * 1.05m + 0.01m);
            changed += after != before ? 1 : 0;
        }

        Assert.True(changed > 950);
    }

    [Fact]
    public void NumberNoise_Integers_StayWholeAndInTypeRange()
    {
        using var transformer = Create(Spec("number-noise", ("percent", "50")), Column(TypeCategory.Integer, "smallint"));
        // Near the top of smallint, where 50 % of noise upwards would overflow the type.
        Gen.Int[30000, short.MaxValue].ForAll(value =>
        {
            var output = transformer.Apply(value.ToString(CultureInfo.InvariantCulture))!;
            Assert.Matches(@"^-?\d+$", output);
            Assert.InRange(int.Parse(output, CultureInfo.InvariantCulture), 15000, short.MaxValue);
        }, cases: 500);

        Assert.InRange(int.Parse(transformer.Apply("-3")!, CultureInfo.InvariantCulture), -5, -1);
    }

    [Fact]
    public void NumberNoise_NumericPrecision_ClampedToFit()
    {
        using var transformer = Create(Spec("number-noise", ("percent", "100")), Column(TypeCategory.Numeric, "numeric(5,2)"));
        for (int i = 0; i < 200; i++)
        {
            var output = transformer.Apply((990 + i % 10 + 0.99m).ToString(CultureInfo.InvariantCulture))!;
            Assert.InRange(decimal.Parse(output, CultureInfo.InvariantCulture), 0m, 999.99m);
            Assert.Matches(@"^\d{1,3}\.\d{2}$", output);
        }
    }

    [Fact]
    public void NumberNoise_FloatExponentAndSpecials_Handled()
    {
        using var transformer = Create(Spec("number-noise"), Column(TypeCategory.Numeric, "double precision"));
        var output = double.Parse(transformer.Apply("1.5e+30")!, CultureInfo.InvariantCulture);
        Assert.InRange(output, 1.35e30, 1.65e30);
        Assert.Equal("NaN", transformer.Apply("NaN"));
        Assert.Equal("-Infinity", transformer.Apply("-Infinity"));
    }
}
