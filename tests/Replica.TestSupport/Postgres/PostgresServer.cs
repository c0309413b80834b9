using System.Globalization;
using System.Text;
using Npgsql;

namespace Replica.TestSupport.Postgres;

/// <summary>
/// A throwaway PostgreSQL server for integration tests: initdb into a fresh temporary directory, postgres listening on
/// 127.0.0.1 on a free port (socket directory inside the temporary directory), stopped and deleted on dispose.
/// When the tests run as root the server programs run as the <c>postgres</c> OS user (PostgreSQL refuses root);
/// client programs (psql, pg_dump) run as the current user and connect over TCP as the superuser <c>postgres</c>.
/// Missing binaries make the fixture fail, never skip: integration tests that silently do not run prove nothing.
/// </summary>
/// <remarks>
/// Environment: <c>REPLICA_PG_TMP</c> chooses the parent of the temporary directory (.ci/run sets it so that it can
/// stop servers left behind by a crashed test host); <c>REPLICA_PG_KEEP=1</c> keeps the directory (data and
/// server.log) after the tests, for debugging.
/// </remarks>
public sealed class PostgresServer : ServerFixture
{
    public const string Host = "127.0.0.1";
    public const string User = "postgres";

    /// <summary>A superuser that must authenticate with <see cref="Password"/> over TCP (scram-sha-256).</summary>
    public const string PasswordUser = "replica_pw";

    /// <summary>The password of <see cref="PasswordUser"/>; tests check it never shows in output.</summary>
    public const string Password = "Tr0ub4dor&3-secret";

    private const string ServerOsUser = "postgres";
    private const string InstallHint =
        "Install the PostgreSQL server binaries: on Debian 12 'apt-get install postgresql-15' (.ci/run does this).";

    private static int s_databaseCounter;

    private bool _runServerAsPostgresUser;
    private bool _started;

    /// <summary>Directory holding initdb, postgres, pg_ctl, psql and pg_dump.</summary>
    public string BinDirectory { get; private set; } = "";

    /// <summary>Temporary directory owned by this server: data/, sock/ and server.log.</summary>
    public string RootDirectory { get; private set; } = "";

    public string DataDirectory => Path.Combine(RootDirectory, "data");

    /// <summary>Whether the server programs run as the <c>postgres</c> OS user (the tests run as root), who must own the server's files.</summary>
    public bool RunsAsPostgresUser => _runServerAsPostgresUser;

    public string SocketDirectory => Path.Combine(RootDirectory, "sock");

    public string LogPath => Path.Combine(RootDirectory, "server.log");

    /// <summary>Full path of a PostgreSQL program, e.g. <c>Tool("pg_dump")</c>.</summary>
    public string Tool(string name) => Path.Combine(BinDirectory, name);

    /// <summary>Npgsql connection string for <paramref name="database"/> (no pooling, so databases can be dropped).</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = Port,
        Username = User,
        Database = database,
        Pooling = false,
        Timeout = 15,
        CommandTimeout = 300,
    }.ConnectionString;

    /// <summary>A URI for <paramref name="database"/> as <see cref="PasswordUser"/> with its password (or another one).</summary>
    public string PasswordUri(string database, string password = Password) =>
        $"postgres://{PasswordUser}:{Uri.EscapeDataString(password)}@{Host}:{Port.ToString(CultureInfo.InvariantCulture)}/{Uri.EscapeDataString(database)}";

    /// <summary>libpq URI for <paramref name="database"/>, as pg_dump/psql accept for <c>--dbname</c>.</summary>
    public string ConnectionUri(string database) =>
        $"postgresql://{User}@{Host}:{Port.ToString(CultureInfo.InvariantCulture)}/{Uri.EscapeDataString(database)}";

    /// <summary>
    /// Environment for client programs started by tests (psql, pg_dump, or the replica CLI running pg_dump): points
    /// libpq at this server and removes PG* variables of the outer environment that could redirect or alter the
    /// session (PGDATABASE, PGOPTIONS, PGTZ ...). A null value means "remove the variable".
    /// </summary>
    public IReadOnlyDictionary<string, string?> ClientEnvironment => new Dictionary<string, string?>
    {
        ["PGHOST"] = Host,
        ["PGPORT"] = Port.ToString(CultureInfo.InvariantCulture),
        ["PGUSER"] = User,
        ["PGCLIENTENCODING"] = "UTF8",
        ["PGCONNECT_TIMEOUT"] = "15",
        ["PGHOSTADDR"] = null,
        ["PGDATABASE"] = null,
        ["PGPASSWORD"] = null,
        ["PGPASSFILE"] = null,
        ["PGSERVICE"] = null,
        ["PGSERVICEFILE"] = null,
        ["PGOPTIONS"] = null,
        ["PGTZ"] = null,
        ["PGDATESTYLE"] = null,
        ["PGSSLMODE"] = null,
        ["PSQLRC"] = null,
    };

    protected override int StartAttempts => 5;

    protected override async Task PrepareAsync()
    {
        BinDirectory = await FindBinDirectoryAsync().ConfigureAwait(false);
        _runServerAsPostgresUser = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        RootDirectory = ServerDirectory.Create("replica-pg", _runServerAsPostgresUser);
        Directory.CreateDirectory(SocketDirectory);
        if (_runServerAsPostgresUser)
        {
            await ProcessRunner.RunAsync("chown", ["-R", $"{ServerOsUser}:", RootDirectory]).ConfigureAwait(false);
        }

        await RunServerToolAsync("initdb",
        [
            "--pgdata=" + DataDirectory,
            "--username=" + User,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]).ConfigureAwait(false);

        // One role must give a password, so that wrong-password errors are real: its line comes before the trust lines.
        string hbaPath = Path.Combine(DataDirectory, "pg_hba.conf");
        string hba = await File.ReadAllTextAsync(hbaPath).ConfigureAwait(false);
        await File.WriteAllTextAsync(hbaPath, $"host all {PasswordUser} {Host}/32 scram-sha-256\n" + hba).ConfigureAwait(false);
    }

    protected override async Task WhenStartedAsync()
    {
        _started = true;
        await ExecuteAsync("postgres", $"CREATE ROLE {PasswordUser} LOGIN SUPERUSER PASSWORD '{Password}'").ConfigureAwait(false);

        // pg_ctl -w already waited for "ready to accept connections"; this proves TCP and trust auth work too.
        List<string?[]> rows = await QueryAsync("postgres", "SELECT 1").ConfigureAwait(false);
        if (rows.Count != 1 || rows[0][0] != "1")
        {
            throw new InvalidOperationException($"PostgreSQL test server on port {Port} answered 'SELECT 1' unexpectedly.");
        }
    }

    public override async Task DisposeAsync()
    {
        if (RootDirectory.Length == 0)
        {
            return;
        }
        if (_started || File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            ProcessOutput stop = await RunServerToolAsync("pg_ctl",
                ["stop", "--pgdata=" + DataDirectory, "--mode=fast", "--wait", "--timeout=30"], throwOnError: false).ConfigureAwait(false);
            if (stop.ExitCode != 0)
            {
                await RunServerToolAsync("pg_ctl",
                    ["stop", "--pgdata=" + DataDirectory, "--mode=immediate", "--wait", "--timeout=30"], throwOnError: false).ConfigureAwait(false);
            }
            _started = false;
        }
        if (Environment.GetEnvironmentVariable("REPLICA_PG_KEEP") != "1" && Directory.Exists(RootDirectory))
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
    }

    /// <summary>Creates a fresh, empty UTF-8 database (from template0, C collation) and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= string.Create(CultureInfo.InvariantCulture,
            $"replica_test_{Interlocked.Increment(ref s_databaseCounter)}_{Guid.NewGuid().ToString("N")[..8]}");
        await ExecuteAsync("postgres",
            $"CREATE DATABASE {QuoteIdentifier(name)} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'").ConfigureAwait(false);
        return name;
    }

    /// <summary>Drops a database, disconnecting its sessions first; no error if it does not exist.</summary>
    public Task DropDatabaseAsync(string name) =>
        ExecuteAsync("postgres", $"DROP DATABASE IF EXISTS {QuoteIdentifier(name)} WITH (FORCE)");

    /// <summary>
    /// Runs <paramref name="sql"/> (any number of statements, fed to psql's standard input, so <c>COPY ... FROM stdin</c>
    /// works) with ON_ERROR_STOP, not in one transaction. Returns psql's stdout in unaligned tuples-only form
    /// (<c>-At</c>: fields separated by '|', one row per line). Throws with stderr on any error.
    /// </summary>
    public async Task<string> PsqlAsync(string db, string sql)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(sql));
        ProcessOutput output = await RunPsqlCoreAsync(db, ["--no-align", "--tuples-only", "--file=-"], input,
            onErrorStop: true, singleTransaction: false).ConfigureAwait(false);
        return output.Stdout;
    }

    /// <summary>
    /// Runs a SQL file (a pg_dump output, a fixture) with <c>psql -f</c>. With <paramref name="onErrorStop"/> psql stops
    /// at the first error and this throws with stderr; without it errors only appear in <see cref="ProcessOutput.Stderr"/>
    /// (psql then exits 0), so callers should assert on it. <paramref name="singleTransaction"/> adds <c>-1</c>.
    /// </summary>
    public Task<ProcessOutput> RunPsqlFileAsync(string db, string path, bool onErrorStop = true, bool singleTransaction = true)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"SQL file to run with psql not found: {path}", path);
        }
        return RunPsqlCoreAsync(db, ["--file=" + Path.GetFullPath(path)], stdin: null, onErrorStop, singleTransaction);
    }

    /// <summary>Like <see cref="RunPsqlFileAsync"/> but reads the SQL from a stream (e.g. the output of <c>replica restore</c>).</summary>
    public Task<ProcessOutput> RunPsqlStreamAsync(string db, Stream sql, bool onErrorStop = true, bool singleTransaction = true) =>
        RunPsqlCoreAsync(db, ["--file=-"], sql, onErrorStop, singleTransaction);

    /// <summary>
    /// Writes a plain-format pg_dump of <paramref name="db"/> to <paramref name="outPath"/>. <paramref name="extraArgs"/>
    /// are passed before the database name (e.g. "--inserts", "--column-inserts", "--no-owner", "--table=public.x").
    /// </summary>
    public async Task PgDumpToFileAsync(string db, string outPath, params string[] extraArgs)
    {
        var arguments = new List<string>
        {
            "--format=plain",
            "--file=" + Path.GetFullPath(outPath),
            "--host=" + Host,
            "--port=" + Port.ToString(CultureInfo.InvariantCulture),
            "--username=" + User,
            "--no-password",
        };
        arguments.AddRange(extraArgs);
        arguments.Add("--dbname=" + ConnectionUri(db));
        await ProcessRunner.RunAsync(Tool("pg_dump"), arguments, ClientEnvironment).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a query and returns every row as PostgreSQL's own text output of each value (exactly what COPY and psql
    /// print, e.g. "t" for true, "\x0102" for bytea, "{1,2}" for arrays), with null for SQL NULL. Values come from the
    /// server in text format, so nothing is reformatted by .NET. The server's TimeZone is UTC and DateStyle ISO.
    /// </summary>
    public async Task<List<string?[]>> QueryAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(db));
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection) { AllResultTypesAreUnknown = true };
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        var rows = new List<string?[]>();
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            var row = new string?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetString(i);
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Runs statements that return no rows (DDL, DML) through Npgsql.</summary>
    public async Task ExecuteAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(db));
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Every row of one table (a quoted qualified name as <see cref="ListTablesAsync"/> returns it) as text, sorted by
    /// the row's text form so that two databases with the same content compare equal. A partitioned table's rows
    /// include those of its partitions.
    /// </summary>
    public Task<List<string?[]>> QueryTableAsync(string db, string qualifiedTable) =>
        QueryAsync(db, $"SELECT t.* FROM {qualifiedTable} AS t ORDER BY t::text COLLATE \"C\"");

    /// <summary>Quoted qualified names (<c>public.customers</c>, <c>"Mixed Case"."Customers"</c>) of all user tables, sorted.</summary>
    public async Task<List<string>> ListTablesAsync(string db)
    {
        List<string?[]> rows = await QueryAsync(db,
            """
            SELECT name FROM (
                SELECT format('%I.%I', n.nspname, c.relname) AS name
                FROM pg_catalog.pg_class c
                JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p')
                  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND n.nspname NOT LIKE 'pg\_toast%'
                  AND n.nspname NOT LIKE 'pg\_temp%'
            ) AS tables
            ORDER BY name COLLATE "C"
            """).ConfigureAwait(false);
        var tables = new List<string>(rows.Count);
        foreach (string?[] row in rows)
        {
            tables.Add(row[0]!);
        }
        return tables;
    }

    /// <summary>Quotes an identifier the way PostgreSQL requires: in double quotes, inner quotes doubled.</summary>
    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>The last part of the server log, for assertion messages.</summary>
    public string ReadLogTail(int maxChars = 4000)
    {
        if (!File.Exists(LogPath))
        {
            return "(no server log)";
        }
        string log = File.ReadAllText(LogPath);
        return log.Length <= maxChars ? log : "..." + log[^maxChars..];
    }

    private Task<ProcessOutput> RunPsqlCoreAsync(string db, List<string> extraArgs, Stream? stdin, bool onErrorStop, bool singleTransaction)
    {
        var arguments = new List<string>
        {
            "--no-psqlrc",
            "--quiet",
            "--host=" + Host,
            "--port=" + Port.ToString(CultureInfo.InvariantCulture),
            "--username=" + User,
            "--no-password",
            "--dbname=" + ConnectionUri(db),
        };
        if (onErrorStop)
        {
            arguments.Add("--set=ON_ERROR_STOP=1");
        }
        if (singleTransaction)
        {
            arguments.Add("--single-transaction");
        }
        arguments.AddRange(extraArgs);
        return ProcessRunner.RunAsync(Tool("psql"), arguments, ClientEnvironment, stdin);
    }

    protected override async Task<bool> TryStartAsync(StartAttempt attempt)
    {
        string configPath = Path.Combine(DataDirectory, "postgresql.conf");
        // Appended settings win over earlier ones in postgresql.conf, so a retry just appends a new port.
        // fsync/full_page_writes/synchronous_commit off: a test server's data is thrown away, speed matters.
        string settings = string.Create(CultureInfo.InvariantCulture, $"""

            # Added by the Replica integration test fixture.
            listen_addresses = '{Host}'
            port = {attempt.Port}
            unix_socket_directories = '{SocketDirectory.Replace("'", "''", StringComparison.Ordinal)}'
            fsync = off
            full_page_writes = off
            synchronous_commit = off
            timezone = 'UTC'
            log_timezone = 'UTC'
            datestyle = 'ISO, MDY'
            max_connections = 50
            # A hot standby can follow this server (PostgresStandby in the integration tests): these are the defaults,
            # stated because the standby depends on them; initdb's pg_hba.conf trusts replication from 127.0.0.1.
            wal_level = replica
            max_wal_senders = 10

            """);
        await File.AppendAllTextAsync(configPath, settings).ConfigureAwait(false);

        ProcessOutput start = await RunServerToolAsync("pg_ctl",
            ["start", "--pgdata=" + DataDirectory, "--log=" + LogPath, "--wait", "--timeout=60"], throwOnError: false).ConfigureAwait(false);
        if (start.ExitCode == 0)
        {
            return true;
        }
        string log = ReadLogTail();
        bool portTaken = log.Contains("could not bind", StringComparison.Ordinal)
            || log.Contains("already in use", StringComparison.Ordinal);
        if (!portTaken || attempt.IsLast)
        {
            throw new InvalidOperationException(
                $"PostgreSQL test server did not start (bin {BinDirectory}, port {attempt.Port}, attempt {attempt.Number}).\n" +
                $"pg_ctl stderr:\n{start.Stderr}\nserver log ({LogPath}):\n{log}");
        }
        return false;
    }

    /// <summary>
    /// Runs a program of <see cref="BinDirectory"/> (initdb, pg_ctl, pg_basebackup) as the server's OS user: the
    /// <c>postgres</c> user when the tests run as root, else the current user, in <paramref name="workingDirectory"/>
    /// (default: <see cref="RootDirectory"/>).
    /// </summary>
    public Task<ProcessOutput> RunServerToolAsync(string tool, List<string> arguments, bool throwOnError = true, string? workingDirectory = null)
    {
        workingDirectory ??= RootDirectory;
        if (!_runServerAsPostgresUser)
        {
            return ProcessRunner.RunAsync(Tool(tool), arguments, throwOnError: throwOnError, workingDirectory: workingDirectory);
        }
        // runuser keeps the environment and needs no password when run by root (unlike su/sudo it needs no tty).
        var wrapped = new List<string> { "-u", ServerOsUser, "--", Tool(tool) };
        wrapped.AddRange(arguments);
        string runuser = File.Exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "runuser";
        return ProcessRunner.RunAsync(runuser, wrapped, throwOnError: throwOnError, workingDirectory: workingDirectory);
    }

    /// <summary>
    /// Finds the server binaries: <c>pg_config --bindir</c> first (libpq-dev's pg_config on Debian names the newest
    /// installed server), else the newest /usr/lib/postgresql/N/bin. Throws, naming the package to install, if none has initdb.
    /// </summary>
    private static async Task<string> FindBinDirectoryAsync()
    {
        var tried = new List<string>();
        string? fromPgConfig = await TryPgConfigBinDirAsync().ConfigureAwait(false);
        if (fromPgConfig is not null)
        {
            tried.Add(fromPgConfig);
            if (HasServerBinaries(fromPgConfig))
            {
                return fromPgConfig;
            }
        }
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var candidates = new List<(int Version, string Bin)>();
            foreach (string versionDir in Directory.GetDirectories(debianRoot))
            {
                if (int.TryParse(Path.GetFileName(versionDir), NumberStyles.None, CultureInfo.InvariantCulture, out int version))
                {
                    candidates.Add((version, Path.Combine(versionDir, "bin")));
                }
            }
            candidates.Sort((a, b) => b.Version.CompareTo(a.Version));
            foreach ((int _, string bin) in candidates)
            {
                tried.Add(bin);
                if (HasServerBinaries(bin))
                {
                    return bin;
                }
            }
        }
        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres, psql, pg_dump) not found; looked in: " +
            (tried.Count == 0 ? "(pg_config not on PATH, no " + debianRoot + ")" : string.Join(", ", tried)) + ". " + InstallHint);
    }

    private static bool HasServerBinaries(string bin) =>
        File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl")) && File.Exists(Path.Combine(bin, "postgres"))
        && File.Exists(Path.Combine(bin, "psql")) && File.Exists(Path.Combine(bin, "pg_dump"));

    private static async Task<string?> TryPgConfigBinDirAsync()
    {
        try
        {
            ProcessOutput output = await ProcessRunner.RunAsync("pg_config", ["--bindir"], throwOnError: false, timeout: TimeSpan.FromSeconds(30))
                .ConfigureAwait(false);
            string bin = output.Stdout.Trim();
            return output.ExitCode == 0 && bin.Length > 0 ? bin : null;
        }
        catch (InvalidOperationException)
        {
            // pg_config is not installed (it comes with libpq-dev); fall back to the Debian layout.
            return null;
        }
    }
}
