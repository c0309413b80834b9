using Replica.Pipeline;

namespace Replica.Core.Tests.Subsetting;

public class SubsetDumpTests
{
    public static TheoryData<string, string[]> Lists => new()
    {
        { "", [] },
        { "id", ["id"] },
        { "id, name, \"Mixed Case\", \"with, comma\", \"quote\"\"d\"", ["id", "name", "Mixed Case", "with, comma", "quote\"d"] },
    };

    [Theory]
    [MemberData(nameof(Lists))]
    public void SplitColumns_QuotedColumnList_GivesTheNames(string list, string[] names)
    {
        Assert.Equal(names, SubsetDump.SplitColumns(list));
    }
}
