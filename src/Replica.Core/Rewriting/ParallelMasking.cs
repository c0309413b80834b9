using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Rewriting;

/// <summary>
/// Masks the rows of COPY blocks on several lanes while the rewriter lexes on: the rewriter hands over runs of rows
/// (batches of about <see cref="BatchBytes"/>), each lane masks a batch with a <see cref="RowEvaluator"/> and
/// transformers of its own (built from the same rules, so a value gets the same mask on every lane), and the output
/// keeps the input's order: the rewriter writes everything else into this buffer writer, and <see cref="FlushAsync"/>
/// moves what is done, in order, into the output pipe. Memory: at most <c>lanes + 2</c> batches in flight, each its rows
/// and their masked copy. The first error in dump order wins: a lane's failure on an earlier row is reported before a
/// later error the rewriter finds itself (<see cref="FirstFailureAsync"/>), so the message does not depend on timing.
/// Only transformers whose instances share no state between values run here (<see cref="Transformer.CanRunInParallel"/>).
/// </summary>
internal sealed class ParallelMasking : IBufferWriter<byte>, IAsyncDisposable
{
    /// <summary>Rows are handed to a lane in runs of about this many bytes.</summary>
    public const int BatchBytes = 64 << 10;

    /// <summary>The rewriter processes its input in slices of this size and calls <see cref="FlushAsync"/> after each.</summary>
    public const int SliceBytes = 4 * BatchBytes;

    readonly PipeWriter _output;
    readonly RewriteStatistics _statistics;
    readonly Lane[] _lanes;
    readonly Channel<Batch> _work = Channel.CreateUnbounded<Batch>(new UnboundedChannelOptions { SingleWriter = true });
    readonly Task[] _workers;
    readonly CancellationTokenSource _stop = new();
    // In dump order: what the rewriter wrote between batches (done) and batches (done once a lane masked them).
    readonly Queue<Batch> _queue = new();
    readonly Stack<Batch> _free = new();
    readonly int _maxInFlight;
    Batch? _writing;
    Batch? _open;
    int _inFlight;
    RowPlan? _lastPlan;
    Transformer?[][]? _lastSets;

    /// <param name="statistics">The rewriter's counters: the values a batch transformed are added once it is written out.</param>
    public ParallelMasking(PipeWriter output, int lanes, RewriteStatistics statistics)
    {
        _output = output;
        _statistics = statistics;
        _lanes = new Lane[lanes];
        for (var i = 0; i < lanes; i++)
        {
            _lanes[i] = new Lane();
        }
        _maxInFlight = lanes + 2;
        _workers = new Task[lanes];
        for (var i = 0; i < lanes; i++)
        {
            var lane = _lanes[i];
            _workers[i] = Task.Run(() => RunLaneAsync(lane));
        }
    }

    /// <summary>A lane's failure was thrown by <see cref="FlushAsync"/>: it is the dump's first error.</summary>
    public bool Failed { get; private set; }

    /// <summary>Whether every transformer of <paramref name="plan"/> may run on several instances at once.</summary>
    public static bool CanMask(RowPlan plan)
    {
        // Rows a selection chooses stay on the rewriter's thread: the choice reads the key store in order.
        if (!plan.HasTransformers || plan.Selection is not null)
        {
            return false;
        }
        foreach (var transformer in plan.Transformers)
        {
            if (transformer is { CanRunInParallel: false })
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Adds complete COPY rows (each ending in '\n', but the last row of the input may not), contiguous with the rows
    /// added before them in this block: the first starts at <paramref name="offset"/> on <paramref name="line"/> and is
    /// row <paramref name="row"/> of its block.
    /// </summary>
    public void AddRows(ReadOnlySpan<byte> rows, RowPlan plan, Func<RowPlan, int, Transformer?> build, string? copyTable, long offset, long line, long row)
    {
        while (rows.Length > 0)
        {
            if (_open?.Plan is null)
            {
                SealOpen();
                _open = Rent();
                _open.Plan = plan;
                _open.Transformers = TransformersFor(plan, build);
                _open.CopyTable = copyTable;
                _open.Offset = offset;
                _open.Line = line;
                _open.Row = row;
            }
            // Whole rows up to the batch's size; a run of rows longer than that is cut at a row's end, and only a row
            // longer than a batch makes one grow.
            var take = rows.Length;
            var room = BatchBytes - _open.Input.Length;
            if (take > room)
            {
                take = rows[..Math.Max(room, 0)].LastIndexOf((byte)'\n') + 1;
                if (take == 0)
                {
                    if (_open.Input.Length > 0)
                    {
                        SealOpen();
                        continue;
                    }
                    take = rows.IndexOf((byte)'\n') + 1;
                    if (take == 0)
                    {
                        take = rows.Length;
                    }
                }
            }
            var taken = rows[..take];
            _open.Input.Append(taken);
            var lines = taken.Count((byte)'\n');
            offset += take;
            line += lines;
            row += lines;
            rows = rows[take..];
            if (_open.Input.Length >= BatchBytes - 256)
            {
                SealOpen();
            }
        }
    }

    /// <summary>Ends the run of rows being gathered (the end of a COPY block); what follows is written after it.</summary>
    public void EndRows()
    {
        if (_open?.Plan is not null)
        {
            SealOpen();
        }
    }

    public void Advance(int count)
    {
        if (_writing is null)
        {
            _output.Advance(count);
        }
        else
        {
            _writing.Output.Advance(count);
        }
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Target(sizeHint) is { } batch ? batch.Output.GetMemory(sizeHint) : _output.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => Target(sizeHint) is { } batch ? batch.Output.GetSpan(sizeHint) : _output.GetSpan(sizeHint);

    /// <summary>
    /// Where the rewriter's own bytes go: straight into the pipe while no batch waits before them, else into a buffer
    /// queued behind the batches.
    /// </summary>
    Batch? Target(int sizeHint)
    {
        if (_queue.Count == 0 && _open is null)
        {
            _writing = null;
            return null;
        }
        // Bytes written while batches wait go into pass-through batches of a bounded size, so that no buffer grows.
        if (_open is null || _open.Plan is not null || _open.Output.Available < Math.Max(sizeHint, 1))
        {
            SealOpen();
            _open = Rent();
        }
        _writing = _open;
        return _open;
    }

    void SealOpen()
    {
        var open = _open;
        if (open is null)
        {
            return;
        }
        _open = null;
        _queue.Enqueue(open);
        if (open.Plan is not null)
        {
            _inFlight++;
            _work.Writer.TryWrite(open);
        }
    }

    /// <summary>
    /// Moves what is done, in order, into the output pipe and flushes it; waits for the oldest batch while too many are
    /// in flight. With <paramref name="final"/>, waits for all of them. A lane's failure is thrown here.
    /// </summary>
    public async ValueTask<FlushResult> FlushAsync(bool final, CancellationToken cancellationToken)
    {
        if (final || _open is { Plan: null })
        {
            SealOpen();
        }
        while (_queue.TryPeek(out var head))
        {
            if (!head.IsDone)
            {
                if (!final && _inFlight < _maxInFlight && QueuedBytes() < _maxInFlight * (long)BatchBytes)
                {
                    break;
                }
                await head.Finished.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            _queue.Dequeue();
            if (head.Error is { } error)
            {
                Failed = true;
                Return(head);
                ExceptionDispatchInfo.Throw(error);
            }
            DumpRewriter.Write(_output, head.Output.Span);
            if (head.Plan is not null)
            {
                _inFlight--;
                _statistics.TransformedValues += head.Transformed;
            }
            Return(head);
        }
        _writing = null;
        return await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    long QueuedBytes()
    {
        long sum = 0;
        foreach (var batch in _queue)
        {
            sum += batch.Input.Length + batch.Output.Length;
        }
        return sum;
    }

    /// <summary>After the rewriter failed: the failure of an earlier batch, if one failed (the first in dump order).</summary>
    public async Task<Exception?> FirstFailureAsync()
    {
        if (_open?.Plan is not null)
        {
            SealOpen();
        }
        foreach (var batch in _queue)
        {
            if (batch.Plan is null)
            {
                continue;
            }
            await batch.Finished.Task.ConfigureAwait(false);
            if (batch.Error is { } error)
            {
                return error;
            }
        }
        return null;
    }

    /// <summary>Each lane's transformers for the columns of <paramref name="plan"/> (the last plan's are kept).</summary>
    Transformer?[][] TransformersFor(RowPlan plan, Func<RowPlan, int, Transformer?> build)
    {
        if (_lastPlan != plan)
        {
            _lastSets = new Transformer?[_lanes.Length][];
            for (var l = 0; l < _lanes.Length; l++)
            {
                _lastSets[l] = _lanes[l].TransformersFor(plan, build);
            }
            _lastPlan = plan;
        }
        return _lastSets!;
    }

    async Task RunLaneAsync(Lane lane)
    {
        var index = Array.IndexOf(_lanes, lane);
        try
        {
            await foreach (var batch in _work.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    var before = lane.Evaluator.Counters.TransformedValues;
                    lane.Mask(batch, batch.Transformers![index]);
                    batch.Transformed = lane.Evaluator.Counters.TransformedValues - before;
                }
                catch (Exception e)
                {
                    batch.Error = e;
                }
                batch.Finished.TrySetResult();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    Batch Rent()
    {
        if (!_free.TryPop(out var batch))
        {
            batch = new Batch();
        }
        return batch;
    }

    void Return(Batch batch)
    {
        batch.Reset();
        // Every batch of the usual size is kept: how many exist at once is bounded by how many one slice makes before
        // the next flush waits (SliceBytes / BatchBytes + lanes + 2, and pass-through ones), and dropping some made
        // garbage of their large arrays (the large object heap grew by ~45 MiB per GB).
        if (batch.Input.Capacity == BatchBytes && batch.Output.Capacity == 2 * BatchBytes)
        {
            _free.Push(batch);
        }
        else
        {
            batch.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _work.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_workers).ConfigureAwait(false);
        _stop.Dispose();
        foreach (var batch in _queue)
        {
            batch.Dispose();
        }
        _open?.Dispose();
        foreach (var batch in _free)
        {
            batch.Dispose();
        }
        foreach (var lane in _lanes)
        {
            lane.Dispose();
        }
    }

    /// <summary>A run of rows to mask (with a plan) or bytes the rewriter wrote (without one), in dump order.</summary>
    sealed class Batch : IDisposable
    {
        // A batch's rows (up to BatchBytes) and their masked form (a hash can be longer than the value it replaces)
        // fit without growing; only a row longer than a batch grows them, and such a batch is not kept (Return).
        public readonly UnitBuffer Input = new(BatchBytes);
        public readonly UnitBuffer Output = new(2 * BatchBytes);
        public RowPlan? Plan;
        public Transformer?[][]? Transformers;
        public string? CopyTable;
        public long Offset;
        public long Line;
        public long Row;
        public long Transformed;
        public Exception? Error;
        public TaskCompletionSource Finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Bytes the rewriter wrote are done at once; a run of rows once its lane finished it.</summary>
        public bool IsDone => Plan is null || Finished.Task.IsCompleted;

        public void Reset()
        {
            Input.Clear();
            Output.Clear();
            Plan = null;
            Transformers = null;
            CopyTable = null;
            Error = null;
            Finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Dispose()
        {
            Input.Dispose();
            Output.Dispose();
        }
    }

    /// <summary>A lane: its evaluator and its own transformers, per table and column.</summary>
    sealed class Lane : IDisposable
    {
        readonly Dictionary<(TableState, string), Transformer?> _transformers = [];

        public RowEvaluator Evaluator { get; } = new();

        /// <summary>Called on the rewriter's thread, before any batch of the plan reaches the lane.</summary>
        public Transformer?[] TransformersFor(RowPlan plan, Func<RowPlan, int, Transformer?> build)
        {
            var set = new Transformer?[plan.Columns.Count];
            for (var c = 0; c < set.Length; c++)
            {
                if (plan.Transformers[c] is null)
                {
                    continue;
                }
                var key = (plan.Table, plan.Columns[c]);
                if (!_transformers.TryGetValue(key, out var transformer))
                {
                    transformer = build(plan, c);
                    _transformers[key] = transformer;
                }
                set[c] = transformer;
            }
            return set;
        }

        public void Mask(Batch batch, Transformer?[] transformers)
        {
            var plan = batch.Plan!;
            var evaluator = Evaluator;
            evaluator.Fit(plan);
            evaluator.CopyTable = batch.CopyTable;
            var rows = batch.Input.Span;
            var offset = batch.Offset;
            var line = batch.Line;
            var row = batch.Row;
            var pos = 0;
            while (pos < rows.Length)
            {
                var lf = rows[pos..].IndexOf((byte)'\n');
                var length = lf < 0 ? rows.Length - pos : lf + 1;
                var unit = rows.Slice(pos, length);
                var content = unit[^1] == (byte)'\n' ? unit[..^1] : unit;
                evaluator.Unit = new DumpUnit(UnitKind.CopyRow, offset, line, -1, -1, NonStandardStrings: false, PsqlSendsAlone: false);
                evaluator.Row = row;
                evaluator.TransformCopyRow(plan, transformers, content, length - content.Length, batch.Output);
                pos += length;
                offset += length;
                line++;
                row++;
            }
        }

        public void Dispose()
        {
            foreach (var transformer in _transformers.Values)
            {
                transformer?.Dispose();
            }
            Evaluator.Dispose();
        }
    }
}
