using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Lexing;

/// <summary>Real mariadb-dump output (see Fixtures/make-mysql-fixtures.sh) passes through byte for byte at any block split.</summary>
public class MySqlPassThroughTests
{
    public static TheoryData<string> Fixtures => new()
    {
        "mysql-default.sql",
        "mysql-complete-insert.sql",
        "mysql-hex-blob.sql",
        "mysql-databases.sql",
    };

    static byte[] MySql(byte[] input, Replica.Rewriting.RewriteRules? rules = null, IEnumerable<int>? splits = null) =>
        Rewrite(input, rules, splits, dialect: SqlDialect.MySql);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Rewrite_MySqlNoRules_IsByteIdenticalSplitAtEveryByte(string fixture)
    {
        var dump = Fixture(fixture);
        Assert.Equal(dump, MySql(dump));
        for (var split = 1; split < dump.Length; split++)
        {
            Assert.True(MySql(dump, splits: [split]).AsSpan().SequenceEqual(dump), $"split at {split} changed the output");
        }
        Assert.Equal(dump, RewriteInSegments(dump, 1, dialect: SqlDialect.MySql));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Rewrite_MySqlRulesThatMatchNothing_LeaveTheDumpByteIdentical(string fixture)
    {
        var dump = Fixture(fixture);
        for (var split = 1; split < dump.Length; split += 5)
        {
            var rules = Rules("nosuchtable.email=upper");
            Assert.True(MySql(dump, rules, [split]).AsSpan().SequenceEqual(dump), $"split at {split}");
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Rewrite_MySqlDecodeEncodeOfEveryValue_GivesTheSameBytes(string fixture)
    {
        // Every value of every column is decoded and encoded again: MySQL escaping as mysqldump writes it round-trips,
        // including the BLOB with all 256 byte values, NUL, Ctrl-Z, quotes, backslashes, 0x hex and negative numbers.
        var dump = Fixture(fixture);
        var output = Rewrite(dump, out var statistics, Rules("*.*=same"), dialect: SqlDialect.MySql);
        Assert.Equal(Text(dump), Text(output));
        Assert.Equal(5 * 11 + 4 * 3 + 3 * 2 + 3 * 4, statistics.TransformedValues);
        Assert.Equal(dump, RewriteInSegments(dump, 1, Rules("*.*=same"), SqlDialect.MySql));
    }

    [Fact]
    public void Rewrite_MySqlWithRules_IsTheSameAtEverySplitPoint()
    {
        var dump = Fixture("mysql-default.sql");
        var expected = MySql(dump, Rules("customers.email=upper", "customers.note=tricky", "blobs.data=upper"));
        Assert.NotEqual(dump, expected);
        for (var split = 1; split < dump.Length; split++)
        {
            var output = MySql(dump, Rules("customers.email=upper", "customers.note=tricky", "blobs.data=upper"), [split]);
            Assert.True(output.AsSpan().SequenceEqual(expected), $"split at {split}");
        }
        Assert.Equal(expected, RewriteInSegments(dump, 1, Rules("customers.email=upper", "customers.note=tricky", "blobs.data=upper"), SqlDialect.MySql));
    }
}
