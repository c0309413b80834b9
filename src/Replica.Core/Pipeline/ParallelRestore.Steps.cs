using System.Buffers;
using Replica.Bridges;
using Replica.Destinations;
using Replica.Lexing;

namespace Replica.Pipeline;

internal static partial class ParallelRestore
{
    /// <summary>
    /// Post-data after the data and the early steps (<see cref="CollectEarlyAsync"/>; <paramref name="taken"/>: the units
    /// of this part they ran), in two passes over the part: first its index builds left, on up to N connections at once,
    /// each build on a connection of its own that first runs the session settings (SET ...) the dump made before it, and
    /// commits on its own (a transaction over several builds would hold ADD PRIMARY KEY's ACCESS EXCLUSIVE lock to its
    /// end, and another connection's index on that table would wait for it); then everything else, in dump order, on one
    /// connection in one transaction. A connection per build (a psql each) because psql tells nothing when a statement is
    /// done while its input stays open (its stdout to a pipe is buffered): only its exit does.
    /// </summary>
    static async Task PostDataAsync(Run run, PartSlice slice, IReadOnlySet<int> taken, CancellationToken cancellationToken)
    {
        var settings = new SessionSettings();
        var builds = System.Threading.Channels.Channel.CreateBounded<(int Settings, byte[] Statement)>(run.Jobs);
        await WhenAllAsync(
            Enumerable.Range(0, run.Jobs).Select(_ => (Func<CancellationToken, Task>)(async token =>
            {
                await foreach (var (count, statement) in builds.Reader.ReadAllAsync(token).ConfigureAwait(false))
                {
                    using var session = await run.StartAsync(transaction: false, token).ConfigureAwait(false);
                    session.Runs("an index build of post-data");
                    foreach (var setting in settings.Take(count))
                    {
                        await session.WriteAsync(setting, token).ConfigureAwait(false);
                    }
                    await session.WriteAsync(statement, token).ConfigureAwait(false);
                    await session.CompleteAsync(token).ConfigureAwait(false);
                    run.Count(statement.Length);
                }
            })).Append(async token =>
            {
                try
                {
                    int unit = -1;
                    await RouteAsync(run, slice, async (routed, routeToken) =>
                    {
                        unit++;
                        if (routed.Step == RestoreStep.SessionSetting)
                        {
                            settings.Add(routed.Bytes);
                        }
                        else if (routed.Step == RestoreStep.IndexBuild && !taken.Contains(unit))
                        {
                            await builds.Writer.WriteAsync((settings.Count, routed.Bytes), routeToken).ConfigureAwait(false);
                        }
                    }, token).ConfigureAwait(false);
                }
                finally
                {
                    builds.Writer.TryComplete();
                }
            }), cancellationToken).ConfigureAwait(false);

        using var rest = await run.StartAsync(transaction: true, cancellationToken).ConfigureAwait(false);
        rest.Runs("post-data without its index builds");
        int unit = -1;
        await RouteAsync(run, slice, async (routed, token) =>
        {
            unit++;
            if (routed.Step != RestoreStep.IndexBuild && !taken.Contains(unit))
            {
                await rest.WriteAsync(routed.Bytes, token).ConfigureAwait(false);
                run.Count(routed.Bytes.Length);
            }
        }, cancellationToken).ConfigureAwait(false);
        await rest.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The session settings (SET ...) of post-data so far, which the connection of each index build or foreign key replays
    /// before it; at most <see cref="MaxPreambleBytes"/>. Appended by one reader, read by the builds' connections.
    /// </summary>
    internal sealed class SessionSettings
    {
        readonly List<byte[]> _settings = [];
        long _bytes;

        public int Count
        {
            get
            {
                lock (_settings)
                {
                    return _settings.Count;
                }
            }
        }

        public void Add(byte[] setting)
        {
            _bytes += setting.Length;
            if (_bytes > MaxPreambleBytes)
            {
                throw new ConfigException($"the dump's post-data sets more than {MaxPreambleBytes >> 20} MiB of session settings (SET ...), which every "
                    + "index build's connection would repeat: restore it with --jobs 1");
            }
            lock (_settings)
            {
                _settings.Add(setting);
            }
        }

        /// <summary>The first <paramref name="count"/> settings.</summary>
        public byte[][] Take(int count)
        {
            lock (_settings)
            {
                return _settings.Take(count).ToArray();
            }
        }
    }

    /// <summary>A unit of post-data with its step and, for an index build or a foreign key, its tables (null: unknown).</summary>
    readonly record struct RoutedUnit(RestoreStep Step, byte[] Bytes, TableName[]? Tables);

    /// <summary>Reads <paramref name="slice"/> unit by unit and hands each unit, with its step, to <paramref name="route"/>.</summary>
    static async Task RouteAsync(Run run, PartSlice slice, Func<RoutedUnit, CancellationToken, Task> route, CancellationToken cancellationToken)
    {
        using var splitter = run.Splitter();
        var units = new UnitList();
        await run.ReadAsync(slice, async (plain, token) =>
        {
            splitter.Process(plain.Span, units);
            await units.DrainAsync(route, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        splitter.Complete(units);
        await units.DrainAsync(route, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The units of one block (copied: the block's bytes are gone once it was read), with their steps.</summary>
    sealed class UnitList : IUnitSink
    {
        readonly List<RoutedUnit> _units = [];

        public void Unit(in DumpUnit unit, ReadOnlySpan<byte> bytes)
        {
            var step = RestoreSteps.Of(unit, bytes);
            TableName[]? tables = null;
            if (step is RestoreStep.IndexBuild or RestoreStep.ForeignKey && RestoreSteps.TryReadTables(unit, bytes, out var table, out var referenced))
            {
                tables = referenced is { } other ? [table, other] : [table];
            }
            _units.Add(new RoutedUnit(step, bytes.ToArray(), tables));
        }

        public void Rows(ReadOnlySpan<byte> rows) => _units.Add(new RoutedUnit(RestoreStep.InOrder, rows.ToArray(), null));

        public async Task DrainAsync(Func<RoutedUnit, CancellationToken, Task> route, CancellationToken cancellationToken)
        {
            foreach (var unit in _units)
            {
                await route(unit, cancellationToken).ConfigureAwait(false);
            }
            _units.Clear();
        }
    }

    /// <summary>
    /// Session settings (<see cref="RestoreStep.SessionSetting"/>) that other connections replay before their share of the
    /// dump: with <c>leadingOnly</c> the SET statements a dump (pre-data) starts with, without meta-commands; else every one,
    /// psql's \restrict and the like included. More than <c>maxBytes</c> sets <see cref="TooLarge"/>.
    /// </summary>
    sealed class PreambleCollector(int maxBytes, bool leadingOnly) : IUnitSink
    {
        readonly List<byte[]> _settings = [];
        long _bytes;
        bool _done;

        public IReadOnlyList<byte[]> Settings => _settings;

        public bool TooLarge { get; private set; }

        public void Unit(in DumpUnit unit, ReadOnlySpan<byte> bytes)
        {
            if (_done)
            {
                return;
            }
            if (RestoreSteps.Of(unit, bytes) != RestoreStep.SessionSetting)
            {
                _done = leadingOnly;
                return;
            }
            if (leadingOnly && unit.Kind == UnitKind.MetaCommand)
            {
                return;
            }
            _bytes += bytes.Length;
            if (_bytes > maxBytes)
            {
                TooLarge = true;
                _done = true;
                return;
            }
            _settings.Add(bytes.ToArray());
        }

        public void Rows(ReadOnlySpan<byte> rows) => _done = leadingOnly;
    }

    /// <summary>
    /// Finds the first statement that runs code at restore time (DO, CALL: <see cref="StatementClass.RunsCode"/>) or
    /// defines code that something else may run (CREATE FUNCTION, CREATE PROCEDURE:
    /// <see cref="StatementParser.FindRoutineDefinition"/>). A restore in parallel commits its parts one by one in the
    /// staging database; such code can change what lies outside it (ALTER DATABASE of the destination, ALTER ROLE
    /// CURRENT_USER SET ..., a rename of the destination), and a later failure could not roll that back. So such a dump is
    /// restored on one connection, in one transaction. A function is enough: a SELECT calls it, a trigger that the data's
    /// COPY fires runs it, as do a column default, a CHECK or an index expression, and none of those can be told from
    /// pg_dump's own statements (found by review: a function called by a SELECT, or a trigger on a table of the data,
    /// changed the role's settings in a restore that then failed).
    /// </summary>
    internal sealed class CodeFinder : IUnitSink
    {
        /// <summary>"DO at line 12", "CREATE FUNCTION at line 40", or null while no such statement was seen.</summary>
        public string? First { get; private set; }

        public void Unit(in DumpUnit unit, ReadOnlySpan<byte> bytes)
        {
            if (First is null && RunsCodeAt(unit, bytes, out var what) is var at and >= 0)
            {
                First = $"{what} at line {DumpThrow.LineOf(unit.LineNumber, bytes, at)}";
            }
        }

        /// <summary>
        /// The offset of the word (DO, CALL, CREATE) of a statement that runs or defines code, or -1; <paramref name="what"/>
        /// names it. A piece of a statement psql sends whole (a rule's "DO INSTEAD (...; ...)") runs nothing on its own;
        /// the first piece of a function with a BEGIN ATOMIC body defines one all the same.
        /// </summary>
        internal static int RunsCodeAt(in DumpUnit unit, ReadOnlySpan<byte> bytes, out string? what)
        {
            what = null;
            if (unit.Kind != UnitKind.Statement)
            {
                return -1;
            }
            if (unit.PsqlSendsAlone && StatementParser.Classify(bytes, mySql: false, unit.NonStandardStrings, out var at) == StatementClass.RunsCode)
            {
                what = StatementParser.FirstWord(bytes[at..]).ToUpperInvariant();
                return at;
            }
            return StatementParser.FindRoutineDefinition(bytes, unit.NonStandardStrings, out what);
        }

        public void Rows(ReadOnlySpan<byte> rows)
        {
        }

        /// <summary>Why the dump is restored on one connection (<paramref name="where"/>: " of pre-data" or empty), or null.</summary>
        public string? Reason(string where) =>
            First is null ? null : $"the dump runs code ({First}{where}) that a restore in parallel could not roll back";
    }

    /// <summary>
    /// Refuses a statement that runs or defines code (<see cref="CodeFinder"/>) in a data part, before psql gets it: data
    /// parts are not read before the restore (pg_dump writes none there), and pre-data has committed by the time they run.
    /// </summary>
    sealed class CodeRefuser : IUnitSink
    {
        public void Unit(in DumpUnit unit, ReadOnlySpan<byte> bytes)
        {
            if (CodeFinder.RunsCodeAt(unit, bytes, out var what) is var at and >= 0)
            {
                RestoreGuardThrow.Refused($"{what} in a data part, which runs code that a restore "
                    + "in parallel could not roll back (pg_dump writes none there); restore it with --jobs 1", unit, bytes, unit.Offset + at);
            }
        }

        public void Rows(ReadOnlySpan<byte> rows)
        {
        }
    }

    /// <summary>
    /// Reads a single-stream dump once before anything is restored: every chunk verified, every statement checked by a
    /// guard (a refusal stops the restore here, naming the line), and its COPY blocks found.
    /// </summary>
    static async Task<Plan> ScanStreamAsync(Run run, PartInfo part, IReadOnlyList<ChunkInfo> chunks, int workers, CancellationToken cancellationToken)
    {
        var starts = new List<long> { 0 };
        var passed = new ArrayBufferWriter<byte>(1 << 16);
        var finder = new CopyBlockFinder();
        // One lexer pass: the guard checks every unit, and the finder hears the units that passed.
        using var guard = run.Guard(finder);
        await run.ScanAsync(PartSlice.Whole(part, chunks), workers, (plain, _) =>
        {
            guard.Process(plain.Span, passed);
            passed.ResetWrittenCount();
            return ValueTask.CompletedTask;
        }, length => starts.Add(starts[^1] + length), cancellationToken).ConfigureAwait(false);
        guard.Complete(passed);
        long total = starts[^1];
        var reason = finder.End(total);
        if (reason is not null)
        {
            return new SerialPlan([(part, chunks)], reason);
        }
        PartSlice Range(long from, long toExcl) => PartSlice.Range(part, chunks, starts, from, toExcl);
        return new StreamPlan(
            Range(0, finder.FirstCopy),
            [.. finder.Blocks.Select(b => (Range(b.From, b.ToExcl), b.ToExcl - b.From))],
            Range(finder.TailStart, total),
            finder.Preamble.Settings);
    }

    /// <summary>Finds the run of COPY blocks after the schema, and the session settings before it.</summary>
    sealed class CopyBlockFinder : IUnitSink
    {
        enum Where { Schema, Copy, BetweenCopies, Rest }

        Where _where;
        long _blockStart;

        public PreambleCollector Preamble { get; } = new(MaxPreambleBytes, leadingOnly: false);

        public CodeFinder Code { get; } = new();

        public long FirstCopy { get; private set; } = -1;

        public List<(long From, long ToExcl)> Blocks { get; } = [];

        public long TailStart { get; private set; }

        public void Unit(in DumpUnit unit, ReadOnlySpan<byte> bytes)
        {
            Code.Unit(unit, bytes);
            switch (_where)
            {
                case Where.Schema when unit.Kind == UnitKind.CopyHeader:
                    FirstCopy = _blockStart = unit.Offset;
                    _where = Where.Copy;
                    break;
                case Where.Schema:
                    Preamble.Unit(unit, bytes);
                    break;
                case Where.Copy when unit.Kind == UnitKind.CopyEnd:
                    Blocks.Add((_blockStart, unit.Offset + bytes.Length));
                    _where = Where.BetweenCopies;
                    break;
                case Where.BetweenCopies when unit.Kind == UnitKind.CopyHeader:
                    _blockStart = unit.Offset;
                    _where = Where.Copy;
                    break;
                case Where.BetweenCopies:
                    TailStart = unit.Offset;
                    _where = Where.Rest;
                    break;
            }
        }

        public void Rows(ReadOnlySpan<byte> rows)
        {
        }

        /// <summary>At the end of the dump (<paramref name="total"/> bytes): why it cannot be split, or null.</summary>
        public string? End(long total)
        {
            if (Code.Reason("") is { } code)
            {
                return code;
            }
            switch (_where)
            {
                case Where.Schema:
                    return "the dump has no COPY block to load in parallel (INSERT form, or no data)";
                case Where.Copy:
                    return "its last COPY block has no end marker";
                case Where.BetweenCopies:
                    TailStart = total;
                    break;
            }
            return Preamble.TooLarge ? $"it sets more than {MaxPreambleBytes >> 20} MiB of session settings (SET) before its data" : null;
        }
    }

    /// <summary>A single-stream dump split at its COPY blocks.</summary>
    sealed class StreamPlan(PartSlice schema, IReadOnlyList<(PartSlice Slice, long Size)> blocks, PartSlice rest, IReadOnlyList<byte[]> preamble) : Plan
    {
        public override string Describe(int jobs) =>
            $"restoring on {jobs} connections: a single-stream dump split at its COPY blocks: the schema before them on one, "
            + $"{blocks.Count} COPY {(blocks.Count == 1 ? "block" : "blocks")} in parallel, then the rest in order on one";

        public override async Task RunAsync(Run run, CancellationToken cancellationToken)
        {
            await run.RunSerialAsync([schema], [], cancellationToken).ConfigureAwait(false);
            await run.RunDataAsync(blocks, preamble, cancellationToken).ConfigureAwait(false);
            await run.RunSerialAsync([rest], preamble, cancellationToken).ConfigureAwait(false);
        }
    }
}
