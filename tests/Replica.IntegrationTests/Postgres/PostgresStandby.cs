using System.Globalization;
using Npgsql;

namespace Replica.IntegrationTests.Postgres;

/// <summary>
/// A hot standby of the collection's <see cref="PostgresServer"/>: <c>pg_basebackup -R -X stream</c> of the primary
/// (wal_level replica; initdb's pg_hba.conf trusts replication connections from 127.0.0.1) into a fresh temporary
/// directory under REPLICA_PG_TMP, started with hot_standby on its own port of 127.0.0.1, streaming from the primary.
/// Stopped and deleted on dispose (REPLICA_PG_KEEP=1 keeps the directory). Roles and databases come from the primary:
/// create them there and call <see cref="CatchUpAsync"/> before reading them here.
/// https://www.postgresql.org/docs/current/hot-standby.html
/// </summary>
public sealed class PostgresStandby(PostgresServer primary) : ServerFixture
{
    bool _started;

    /// <summary>Temporary directory owned by this standby: data/, sock/ and server.log (data/ is what .ci/run looks for).</summary>
    public string RootDirectory { get; private set; } = "";

    public string DataDirectory => Path.Combine(RootDirectory, "data");

    public string LogPath => Path.Combine(RootDirectory, "server.log");

    string SocketDirectory => Path.Combine(RootDirectory, "sock");

    /// <summary>libpq URI for <paramref name="database"/> on the standby as <paramref name="user"/> (trusted, no password).</summary>
    public string ConnectionUri(string database, string user = PostgresServer.User) =>
        $"postgresql://{user}@{PostgresServer.Host}:{Port.ToString(CultureInfo.InvariantCulture)}/{Uri.EscapeDataString(database)}";

    protected override int StartAttempts => 5;

    protected override async Task PrepareAsync()
    {
        RootDirectory = ServerDirectory.Create("replica-pg-standby", primary.RunsAsPostgresUser);
        Directory.CreateDirectory(SocketDirectory);
        if (primary.RunsAsPostgresUser)
        {
            await ProcessRunner.RunAsync("chown", ["-R", "postgres:", RootDirectory]).ConfigureAwait(false);
        }
        // -R writes standby.signal and primary_conninfo; -X stream copies the WAL written during the backup too.
        await primary.RunServerToolAsync("pg_basebackup",
        [
            "--pgdata=" + DataDirectory,
            "--host=" + PostgresServer.Host,
            "--port=" + primary.Port.ToString(CultureInfo.InvariantCulture),
            "--username=" + PostgresServer.User,
            "--no-password",
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
            "--no-sync",
        ], workingDirectory: RootDirectory).ConfigureAwait(false);
    }

    protected override async Task<bool> TryStartAsync(StartAttempt attempt)
    {
        // The primary's postgresql.conf came with the backup; settings appended later win, so a retry appends a new port.
        // hot_standby_feedback: what the README advises for dumps from a standby (long COPYs are not cancelled).
        string settings = string.Create(CultureInfo.InvariantCulture, $"""

            # Added by the Replica integration tests' standby fixture.
            port = {attempt.Port}
            unix_socket_directories = '{SocketDirectory.Replace("'", "''", StringComparison.Ordinal)}'
            hot_standby = on
            hot_standby_feedback = on

            """);
        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"), settings).ConfigureAwait(false);

        // pg_ctl -w returns once the standby accepts read-only connections (it reached a consistent state).
        ProcessOutput start = await primary.RunServerToolAsync("pg_ctl",
            ["start", "--pgdata=" + DataDirectory, "--log=" + LogPath, "--wait", "--timeout=60"], throwOnError: false, RootDirectory).ConfigureAwait(false);
        if (start.ExitCode == 0)
        {
            _started = true;
            return true;
        }
        string log = ReadLog();
        bool portTaken = log.Contains("could not bind", StringComparison.Ordinal) || log.Contains("already in use", StringComparison.Ordinal);
        if (!portTaken || attempt.IsLast)
        {
            throw new InvalidOperationException(
                $"PostgreSQL hot standby did not start (port {attempt.Port}, attempt {attempt.Number}).\npg_ctl stderr:\n{start.Stderr}\nserver log ({LogPath}):\n{log}");
        }
        return false;
    }

    protected override async Task WhenStartedAsync()
    {
        if (!await IsInRecoveryAsync().ConfigureAwait(false))
        {
            throw new InvalidOperationException($"the standby on port {Port} is not in recovery; server log:\n{ReadLog()}");
        }
    }

    /// <summary>Whether the standby still replays the primary's WAL (it never left recovery, so it wrote nothing of its own).</summary>
    public async Task<bool> IsInRecoveryAsync() => await ScalarAsync("SELECT pg_is_in_recovery()").ConfigureAwait(false) == "t";

    /// <summary>
    /// Waits until the standby has replayed everything the primary had written when called (pg_current_wal_insert_lsn on
    /// the primary, pg_last_wal_replay_lsn here), so what the test created on the primary is visible here. The insert
    /// position, not pg_current_wal_lsn: that is where WAL was written out so far, and with synchronous_commit off (as
    /// the test server runs) a commit returns before its record is written, so a role created just before could still
    /// be missing on the standby (seen once in CI: role "subset_reader_..." does not exist).
    /// </summary>
    public async Task CatchUpAsync()
    {
        List<string?[]> current = await primary.QueryAsync("postgres", "SELECT pg_current_wal_insert_lsn()").ConfigureAwait(false);
        string target = current[0][0]!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string? replayed;
        do
        {
            replayed = await ScalarAsync($"SELECT pg_last_wal_replay_lsn() || ' ' || (pg_last_wal_replay_lsn() >= '{target}'::pg_lsn)").ConfigureAwait(false);
            if (replayed?.EndsWith(" true", StringComparison.Ordinal) == true)
            {
                return;
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"the standby replayed WAL up to {replayed} and not {target} within 60 s; its server log:\n{ReadLog()}");
    }

    /// <summary>The standby's server log, e.g. to check a dump left no ERROR in it.</summary>
    public string ReadLog() => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no server log)";

    async Task<string?> ScalarAsync(string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder(primary.ConnectionString("postgres")) { Port = Port };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection) { AllResultTypesAreUnknown = true };
        return (string?)await command.ExecuteScalarAsync().ConfigureAwait(false);
    }

    public override async Task DisposeAsync()
    {
        if (RootDirectory.Length == 0)
        {
            return;
        }
        if (_started || File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            ProcessOutput stop = await primary.RunServerToolAsync("pg_ctl",
                ["stop", "--pgdata=" + DataDirectory, "--mode=fast", "--wait", "--timeout=30"], throwOnError: false, RootDirectory).ConfigureAwait(false);
            if (stop.ExitCode != 0)
            {
                await primary.RunServerToolAsync("pg_ctl",
                    ["stop", "--pgdata=" + DataDirectory, "--mode=immediate", "--wait", "--timeout=30"], throwOnError: false, RootDirectory).ConfigureAwait(false);
            }
            _started = false;
        }
        if (Environment.GetEnvironmentVariable("REPLICA_PG_KEEP") != "1" && Directory.Exists(RootDirectory))
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
    }
}

/// <summary>
/// The postgres collection's hot standby, started by the first test that asks for it (<see cref="StartAsync"/>) and
/// stopped when the collection ends; tests that do not need one pay nothing.
/// </summary>
public sealed class PostgresStandbyFixture : IAsyncLifetime
{
    readonly Lock _lock = new();
    Task<PostgresStandby>? _standby;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// The running standby of <paramref name="primary"/>, started on the first call. A start that failed stopped what it
    /// had started; every later call fails with the same error.
    /// </summary>
    public Task<PostgresStandby> StartAsync(PostgresServer primary)
    {
        lock (_lock)
        {
            return _standby ??= StartNewAsync(primary);
        }
    }

    static async Task<PostgresStandby> StartNewAsync(PostgresServer primary)
    {
        var standby = new PostgresStandby(primary);
        await standby.InitializeAsync().ConfigureAwait(false);
        return standby;
    }

    public async Task DisposeAsync()
    {
        Task<PostgresStandby>? started;
        lock (_lock)
        {
            started = _standby;
        }
        if (started is { IsCompletedSuccessfully: true })
        {
            await started.Result.DisposeAsync().ConfigureAwait(false);
        }
    }
}
