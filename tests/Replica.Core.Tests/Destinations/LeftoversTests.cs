using Replica.Destinations;

namespace Replica.Core.Tests.Destinations;

public sealed class LeftoversTests
{
    // Above /proc/sys/kernel/pid_max (at most 2^22 on Linux): no process can have it.
    const int GonePid = int.MaxValue;

    [Theory]
    [InlineData("shop_replica_{gone}_1764680000_{tag}", true)]
    [InlineData("shop_replica_{self}_1764680000_{tag}", false)]
    [InlineData("shop_replica_{gone}_1764680000", false)]
    [InlineData("shop_replica_{gone}_1764680000_0badf00d", false)]
    [InlineData("shop_replica_{gone}_{tag}", false)]
    [InlineData("shop_replica_{gone}_x_{tag}", false)]
    [InlineData("shop_replica_old_{gone}_1764680000_{tag}", false)]
    [InlineData("shop_replica_old_{gone}_1764680000", false)]
    [InlineData("shop2_replica_{gone}_1764680000_{tag}", false)]
    [InlineData("shop_replica_-1_1764680000_{tag}", false)]
    public void IsAbandonedStaging_OnlyWellFormedNamesOfGoneProcessesOfThisMachine(string template, bool abandoned)
    {
        var name = template.Replace("{gone}", GonePid.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{self}", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{tag}", Leftovers.MachineTag, StringComparison.Ordinal);

        Assert.Equal(abandoned, Leftovers.IsAbandonedStaging(name, "shop_replica_"));
    }

    [Fact]
    public void MachineTag_IsEightLowerHexDigits() => Assert.Matches("^[0-9a-f]{8}$", Leftovers.MachineTag);

    /// <summary>
    /// MySQL's staging names carry this machine (it keeps no comment on a database) and fit its 64 characters whole, for
    /// the longest process id and time, whatever the destination's name.
    /// </summary>
    [Theory]
    [InlineData("shop", "shop")]
    [InlineData("a_database_name_of_exactly_40_characters", "a_database_name_of_exactl")]
    public void MysqlStagingName_FitsWholeAndIsRecognisedAsAbandoned(string database, string kept)
    {
        var prefix = MysqlDestination.StagingPrefix(database);
        var longest = Leftovers.TaggedStagingName(prefix, GonePid, 9_999_999_999);

        Assert.Equal(kept + "_replica_", prefix);
        Assert.True(longest.Length <= 64, longest);
        Assert.True(Leftovers.IsAbandonedStaging(longest, prefix));
        Assert.False(Leftovers.IsAbandonedStaging(Leftovers.NewTaggedStagingName(prefix), prefix));
    }

    [Fact]
    public void IsAbandonedStaging_Null_IsNot() => Assert.False(Leftovers.IsAbandonedStaging(null, "shop_replica_"));

    /// <summary>A marked staging database is abandoned only when its mark names this machine and the process in its name.</summary>
    [Fact]
    public void IsAbandonedStaging_Marked_OnlyByAGoneProcessOfThisMachine()
    {
        var name = Leftovers.StagingName("shop_replica_", GonePid, 1_764_680_000);

        Assert.True(Leftovers.IsAbandonedStaging(name, "shop_replica_", Leftovers.StagingMark(GonePid)));
        Assert.False(Leftovers.IsAbandonedStaging(name, "shop_replica_", null));
        Assert.False(Leftovers.IsAbandonedStaging(name, "shop_replica_", $"replica staging database of process {GonePid} on another-host"));
        Assert.False(Leftovers.IsAbandonedStaging(name, "shop_replica_", Leftovers.StagingMark(GonePid - 1)));
        var own = Leftovers.NewStagingName("shop_replica_");
        Assert.False(Leftovers.IsAbandonedStaging(own, "shop_replica_", Leftovers.StagingMark(Environment.ProcessId)));
    }

    [Fact]
    public void LikePrefix_EscapesWildcardsOfTheName() =>
        Assert.Equal("my\\_db\\%x\\\\y\\_replica\\_%", Leftovers.LikePrefix("my_db%x\\y_replica_"));

    /// <summary>
    /// Destinations and what of their name a staging name keeps: at most 33 bytes of UTF-8, cut between characters, so
    /// that with _replica_, the longest process id and the time the name fits PostgreSQL's 63 bytes whole. The name of
    /// 21 three-byte characters (63 bytes) was cut to 40 characters before: 111 bytes, which the server truncated to the
    /// destination's own name.
    /// </summary>
    public static TheoryData<string, string> StagingPrefixes => new()
    {
        { "shop", "shop" },
        { new string('\u65e5', 21), new string('\u65e5', 11) },
        { new string('a', 63), new string('a', 33) },
        { "ab" + new string('\u00e9', 30), "ab" + new string('\u00e9', 15) },
        { new string('x', 31) + "\U0001F600y", new string('x', 31) },
        { new string('x', 29) + "\U0001F600y", new string('x', 29) + "\U0001F600" },
    };

    [Theory]
    [MemberData(nameof(StagingPrefixes))]
    public void PostgresStagingName_FitsWholeAndIsRecognisedAsAbandoned(string database, string kept)
    {
        var prefix = PsqlDestination.StagingPrefix(database);
        var longest = Leftovers.StagingName(prefix, GonePid, 9_999_999_999);

        Assert.Equal(kept + "_replica_", prefix);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(longest) <= 63, longest);
        Assert.False(PsqlDestination.IsSameDatabase(longest, database));
        Assert.True(Leftovers.IsAbandonedStaging(longest, prefix, Leftovers.StagingMark(GonePid)));
        Assert.True(Leftovers.IsAbandonedStaging(Leftovers.StagingName(prefix, GonePid, 1_764_680_000), prefix, Leftovers.StagingMark(GonePid)));
        Assert.False(Leftovers.IsAbandonedStaging(Leftovers.NewStagingName(prefix), prefix, Leftovers.StagingMark(Environment.ProcessId)));
    }

    [Theory]
    [InlineData("shop", "shop", true)]
    [InlineData("shop", "Shop", false)]
    [InlineData("shop", "shop_replica_1_2", false)]
    public void IsSameDatabase_ComparesNamesAsPostgresStoresThem(string name, string database, bool same) =>
        Assert.Equal(same, PsqlDestination.IsSameDatabase(name, database));

    [Fact]
    public void IsSameDatabase_NamesThatAgreeInTheir63Bytes_AreOne()
    {
        var destination = new string('\u65e5', 21);
        Assert.True(PsqlDestination.IsSameDatabase(destination + "_replica_19671_1796402311", destination));
        Assert.True(PsqlDestination.IsSameDatabase(new string('a', 70), new string('a', 63)));
        Assert.False(PsqlDestination.IsSameDatabase(new string('a', 62), new string('a', 63)));
    }

    [Theory]
    [InlineData("ab\u65e5", 4, "ab")]
    [InlineData("ab\u65e5", 5, "ab\u65e5")]
    [InlineData("a\U0001F600", 4, "a")]
    [InlineData("a\U0001F600", 5, "a\U0001F600")]
    [InlineData("", 3, "")]
    public void CutToUtf8Bytes_CutsBetweenCharacters(string s, int maxBytes, string expected) =>
        Assert.Equal(expected, Leftovers.CutToUtf8Bytes(s, maxBytes));
}
