namespace Replica.Config;

/// <summary>The whole configuration of a run, as read from replica.yaml (or a RepliByte file).</summary>
public sealed class ReplicaConfig
{
    /// <summary>Path of the file this came from, for messages; null when built in code.</summary>
    public string? File { get; init; }

    /// <summary>Key for deterministic transformers ('secret'). Empty means no secret was configured.</summary>
    public string Secret { get; init; } = "";

    /// <summary>Bogus locale for fakes ('locale', default "en").</summary>
    public string Locale { get; init; } = "en";

    public SourceConfig Source { get; init; } = new();

    /// <summary>'policy: strict': a dump fails before writing anything when a column that looks like personal data has no rule.</summary>
    public bool Strict { get; init; }

    public BridgeConfig Bridge { get; init; } = new();

    /// <summary>What the file is allowed but should not do (a key file others can read), for the caller to show.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>What child processes are not given of replica's environment: the variables this config read, replica's own.</summary>
    public ChildEnvironment ChildEnvironment { get; init; } = ChildEnvironment.WithoutConfig;

    /// <summary>'destination': where 'replica restore' writes (RepliByte's destination.connection_uri).</summary>
    public DestinationConfig Destination { get; init; } = new();

    /// <summary>Which shape the file had: Replica's own or RepliByte's conf.yaml.</summary>
    public ConfigFormat Format { get; init; } = ConfigFormat.Replica;

    /// <summary>Per-table rules in file order; for a column, the first rule that matches it wins.</summary>
    public IReadOnlyList<TableRule> Tables { get; init; } = [];

    /// <summary>When not empty, tables that match none of these are dropped entirely ('only_tables').</summary>
    public IReadOnlyList<TablePattern> OnlyTables { get; init; } = [];

    /// <summary>Largest row or statement that may be buffered, in bytes ('limits.max_row_size', default 256 MiB).</summary>
    public long MaxRowBytes { get; init; } = 256L << 20;

    /// <summary>'unmatched_rules': whether a rule that matches no table or column of the dump fails it (the default) or warns.</summary>
    public UnmatchedRules UnmatchedRules { get; init; } = UnmatchedRules.Error;

    /// <summary>'subset:': which rows the dump keeps; null copies every row.</summary>
    public SubsetConfig? Subset { get; init; }

    /// <summary>'sanitize:': SQL run on the masked dump in a scratch database before it is stored; null stores the masked dump as it is.</summary>
    public SanitizeConfig? Sanitize { get; init; }
}

/// <summary>
/// The 'sanitize:' section: what column rules cannot express (an UPDATE with a condition, deleting whole customers),
/// run by `replica dump` on the masked dump restored into <see cref="ScratchUri"/>, which is then dumped into the bridge.
/// </summary>
public sealed class SanitizeConfig
{
    /// <summary>'sanitize.scratch_uri': a database of the dump's kind (PostgreSQL or MySQL) replica creates (it must not exist) and drops; may hold a password.</summary>
    public required string ScratchUri { get; init; }

    /// <summary>'sanitize.statements': run in order, in one transaction, after the masked data is in; ${VAR} expanded.</summary>
    public IReadOnlyList<SqlStep> Statements { get; init; } = [];

    /// <summary>Where 'sanitize:' was configured ("replica.yaml:40:3"), for messages.</summary>
    public string? Source { get; init; }

    /// <summary>
    /// 'sanitize.allow_privileged_role': fill the scratch database even as a role that SQL inside the stream could use
    /// to reach outside it (a superuser: a function's COPY ... TO PROGRAM). Without it such a role is refused whatever
    /// the source: an --input file's SQL is whoever wrote it's, and a live database's functions are its roles'.
    /// </summary>
    public bool AllowPrivilegedRole { get; init; }

    /// <summary>
    /// 'sanitize.no_owner' and 'sanitize.no_privileges': what filling the scratch database leaves out of the stream, as
    /// destination.no_owner and no_privileges do (so a role that may only create databases can be the scratch role).
    /// </summary>
    public LeaveOut LeaveOut { get; init; }
}

/// <summary>The 'subset:' section: where a subset starts and which links it follows.</summary>
public sealed class SubsetConfig
{
    public IReadOnlyList<SubsetRootConfig> Roots { get; init; } = [];

    /// <summary>follow_children: all.</summary>
    public bool FollowAllChildren { get; init; }

    /// <summary>Child tables whose rows referencing a row reached downward are kept (none by default: parents only).</summary>
    public IReadOnlyList<TablePattern> FollowChildren { get; init; } = [];

    /// <summary>Tables copied whole, with their parents.</summary>
    public IReadOnlyList<TablePattern> Passthrough { get; init; } = [];

    public IReadOnlyList<VirtualForeignKeyConfig> VirtualForeignKeys { get; init; } = [];

    /// <summary>Safety cap: a table that would keep more rows fails the dump, naming it.</summary>
    public long? MaxRowsPerTable { get; init; }

    /// <summary>unreached: full (tables no root reaches are copied whole); false: empty, the default.</summary>
    public bool UnreachedFull { get; init; }

    /// <summary>The key store's memory budget; it spills to disk beyond it.</summary>
    public long MemoryBytes { get; init; } = 64L << 20;

    /// <summary>Where 'subset:' was configured ("replica.yaml:40:3"), for messages.</summary>
    public string? Source { get; init; }
}

/// <summary>A root: one table's rows filtered by a SQL predicate, then sampled (percent), then capped (limit).</summary>
public sealed record SubsetRootConfig(TablePattern Table)
{
    public string? Where { get; init; }
    public double? Percent { get; init; }
    public long? Limit { get; init; }
    public string? Source { get; init; }
}

/// <summary>A relationship the catalog does not declare; <see cref="Where"/> restricts it to some referencing rows (polymorphic links).</summary>
public sealed record VirtualForeignKeyConfig(TablePattern Table, IReadOnlyList<string> Columns, TablePattern References, IReadOnlyList<string> ReferencedColumns)
{
    public string? Where { get; init; }
    public string? Source { get; init; }
}

public sealed class SourceConfig
{
    /// <summary>
    /// 'source.connection_uri': a live database to dump (postgres:// runs pg_dump, mysql:// runs mysqldump); may hold a
    /// password, never print it.
    /// </summary>
    public string? ConnectionUri { get; init; }

    /// <summary>'source.tables': dump only these tables (pg_dump --table patterns, e.g. public.users or 'sales.*').</summary>
    public IReadOnlyList<string> Tables { get; init; } = [];

    /// <summary>'source.exclude_tables': leave these tables out, schema and data (pg_dump --exclude-table).</summary>
    public IReadOnlyList<string> ExcludeTables { get; init; } = [];

    /// <summary>'source.exclude_table_data': keep these tables' definitions, dump none of their rows (--exclude-table-data).</summary>
    public IReadOnlyList<string> ExcludeTableData { get; init; } = [];

    /// <summary>'source.schemas': dump only these schemas (--schema).</summary>
    public IReadOnlyList<string> Schemas { get; init; } = [];

    /// <summary>'source.exclude_schemas': leave these schemas out (--exclude-schema).</summary>
    public IReadOnlyList<string> ExcludeSchemas { get; init; } = [];

    /// <summary>'source.data_format': copy (default, fastest) or inserts (one INSERT per row, pg_dump --inserts).</summary>
    public DataFormat DataFormat { get; init; } = DataFormat.Copy;
}

public sealed class BridgeConfig
{
    /// <summary>'bridge.local.path'; default ./replica-bridge. Used when no S3 bucket is configured.</summary>
    public string LocalPath { get; init; } = "./replica-bridge";

    /// <summary>'bridge.s3': an S3-compatible bucket; null for the local directory.</summary>
    public S3Config? S3 { get; init; }

    /// <summary>
    /// 'bridge.chunk_size', bytes per chunk object; default 4 MiB (8 MiB before issue 10: with 2 workers the dump's peak RSS
    /// was 145 MiB, with 4 MiB 118 MiB, and the stored dump 0.03 % larger; bench/results/issue10-memory-2026-12-02.md). A dump holds workers + 2 chunks in memory (one filling,
    /// one per worker, one being stored), each with its encoded form, so memory is about (workers + 2) × chunk_size plus
    /// the encoded chunks (their compressed size) plus ~70 MiB.
    /// </summary>
    public long ChunkSize { get; init; } = 4L << 20;

    /// <summary>
    /// 'bridge.workers': chunks compressed, encrypted and hashed at once (a dump), or fetched, checked and decoded at once
    /// (a restore), each on its own thread; null: the number of cores, at most 4. Stored chunks do not depend on it.
    /// </summary>
    public int? Workers { get; init; }

    /// <summary>'bridge.compression'.</summary>
    public CompressionConfig Compression { get; init; } = new();

    /// <summary>'bridge.encryption'; null stores dumps unencrypted.</summary>
    public EncryptionConfig? Encryption { get; init; }
}

/// <summary>'bridge.s3': where in which S3-compatible bucket dumps live.</summary>
public sealed class S3Config
{
    public required string Bucket { get; init; }

    /// <summary>Optional key prefix ending with '/', so several projects can share one bucket.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>
    /// What is wrong with <paramref name="prefix"/> as a bridge's key prefix, or null when nothing: "" (the bucket
    /// root) or segments ending with '/', none empty ('/x/', 'a//b/'), '.' or '..', and no '\' or control character.
    /// S3 keeps such keys as they are, but a URL or a path resolves them elsewhere: a shared link to
    /// "a/../b/x" is "b/x" once a client (.NET's Uri, curl, a browser) has read it, and '\' is '/' to them. A prefix is
    /// refused rather than normalised, so that a bridge never moves silently from where its objects are.
    /// </summary>
    public static string? PrefixProblem(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length == 0)
        {
            return null;
        }
        if (!prefix.EndsWith('/'))
        {
            return "it must end with '/'";
        }
        if (prefix.Any(c => c == '\\' || char.IsControl(c)))
        {
            return "it must not hold a '\\' or a control character";
        }
        foreach (string segment in prefix[..^1].Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                return "it must not start with '/' nor hold an empty, '.' or '..' segment ('//', '/./', '/../')";
            }
        }
        return null;
    }

    public string Region { get; init; } = "us-east-1";

    /// <summary>Any S3-compatible server, e.g. http://127.0.0.1:9000; null for AWS.</summary>
    public string? Endpoint { get; init; }

    public bool ForcePathStyle { get; init; }

    /// <summary>Credentials; when null the standard AWS chain (environment, profile) is used.</summary>
    public string? AccessKeyId { get; init; }

    public string? SecretAccessKey { get; init; }

    /// <summary>'retries': attempts after a failed request, with jittered exponential backoff (default 5).</summary>
    public int Retries { get; init; } = 5;
}

/// <summary>'bridge.compression': algorithm zstd (default) | gzip | none, and its level.</summary>
public sealed class CompressionConfig
{
    public string Algorithm { get; init; } = "zstd";

    /// <summary>zstd 1..19 (default 1), gzip 1..9 (default 1, fastest).</summary>
    public int? Level { get; init; }

    /// <summary>zstd worker threads (0: compress on the calling thread).</summary>
    public int Workers { get; init; }

    public bool IsNone => Algorithm == "none";
}

/// <summary>
/// 'bridge.encryption': exactly one way to protect a dump's data key: a passphrase (PBKDF2), a raw 32-byte key
/// (base64, from an environment variable or a file), or recipients' public keys (then restoring needs a private key).
/// </summary>
public sealed class EncryptionConfig
{
    public string? Passphrase { get; init; }

    /// <summary>'key': a base64 32-byte key, typically ${REPLICA_KEY}.</summary>
    public string? Key { get; init; }

    /// <summary>'key_file': a file holding a base64 32-byte key.</summary>
    public string? KeyFile { get; init; }

    /// <summary>'recipients': public key files (PEM) the data key is wrapped for.</summary>
    public IReadOnlyList<string> Recipients { get; init; } = [];

    /// <summary>'private_key_file': to restore dumps made for recipients.</summary>
    public string? PrivateKeyFile { get; init; }

    /// <summary>'private_key_passphrase': when the private key file is encrypted.</summary>
    public string? PrivateKeyPassphrase { get; init; }
}

public sealed class DestinationConfig
{
    /// <summary>'destination.connection_uri': a database to restore into; may contain a password, never print it.</summary>
    public string? ConnectionUri { get; init; }

    /// <summary>RepliByte's 'destination.wipe_database'; null when not configured.</summary>
    public bool? WipeDatabase { get; init; }

    /// <summary>'destination.wipe': what to clear before restoring (default none).</summary>
    public WipeMode Wipe { get; init; } = WipeMode.None;

    /// <summary>'destination.create_database': create the database when it does not exist (default true).</summary>
    public bool CreateDatabase { get; init; } = true;

    /// <summary>
    /// 'destination.after_restore': SQL run in the restore's transaction after the data and before the commit
    /// (PostgreSQL; MySQL in the staging database before the swap), in order; a failure rolls the whole restore back.
    /// </summary>
    public IReadOnlyList<SqlStep> AfterRestore { get; init; } = [];

    /// <summary>
    /// 'destination.allow_privileged_role': restore even as a role that SQL inside a dump could use to reach outside
    /// the destination database (PostgreSQL: a superuser or a role that may run programs or touch server files; MySQL:
    /// a user that may write to other databases); off by default, when such a role is refused before anything changes.
    /// </summary>
    public bool AllowPrivilegedRole { get; init; }

    /// <summary>
    /// 'destination.lock_wait_timeout': seconds one statement of a restore's swap (MySQL; PostgreSQL with a staging
    /// database) waits for a lock another session holds before the swap is undone and the restore fails (default 60).
    /// </summary>
    public int LockWaitSeconds { get; init; } = 60;

    /// <summary>
    /// 'destination.no_owner' and 'destination.no_privileges': leave out ALTER ... OWNER TO (MySQL: DEFINER clauses), and
    /// GRANT, REVOKE, ALTER DEFAULT PRIVILEGES, as pg_restore --no-owner / --no-privileges do.
    /// </summary>
    public LeaveOut LeaveOut { get; init; }
}


/// <summary>The shape a config file was written in.</summary>
public enum ConfigFormat
{
    /// <summary>Replica's own replica.yaml (top-level 'transformers', 'bridge', 'secret').</summary>
    Replica,
    /// <summary>RepliByte's conf.yaml (source.transformers, datastore, destination), read as is.</summary>
    RepliByte,
}
