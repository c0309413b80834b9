using System.Text;
using Replica.Lexing;
using Replica.Pipeline;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// A dump file's subset folds key values the database takes as equal into one text: numbers, char(n) blanks, citext,
/// MySQL's case- and accent-insensitive collations, read from the dump's CREATE TABLE.
/// </summary>
public class KeyFoldingTests
{
    [Theory]
    [InlineData("1", "1")]
    [InlineData("1.00", "1")]
    [InlineData("001.500", "1.5")]
    [InlineData("-0.00", "0")]
    [InlineData("-1.5e0", "-1.5")]
    [InlineData("1.5E+3", "1500")]
    [InlineData("25e-3", "0.025")]
    [InlineData("100", "100")]
    [InlineData("NaN", "NaN")]
    [InlineData("abc", "abc")]
    public void Number_EqualNumbers_FoldToOneText(string text, string expected) => Assert.Equal(expected, KeyFold.Number(text));

    [Theory]
    [InlineData("1 day", "24:00:00")]
    [InlineData("1 mon", "30 days")]
    [InlineData("1 year", "360 days")]
    [InlineData("-01:00:00", "-1 days +23:00:00")]
    [InlineData("1 year 2 mons 3 days 04:05:06.5", "423 days 04:05:06.500000")]
    [InlineData("00:00:00", "0 days")]
    public void Interval_EqualIntervals_FoldToOneText(string a, string b) => Assert.Equal(KeyFold.Interval(a), KeyFold.Interval(b));

    [Theory]
    [InlineData("1 day", "1 day 00:00:00.000001")]
    [InlineData("1 mon", "31 days")]
    [InlineData("-01:00:00", "01:00:00")]
    public void Interval_DifferentIntervals_FoldApart(string a, string b) => Assert.NotEqual(KeyFold.Interval(a), KeyFold.Interval(b));

    [Theory]
    [InlineData("infinity")]
    [InlineData("1 fortnight")]
    [InlineData("12:xx:00")]
    [InlineData("")]
    public void Interval_NotAnInterval_StaysAsItIs(string text) => Assert.Equal(text, KeyFold.Interval(text));

    [Theory]
    [InlineData("2026-01-01 00:00:00", "2026-01-01")]
    [InlineData("0044-03-15 00:00:00 BC", "0044-03-15 BC")]
    [InlineData("2026-01-01 00:00:01", "2026-01-01 00:00:01")]
    [InlineData("2026-01-01", "2026-01-01")]
    public void Midnight_TimestampAtMidnight_FoldsToItsDate(string text, string expected) => Assert.Equal(expected, KeyFold.Midnight(text));

    [Fact]
    public void Apply_CaseAccentsAndBlanks_FoldToOneText()
    {
        const KeyFolding Everything = KeyFolding.TrailingBlanks | KeyFolding.Case | KeyFolding.Accents;
        Assert.Equal(KeyFold.Apply("dave@x.org", Everything), KeyFold.Apply("DÀVE@X.ORG  ", Everything));
        Assert.Equal(KeyFold.Apply("strasse", Everything), KeyFold.Apply("Straße", Everything));
        Assert.NotEqual(KeyFold.Apply("a", KeyFolding.TrailingBlanks), KeyFold.Apply("A", KeyFolding.TrailingBlanks));
        Assert.Equal(" a", KeyFold.Apply(" a  ", KeyFolding.TrailingBlanks));
    }

    [Fact]
    public void Of_PostgresColumns_FoldAsTheirTypeAndCollationCompare()
    {
        Assert.True(StatementParser.TryParseCreateTable(Encoding.UTF8.GetBytes("""
            CREATE TABLE public.t (n numeric(10,2), c character(5), e public.citext, i integer, s text COLLATE public.nocase,
                                   d text COLLATE pg_catalog."C", u uuid NOT NULL)
            """), out _, out var columns, out _, out _));
        Assert.Equal(
            [KeyFolding.Number, KeyFolding.TrailingBlanks, KeyFolding.Case, KeyFolding.None,
             KeyFolding.Case | KeyFolding.Accents | KeyFolding.TrailingBlanks, KeyFolding.None, KeyFolding.None],
            columns.Select(c => KeyFold.Of(c, SqlDialect.PostgreSql)));
        Assert.Equal("public.nocase", columns[4].Collation);
    }

    [Fact]
    public void Of_PostgresDomainsFloatsIntervalsAndDates_FoldAsTheyCompare()
    {
        Assert.True(StatementParser.TryParseCreateTable(Encoding.UTF8.GetBytes("""
            CREATE TABLE public.t (e public.email, f double precision, r real, i interval, d date, s timestamp(3) without time zone,
                                   z timestamp with time zone, b bytea, m public.mood[], v character varying(10))
            """), out _, out var columns, out _, out _));
        Assert.Equal(
            [KeyFolding.Unknown, KeyFolding.Number, KeyFolding.Number, KeyFolding.Interval, KeyFolding.Midnight, KeyFolding.Midnight,
             KeyFolding.None, KeyFolding.None, KeyFolding.Unknown, KeyFolding.None],
            columns.Select(c => KeyFold.Of(c, SqlDialect.PostgreSql)));
        Assert.Equal(KeyFold.Apply("-0", KeyFolding.Number), KeyFold.Apply("0", KeyFolding.Number));
        Assert.Equal(KeyFold.Apply("Alice@X.org", KeyFolding.Unknown), KeyFold.Apply("alice@x.org", KeyFolding.Unknown));
        Assert.Equal(KeyFold.Apply("1.0", KeyFolding.Unknown), KeyFold.Apply("1.00", KeyFolding.Unknown));
    }

    [Fact]
    public void Of_MySqlColumns_FoldAsTheirCollationCompares()
    {
        Assert.True(StatementParser.TryParseMySqlCreateTable(Encoding.UTF8.GetBytes("""
            CREATE TABLE `t` (
              `a` varchar(80) NOT NULL,
              `b` varchar(10) COLLATE utf8mb4_bin NOT NULL,
              `c` char(2) CHARACTER SET latin1 DEFAULT NULL,
              `d` decimal(10,2) NOT NULL,
              `e` varbinary(10) NOT NULL,
              `f` int(11) NOT NULL,
              PRIMARY KEY (`a`)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci
            """), "shop", out _, out var columns));
        const KeyFolding Insensitive = KeyFolding.TrailingBlanks | KeyFolding.Case | KeyFolding.Accents;
        Assert.Equal([Insensitive, KeyFolding.TrailingBlanks, Insensitive, KeyFolding.Number, KeyFolding.None, KeyFolding.None],
            columns.Select(c => KeyFold.Of(c, SqlDialect.MySql)));
        Assert.Equal(["utf8mb4_general_ci", "utf8mb4_bin", "latin1 default"], columns.Take(3).Select(c => c.Collation));
    }
}
