using System.Text;
using Replica.Lexing;

namespace Replica.Pipeline;

/// <summary>
/// One checked column of a leak check: how many of its stored values were compared with an original, how many are the
/// original itself (unchanged) or the original of another column of the row (copied), and a few redacted examples.
/// </summary>
internal sealed class LeakColumn(string name, string transformer, Transformers.Transformer? chance)
{
    /// <summary>Distinct unchanged values remembered exactly (beyond it every unchanged value counts as a leak).</summary>
    const int MaxDistinct = 1 << 16;
    const int MaxExamples = 3;

    readonly HashSet<ulong> _unchangedValues = [];
    readonly List<string> _examples = [];
    readonly SortedSet<string> _copiedFrom = new(StringComparer.Ordinal);

    /// <summary>For a chance model: the originals by their chance of coming back, in powers of two (see <see cref="AddOriginal"/>).</summary>
    readonly ChanceBucket?[]? _buckets = chance is null ? null : new ChanceBucket?[64];

    sealed class ChanceBucket
    {
        public readonly DistinctCounter Distinct = new();
        public double Sum;
        public long Count;
    }

    public string Name => name;

    public string Transformer => transformer;

    /// <summary>The transformer's pool, for a small pool.</summary>
    public double? PoolSize { get; } = chance?.PoolSize;

    /// <summary>A small pool's chance, the same for every value (asked once: a pool's size is computed, not stored).</summary>
    readonly double? _poolChance = chance?.PoolSize is { } pool ? 1 / pool : null;

    /// <summary>Whether unchanged values are weighed against chance (<see cref="Transformers.Transformer.RepeatsByChance"/>).</summary>
    public bool RepeatsByChance => chance is not null;

    public long Compared { get; private set; }

    public long Unchanged { get; private set; }

    public long Copied { get; private set; }

    /// <summary>Redacted stored values that leak (none for a column whose unchanged values chance explains).</summary>
    public IReadOnlyList<string> Examples => chance is null || Leaks > 0 ? _examples : [];

    public IReadOnlyCollection<string> CopiedFrom => _copiedFrom;

    /// <summary>
    /// An original value (not NULL, not empty) and its keyed hash. With a chance model it is counted, once per distinct
    /// value, in the bucket of its chance of coming back (chance in (2^-(b+1), 2^-b]): the expected distinct unchanged
    /// values are then the sum over buckets of distinct values times their mean chance, which is exact for a small pool
    /// (one bucket) and within a factor of two per value for a value-shaped one, in 64 estimators of 4 KiB at most.
    /// </summary>
    public void AddOriginal(ReadOnlySpan<byte> value, ulong hash)
    {
        if (_buckets is null)
        {
            return;
        }
        var p = _poolChance ?? Math.Clamp(chance!.ChanceUnchanged(value), 0, 1);
        var index = p <= 0 ? 63 : Math.Min(63, (int)-Math.Log2(p));
        var bucket = _buckets[index] ??= new ChanceBucket();
        bucket.Distinct.Add(hash);
        bucket.Sum += p;
        bucket.Count++;
    }

    public void Compare() => Compared++;

    public void AddUnchanged(ulong value, ulong prefix, long chars)
    {
        Unchanged++;
        if (_unchangedValues.Count < MaxDistinct)
        {
            _unchangedValues.Add(value);
        }
        AddExample(prefix, chars);
    }

    public void AddCopy(string source, ulong prefix, long chars)
    {
        Copied++;
        _copiedFrom.Add(source);
        AddExample(prefix, chars);
    }

    void AddExample(ulong prefix, long chars)
    {
        if (_examples.Count < MaxExamples)
        {
            _examples.Add(Redacted(prefix, chars));
        }
    }

    /// <summary>The distinct original values left unchanged (exact up to 65536).</summary>
    public long UnchangedDistinct => _unchangedValues.Count;

    /// <summary>Distinct originals (estimated) and how many of them chance gives back; null without a chance model.</summary>
    (double Distinct, double Expected)? ByChance
    {
        get
        {
            if (_buckets is null)
            {
                return null;
            }
            double distinct = 0, expected = 0;
            foreach (var bucket in _buckets)
            {
                if (bucket is not null)
                {
                    var estimate = Math.Min(bucket.Distinct.Estimate, bucket.Count);
                    distinct += estimate;
                    expected += estimate * bucket.Sum / bucket.Count;
                }
            }
            return (distinct, expected);
        }
    }

    /// <summary>The share of distinct originals chance gives back (1 / pool for a small pool); null without a chance model.</summary>
    public double? ChanceRate => ByChance switch
    {
        null => null,
        (0d, _) => PoolSize is { } pool ? 1 / pool : 0,
        var (distinct, expected) => expected / distinct,
    };

    /// <summary>
    /// How many distinct unchanged values chance explains: of the distinct originals, as many as were compared
    /// (a subset compares fewer), times their chance (null: no chance model).
    /// </summary>
    public double? ExpectedByChance => ByChance switch
    {
        null => null,
        var (distinct, expected) when distinct <= Compared => expected,
        var (distinct, expected) => expected * Compared / distinct,
    };

    public void Dispose() => chance?.Dispose();

    /// <summary>
    /// The leaks: every unchanged or copied value, or with a chance model the unchanged values beyond what chance
    /// explains. The transformers are deterministic per value, so chance picks distinct values (each keeps all its
    /// rows): the distinct unchanged values are compared with expected + 4·sqrt(expected) + 1, and only above it are the
    /// unchanged rows, less chance's share of them, counted.
    /// </summary>
    public long Leaks
    {
        get
        {
            if (ExpectedByChance is not { } expected)
            {
                return Unchanged + Copied;
            }
            if (UnchangedDistinct < MaxDistinct && UnchangedDistinct <= expected + 4 * Math.Sqrt(expected) + 1)
            {
                return 0;
            }
            return Math.Max(1, Unchanged - (long)Math.Round(Unchanged * Math.Min(1, expected / Math.Max(1, UnchangedDistinct))));
        }
    }

    /// <summary>
    /// A stored value as an example may show it: at most its first two characters (one for a value under 8
    /// characters, none under 4) and its length, never the whole value.
    /// </summary>
    internal static string Redacted(ulong prefix, long chars)
    {
        Span<byte> bytes = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, prefix);
        var length = bytes.IndexOf((byte)0);
        var shown = Encoding.UTF8.GetString(bytes[..(length < 0 ? 8 : length)]);
        return $"{shown}… ({chars} {(chars == 1 ? "char" : "chars")})";
    }

    /// <summary>What <see cref="Redacted"/> may show of a value, packed in 8 bytes, and its length in characters.</summary>
    internal static ulong Prefix(ReadOnlySpan<byte> value, out long chars)
    {
        chars = 0;
        foreach (var b in value)
        {
            chars += (b & 0xC0) != 0x80 ? 1 : 0;
        }
        var show = chars >= 8 ? 2 : chars >= 4 ? 1 : 0;
        var end = 0;
        for (var seen = 0; end < value.Length; end++)
        {
            if ((value[end] & 0xC0) != 0x80 && seen++ == show)
            {
                break;
            }
        }
        Span<byte> packed = stackalloc byte[8];
        packed.Clear();
        value[..Math.Min(end, 8)].CopyTo(packed);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(packed);
    }
}

/// <summary>
/// One table of a leak check: per original row its key's hash and the hashes of the columns with a rule (the sources,
/// transient ones too: a template may copy them), in memory up to the budget and in partitions on disk beyond it; then
/// the stored rows, compared at once or, for a spilled table, partitioned alike and joined partition by partition.
/// </summary>
internal sealed class LeakTable : IDisposable
{
    const int MaxPartitions = 64;
    readonly LeakBudget _budget;
    readonly string _directory;
    readonly long _estimatedRows;
    HashRows? _rows;
    SpillFiles? _originals;
    SpillFiles? _stored;
    long _originalPosition;
    long _storedPosition;
    readonly ulong[] _scratch;

    public LeakTable(TableName name, string display, IReadOnlyList<string> sources, IReadOnlyList<LeakColumn> targets, IReadOnlyList<int> targetSources,
        IReadOnlyList<string>? keyColumns, LeakBudget budget, string directory, long estimatedRows)
    {
        Name = name;
        Display = display;
        Sources = sources;
        Targets = targets;
        TargetSources = targetSources;
        KeyColumns = keyColumns;
        _budget = budget;
        _directory = directory;
        _estimatedRows = estimatedRows;
        _scratch = new ulong[1 + 3 * targets.Count];
        _targetOf = new LeakColumn?[sources.Count];
        for (var j = 0; j < targetSources.Count; j++)
        {
            _targetOf[targetSources[j]] = targets[j];
        }
    }

    readonly LeakColumn?[] _targetOf;

    /// <summary>The checked column source column <paramref name="source"/> is (null: a transient one, not checked).</summary>
    public LeakColumn? TargetOf(int source) => _targetOf[source];

    public TableName Name { get; }

    public string Display { get; }

    /// <summary>The columns with a rule, whose originals are kept (hashed) per row.</summary>
    public IReadOnlyList<string> Sources { get; }

    /// <summary>The checked columns (a rule other than transient).</summary>
    public IReadOnlyList<LeakColumn> Targets { get; }

    /// <summary>Each target's index in <see cref="Sources"/>.</summary>
    public IReadOnlyList<int> TargetSources { get; }

    /// <summary>The primary key rows are matched by; null: by position.</summary>
    public IReadOnlyList<string>? KeyColumns { get; }

    public long OriginalRows { get; private set; }

    public long StoredRows { get; private set; }

    public long WithoutOriginal { get; private set; }

    public long DuplicateKeys { get; private set; }

    public bool Spilled => _originals is not null;

    public long SpilledBytes => (_originals?.Bytes ?? 0) + (_stored?.Bytes ?? 0);

    public long NextOriginalPosition() => _originalPosition++;

    public long NextStoredPosition() => _storedPosition++;

    /// <summary>An original row: its key hash, then one hash per source column (0: NULL or empty).</summary>
    public void AddOriginal(ReadOnlySpan<ulong> row)
    {
        OriginalRows++;
        if (_originals is not null)
        {
            _originals.Write(row);
            return;
        }
        if (_rows is null)
        {
            var capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(_estimatedRows * 4 / 3 + 1, 16, 1 << 20));
            if (!_budget.TryReserve((long)capacity * row.Length * sizeof(ulong)))
            {
                capacity = 16;
                if (!_budget.TryReserve((long)capacity * row.Length * sizeof(ulong)))
                {
                    Spill(row.Length);
                    _originals!.Write(row);
                    return;
                }
            }
            _rows = new HashRows(row.Length, capacity);
        }
        if (_rows.IsFull)
        {
            // While the rows move, the old and the new array are both held.
            if (!_budget.TryReserve(_rows.GrownBytes))
            {
                Spill(row.Length);
                _originals!.Write(row);
                return;
            }
            var old = _rows.Bytes;
            _rows.Grow();
            _budget.Release(old);
        }
        if (!_rows.Add(row))
        {
            DuplicateKeys++;
        }
    }

    /// <summary>
    /// The table outgrew the budget: its rows so far and from now on go to partitions on disk, as many as make one
    /// partition of the expected rows about a quarter of the budget; all of them when the estimate is below what was
    /// read already (a table never analyzed), so that a join partition stays small for a table up to 16 budgets.
    /// </summary>
    void Spill(int width)
    {
        var expectedBytes = _estimatedRows * width * sizeof(ulong) * 4 / 3;
        var partitions = _estimatedRows < 2 * OriginalRows ? MaxPartitions
            : (int)Math.Clamp(expectedBytes / Math.Max(1, _budget.Bytes / 4) + 1, 2, MaxPartitions);
        _originals = new SpillFiles(_directory, $"{_directory.GetHashCode():x}-{Sources.Count}-{Guid.NewGuid():n}-o", partitions, width);
        if (_rows is not null)
        {
            _rows.WriteTo(_originals);
            _budget.Release(_rows.Bytes);
            _rows = null;
        }
    }

    /// <summary>
    /// A stored row: its key hash, then per target its hash, redacted prefix and length (<see cref="LeakColumn.Prefix"/>);
    /// a target the stored rows do not have is hashed 0.
    /// </summary>
    public void AddStored(ReadOnlySpan<ulong> row)
    {
        StoredRows++;
        if (_originals is not null)
        {
            _stored ??= new SpillFiles(_directory, $"{Guid.NewGuid():n}-s", _originals.Partitions, row.Length);
            _stored.Write(row);
            return;
        }
        var original = _rows is null ? [] : _rows.Find(row[0]);
        if (original.IsEmpty)
        {
            WithoutOriginal++;
            return;
        }
        Compare(original[1..], row[1..]);
    }

    /// <summary>Joins the spilled partitions (nothing for a table held in memory).</summary>
    public void Join()
    {
        if (_originals is null)
        {
            return;
        }
        var width = 1 + Sources.Count;
        var block = new ulong[(1 << 16) * Math.Max(width, _scratch.Length)];
        for (var p = 0; p < _originals.Partitions; p++)
        {
            var rows = new HashRows(width, (int)Math.Min(int.MaxValue / 2, _originals.LengthOf(p) / sizeof(ulong) / width * 4 / 3 + 1));
            foreach (var words in _originals.Read(p, block))
            {
                for (var i = 0; i < words; i += width)
                {
                    if (!rows.Add(block.AsSpan(i, width)))
                    {
                        DuplicateKeys++;
                    }
                }
            }
            if (_stored is null)
            {
                continue;
            }
            foreach (var words in _stored.Read(p, block))
            {
                for (var i = 0; i < words; i += _scratch.Length)
                {
                    var row = block.AsSpan(i, _scratch.Length);
                    var original = rows.Find(row[0]);
                    if (original.IsEmpty)
                    {
                        WithoutOriginal++;
                    }
                    else
                    {
                        Compare(original[1..], row[1..]);
                    }
                }
            }
        }
    }

    /// <summary>
    /// One row: a target whose stored value is its own original is unchanged; one whose stored value is the original of
    /// another source column of the row is a copy (not looked for in a column whose values chance gives back, where it may be chance).
    /// </summary>
    void Compare(ReadOnlySpan<ulong> original, ReadOnlySpan<ulong> stored)
    {
        for (var j = 0; j < Targets.Count; j++)
        {
            var column = Targets[j];
            var value = stored[3 * j];
            var own = original[TargetSources[j]];
            if (own != 0)
            {
                column.Compare();
            }
            if (value == 0)
            {
                continue;
            }
            if (value == own)
            {
                column.AddUnchanged(value, stored[3 * j + 1], (long)stored[3 * j + 2]);
                continue;
            }
            if (column.RepeatsByChance)
            {
                continue;
            }
            for (var s = 0; s < original.Length; s++)
            {
                if (original[s] == value && s != TargetSources[j])
                {
                    column.AddCopy(Sources[s], stored[3 * j + 1], (long)stored[3 * j + 2]);
                    break;
                }
            }
        }
    }

    public void Dispose()
    {
        if (_rows is not null)
        {
            _budget.Release(_rows.Bytes);
            _rows = null;
        }
        _originals?.Dispose();
        _stored?.Dispose();
        foreach (var column in Targets)
        {
            column.Dispose();
        }
    }
}
