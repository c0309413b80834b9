using Replica.Bridges;
using Replica.Lexing;
using Replica.Pipeline;
using static Replica.Pipeline.ParallelRestore;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// The order in which `restore --jobs N` hands out a dump in parts: data parts largest first, each post-data index build
/// as soon as its table's data is committed (while a larger table still loads), foreign keys after the index builds
/// of both their tables and one at a time per table, a step of unknown tables after all the data.
/// </summary>
public sealed class ParallelRestoreScheduleTests
{
    static readonly TableName s_customers = new("public", "customers");
    static readonly TableName s_orders = new("public", "orders");
    static readonly TableName s_events = new("public", "events");

    static (PartSlice Slice, long Size, TableName? Table) Data(int index, long size, TableName? table) =>
        (new PartSlice(new PartInfo(index, PartKind.Data, 1) { Table = table?.ToString() }, [], 0, 0, 0, 0), size, table);

    static EarlyStep Step(int order, RestoreStep step, params TableName[]? tables) =>
        new(order, new SessionSettings(), 0, [], step, tables);

    static string Name(Schedule.Job? job) => job is null ? "none" : job.Step is { } step ? $"step {step.Order}" : $"data {job.Data!.Value.Part.Index}";

    static async Task<string> NextAsync(Schedule schedule) =>
        Name(await schedule.NextAsync(inBatch: false, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

    [Fact]
    public async Task NextAsync_ShopDump_BuildsIndexesOfLoadedTablesWhileTheLargestLoadsAndRunsForeignKeysOneAtATime()
    {
        // pg_dump's post-data order: customers' unique email and primary key, events' and orders' primary keys, then the
        // foreign keys of events and orders, both on customers.
        var schedule = new Schedule(
            [Data(2, 50, s_customers), Data(3, 300, s_events), Data(4, 200, s_orders)],
            [
                Step(0, RestoreStep.IndexBuild, s_customers),
                Step(1, RestoreStep.IndexBuild, s_customers),
                Step(2, RestoreStep.IndexBuild, s_events),
                Step(3, RestoreStep.IndexBuild, s_orders),
                Step(4, RestoreStep.ForeignKey, s_events, s_customers),
                Step(5, RestoreStep.ForeignKey, s_orders, s_customers),
            ]);
        var jobs = new Dictionary<string, Schedule.Job>();
        async Task<string> Take()
        {
            var job = await schedule.NextAsync(inBatch: false, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            jobs[Name(job)] = job!;
            return Name(job);
        }
        void Done(string name) => schedule.Done([jobs[name]]);

        Assert.Equal(["data 3", "data 4", "data 2"], [await Take(), await Take(), await Take()]);
        Done("data 4");
        // orders is in, events still loads: orders' primary key goes now, not after every table.
        Assert.Equal("step 3", await Take());
        Done("data 2");
        Done("step 3");
        Assert.Equal(["step 0", "step 1"], [await Take(), await Take()]);
        Done("step 0");
        Done("step 1");
        // orders' foreign key (its tables and their indexes are in) before events' primary key is ready.
        Assert.Equal("step 5", await Take());
        Done("data 3");
        Assert.Equal("step 2", await Take());
        Done("step 2");
        // events' foreign key is ready but locks customers, which orders' foreign key still validates against.
        var waiting = schedule.NextAsync(inBatch: false, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        Done("step 5");
        jobs["step 4"] = (await waiting.WaitAsync(TimeSpan.FromSeconds(10)))!;
        Assert.Equal("step 4", Name(jobs["step 4"]));
        Done("step 4");
        Assert.Equal("none", await NextAsync(schedule));
    }

    [Fact]
    public async Task NextAsync_StepOfUnknownTables_WaitsForEveryDataPart()
    {
        // An index on a partitioned table (no data part of its own) recurses into the partitions.
        var schedule = new Schedule([Data(2, 20, s_orders), Data(3, 10, s_events)], [Step(0, RestoreStep.IndexBuild, tables: null)]);
        var orders = await schedule.NextAsync(inBatch: false, CancellationToken.None);
        var events = await schedule.NextAsync(inBatch: false, CancellationToken.None);
        schedule.Done([orders!]);

        var step = schedule.NextAsync(inBatch: false, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(step.IsCompleted);
        schedule.Done([events!]);
        Assert.Equal("step 0", Name(await step.WaitAsync(TimeSpan.FromSeconds(10))));
    }

    [Fact]
    public async Task NextAsync_InBatchWithNoDataLeft_ReturnsNullAtOnce()
    {
        // A connection holding uncommitted data parts must commit them before it waits for anything.
        var schedule = new Schedule([Data(2, 20, s_orders)], [Step(0, RestoreStep.IndexBuild, s_orders)]);
        var orders = await schedule.NextAsync(inBatch: false, CancellationToken.None);

        Assert.Null(await schedule.NextAsync(inBatch: true, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        schedule.Done([orders!]);
        Assert.Equal("step 0", await NextAsync(schedule));
    }
}
