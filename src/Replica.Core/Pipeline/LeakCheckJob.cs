using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Replica.Bridges;
using Replica.Config;
using Replica.Lexing;
using Replica.Rewriting;
using Replica.Sources;
using Replica.Transformers;

namespace Replica.Pipeline;

/// <summary>One checked column's outcome (see <see cref="LeakCheckJob"/>).</summary>
/// <param name="MatchedBy">"primary key (id)" or "position".</param>
/// <param name="Compared">Stored values compared with a non-empty original of the same row.</param>
/// <param name="Unchanged">Stored values equal to their own original.</param>
/// <param name="Copied">Stored values equal to the original of another column with a rule (a template copying it).</param>
/// <param name="Leaks">Unchanged and copied values, less what chance explains (a small pool, random, number-noise).</param>
public sealed record LeakColumnReport(string Table, string Column, string Transformer, string MatchedBy, long Compared, long Unchanged, long Copied, long Leaks,
    IReadOnlyList<string> CopiedFrom, IReadOnlyList<string> Examples)
{
    /// <summary>The transformer's pool (null: chance matches are negligible).</summary>
    public double? PoolSize { get; init; }

    /// <summary>The share of distinct originals the transformer gives back by chance (1 / pool size for a small pool); null: negligible.</summary>
    public double? ChanceRate { get; init; }

    public double UnchangedRate => Compared == 0 ? 0 : (double)Unchanged / Compared;

    /// <summary>For a transformer that gives values back by chance: distinct unchanged values, and how many chance explains.</summary>
    public long? UnchangedDistinct { get; init; }

    public double? ExpectedDistinctByChance { get; init; }
}

/// <summary>What `replica leakcheck` is asked for besides the config and the dump (its command-line options).</summary>
public sealed record LeakCheckOptions
{
    /// <summary>The original dump file; null: <see cref="Source"/> or the config's source.</summary>
    public string? Input { get; init; }

    /// <summary>The source database's URI; null: the config's source.connection_uri.</summary>
    public string? Source { get; init; }

    /// <summary>The dialect of <see cref="Input"/>; null: the config source's.</summary>
    public SqlDialect? Dialect { get; init; }

    /// <summary>Memory for the hashed originals; a table beyond it is partitioned to disk.</summary>
    public long MemoryBytes { get; init; } = 64L << 20;

    /// <summary>--everywhere: also look for originals of e-mails, phones, cards and IBANs anywhere in the dump (<see cref="LeakEverywhere"/>).</summary>
    public bool Everywhere { get; init; }

    /// <summary>
    /// --allow-legacy: check an encrypted dump whose index entry is not authenticated (encryption header version below 4;
    /// refused otherwise, <see cref="BridgeCodecs.CheckEntryAuthenticated"/>), telling its warning.
    /// </summary>
    public AllowLegacy? AllowLegacy { get; init; }
}

/// <summary>What `replica leakcheck` found.</summary>
public sealed record LeakCheckResult(string Name, string Original, long OriginalBytes, long StoredBytes, IReadOnlyList<LeakColumnReport> Columns,
    IReadOnlyList<string> Unchecked, IReadOnlyList<string> Warnings)
{
    /// <summary>Leaked values of the checked columns, and with --everywhere the originals found anywhere in the dump.</summary>
    public long Leaks => Columns.Sum(c => c.Leaks) + (Everywhere?.Found ?? 0);

    /// <summary>What --everywhere found; null without it.</summary>
    public EverywhereReport? Everywhere { get; init; }

    public int Tables { get; init; }

    public long OriginalRows { get; init; }

    public long StoredRows { get; init; }

    /// <summary>Stored rows of checked tables with no original row (a subset or a filter changed the rows; not leaks).</summary>
    public long RowsWithoutOriginal { get; init; }

    public long MemoryBudget { get; init; }

    /// <summary>The most the hash tables of originals held at once.</summary>
    public long PeakTableBytes { get; init; }

    /// <summary>Bytes of originals and stored rows partitioned to disk (0: all in memory).</summary>
    public long SpilledBytes { get; init; }

    public double SchemaSeconds { get; init; }

    public double OriginalSeconds { get; init; }

    public double StoredSeconds { get; init; }
}

/// <summary>
/// `replica leakcheck`: compares a stored dump with the originals it was made from. For every column with a masking
/// rule (transient columns are reviewed keeps: listed, not checked) a stored value equal to the original value of the
/// same row is a leak - its own column's (unchanged) or another ruled column's (copied, e.g. by a template). Rows are
/// matched by primary key, or by position in a table without one (or whose key is masked).
/// </summary>
/// <remarks>
/// Memory is bounded by design: nothing is kept in plain text. Per original row the key and each ruled column are
/// hashed with SipHash under a key drawn for this run only (so the hashes say nothing after it), into open-addressing
/// tables up to the budget; a table beyond it is partitioned to disk by key hash, and its stored rows alike, then joined
/// partition by partition (a grace hash join). Three passes: the original's schema (pg_dump declares primary keys
/// after the data), the original's rows, the stored dump's rows (verified and decoded as a restore does).
/// </remarks>
public static class LeakCheckJob
{
    /// <summary>
    /// Checks dump <paramref name="name"/> (null: the newest) against the originals <paramref name="options"/> pick:
    /// --input FILE (a plain dump: pg_dump, mysqldump; - for standard input, spooled once); else --source URI or the config's source.connection_uri, a
    /// PostgreSQL or MySQL database read live (only the keys and ruled columns, in one snapshot).
    /// </summary>
    public static async Task<LeakCheckResult> RunAsync(ReplicaConfig config, IBridge bridge, string? name, LeakCheckOptions options, Action<string>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Input is not null && options.Source is not null)
        {
            throw new ConfigException("give the originals once: --input FILE (a dump) or --source URI (a database), not both");
        }
        if (options.Input is not null)
        {
            var file = Endpoints.Source(config, options.Input);
            return await RunAsync(config, bridge, name, file, file, options with { Dialect = options.Dialect ?? Endpoints.Dialect(config) }, null, progress, cancellationToken).ConfigureAwait(false);
        }
        var text = options.Source ?? config.Source.ConnectionUri;
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ConfigException("nothing to compare the dump with: pass --input FILE (the original dump) or --source URI (the source database), "
                + "or set source.connection_uri in the config", config.File);
        }
        var uri = Clients.DatabaseUri.Parse(text);
        switch (uri.Kind)
        {
            case Clients.DatabaseKind.PostgreSql:
                return await RunLiveAsync(config, bridge, name, uri, options, progress, cancellationToken).ConfigureAwait(false);
            case Clients.DatabaseKind.MySql:
                return await RunLiveMysqlAsync(config, bridge, name, uri, options, progress, cancellationToken).ConfigureAwait(false);
            default:
                throw new ConfigException($"{uri.Scheme}:// sources are not supported", config.File, key: "source.connection_uri");
        }
    }

    /// <summary>Checks dump <paramref name="name"/> (null: the newest) against the original dump <paramref name="original"/> (a file, or pg_dump / mysqldump).</summary>
    public static Task<LeakCheckResult> RunAsync(ReplicaConfig config, IBridge bridge, string? name, IDumpSource original, LeakCheckOptions options,
        Action<string>? progress, CancellationToken cancellationToken) =>
        RunAsync(config, bridge, name, original, original, options, null, progress, cancellationToken);

    /// <summary>
    /// Checks dump <paramref name="name"/> (null: the newest) against the live PostgreSQL database <paramref name="uri"/>:
    /// its catalog gives the tables, column types and primary keys (as a schema the first pass reads), and only the
    /// key and the ruled columns of each checked table are read (<see cref="PostgresColumnsSource"/>).
    /// </summary>
    public static async Task<LeakCheckResult> RunLiveAsync(ReplicaConfig config, IBridge bridge, string? name, Clients.DatabaseUri uri,
        LeakCheckOptions options, Action<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(uri);
        var rules = DumpRequest.BuildRules(config);
        var catalog = await Catalog.PostgresCatalog.ReadAsync(uri, cancellationToken).ConfigureAwait(false);
        var (schema, reads) = LiveSchema(catalog, rules);
        var rows = new Sources.PostgresColumnsSource(uri, reads);
        var estimates = catalog.Tables.ToDictionary(t => new TableName(t.Schema, t.Name), t => t.EstimatedRows ?? 0);
        return await RunAsync(config, bridge, name, new TextSource(rows.Description, schema), rows, options with { Dialect = SqlDialect.PostgreSql }, estimates,
            progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks dump <paramref name="name"/> (null: the newest) against the live MySQL or MariaDB database <paramref name="uri"/>:
    /// information_schema gives the base tables, column types and primary keys (as mysqldump would declare them, for the
    /// first pass), and only the key and the ruled columns of each checked table are read, in one consistent snapshot
    /// (<see cref="MysqlColumnsSource"/>).
    /// </summary>
    public static async Task<LeakCheckResult> RunLiveMysqlAsync(ReplicaConfig config, IBridge bridge, string? name, Clients.DatabaseUri uri,
        LeakCheckOptions options, Action<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.Database is null && config.Source.Schemas is [var database])
        {
            uri = uri.WithDatabase(database);
        }
        var rules = DumpRequest.BuildRules(config);
        var tools = Clients.MysqlTools.Find(config.ChildEnvironment);
        var catalog = await MysqlColumnsSource.ReadCatalogAsync(uri, tools, cancellationToken).ConfigureAwait(false);
        List<(MysqlTable Table, IReadOnlyList<string> Columns)> reads = [];
        foreach (var table in catalog)
        {
            // A dump of one database names its tables by it (mysqldump's header), as the stored dump does.
            var tableName = new TableName(uri.Database!, table.Name);
            var ruled = table.Columns.Select(c => c.Name).Where(c => rules.SpecFor(tableName, c, SqlDialect.MySql) is not null).ToList();
            if (rules.ActionFor(tableName, SqlDialect.MySql) == TableAction.Transform && ruled.Count > 0)
            {
                reads.Add((table, [.. table.PrimaryKey.Concat(ruled).Distinct(StringComparer.Ordinal)]));
            }
        }
        await using var rows = new MysqlColumnsSource(uri, tools, reads);
        var estimates = catalog.ToDictionary(t => new TableName(uri.Database!, t.Name), t => t.EstimatedRows);
        return await RunAsync(config, bridge, name, new TextSource(rows.Description, MysqlColumnsSource.Schema(uri.Database!, reads.Select(r => r.Table))), rows,
            options with { Dialect = SqlDialect.MySql }, estimates, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The catalog's tables with a ruled column as the SQL a plain dump declares them with (CREATE TABLE with the
    /// column types, partitions attached, primary keys), and what to read of each table that holds rows: its primary
    /// key and its ruled columns.
    /// </summary>
    static (string Schema, List<(Catalog.CatalogTable Table, IReadOnlyList<string> Columns)> Reads) LiveSchema(Catalog.DatabaseCatalog catalog, RewriteRules rules)
    {
        var sql = new System.Text.StringBuilder();
        List<(Catalog.CatalogTable, IReadOnlyList<string>)> reads = [];
        var created = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in catalog.Tables)
        {
            var parent = table.PartitionOf is { } of ? catalog.Find(of.Schema, of.Name) : null;
            var names = parent is null ? [new TableName(table.Schema, table.Name)] : new[] { new TableName(table.Schema, table.Name), new TableName(parent.Schema, parent.Name) };
            if (names.Any(n => rules.ActionFor(n) != TableAction.Transform))
            {
                continue;
            }
            var ruled = table.Columns.Where(c => names.Any(n => rules.SpecFor(n, c.Name) is not null)).Select(c => c.Name).ToList();
            if (ruled.Count == 0)
            {
                continue;
            }
            sql.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"CREATE TABLE {table.QualifiedName} ({string.Join(", ", table.Columns.Select(c => $"{Identifiers.Quote(c.Name)} {c.Type}"))});\n");
            if (parent is not null && created.Add(parent.QualifiedName))
            {
                sql.Append(System.Globalization.CultureInfo.InvariantCulture, $"CREATE TABLE {parent.QualifiedName} ({string.Join(", ", parent.Columns.Select(c => $"{Identifiers.Quote(c.Name)} {c.Type}"))});\n");
            }
            if (parent is not null)
            {
                sql.Append(System.Globalization.CultureInfo.InvariantCulture, $"ALTER TABLE ONLY {parent.QualifiedName} ATTACH PARTITION {table.QualifiedName} DEFAULT;\n");
            }
            var key = table.PrimaryKey ?? parent?.PrimaryKey;
            if (key is not null)
            {
                sql.Append(System.Globalization.CultureInfo.InvariantCulture,
                    $"ALTER TABLE ONLY {table.QualifiedName} ADD CONSTRAINT {Identifiers.Quote(key.Name)} PRIMARY KEY ({string.Join(", ", key.Columns.Select(Identifiers.Quote))});\n");
            }
            if (table.Kind == Catalog.TableKind.Table)
            {
                reads.Add((table, [.. (key?.Columns ?? []).Concat(ruled).Distinct(StringComparer.Ordinal)]));
            }
        }
        return (sql.ToString(), reads);
    }

    /// <summary>SQL text held in memory, as a dump source.</summary>
    sealed class TextSource(string description, string sql) : IDumpSource
    {
        public string Description => description;

        public long? Length => null;

        public Stream Open() => new MemoryStream(System.Text.Encoding.UTF8.GetBytes(sql), writable: false);
    }

    /// <summary>The three passes; <paramref name="estimates"/>: row estimates where the schema pass counts none (a live source's catalog).</summary>
    static async Task<LeakCheckResult> RunAsync(ReplicaConfig config, IBridge bridge, string? name, IDumpSource schemaSource, IDumpSource original, LeakCheckOptions options,
        Dictionary<TableName, long>? estimates, Action<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dialect = options.Dialect ?? SqlDialect.PostgreSql;
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentNullException.ThrowIfNull(original);
        var entry = name is null
            ? await DumpReader.ResolveLatestAsync(bridge, cancellationToken).ConfigureAwait(false)
            : await RestoreJob.FindAsync(bridge, name, cancellationToken).ConfigureAwait(false);
        var rules = DumpRequest.BuildRules(config);
        // 0700 from its creation (mkdtemp), not chmod'ed after: under umask 000 another user could plant a link in between.
        var directory = Directory.CreateTempSubdirectory("replica-leak-").FullName;
        try
        {
            var stopwatch = Stopwatch.StartNew();
            if (ReferenceEquals(schemaSource, original) && original is not FileDumpSource)
            {
                // A dump tool's output is read once, spooled (compressed) to the temp directory: both passes see one snapshot.
                progress?.Invoke($"leakcheck: spooling {original.Description}");
                original = schemaSource = await SpooledSource.WriteAsync(original, directory, cancellationToken).ConfigureAwait(false);
            }
            await original.PrepareAsync(cancellationToken).ConfigureAwait(false);
            // Pass 1: the original's tables, primary keys and row counts.
            using var schema = new DumpRewriter(RewriteRules.None, config.MaxRowBytes, dialect) { Filter = SubsetFile.NoChoice.Instance };
            await DiscardingPipeWriter.PassAsync(schema, schemaSource.Open(), cancellationToken).ConfigureAwait(false);
            await schemaSource.CompleteAsync(cancellationToken).ConfigureAwait(false);
            long originalBytes;
            var schemaSeconds = stopwatch.Elapsed.TotalSeconds;
            progress?.Invoke($"leakcheck: schema of {schemaSource.Description} read ({schema.Tables.Count(t => t.Created)} tables)");

            using var check = new Check(rules, dialect, schema.Tables, options.MemoryBytes, directory, options.Everywhere, estimates);
            // Pass 2: the originals, hashed.
            stopwatch.Restart();
            using (var originals = new DumpRewriter(RewriteRules.None, config.MaxRowBytes, dialect) { Filter = check.Originals })
            {
                await DiscardingPipeWriter.PassAsync(originals, original.Open(), cancellationToken).ConfigureAwait(false);
                await original.CompleteAsync(cancellationToken).ConfigureAwait(false);
                originalBytes = original.Length ?? originals.Statistics.BytesIn;
            }
            var originalSeconds = stopwatch.Elapsed.TotalSeconds;
            progress?.Invoke($"leakcheck: originals read ({check.Tables.Sum(t => t.OriginalRows)} rows of {check.Tables.Count} checked tables)");

            // Pass 3: the stored dump, compared.
            stopwatch.Restart();
            long storedBytes;
            // Said first in the result's warnings: what the dump is worth as evidence.
            var storedWarnings = new List<string>();
            using (var stored = new DumpRewriter(RewriteRules.None, config.MaxRowBytes, dialect) { Filter = check.Stored })
            {
                await ReadStoredAsync(bridge, entry, config.Bridge, stored, check.Everywhere, options.AllowLegacy, storedWarnings.Add, cancellationToken).ConfigureAwait(false);
                storedBytes = stored.Statistics.BytesIn;
            }
            check.Join();
            var storedSeconds = stopwatch.Elapsed.TotalSeconds;
            var result = check.Result(entry.Name, original.Description, originalBytes, storedBytes);
            return result with
            {
                Warnings = [.. storedWarnings, .. result.Warnings],
                SchemaSeconds = Math.Round(schemaSeconds, 3),
                OriginalSeconds = Math.Round(originalSeconds, 3),
                StoredSeconds = Math.Round(storedSeconds, 3),
            };
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// The stored dump, verified and decoded chunk by chunk as a restore does, through <paramref name="reader"/>: its index
    /// entry <paramref name="listed"/> is checked against its manifest (<see cref="BridgeCodecs.ForListedManifest"/>), so an
    /// entry edited to steer --latest to an older dump is refused as restore refuses it, not checked in its place;
    /// <paramref name="warn"/> hears that a dump opened with a private key is not authenticated.
    /// </summary>
    static async Task ReadStoredAsync(IBridge bridge, DumpEntry listed, BridgeConfig settings, DumpRewriter reader, LeakEverywhere? everywhere,
        AllowLegacy? allowLegacy, Action<string> warn, CancellationToken cancellationToken)
    {
        var pipe = new Pipe(DumpJob.PipeOptionsFor(1 << 20));
        var reading = Task.Run(async () =>
        {
            try
            {
                await DiscardingPipeWriter.PassAsync(reader, pipe.Reader, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            }
        }, cancellationToken);
        try
        {
            await DumpReader.RestoreAsync(bridge, listed.Name, () => Task.FromResult(everywhere is null ? pipe.Writer.AsStream(leaveOpen: true) : new ScanningStream(pipe.Writer.AsStream(leaveOpen: true), everywhere)),
                manifest => BridgeCodecs.ForListedManifest(listed, manifest, settings, allowLegacy: allowLegacy, warn: warn), settings.Workers ?? DumpChunker.DefaultWorkers, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The restore's error is the cause; the reader only saw its input end.
            await pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
            try
            {
                await reading.ConfigureAwait(false);
            }
            catch (Exception)
            {
            }
            throw;
        }
        everywhere?.Complete();
        await pipe.Writer.CompleteAsync().ConfigureAwait(false);
        await reading.ConfigureAwait(false);
    }

    /// <summary>Shows the stored dump's bytes to --everywhere on their way to the reader.</summary>
    sealed class ScanningStream(Stream inner, LeakEverywhere everywhere) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            everywhere.Scan(buffer.AsSpan(offset, count));
            inner.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            everywhere.Scan(buffer.Span);
            return inner.WriteAsync(buffer, cancellationToken);
        }
    }

    /// <summary>The tables of one check, as both passes over rows see them.</summary>
    sealed class Check : IDisposable
    {
        readonly RewriteRules _rules;
        readonly SqlDialect _dialect;
        readonly Dictionary<TableName, TableState> _schema;
        readonly LeakBudget _budget;
        readonly string _directory;
        readonly Dictionary<TableName, long>? _estimates;
        readonly Dictionary<TableName, LeakTable?> _tables = [];
        readonly SortedSet<string> _unchecked = new(StringComparer.Ordinal);
        readonly List<string> _warnings = [];
        readonly HashSet<TableName> _missing = [];
        readonly SipKey _keyKey;
        readonly SipKey _valueKey;

        public Check(RewriteRules rules, SqlDialect dialect, IEnumerable<TableState> schema, long memoryBytes, string directory, bool everywhere,
            Dictionary<TableName, long>? estimates)
        {
            _rules = rules;
            _dialect = dialect;
            _schema = schema.ToDictionary(t => t.Name);
            _estimates = estimates;
            _directory = directory;
            // A key for this run only: the hashes kept in memory and on disk say nothing once it is gone.
            Span<byte> key = stackalloc byte[48];
            RandomNumberGenerator.Fill(key);
            _keyKey = SipKey.FromBytes(key);
            _valueKey = SipKey.FromBytes(key[16..]);
            if (everywhere)
            {
                // Every masked value of a ruled table may be one: the Bloom filter is sized for all of them.
                var values = _schema.Values.Where(t => _rules.ActionFor(t.Name, _dialect) == TableAction.Transform && _rules.HasColumnRules(t.Name, _dialect))
                    .Sum(t => EstimatedRows(t.Name) * Math.Max(1, (t.ColumnNames() ?? [.. t.SeenColumns]).Count(c => SpecFor(t, t.Name, c) is { Name: not "transient" })));
                Everywhere = new LeakEverywhere(SipKey.FromBytes(key[32..]), directory, memoryBytes, values);
                memoryBytes = Math.Max(1, memoryBytes - Everywhere.BloomBytes);
            }
            _budget = new LeakBudget(memoryBytes);
            Originals = new OriginalFilter(this);
            Stored = new StoredFilter(this);
        }

        public IRowFilter Originals { get; }

        /// <summary>--everywhere's originals and scan; null without it.</summary>
        public LeakEverywhere? Everywhere { get; }

        long EstimatedRows(TableName name) => _schema.GetValueOrDefault(name)?.Rows is > 0 and var rows ? rows : _estimates?.GetValueOrDefault(name) ?? 0;

        public IRowFilter Stored { get; }

        public List<LeakTable> Tables => [.. _tables.Values.OfType<LeakTable>()];

        /// <summary>The original side of a table: its sources, targets and key, or null when nothing of it is checked.</summary>
        LeakTable? Table(TableName name, IReadOnlyList<string> columns)
        {
            if (_tables.TryGetValue(name, out var known))
            {
                return known;
            }
            LeakTable? table = null;
            // A partition takes its partitioned table's rules, as in the dump.
            // A child takes the rules of every table it inherits from, as in the dump.
            var state = _schema.GetValueOrDefault(name);
            var ruled = state?.HasColumnRules(_rules) ?? _rules.HasColumnRules(name, _dialect);
            var action = state?.ActionOf(_rules) ?? _rules.ActionFor(name, _dialect);
            if (action == TableAction.Transform && ruled)
            {
                table = NewTable(name, columns);
            }
            _tables[name] = table;
            return table;
        }

        LeakTable? NewTable(TableName name, IReadOnlyList<string> columns)
        {
            var state = _schema.GetValueOrDefault(name);
            var display = state?.DisplayName ?? name.ToString();
            List<string> sources = [];
            List<LeakColumn> targets = [];
            List<int> targetSources = [];
            var masked = new HashSet<string>(StringComparer.Ordinal);
            foreach (var column in columns)
            {
                var spec = SpecFor(state, name, column);
                if (spec is null)
                {
                    continue;
                }
                sources.Add(column);
                if (spec.Name == "transient")
                {
                    _unchecked.Add($"{display}.{column}");
                    continue;
                }
                masked.Add(column);
                targetSources.Add(sources.Count - 1);
                targets.Add(new LeakColumn(column, spec.Name, ChanceModel(state, column)));
            }
            if (targets.Count == 0)
            {
                return null;
            }
            IReadOnlyList<string>? key = state?.Keys.FirstOrDefault(k => k.IsPrimary)?.Columns;
            if (key is null)
            {
                _warnings.Add($"{display} has no primary key in the original: its rows are matched by position (a subset or a row filter makes that meaningless)");
            }
            else if (key.FirstOrDefault(masked.Contains) is { } maskedKey)
            {
                _warnings.Add($"{display}: its primary key column {maskedKey} is masked, so its rows are matched by position");
                key = null;
            }
            else if (key.FirstOrDefault(k => !columns.Contains(k)) is { } absent)
            {
                _warnings.Add($"{display}: the original's rows have no primary key column {absent}, so its rows are matched by position");
                key = null;
            }
            return new LeakTable(name, display, sources, targets, targetSources, key, _budget, _directory, EstimatedRows(name));
        }

        TransformerConfig? SpecFor(TableState? state, TableName name, string column)
        {
            return state?.SpecFor(column, _rules) ?? _rules.SpecFor(name, column, _dialect);
        }

        /// <summary>
        /// The column's transformer, built as the dump built it, when it gives values back by chance (a small pool,
        /// random, number-noise); null otherwise.
        /// </summary>
        Transformer? ChanceModel(TableState? state, string column)
        {
            if (state is null)
            {
                return null;
            }
            Transformer? transformer;
            try
            {
                transformer = state.NewTransformer(column, _rules);
            }
            catch (ReplicaException)
            {
                return null;
            }
            if (transformer is { RepeatsByChance: true })
            {
                return transformer;
            }
            transformer?.Dispose();
            return null;
        }

        /// <summary>
        /// The hash of a row's key, never 0: of its primary key's values (the first <paramref name="keyCount"/> read, with
        /// their lengths), or with no key of its <paramref name="position"/>. <paramref name="keyBytes"/>: where the
        /// values after the key begin.
        /// </summary>
        ulong RowKey(long position, ReadOnlySpan<byte> values, ReadOnlySpan<int> lengths, int keyCount, out int keyBytes)
        {
            keyBytes = 0;
            for (var i = 0; i < keyCount; i++)
            {
                keyBytes += Math.Max(0, lengths[i]);
            }
            if (keyCount > 0)
            {
                return (SipHash.Hash64(_keyKey, values[..keyBytes]) ^ (SipHash.Hash64(_valueKey, MemoryMarshal.AsBytes(lengths[..keyCount])) * 0x9E3779B97F4A7C15UL)) | 1;
            }
            Span<byte> bytes = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes, position);
            return SipHash.Hash64(_keyKey, bytes) | 1;
        }

        /// <summary>A value's hash; 0 for NULL and the empty string (nothing to leak).</summary>
        ulong ValueHash(ReadOnlySpan<byte> value, int length) => length <= 0 ? 0 : SipHash.Hash64(_valueKey, value) | 1;

        public void Join()
        {
            foreach (var table in Tables)
            {
                table.Join();
            }
        }

        public LeakCheckResult Result(string name, string original, long originalBytes, long storedBytes)
        {
            var tables = Tables;
            var warnings = new List<string>(_warnings);
            foreach (var table in tables.Where(t => t.DuplicateKeys > 0))
            {
                warnings.Add($"{table.Display}: {table.DuplicateKeys} original rows repeat a key of an earlier row; only the first is compared");
            }
            foreach (var table in tables.Where(t => t.WithoutOriginal > 0))
            {
                warnings.Add($"{table.Display}: {table.WithoutOriginal} stored rows have no original row (not compared)");
            }
            if (_missing.Count > 0)
            {
                throw new ConfigException($"the original ({original}) has no table {string.Join(", ", _missing.Select(m => m.ToString()).Order(StringComparer.Ordinal))} "
                    + $"that dump '{name}' holds rows of: is it the source this dump was made from?");
            }
            List<LeakColumnReport> columns = [];
            foreach (var table in tables.OrderBy(t => t.Display, StringComparer.Ordinal))
            {
                var matchedBy = table.KeyColumns is { } key ? $"primary key ({string.Join(", ", key)})" : "position";
                foreach (var column in table.Targets)
                {
                    columns.Add(new LeakColumnReport(table.Display, column.Name, column.Transformer, matchedBy, column.Compared, column.Unchanged, column.Copied,
                        column.Leaks, [.. column.CopiedFrom], column.Examples)
                    {
                        PoolSize = column.PoolSize is { } pool ? Math.Round(pool, 1) : null,
                        ChanceRate = column.ChanceRate,
                        UnchangedDistinct = column.RepeatsByChance ? column.UnchangedDistinct : null,
                        ExpectedDistinctByChance = column.ExpectedByChance is { } expected ? Math.Round(expected, 2) : null,
                    });
                }
            }
            return new LeakCheckResult(name, original, originalBytes, storedBytes, columns, [.. _unchecked], warnings)
            {
                Everywhere = Everywhere?.Join(),
                Tables = tables.Count,
                OriginalRows = tables.Sum(t => t.OriginalRows),
                StoredRows = tables.Sum(t => t.StoredRows),
                RowsWithoutOriginal = tables.Sum(t => t.WithoutOriginal),
                MemoryBudget = _budget.Bytes,
                PeakTableBytes = _budget.Peak,
                SpilledBytes = tables.Sum(t => t.SpilledBytes),
            };
        }

        public void Dispose()
        {
            foreach (var table in Tables)
            {
                table.Dispose();
            }
            Everywhere?.Dispose();
        }

        /// <summary>Positions of <paramref name="names"/> in <paramref name="columns"/> (-1: absent).</summary>
        static int[] Positions(IEnumerable<string> names, IReadOnlyList<string> columns) => [.. names.Select(n =>
        {
            for (var i = 0; i < columns.Count; i++)
            {
                if (columns[i] == n)
                {
                    return i;
                }
            }
            return -1;
        })];

        /// <summary>Pass 2: each original row's key and source columns, hashed into its table.</summary>
        sealed class OriginalFilter(Check check) : IRowFilter
        {
            public RowSelection? Choose(TableName table, IReadOnlyList<string> columns)
            {
                if (check.Table(table, columns) is not { } leak)
                {
                    return null;
                }
                var key = leak.KeyColumns ?? [];
                var reads = Positions(key.Concat(leak.Sources), columns);
                return reads.Contains(-1) ? null : new OriginalRows(check, leak, key.Count) { Reads = reads };
            }
        }

        sealed class OriginalRows(Check check, LeakTable table, int keyCount) : RowSelection
        {
            readonly ulong[] _row = new ulong[1 + table.Sources.Count];

            public override bool ReadsBytes => true;

            public override bool Keep(string?[] values, ReadOnlySpan<byte> row) => throw new NotSupportedException("the leak check reads bytes");

            public override bool Keep(ReadOnlySpan<byte> values, ReadOnlySpan<int> lengths, ReadOnlySpan<byte> row)
            {
                _row[0] = check.RowKey(keyCount == 0 ? table.NextOriginalPosition() : -1, values, lengths, keyCount, out var offset);
                for (var s = 0; s < _row.Length - 1; s++)
                {
                    var length = lengths[keyCount + s];
                    var value = values.Slice(offset, Math.Max(0, length));
                    _row[1 + s] = check.ValueHash(value, length);
                    if (_row[1 + s] != 0 && table.TargetOf(s) is { } target)
                    {
                        target.AddOriginal(value, _row[1 + s]);
                        check.Everywhere?.AddOriginal(value);
                    }
                    offset += Math.Max(0, length);
                }
                table.AddOriginal(_row);
                // Nothing is written: the rewriter's output is dropped anyway.
                return false;
            }
        }

        /// <summary>Pass 3: each stored row's key and checked columns, compared (or partitioned) in its table.</summary>
        sealed class StoredFilter(Check check) : IRowFilter
        {
            public RowSelection? Choose(TableName table, IReadOnlyList<string> columns)
            {
                if (!check._tables.TryGetValue(table, out var leak) && check._schema.ContainsKey(table))
                {
                    // In the original without rows: every stored row is one without an original.
                    leak = check.Table(table, columns);
                }
                else if (leak is null && !check._tables.ContainsKey(table))
                {
                    // Not in the original at all: an error if a rule checks a column of it.
                    if (check._rules.HasColumnRules(table, check._dialect) && columns.Any(c => check._rules.SpecFor(table, c, check._dialect) is { Name: not "transient" }))
                    {
                        check._missing.Add(table);
                    }
                    return null;
                }
                if (leak is null)
                {
                    return null;
                }
                var key = leak.KeyColumns ?? [];
                var keyPositions = Positions(key, columns);
                if (keyPositions.Contains(-1))
                {
                    check._warnings.Add($"{leak.Display}: the stored rows have no column {key[Array.IndexOf(keyPositions, -1)]} of the primary key; not compared");
                    return null;
                }
                var targets = Positions(leak.Targets.Select(t => t.Name), columns);
                foreach (var (column, at) in leak.Targets.Zip(targets))
                {
                    if (at < 0)
                    {
                        check._warnings.Add($"{leak.Display}: the stored rows have no column {column.Name}; not compared");
                    }
                }
                return new StoredRows(check, leak, key.Count, targets) { Reads = [.. keyPositions, .. targets.Where(t => t >= 0)] };
            }
        }

        sealed class StoredRows(Check check, LeakTable table, int keyCount, int[] targets) : RowSelection
        {
            readonly ulong[] _row = new ulong[1 + 3 * targets.Length];

            public override bool ReadsBytes => true;

            public override bool Keep(string?[] values, ReadOnlySpan<byte> row) => throw new NotSupportedException("the leak check reads bytes");

            public override bool Keep(ReadOnlySpan<byte> values, ReadOnlySpan<int> lengths, ReadOnlySpan<byte> row)
            {
                _row[0] = check.RowKey(keyCount == 0 ? table.NextStoredPosition() : -1, values, lengths, keyCount, out var offset);
                var read = keyCount;
                for (var j = 0; j < targets.Length; j++)
                {
                    if (targets[j] < 0)
                    {
                        _row[1 + 3 * j] = 0;
                        continue;
                    }
                    var length = lengths[read++];
                    var value = values.Slice(offset, Math.Max(0, length));
                    _row[1 + 3 * j] = check.ValueHash(value, length);
                    _row[2 + 3 * j] = LeakColumn.Prefix(value, out var chars);
                    _row[3 + 3 * j] = (ulong)chars;
                    offset += Math.Max(0, length);
                }
                table.AddStored(_row);
                return false;
            }
        }
    }
}
