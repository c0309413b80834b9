using System.Text;
using Replica.Bridges;
using Replica.Catalog;
using Replica.Clients;
using Replica.Config;
using Replica.Destinations;
using Replica.Lexing;
using Replica.Rewriting;
using Replica.Scanning;
using Replica.Sources;
using Replica.Subsetting;
using Replica.Transformers;

namespace Replica.Pipeline;

/// <summary>What `replica dump` is asked for besides the config (its command-line options).</summary>
public sealed record DumpOptions
{
    /// <summary>A plain-format dump to read (a file, or - for standard input) instead of source.connection_uri.</summary>
    public string? Input { get; init; }

    /// <summary>The dialect of <see cref="Input"/>; null: the source's (<see cref="Endpoints.Dialect"/>).</summary>
    public SqlDialect? Dialect { get; init; }

    /// <summary>The new dump's name; null: dump-&lt;unix ms&gt;.</summary>
    public string? Name { get; init; }

    /// <summary>--strict (as 'policy: strict').</summary>
    public bool Strict { get; init; }

    /// <summary>
    /// --jobs: how many parts of a live PostgreSQL source are read and stored at once (1: one pg_dump stream, as always;
    /// above 1: a dump in parts from one snapshot, <see cref="DumpJob.RunPartsAsync(PostgresSnapshotSource, DumpRewriter, IBridge, string, BridgeConfig, int, CancellationToken)"/>).
    /// </summary>
    public int Jobs { get; init; } = 1;
}

/// <summary>
/// One dump, decided from the config and the options before any data is read: the rules (every transformer checked,
/// the secret, strict mode, the catalog's unique columns), the source, its dialect, the bridge and the name. Building it
/// fails with the same errors, in the same order, as `replica dump` reports them; running it is <see cref="DumpJob"/>.
/// </summary>
public sealed class DumpRequest : IAsyncDisposable
{
    DumpRequest(ReplicaConfig config, RewriteRules rules, IDumpSource source, SqlDialect dialect, IBridge bridge, string name, int jobs, ScratchDatabase? scratch)
    {
        Scratch = scratch;
        Jobs = jobs;
        Config = config;
        Rules = rules;
        Source = source;
        Dialect = dialect;
        Bridge = bridge;
        Name = name;
    }

    public ReplicaConfig Config { get; }

    public RewriteRules Rules { get; }

    public IDumpSource Source { get; }

    public SqlDialect Dialect { get; }

    public IBridge Bridge { get; }

    public string Name { get; }

    /// <summary>How many parts are read and stored at once; 1 is a single stream.</summary>
    public int Jobs { get; }

    /// <summary>sanitize.scratch_uri with the sanitize statements (guard-checked); null without 'sanitize:'.</summary>
    public ScratchDatabase? Scratch { get; }

    /// <summary>
    /// Builds the request in the order `replica dump` always checked: the rules, then the source database's catalog
    /// (strict mode, unique columns), then the source, then the bridge.
    /// </summary>
    public static async Task<DumpRequest> CreateAsync(ReplicaConfig config, DumpOptions options, BridgeFactory bridges, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(bridges);
        CheckJobs(config, options);
        CheckSubset(config, options);
        BridgeCodecs.CheckNewDumpPassphrase(config.Bridge, config.File);
        var scratch = CreateScratch(config, options);
        // In strict mode every dump is checked by the columns of its own CREATE TABLE statements, as it streams: a dump file
        // or stdin, and a live source's too, whose catalog (checked below, before anything runs) was read before pg_dump
        // took its snapshot: a table created in between would otherwise pass unchecked.
        var rules = BuildRules(config, strictFromDump: options.Strict || config.Strict, liveSource: options.Input is null);
        // Strict mode and the catalog's unique columns, from a PostgreSQL source's catalog.
        await CheckBeforeDumpAsync(config, options.Strict, liveSource: options.Input is null, rules, cancellationToken).ConfigureAwait(false);
        var source = Endpoints.Source(config, options.Input, rules.Checks!.Warn);
        try
        {
            var bridge = bridges.Open(config.Bridge);
            return new DumpRequest(config, rules, source, options.Dialect ?? Endpoints.Dialect(config), bridge,
                options.Name ?? DumpName.ForTime(DateTimeOffset.UtcNow), options.Jobs, scratch);
        }
        catch
        {
            await DisposeSourceAsync(source).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The rewriter of this dump; the caller disposes it.</summary>
    public DumpRewriter CreateRewriter() => new(Rules, Config.MaxRowBytes, Dialect);

    /// <summary>
    /// Streams the source through <paramref name="rewriter"/> into the bridge (<see cref="DumpJob"/>); with
    /// <see cref="Jobs"/> above 1, in parts from one snapshot of source.connection_uri, <paramref name="rewriter"/>
    /// reading the schema and its statistics summing every part's.
    /// </summary>
    public async Task<DumpResult> RunAsync(DumpRewriter rewriter, CancellationToken cancellationToken)
    {
        if (Jobs == 1 && Config.Subset is null)
        {
            return await StoreAsync(Source, rewriter, cancellationToken).ConfigureAwait(false);
        }
        if (Config.Subset is not null && (Source is FileDumpSource or StandardInputSource || Dialect == SqlDialect.MySql))
        {
            return await RunFileSubsetAsync(rewriter, cancellationToken).ConfigureAwait(false);
        }
        var uri = DatabaseUri.Parse(Config.Source.ConnectionUri!);
        var tools = PostgresTools.Find(Config.ChildEnvironment);
        await using var snapshot = new PostgresSnapshotSource(uri, Endpoints.OptionsOf(Config.Source), tools, Jobs)
        {
            RestrictKey = await RestrictKeyAsync(tools, uri, cancellationToken).ConfigureAwait(false),
        };
        SubsetSummary? subset = null;
        using var keys = Config.Subset is null ? null : new KeyStore(Config.Subset.MemoryBytes);
        Func<CancellationToken, Task>? afterSnapshot = Config.Subset is null
            ? null
            : async token => subset = await SubsetDump.ApplyAsync(snapshot, Config, rewriter, keys!, Progress, token).ConfigureAwait(false);
        var result = Scratch is null
            ? await DumpJob.RunPartsAsync(snapshot, rewriter, Bridge, Name, Config.Bridge, Jobs, cancellationToken, afterSnapshot).ConfigureAwait(false)
            : await DumpJob.RunSanitizedPartsAsync(snapshot, rewriter, Scratch, Bridge, Name, Config.Bridge, Config.Source.DataFormat, Progress, afterSnapshot,
                cancellationToken, Jobs, Jobs > 1 ? await RestrictKeyAsync(tools, Scratch.Uri, cancellationToken).ConfigureAwait(false) : null).ConfigureAwait(false);
        return result with { Subset = subset };
    }

    /// <summary>
    /// A subset of a dump file, standard input or a live MySQL source (<see cref="SubsetFile"/>): what is not a file is
    /// spooled to one first (mysqldump's output too: one consistent snapshot, read once), since the subset reads the
    /// dump three times.
    /// </summary>
    async Task<DumpResult> RunFileSubsetAsync(DumpRewriter rewriter, CancellationToken cancellationToken)
    {
        using var keys = new KeyStore(Config.Subset!.MemoryBytes);
        var source = Source is FileDumpSource ? Source : await SpooledSource.WriteAsync(Source, keys.DirectoryPath, cancellationToken).ConfigureAwait(false);
        var summary = await SubsetFile.ApplyAsync(source, Config, rewriter, keys, Progress, cancellationToken).ConfigureAwait(false);
        var result = await StoreAsync(source, rewriter, cancellationToken).ConfigureAwait(false);
        return result with { Subset = summary() };
    }

    /// <summary>One stream into the bridge; with 'sanitize:' through the scratch database first (<see cref="DumpJob.RunSanitizedAsync"/>).</summary>
    Task<DumpResult> StoreAsync(IDumpSource source, DumpRewriter rewriter, CancellationToken cancellationToken) => Scratch is null
        ? DumpJob.RunAsync(source, rewriter, Bridge, Name, Config.Bridge, cancellationToken)
        : DumpJob.RunSanitizedAsync(source, rewriter, Scratch, Bridge, Name, Config.Bridge, Config.Source.DataFormat, Progress, cancellationToken);

    /// <summary>Progress lines of the steps before data flows (a subset's passes and rounds); null: silent.</summary>
    public Action<string>? Progress { get; set; }

    /// <summary>
    /// pg_dump's \restrict key for the parts of a dump in parts: derived from the config's secret and the database, so
    /// two dumps of the same data restore to the same SQL byte for byte. pg_dump writes a fresh random key otherwise, as
    /// it does without a secret: the key guards psql against meta-commands smuggled in by whoever controls the source,
    /// so it must not be guessable, and without a secret it would be. Null, too, for a pg_dump that has no
    /// --restrict-key (before 17.6, 16.10, 15.14).
    /// </summary>
    async Task<string?> RestrictKeyAsync(PostgresTools tools, DatabaseUri uri, CancellationToken cancellationToken)
    {
        if (Config.Secret.Length == 0 || !await tools.PgDumpHasRestrictKeyAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        var key = System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(Config.Secret),
            Encoding.UTF8.GetBytes("replica dump --jobs: pg_dump restrict key of " + uri.Describe()));
        // pg_dump takes letters and digits only.
        return Convert.ToHexStringLower(key.AsSpan(0, 16));
    }

    /// <summary>
    /// --jobs above 1 reads a live PostgreSQL database in parts from one exported snapshot; anything else has one stream
    /// only, and is a usage error that says why. The snapshot source (--jobs above 1, and any live PostgreSQL subset)
    /// reads tables with COPY and writes COPY blocks.
    /// </summary>
    static void CheckJobs(ReplicaConfig config, DumpOptions options)
    {
        if (options.Jobs < 1)
        {
            throw new ConfigException($"--jobs must be 1 or more, not {options.Jobs}");
        }
        if (options.Jobs > 1 && options.Input is not null)
        {
            throw new ConfigException(
                "--jobs above 1 reads a live PostgreSQL database (source.connection_uri) in parts from one snapshot; "
                + "--input is one stream (a file or standard input) and is read with --jobs 1");
        }
        var uri = options.Input is null && config.Source.ConnectionUri is { Length: > 0 } text ? DatabaseUri.Parse(text) : null;
        if (options.Jobs > 1 && uri is { Kind: DatabaseKind.MySql })
        {
            throw new ConfigException(
                "--jobs above 1 needs one snapshot shared by several connections, which MySQL and MariaDB give only under a "
                + "global read lock (FLUSH TABLES WITH READ LOCK) for the whole dump; a MySQL source is dumped as one stream "
                + "with --jobs 1", config.File, key: "source.connection_uri");
        }
        if (uri is { Kind: DatabaseKind.PostgreSql } && (options.Jobs > 1 || config.Subset is not null) && config.Source.DataFormat != DataFormat.Copy)
        {
            throw new ConfigException(options.Jobs > 1
                ? "a dump in parts (--jobs above 1) writes COPY blocks; data_format: inserts needs --jobs 1"
                : "a subset of a live PostgreSQL database reads its tables with COPY from one snapshot and writes COPY blocks; "
                    + "data_format: inserts works for a whole database, or for a subset of a dump file (--input)",
                config.File, key: "source.data_format");
        }
    }

    /// <summary>
    /// 'sanitize:' restores the masked dump into a scratch database of the dump's own kind (PostgreSQL or MySQL), one
    /// part after the other (with --jobs above 1 the scratch database is then stored in parts): another kind is refused
    /// as a config error before anything runs. Building the scratch database checks its statements with the restore guard (a meta-command is a
    /// config error here too); nothing is created until the dump runs.
    /// </summary>
    static ScratchDatabase? CreateScratch(ReplicaConfig config, DumpOptions options)
    {
        if (config.Sanitize is not { } sanitize)
        {
            return null;
        }
        var uri = DatabaseUri.Parse(sanitize.ScratchUri);
        var dialect = options.Dialect ?? Endpoints.Dialect(config);
        if ((dialect == SqlDialect.MySql) != (uri.Kind == DatabaseKind.MySql))
        {
            throw new ConfigException(dialect == SqlDialect.MySql
                ? "sanitize restores the masked dump into its scratch database with the dump's own client: a MySQL or MariaDB dump needs a "
                    + "mysql:// scratch_uri (e.g. mysql://replica@127.0.0.1:3306/replica_scratch)"
                : "sanitize restores the masked dump into its scratch database with the dump's own client: a PostgreSQL dump needs a "
                    + "postgres:// scratch_uri (e.g. postgres://replica@127.0.0.1:5432/replica_scratch)", config.File, key: "sanitize.scratch_uri");
        }
        // An --input file (or standard input) is SQL that anyone may have written; a live database's functions are written
        // by its roles, superusers or not: the scratch role is checked for both.
        return ScratchDatabase.For(uri, sanitize.Statements, config.ChildEnvironment, sanitize.AllowPrivilegedRole, sanitize.LeaveOut);
    }

    /// <summary>
    /// A subset reads a live PostgreSQL database on the snapshot source (keys and rows from one snapshot); what cannot
    /// be subset yet is refused, never dumped whole.
    /// </summary>
    static void CheckSubset(ReplicaConfig config, DumpOptions options)
    {
        if (config.Subset is not { } subset)
        {
            return;
        }
        // A dump file, standard input or a MySQL source: subset in file mode (SubsetFile).
        var uri = config.Source.ConnectionUri is { Length: > 0 } text ? DatabaseUri.Parse(text) : null;
        if (options.Input is not null || uri is { Kind: DatabaseKind.MySql })
        {
            SubsetFile.Check(config);
            return;
        }
        if (uri is not { Kind: DatabaseKind.PostgreSql })
        {
            throw new ConfigException($"subset ({subset.Source ?? "in the config"}): subsets are taken from a live PostgreSQL or MySQL source "
                + "(source.connection_uri) or a dump file (--input)", config.File, key: "subset");
        }
        if (config.Source.DataFormat != DataFormat.Copy)
        {
            throw new ConfigException("a subset is dumped in parts, which write COPY blocks; data_format: inserts cannot be used with subset",
                config.File, key: "source.data_format");
        }
    }

    /// <summary>
    /// Builds the rules of a config and checks every configured transformer and option now, before any data is read:
    /// what `replica dump` does, and what benchmarks and tests use to get the same rules.
    /// </summary>
    /// <param name="config">The config.</param>
    /// <param name="strictFromDump">Strict mode checks the dump's own CREATE TABLE statements as it streams.</param>
    /// <param name="liveSource">
    /// The dump comes from source.connection_uri, with its filters: strict mode passes over a table whose rows they leave
    /// out (exclude_table_data), as the catalog's check does.
    /// </param>
    public static RewriteRules BuildRules(ReplicaConfig config, bool strictFromDump = false, bool liveSource = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        var environment = new TransformerEnvironment(Encoding.UTF8.GetBytes(config.Secret), config.Locale) { MaxValueBytes = config.MaxRowBytes };
        var hasTransformers = false;
        foreach (var rule in config.Tables)
        {
            foreach (var column in rule.Columns)
            {
                TransformerRegistry.Validate(Bind(column.Transformer), environment);
                hasTransformers = true;
            }
        }
        if (hasTransformers && config.Secret.Length == 0)
        {
            throw new ConfigException("'secret' is not set: deterministic transformers need a key (e.g. secret: ${REPLICA_SECRET})", config.File, key: "secret");
        }
        return new RewriteRules(config.Tables, config.OnlyTables, (transformer, column) => TransformerRegistry.Create(Bind(transformer), column, environment))
        {
            Checks = new RuleChecks
            {
                Unmatched = config.UnmatchedRules,
                Strict = strictFromDump,
                LiveSource = liveSource,
                SourceDumpsData = (schema, name) => StrictPolicy.SourceDumpsData(config.Source, schema, name),
                SourceExcludesWithChildren = (schema, name) => StrictPolicy.SourceExcludes(config.Source, schema, name),
                ConfigFile = config.File,
            },
        };
    }

    /// <summary>
    /// A configured transformer (a plain config record) as the transformers take it: name, raw options, unique, and
    /// where it and each option were written, so errors found while binding point at the file, line and key.
    /// </summary>
    public static TransformerSpec Bind(TransformerConfig transformer)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        return new TransformerSpec(transformer.Name, transformer.Options)
        {
            Location = transformer.Location,
            OptionLocations = transformer.OptionLocations,
            Unique = transformer.Unique,
            OptionsFromEnvironment = transformer.OptionsFromEnvironment,
        };
    }

    /// <summary>
    /// What a dump of a live source checks in its catalog before it writes anything. Strict mode (--strict or 'policy:
    /// strict') reads the catalog of source.connection_uri and fails naming every column that looks like personal data
    /// and has no rule; strict mode with a live source other than PostgreSQL is a config error, since nothing could be
    /// checked. The catalog's unique columns also make their transformers unique-safe. A dump file or stdin
    /// (<paramref name="liveSource"/> false) is not checked here: its rewriter checks the columns of the dump's own
    /// CREATE TABLE statements (RuleChecks.Strict), which may not be those of source.connection_uri.
    /// </summary>
    static async Task CheckBeforeDumpAsync(ReplicaConfig config, bool strict, bool liveSource, RewriteRules rules, CancellationToken cancellationToken)
    {
        strict |= config.Strict;
        if (!liveSource)
        {
            return;
        }
        var uri = config.Source.ConnectionUri is { Length: > 0 } text ? DatabaseUri.Parse(text) : null;
        if (uri is not { Kind: DatabaseKind.PostgreSql })
        {
            if (strict)
            {
                throw new ConfigException(
                    "strict mode checks the source database's columns before dumping, and needs source.connection_uri (postgres://) to read them",
                    config.File, key: "policy");
            }
            return;
        }
        var catalog = await PostgresCatalog.ReadAsync(uri, cancellationToken).ConfigureAwait(false);
        // pg_dump ignores an exclude pattern that matches nothing: a misspelt one would dump what it meant to leave out.
        UnmatchedExcludes.CheckPostgres(Endpoints.OptionsOf(config.Source), catalog, config.UnmatchedRules, rules.Checks!.Warn, config.File);
        if (strict)
        {
            StrictPolicy.Check(catalog, config);
        }
        rules.MarkUnique(catalog.UniqueColumns());
    }

    public ValueTask DisposeAsync() => DisposeSourceAsync(Source);

    static ValueTask DisposeSourceAsync(IDumpSource source) =>
        source is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}
