using System.Text;
using Replica.Bridges;
using Replica.Destinations;
using Replica.Lexing;

namespace Replica.Pipeline;

internal static partial class ParallelRestore
{
    /// <summary>The most bytes of post-data statements (index builds, foreign keys) held to run before the rest of post-data.</summary>
    const int MaxEarlyBytes = 64 << 20;

    /// <summary>
    /// Stored bytes of data parts after which a connection commits (and starts a new psql for the next part): small tables
    /// share a transaction, a large one has its own, so the index builds that wait for it start when it is in.
    /// </summary>
    const long DataBatchBytes = 16L << 20;

    /// <summary>
    /// A post-data statement that runs before the rest of post-data, as soon as what it reads is in (pg_restore -j
    /// schedules the same way): an index build once its table's data is committed, a foreign key once both its tables'
    /// data and index builds are. <see cref="Tables"/> null: it may touch any table (it waits for every data part).
    /// </summary>
    internal sealed record EarlyStep(int Order, SessionSettings AllSettings, int SettingCount, byte[] Statement, RestoreStep Step, TableName[]? Tables)
    {
        /// <summary>The session settings the dump made before this statement (read once the post-data was read).</summary>
        public IEnumerable<byte[]> Settings => AllSettings.Take(SettingCount);
    }

    /// <summary>The early steps of the post-data parts, and which units (post-data part, unit number) they are.</summary>
    sealed record EarlySteps(List<EarlyStep> Steps, HashSet<(int Part, int Unit)> Taken);

    /// <summary>
    /// Reads post-data once before the data goes in, taking its index builds and foreign keys, in dump order, as early
    /// steps: up to <see cref="MaxEarlyBytes"/>, and only up to the first foreign key whose tables both have a data
    /// part (one on a partitioned table waits for the partitions' index attachments, which run in order with the rest),
    /// so that no step runs ahead of a statement on its tables that pg_dump put before it. What is not taken runs after
    /// the data as before (<see cref="PostDataAsync"/>).
    /// </summary>
    static async Task<EarlySteps> CollectEarlyAsync(Run run, IReadOnlyList<PartSlice> postData, IReadOnlySet<TableName> dataTables,
        CancellationToken cancellationToken)
    {
        var early = new EarlySteps([], []);
        var settings = new SessionSettings();
        long bytes = 0;
        bool open = true;
        for (int part = 0; part < postData.Count; part++)
        {
            int unit = -1;
            int partIndex = part;
            await RouteAsync(run, postData[part], (routed, _) =>
            {
                unit++;
                if (routed.Step == RestoreStep.SessionSetting)
                {
                    settings.Add(routed.Bytes);
                    return Task.CompletedTask;
                }
                if (!open || routed.Step is not (RestoreStep.IndexBuild or RestoreStep.ForeignKey))
                {
                    return Task.CompletedTask;
                }
                // A table without a data part (a partitioned table, whose index recurses into its partitions): any table.
                var tables = routed.Tables is { } named && named.All(dataTables.Contains) ? named : null;
                if (routed.Step == RestoreStep.ForeignKey && tables is null)
                {
                    open = false;
                    return Task.CompletedTask;
                }
                bytes += routed.Bytes.Length;
                if (bytes > MaxEarlyBytes)
                {
                    open = false;
                    return Task.CompletedTask;
                }
                early.Steps.Add(new EarlyStep(early.Steps.Count, settings, settings.Count, routed.Bytes, routed.Step, tables));
                early.Taken.Add((partIndex, unit));
                return Task.CompletedTask;
            }, cancellationToken).ConfigureAwait(false);
        }
        return early;
    }

    /// <summary>The table a data part holds (<see cref="PartInfo.Table"/>, "schema.table" quoted as SQL), or null.</summary>
    static TableName? TableOf(PartInfo part)
    {
        if (part.Table is null)
        {
            return null;
        }
        var t = new SqlTokenizer(Encoding.UTF8.GetBytes(part.Table));
        return t.Next() && StatementParser.TryReadQualifiedName(ref t, out var table) && t.Kind == TokenKind.End ? table : null;
    }

    /// <summary>
    /// Runs the data parts and the early steps of post-data on up to <see cref="Run.Jobs"/> connections: data parts first,
    /// largest first (a connection keeps one transaction over parts until <see cref="DataBatchBytes"/>, then commits),
    /// then each early step, in dump order, once what it waits for is committed, on a connection of its own that runs
    /// the session settings the dump made before it and commits on its own.
    /// </summary>
    static Task RunScheduledAsync(Run run, IReadOnlyList<(PartSlice Slice, long Size, TableName? Table)> data, IReadOnlyList<EarlyStep> steps,
        IReadOnlyList<byte[]> preamble, CancellationToken cancellationToken)
    {
        var schedule = new Schedule(data, steps);
        return WhenAllAsync(Enumerable.Range(0, run.Jobs).Select(_ => (Func<CancellationToken, Task>)(async token =>
        {
            GuardedSession? session = null;
            var batch = new List<Schedule.Job>();
            long batchBytes = 0;
            try
            {
                while (true)
                {
                    var job = await schedule.NextAsync(inBatch: session is not null, token).ConfigureAwait(false);
                    if (session is not null && (job is null || batchBytes >= DataBatchBytes))
                    {
                        // No data part left for this transaction, or it is large enough: commit, so that what waits for
                        // these tables can start.
                        await session.CompleteAsync(token).ConfigureAwait(false);
                        session.Dispose();
                        session = null;
                        schedule.Done(batch);
                        batch.Clear();
                        batchBytes = 0;
                        if (job is null)
                        {
                            continue;
                        }
                    }
                    if (job is null)
                    {
                        return;
                    }
                    if (job.Data is { } slice)
                    {
                        session ??= await run.StartDataSessionAsync(preamble, token, refuseCode: true).ConfigureAwait(false);
                        await run.WriteAsync(slice, session, token).ConfigureAwait(false);
                        batch.Add(job);
                        batchBytes += job.Size;
                        continue;
                    }
                    var step = job.Step!;
                    using (var own = await run.StartAsync(transaction: false, token).ConfigureAwait(false))
                    {
                        own.Runs("an index build or foreign key of post-data");
                        foreach (var setting in step.Settings)
                        {
                            await own.WriteAsync(setting, token).ConfigureAwait(false);
                        }
                        await own.WriteAsync(step.Statement, token).ConfigureAwait(false);
                        await own.CompleteAsync(token).ConfigureAwait(false);
                    }
                    run.Count(step.Statement.Length);
                    schedule.Done([job]);
                }
            }
            finally
            {
                session?.Dispose();
            }
        })), cancellationToken);
    }

    /// <summary>
    /// Which job may run next: data parts (all ready from the start, largest first), then early steps as their
    /// prerequisites finish, in dump order. A step waits for the data parts of its tables (every data part when its
    /// tables are unknown); an index build and a foreign key on a common table run in dump order (the key may need the
    /// index); two foreign keys on a common table run one at a time, in either order (each locks both its tables in
    /// SHARE ROW EXCLUSIVE mode, as pg_restore -j avoids running such steps at once too).
    /// </summary>
    internal sealed class Schedule
    {
        public sealed class Job
        {
            public PartSlice? Data { get; init; }
            public long Size { get; init; }
            public EarlyStep? Step { get; init; }
            public int Pending { get; set; }
            public List<Job> Dependents { get; } = [];
        }

        readonly Job[] _data;
        /// <summary>Steps whose prerequisites are done, in dump order.</summary>
        readonly List<Job> _ready = [];
        readonly List<Job> _runningKeys = [];
        int _nextData;
        int _unfinished;
        int _running;
        TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Schedule(IReadOnlyList<(PartSlice Slice, long Size, TableName? Table)> data, IReadOnlyList<EarlyStep> steps)
        {
            var largestFirst = data.OrderByDescending(d => d.Size).ToArray();
            _data = [.. largestFirst.Select(d => new Job { Data = d.Slice, Size = d.Size })];
            var dataOf = new Dictionary<TableName, List<Job>>();
            var unknownData = new List<Job>();
            for (int i = 0; i < _data.Length; i++)
            {
                if (largestFirst[i].Table is { } table)
                {
                    if (!dataOf.TryGetValue(table, out var list))
                    {
                        dataOf[table] = list = [];
                    }
                    list.Add(_data[i]);
                }
                else
                {
                    unknownData.Add(_data[i]);
                }
            }
            var earlier = new List<Job>();
            foreach (var step in steps)
            {
                var job = new Job { Step = step };
                var before = new HashSet<Job>(unknownData);
                bool anyTable = step.Tables is null || step.Tables.Any(t => !dataOf.ContainsKey(t));
                if (anyTable)
                {
                    before.UnionWith(_data);
                }
                else
                {
                    foreach (var table in step.Tables!)
                    {
                        before.UnionWith(dataOf[table]);
                    }
                }
                foreach (var other in earlier)
                {
                    // An index build and a foreign key on one table run in dump order (the key may need the index); two
                    // foreign keys on one table in either order, one at a time (Conflicts).
                    if ((step.Step == RestoreStep.ForeignKey) != (other.Step!.Step == RestoreStep.ForeignKey) && Overlap(step, other.Step))
                    {
                        before.Add(other);
                    }
                }
                foreach (var prerequisite in before)
                {
                    prerequisite.Dependents.Add(job);
                }
                job.Pending = before.Count;
                if (job.Pending == 0)
                {
                    _ready.Add(job);
                }
                earlier.Add(job);
            }
            _unfinished = _data.Length + steps.Count;
        }

        /// <summary>
        /// The next job for a connection, waiting until one is ready; null when every job is done. <paramref name="inBatch"/>:
        /// the caller holds data parts not yet committed: it gets a data part, or null at once when none is left (it
        /// must not wait: what it holds may be what the others wait for).
        /// </summary>
        public async Task<Job?> NextAsync(bool inBatch, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task changed;
                lock (this)
                {
                    if (_nextData < _data.Length)
                    {
                        _running++;
                        return _data[_nextData++];
                    }
                    if (inBatch)
                    {
                        return null;
                    }
                    int index = _ready.FindIndex(job => job.Step!.Step != RestoreStep.ForeignKey || !_runningKeys.Exists(key => Overlap(key.Step!, job.Step)));
                    if (index >= 0)
                    {
                        var job = _ready[index];
                        _ready.RemoveAt(index);
                        if (job.Step!.Step == RestoreStep.ForeignKey)
                        {
                            _runningKeys.Add(job);
                        }
                        _running++;
                        return job;
                    }
                    if (_unfinished == 0)
                    {
                        return null;
                    }
                    if (_running == 0)
                    {
                        throw new InvalidOperationException($"{_unfinished} restore steps wait for each other");
                    }
                    changed = _changed.Task;
                }
                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Whether two steps may touch one table (a step of unknown tables touches every one).</summary>
        static bool Overlap(EarlyStep a, EarlyStep b) => a.Tables is null || b.Tables is null || a.Tables.Intersect(b.Tables).Any();

        /// <summary>Marks <paramref name="jobs"/> done (committed): what waited only for them becomes ready.</summary>
        public void Done(IReadOnlyList<Job> jobs)
        {
            TaskCompletionSource changed;
            lock (this)
            {
                foreach (var job in jobs)
                {
                    _unfinished--;
                    _running--;
                    _runningKeys.Remove(job);
                    foreach (var dependent in job.Dependents)
                    {
                        if (--dependent.Pending == 0)
                        {
                            int at = _ready.FindIndex(r => r.Step!.Order > dependent.Step!.Order);
                            _ready.Insert(at < 0 ? _ready.Count : at, dependent);
                        }
                    }
                }
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            changed.SetResult();
        }
    }
}
