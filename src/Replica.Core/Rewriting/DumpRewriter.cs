using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using Replica.Lexing;

namespace Replica.Rewriting;

/// <summary>Counters of one rewrite, for progress and the final report.</summary>
public sealed class RewriteStatistics
{
    public long BytesIn { get; internal set; }
    public long Rows { get; internal set; }
    public long TransformedValues { get; internal set; }
    public long DroppedRows { get; internal set; }
    public int CopyBlocks { get; internal set; }
    /// <summary>Tables whose data has begun (a COPY block, or the first INSERT of a table after another's).</summary>
    public int Tables { get; internal set; }
    public long Statements { get; internal set; }

    /// <summary>Adds another rewrite's counters (a part of a dump in parts) to these.</summary>
    internal void Add(RewriteStatistics other)
    {
        BytesIn += other.BytesIn;
        Rows += other.Rows;
        TransformedValues += other.TransformedValues;
        DroppedRows += other.DroppedRows;
        CopyBlocks += other.CopyBlocks;
        Tables += other.Tables;
        Statements += other.Statements;
    }
}

/// <summary>
/// Reads a plain-format PostgreSQL dump (or, with <see cref="SqlDialect.MySql"/>, mysqldump output) as bytes and writes it back with the configured columns transformed and the
/// configured tables dropped. Every byte that no rule touches is copied unchanged; memory is bounded by the largest
/// single row or statement (<see cref="MaxUnitBytes"/>), never by a table or the dump.
/// The input arrives in blocks of any size (<see cref="Process"/>), the end of input is <see cref="Complete"/>.
/// </summary>
public sealed partial class DumpRewriter : IDisposable
{
    readonly RewriteRules _rules;
    readonly UnitBuffer _carry = new();
    readonly Dictionary<TableName, TableState> _tables = [];
    readonly Dictionary<(TableName, string), RowPlan> _insertPlans = [];
    readonly RuleChecker _checker;
    readonly DumpLexer _lexer;
    /// <summary>The unit being handled.</summary>
    DumpUnit _unit;
    long _inputOffset;
    RowPlan? _copy;
    string? _copyTable;
    long _copyRow;

    public DumpRewriter(RewriteRules rules, long maxUnitBytes = 256L << 20, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        _rules = rules;
        _checker = new RuleChecker(rules, _tables);
        MaxUnitBytes = maxUnitBytes;
        Dialect = dialect;
        _lexer = new DumpLexer(dialect);
        _row.Counters = _statistics;
        _laneTransformer = (plan, column) => plan.Table.NewTransformer(plan.Columns[column], _rules);
    }

    /// <summary>Whether the input is a PostgreSQL plain dump or mysqldump / mariadb-dump output.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>The largest row or statement that may be held in memory (config limits.max_row_size).</summary>
    public long MaxUnitBytes { get; }

    readonly RewriteStatistics _statistics = new();

    /// <summary>The counters so far; in a dump in parts, those of every part (each read once at the time it is asked).</summary>
    public RewriteStatistics Statistics => _parts is null ? _statistics : SumOfParts();

    /// <summary>Rules that matched nothing (with unmatched_rules: warn) and rules that the config itself makes moot.</summary>
    public IReadOnlyList<string> Warnings => _checker.Warnings;

    /// <summary>
    /// Reads the whole input pipe and writes the rewritten dump to the output pipe (not completed here). With
    /// <paramref name="maskingLanes"/> above 1, the rows of COPY blocks are masked on that many lanes while this task
    /// lexes on (<see cref="ParallelMasking"/>); the output is the same bytes, and a failure the same error.
    /// </summary>
    public Task RunAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken = default) =>
        RunAsync(input, output, maskingLanes: 1, cancellationToken);

    /// <inheritdoc cref="RunAsync(PipeReader, PipeWriter, CancellationToken)"/>
    public async Task RunAsync(PipeReader input, PipeWriter output, int maskingLanes, CancellationToken cancellationToken = default)
    {
        if (maskingLanes <= 1 || _rules.IsEmpty)
        {
            await RunCoreAsync(input, output, null, cancellationToken).ConfigureAwait(false);
            return;
        }
        var masking = new ParallelMasking(output, maskingLanes, _statistics);
        await using (masking.ConfigureAwait(false))
        {
            _masking = masking;
            try
            {
                await RunCoreAsync(input, output, masking, cancellationToken).ConfigureAwait(false);
                if (_checkAfterLanes)
                {
                    // Every lane has masked its last row: the json paths each found are all counted now.
                    _checkAfterLanes = false;
                    _checker.OnComplete();
                }
            }
            catch (Exception e) when (!masking.Failed)
            {
                // A lane may have failed on an earlier row than the one this task failed on: the dump's first error wins.
                if (await masking.FirstFailureAsync().ConfigureAwait(false) is { } earlier && earlier != e)
                {
                    ExceptionDispatchInfo.Throw(earlier);
                }
                throw;
            }
            finally
            {
                _masking = null;
                _maskCopy = false;
                _checkAfterLanes = false;
            }
        }
    }

    async Task RunCoreAsync(PipeReader input, PipeWriter output, ParallelMasking? masking, CancellationToken cancellationToken)
    {
        IBufferWriter<byte> writer = masking is null ? output : masking;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var stopped = false;
            try
            {
                foreach (var segment in buffer)
                {
                    if (masking is null)
                    {
                        Process(segment.Span, writer);
                        continue;
                    }
                    // With lanes, the rewriter catches up with them after every slice: no more batches are made between
                    // two waits than a slice holds, whatever the size of the block read.
                    for (var start = 0; start < segment.Length && !stopped; start += ParallelMasking.SliceBytes)
                    {
                        Process(segment.Span.Slice(start, Math.Min(ParallelMasking.SliceBytes, segment.Length - start)), writer);
                        var flushed = await masking.FlushAsync(final: false, cancellationToken).ConfigureAwait(false);
                        stopped = flushed.IsCanceled || flushed.IsCompleted;
                    }
                    if (stopped)
                    {
                        break;
                    }
                }
                if (result.IsCompleted && !stopped)
                {
                    Complete(writer);
                }
            }
            finally
            {
                // Every byte is either written out or kept in the carry buffer, so the whole block is consumed.
                input.AdvanceTo(buffer.End);
            }
            var flush = masking is null
                ? await output.FlushAsync(cancellationToken).ConfigureAwait(false)
                : await masking.FlushAsync(result.IsCompleted, cancellationToken).ConfigureAwait(false);
            if (stopped || result.IsCompleted || flush.IsCanceled || flush.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>Processes the next block of input.</summary>
    public void Process(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        var pos = 0;
        if (_carry.Length > 0)
        {
            var end = _lexer.Scan(data, 0, _inputOffset);
            if (end < 0)
            {
                AppendCarry(data);
                Advance(data.Length);
                return;
            }
            AppendCarry(data[..end]);
            HandleUnit(_carry.Span, output);
            _carry.Clear();
            pos = end;
        }
        while (pos < data.Length)
        {
            if (_maskCopy && _lexer.InCopyData)
            {
                pos = MaskRowsInBulk(data, pos);
                if (pos >= data.Length)
                {
                    break;
                }
            }
            else if (_lexer.InCopyData && !_copy!.ReadsRows)
            {
                pos = ProcessRowsInBulk(data, pos, output);
                if (pos >= data.Length)
                {
                    break;
                }
                // A row cut by the end of the block, the end marker, or a row to look at closely: one unit of its own.
            }
            var end = _lexer.Scan(data, pos, _inputOffset);
            if (end < 0)
            {
                AppendCarry(data[pos..]);
                break;
            }
            CheckUnitSize(end - pos);
            HandleUnit(data[pos..end], output);
            pos = end;
        }
        Advance(data.Length);
    }

    /// <summary>Ends the input: a statement without its semicolon is still a statement; an open quote or COPY block is an error.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (_carry.Length > 0)
        {
            var unit = _carry.Span;
            switch (_lexer.Mode)
            {
                case LexerMode.Sql:
                    if (!_lexer.CanEndAtEof)
                    {
                        DumpThrow.OpenAtEnd(_lexer, unit);
                    }
                    HandleUnit(unit, output);
                    break;
                case LexerMode.CopyData when DumpLexer.IsEndMarker(unit):
                    HandleUnit(unit, output);
                    break;
                default:
                    ThrowTruncatedCopy();
                    break;
            }
            _carry.Clear();
        }
        else if (_lexer.Mode != LexerMode.Sql)
        {
            ThrowTruncatedCopy();
        }
        foreach (var table in _tables.Values)
        {
            table.CompleteTransformers();
        }
        // In a dump in parts, what the whole dump does not contain is known only once every part has ended (CompleteParts);
        // with masking lanes, which json paths were found only once the lanes are done (RunAsync checks then).
        if (_schema is null && _parts is null)
        {
            if (_masking is null)
            {
                _checker.OnComplete();
            }
            else
            {
                _checkAfterLanes = true;
            }
        }
    }

    /// <summary>The input ended while masking lanes ran: the end-of-dump checks wait for them (<see cref="RunAsync(PipeReader, PipeWriter, int, CancellationToken)"/>).</summary>
    bool _checkAfterLanes;

    void ThrowTruncatedCopy() => RewriteThrow.TruncatedCopy(_lexer.UnitOffset, _lexer.UnitLineNumber, _copyTable, _copyRow + 1);

    void Advance(int length)
    {
        _inputOffset += length;
        _statistics.BytesIn = _inputOffset;
    }

    void AppendCarry(ReadOnlySpan<byte> bytes)
    {
        CheckUnitSize((long)_carry.Length + bytes.Length);
        _carry.Append(bytes);
    }

    void CheckUnitSize(long length)
    {
        if (length > MaxUnitBytes)
        {
            var row = _lexer.InCopyData;
            DumpThrow.UnitTooLarge(row, MaxUnitBytes, _lexer.UnitOffset, _lexer.UnitLineNumber, row ? _copyTable : null, row ? _copyRow + 1 : 0);
        }
    }

    /// <summary>One complete unit: a statement, a meta-command line, the rest of a COPY line, or a COPY row.</summary>
    void HandleUnit(ReadOnlySpan<byte> bytes, IBufferWriter<byte> output)
    {
        _unit = _lexer.Complete(bytes);
        switch (_unit.Kind)
        {
            case UnitKind.CopyRow:
                HandleRow(bytes, output);
                return;
            case UnitKind.CopyEnd:
                EndCopy(bytes, output);
                return;
            case UnitKind.CopyHeaderTail:
                if (!_copy!.DropsRows)
                {
                    Write(output, bytes);
                }
                return;
            case UnitKind.MetaCommand:
                CheckMetaCommand(bytes);
                CheckBackslashAfterNonAscii(bytes);
                Write(output, bytes);
                break;
            case UnitKind.Delimiter or UnitKind.BadDelimiter or UnitKind.MisplacedDelimiter:
                HandleDelimiterCommand(bytes, output);
                break;
            case UnitKind.LongDollarTag:
                Refuse(StatementParser.LongDollarTagReason, bytes, (int)(_unit.OpenedAt - _unit.Offset));
                break;
            default:
                CheckStatement(bytes);
                HandleStatement(bytes, output);
                break;
        }
        _statistics.Statements++;
    }

    void HandleStatement(ReadOnlySpan<byte> statement, IBufferWriter<byte> output)
    {
        if (_lexer.MySql)
        {
            HandleMySqlStatement(statement, output);
            return;
        }
        if (_unit.Kind == UnitKind.CopyHeader)
        {
            _ = StatementParser.TryParseCopy(statement, out var copyTable, out var copyColumns); // the lexer already read it as a COPY header
            if (StatementParser.CopyHasOptions(statement))
            {
                RewriteThrow.CopyWithOptions(_unit, copyTable);
            }
            BeginCopy(copyTable, copyColumns, statement, output);
            return;
        }
        if (_rules.IsEmpty && Filter is null)
        {
            Write(output, statement);
            return;
        }
        var t = new SqlTokenizer(statement);
        t.Next();
        FollowCreate(statement, t.IsWord("create"u8));
        if (!_inCreate && (!t.IsWord("insert"u8) || StatementParser.MayNameSetConfig(statement))
            && StatementParser.FindSearchPathAwayFromPublic(statement, _unit.NonStandardStrings, out var pathAt) is { } schemas)
        {
            RewriteThrow.SearchPathAwayFromPublic(schemas, _unit, statement, pathAt);
        }
        if (t.IsWord("insert"u8) && _inCreate)
        {
            // An INSERT of a BEGIN ATOMIC body or a rule's actions is code, not rows: written as the dump has it, like
            // the UPDATE or INSERT ... SELECT there (pg_dump writes such procedures; VALUES (add.e) was refused as a
            // value that is not a literal, found by review).
            Write(output, statement);
            return;
        }
        if (t.IsWord("insert"u8))
        {
            HandleInsert(statement, output);
            return;
        }
        if (t.IsWord("select"u8) && LeaveOutStatistics(statement, output))
        {
            return;
        }
        if (!_inCreate && (t.IsWord("update"u8) || t.IsWord("merge"u8) || t.IsWord("with"u8) || t.IsWord("prepare"u8) || t.IsWord("explain"u8) || t.IsWord("do"u8))
            && CheckWrites(statement))
        {
            return;
        }
        if (!_inCreate && t.IsWord("alter"u8))
        {
            CheckRenames(statement);
        }
        if (!_inCreate && (t.IsWord("create"u8) || t.IsWord("select"u8)))
        {
            CheckTableFilledByQuery(statement);
        }
        if (t.IsWord("create"u8) && StatementParser.TryParseCreateTable(statement, out var created, out var columns, out var parents, out var partitionOf))
        {
            var state = Table(created);
            state.Define(columns, parents.ConvertAll(Table), partitionOf);
            ForgetPlans();
            _checker.OnCreateTable(state, hasParent: parents.Count > 0);
            FollowViews(statement, created);
        }
        else if (t.IsWord("create"u8))
        {
            FollowViews(statement, null);
        }
        else if (t.IsWord("alter"u8) && StatementParser.TryParseAttachPartition(statement, out var partitioned, out var child))
        {
            var state = Table(child);
            if (state.Parents.Count == 0)
            {
                CheckJoinAfterData(state, Table(partitioned), statement, t.Start);
                state.SetParents([Table(partitioned)], partition: true);
                ForgetPlans();
            }
        }
        else if (t.IsWord("alter"u8) && StatementParser.TryParseAlterTableColumns(statement, out var altered, out var changesColumns, out var inherits))
        {
            // pg_dump writes no such ALTER TABLE before a table's data; a dump that does (two dumps one after the
            // other, a script) may move a column to where another was, so INSERTs and COPY without a column list into
            // the table are refused from now on (WhyColumnOrderUnknown), and the plans built on the old columns go.
            var state = Table(altered);
            state.ColumnsAltered |= changesColumns;
            foreach (var parent in inherits)
            {
                CheckJoinAfterData(state, Table(parent), statement, t.Start);
                state.AddParent(Table(parent));
            }
            ForgetPlans();
        }
        else if (t.IsWord("alter"u8) && Filter is not null && StatementParser.TryParseAddKey(statement, out var keyed, out var key))
        {
            Table(keyed).Keys.Add(key!);
        }
        if (_rules.DropsTables && NamesDroppedTable(statement))
        {
            return;
        }
        Write(output, statement);
    }

    readonly List<TableName> _named = [];

    /// <summary>The tables the dump has named so far: their columns, parents and (with a row filter) keys.</summary>
    internal IReadOnlyCollection<TableState> Tables => _tables.Values;

    bool NamesDroppedTable(ReadOnlySpan<byte> statement)
    {
        _named.Clear();
        StatementParser.CollectTables(statement, _named);
        foreach (var name in _named)
        {
            // Only tables this dump creates count: a word after ON (ON DELETE ...) is not a table.
            if (TryGetTable(name, out var state) && state.Created && state.Action(_rules) == TableAction.Drop)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// A table was defined again or changed (CREATE TABLE, ATTACH PARTITION, ALTER TABLE): the INSERT plans built from
    /// the columns and ancestry known before may put a transformer on another column now, so every one is built again
    /// when next needed (plans are few, and such statements come before the data in a dump).
    /// </summary>
    void ForgetPlans()
    {
        _insertPlans.Clear();
        _repeat.Table = null;
    }

    TableState Table(TableName name)
    {
        if (!TryGetTable(name, out var state))
        {
            state = new TableState(name, Dialect);
            _tables.Add(name, state);
        }
        return state;
    }

    /// <summary>
    /// Copies into whatever space the output offers, piece by piece: asking a pipe for one span as large as a whole block
    /// of rows would make it allocate a fresh segment of that size each time instead of reusing pooled ones.
    /// </summary>
    internal static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            var span = output.GetSpan();
            var n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            output.Advance(n);
            bytes = bytes[n..];
        }
    }

    public void Dispose()
    {
        DisposeParts();
        foreach (var table in _tables.Values)
        {
            table.Dispose();
        }
        _carry.Dispose();
        _row.Dispose();
    }
}
