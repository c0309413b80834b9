using Replica.Sources;

namespace Replica.Core.Tests.Sources;

public sealed class ExcludedChildrenTests
{
    // public.events is partitioned: events_2024 (itself partitioned: events_2024_q1) and events_2025; public.logs has
    // an inheritance child archive.logs_old.
    static readonly TableAncestor[] s_ancestry =
    [
        new("public", "events_2024", "public", "events"),
        new("public", "events_2024_q1", "public", "events_2024"),
        new("public", "events_2024_q1", "public", "events"),
        new("public", "events_2025", "public", "events"),
        new("archive", "logs_old", "public", "logs"),
    ];

    [Fact]
    public void Add_ExcludedPartitionedTable_ExcludesEveryPartitionTransitively()
    {
        var options = ExcludedChildren.Add(new SourceOptions { ExcludeTableData = ["public.events"], ExcludeTables = ["public.logs"] }, s_ancestry);

        Assert.Equal(["public.events", "\"public\".\"events_2024\"", "\"public\".\"events_2024_q1\"", "\"public\".\"events_2025\""], options.ExcludeTableData);
        Assert.Equal(["public.logs", "\"archive\".\"logs_old\""], options.ExcludeTables);
    }

    [Fact]
    public void Add_ExcludedPartition_ExcludesItsOwnPartitionsOnly()
    {
        var options = ExcludedChildren.Add(new SourceOptions { ExcludeTableData = ["public.events_2024"] }, s_ancestry);

        Assert.Equal(["public.events_2024", "\"public\".\"events_2024_q1\""], options.ExcludeTableData);
    }

    [Fact]
    public void Add_ChildAlreadyMatchedOrNoParentExcluded_AddsNothing()
    {
        var options = new SourceOptions { ExcludeTableData = ["public.events*"], Tables = ["public.*"] };

        Assert.Same(options, ExcludedChildren.Add(options, s_ancestry));
        var none = new SourceOptions { Tables = ["public.events"] };
        Assert.Same(none, ExcludedChildren.Add(none, s_ancestry)); // --table is not an exclusion: pg_dump decides
    }

    [Fact]
    public void Add_QuotesOddNames()
    {
        var options = ExcludedChildren.Add(new SourceOptions { ExcludeTables = ["\"Odd\".\"Parent\""] },
            [new TableAncestor("Odd", "Child \"1\".x", "Odd", "Parent")]);

        Assert.Equal(["\"Odd\".\"Parent\"", "\"Odd\".\"Child \"\"1\"\".x\""], options.ExcludeTables);
    }

    /// <summary>A parent whose name holds a newline, which pg_dump's "public.audit*" matches: its partition is excluded too.</summary>
    [Fact]
    public void Add_ParentNameWithNewline_ExcludesItsChildren()
    {
        var options = ExcludedChildren.Add(new SourceOptions { ExcludeTables = ["public.audit*"] },
            [new TableAncestor("public", "p1", "public", "audit\nlog")]);

        Assert.Equal(["public.audit*", "\"public\".\"p1\""], options.ExcludeTables);
    }

    [Fact]
    public void Parse_ReadsTheQueryAnswer()
    {
        Assert.Equal([new TableAncestor("public", "a|b", "s\"x", "p")], ExcludedChildren.Parse("""[["public", "a|b", "s\"x", "p"]]"""));
        Assert.Empty(ExcludedChildren.Parse("[]"));
    }
}
