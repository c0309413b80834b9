using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Replica.TestSupport.MariaDb;

/// <summary>
/// A throwaway MariaDB server for integration tests: mariadb-install-db into a fresh temporary directory, mariadbd
/// listening on 127.0.0.1 on a free port (socket, pid file and log inside the temporary directory), stopped and deleted
/// on dispose. Both run with --no-defaults, so /etc/mysql and ~/.my.cnf cannot change them.
/// When the tests run as root, mariadbd switches to the <c>mysql</c> OS user itself (--user=mysql, the way Debian runs
/// it) and the directory is handed to that user; otherwise it runs as the current user.
/// The account <c>root</c>@<c>127.0.0.1</c> has a password full of characters that need quoting (so wrong-password
/// tests are real and option files are exercised); clients reach it over TCP only.
/// Missing binaries make the fixture fail, never skip.
/// </summary>
/// <remarks>
/// Environment: <c>REPLICA_PG_TMP</c> chooses the parent of the temporary directory (named replica-mariadb-*; .ci/run
/// stops a server a crashed test host left behind through its mariadbd.pid); <c>REPLICA_PG_KEEP=1</c> keeps the
/// directory after the tests, for debugging.
/// </remarks>
public sealed class MariaDbServer : ServerFixture
{
    public const string Host = "127.0.0.1";
    public const string User = "root";

    private const string ServerOsUser = "mysql";
    private const string InstallHint =
        "Install MariaDB: on Debian 12 'apt-get install mariadb-server mariadb-client' (.ci/run does this).";

    private static int s_databaseCounter;

    private bool _runAsMysqlUser;
    private RunningProcess? _server;

    /// <summary>The admin password: quotes, a backslash, '#', '@', ':' and a space, so that every layer must quote it.</summary>
    public string Password { get; } = "pw \"'#\\@:" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Temporary directory owned by this server: data/, mariadbd.sock, mariadbd.pid, server.log, client.cnf.</summary>
    public string RootDirectory { get; private set; } = "";

    public string DataDirectory => Path.Combine(RootDirectory, "data");

    public string SocketPath => Path.Combine(RootDirectory, "mariadbd.sock");

    public string PidPath => Path.Combine(RootDirectory, "mariadbd.pid");

    public string LogPath => Path.Combine(RootDirectory, "server.log");

    /// <summary>The fixture's own client option file (0600): root over TCP with the password.</summary>
    public string ClientConfigPath => Path.Combine(RootDirectory, "client.cnf");

    /// <summary>mariadbd, mariadb-install-db, mariadb (client) and mariadb-dump, as found.</summary>
    public string ServerBinary { get; private set; } = "";
    public string InstallDbBinary { get; private set; } = "";
    public string ClientBinary { get; private set; } = "";
    public string DumpBinary { get; private set; } = "";

    /// <summary>mysql://root:password@127.0.0.1:port/db, the password percent-encoded.</summary>
    public string ConnectionUri(string database, string? password = null) =>
        string.Create(CultureInfo.InvariantCulture,
            $"mysql://{User}:{Uri.EscapeDataString(password ?? Password)}@{Host}:{Port}/{Uri.EscapeDataString(database)}");

    protected override int StartAttempts => 5;

    protected override async Task PrepareAsync()
    {
        ServerBinary = FindBinary("mariadbd", "/usr/sbin/mariadbd", "/usr/sbin/mysqld");
        InstallDbBinary = FindBinary("mariadb-install-db", "/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db");
        ClientBinary = FindBinary("mariadb", "/usr/bin/mariadb", "/usr/bin/mysql");
        DumpBinary = FindBinary("mariadb-dump", "/usr/bin/mariadb-dump", "/usr/bin/mysqldump");
        _runAsMysqlUser = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        RootDirectory = ServerDirectory.Create("replica-mariadb", _runAsMysqlUser);
        if (_runAsMysqlUser)
        {
            await ProcessRunner.RunAsync("chown", [$"{ServerOsUser}:", RootDirectory]).ConfigureAwait(false);
        }
        var install = new List<string>
        {
            "--no-defaults",
            "--datadir=" + DataDirectory,
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        };
        if (_runAsMysqlUser)
        {
            install.Add("--user=" + ServerOsUser);
        }
        await ProcessRunner.RunAsync(InstallDbBinary, install, workingDirectory: RootDirectory).ConfigureAwait(false);
    }

    protected override async Task WhenStartedAsync()
    {
        // root@localhost (socket) has no password yet; give root@127.0.0.1 the test password, then use only TCP.
        await RunClientAsync(["--no-defaults", "--socket=" + SocketPath, "--user=root", "--batch"],
            $"""
            CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY {Literal(Password)};
            GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
            """).ConfigureAwait(false);
        WriteClientConfig();
        List<string?[]> rows = await QueryAsync(null, "SELECT CURRENT_USER()").ConfigureAwait(false);
        if (rows.Count != 1 || rows[0][0] != "root@127.0.0.1")
        {
            throw new InvalidOperationException($"MariaDB test server on port {Port} answered CURRENT_USER() unexpectedly.");
        }
    }

    public override async Task DisposeAsync()
    {
        if (RootDirectory.Length == 0)
        {
            return;
        }
        if (_server is not null)
        {
            // SIGTERM is mariadbd's normal shutdown; SIGKILL only if it hangs.
            if (!_server.HasExited)
            {
                await ProcessRunner.RunAsync("kill", ["-TERM", _server.Id.ToString(CultureInfo.InvariantCulture)], throwOnError: false).ConfigureAwait(false);
                try
                {
                    await _server.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // WaitAsync killed it.
                }
            }
            _server.Dispose();
            _server = null;
        }
        if (Environment.GetEnvironmentVariable("REPLICA_PG_KEEP") != "1" && Directory.Exists(RootDirectory))
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
    }

    /// <summary>Creates a fresh, empty utf8mb4 database and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= string.Create(CultureInfo.InvariantCulture,
            $"replica_test_{Interlocked.Increment(ref s_databaseCounter)}_{Guid.NewGuid().ToString("N")[..8]}");
        await ExecuteAsync(null, $"CREATE DATABASE {QuoteIdentifier(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci").ConfigureAwait(false);
        return name;
    }

    public Task DropDatabaseAsync(string name) => ExecuteAsync(null, $"DROP DATABASE IF EXISTS {QuoteIdentifier(name)}");

    /// <summary>Runs statements (DELIMITER allowed) through the client's standard input; throws with stderr on any error.</summary>
    public Task ExecuteAsync(string? db, string sql) =>
        RunClientAsync(ClientArguments(db, "--batch", "--binary-mode"), sql);

    /// <summary>Runs a SQL file (a mysqldump output) through the client; throws with stderr on any error.</summary>
    public async Task ExecuteFileAsync(string db, string path)
    {
        await using FileStream input = File.OpenRead(path);
        await ProcessRunner.RunAsync(ClientBinary, ClientArguments(db, "--batch", "--binary-mode"), stdin: input).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a query and returns its rows as the server's text of each value, SQL NULL as null. (Batch mode escapes
    /// tab, newline, NUL and backslash; they are unescaped here. The string 'NULL' and SQL NULL look alike in batch
    /// mode: select HEX() or an IS NULL flag when that matters.) Use HEX() for binary columns.
    /// </summary>
    public async Task<List<string?[]>> QueryAsync(string? db, string sql)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(sql));
        ProcessOutput output = await ProcessRunner.RunAsync(ClientBinary, ClientArguments(db, "--batch", "--skip-column-names"), stdin: input)
            .ConfigureAwait(false);
        var rows = new List<string?[]>();
        foreach (string line in output.Stdout.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }
            string[] fields = line.Split('\t');
            var row = new string?[fields.Length];
            for (int i = 0; i < fields.Length; i++)
            {
                row[i] = fields[i] == "NULL" ? null : Unescape(fields[i]);
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>One value (first column of the first row).</summary>
    public async Task<string?> ScalarAsync(string? db, string sql)
    {
        List<string?[]> rows = await QueryAsync(db, sql).ConfigureAwait(false);
        return rows.Count == 0 ? throw new InvalidOperationException($"no row from: {sql}") : rows[0][0];
    }

    /// <summary>Base table names of a database, sorted by their bytes.</summary>
    public async Task<List<string>> ListTablesAsync(string db)
    {
        List<string?[]> rows = await QueryAsync(null,
            $"SELECT table_name FROM information_schema.tables WHERE table_schema = {Literal(db)} AND table_type = 'BASE TABLE' ORDER BY BINARY table_name")
            .ConfigureAwait(false);
        // A name is never NULL: the client prints a table named NULL as it prints SQL NULL.
        return rows.ConvertAll(r => r[0] ?? "NULL");
    }

    /// <summary>SHOW CREATE TABLE without the AUTO_INCREMENT counter (a restore may leave it at another value).</summary>
    public async Task<string> ShowCreateTableAsync(string db, string table)
    {
        List<string?[]> rows = await QueryAsync(db, $"SHOW CREATE TABLE {QuoteIdentifier(table)}").ConfigureAwait(false);
        string text = rows[0][1]!;
        return System.Text.RegularExpressions.Regex.Replace(text, @" AUTO_INCREMENT=\d+", "");
    }

    /// <summary>Names of the databases on the server, for asserting that a failed restore left nothing behind.</summary>
    public async Task<List<string>> ListDatabasesAsync()
    {
        List<string?[]> rows = await QueryAsync(null, "SELECT schema_name FROM information_schema.schemata ORDER BY schema_name").ConfigureAwait(false);
        return rows.ConvertAll(r => r[0] ?? "NULL");
    }

    public static string QuoteIdentifier(string name) => "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";

    /// <summary>A string literal for the default sql_mode (backslash escapes on).</summary>
    public static string Literal(string value) =>
        "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    public string ReadLogTail(int maxChars = 4000)
    {
        if (!File.Exists(LogPath))
        {
            return "(no server log)";
        }
        string log = File.ReadAllText(LogPath);
        return log.Length <= maxChars ? log : "..." + log[^maxChars..];
    }

    private List<string> ClientArguments(string? db, params string[] extra)
    {
        // --defaults-file (not -extra-): only this file, nothing from /etc/mysql or ~/.my.cnf.
        var arguments = new List<string> { "--defaults-file=" + ClientConfigPath, "--default-character-set=utf8mb4" };
        arguments.AddRange(extra);
        if (db is not null)
        {
            arguments.Add("--database=" + db);
        }
        return arguments;
    }

    private async Task RunClientAsync(List<string> arguments, string sql)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(sql));
        await ProcessRunner.RunAsync(ClientBinary, arguments, stdin: input).ConfigureAwait(false);
    }

    private void WriteClientConfig()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the MariaDB fixture runs on Linux");
        }
        string quoted = "\"" + Password.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        string text = string.Create(CultureInfo.InvariantCulture,
            $"[client]\nuser={User}\npassword={quoted}\nhost={Host}\nport={Port}\nprotocol=TCP\n");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using var stream = new FileStream(ClientConfigPath, options);
        stream.Write(Encoding.UTF8.GetBytes(text));
    }

    protected override async Task<bool> TryStartAsync(StartAttempt attempt)
    {
        var arguments = new List<string>
        {
            "--no-defaults",
            "--datadir=" + DataDirectory,
            "--socket=" + SocketPath,
            "--pid-file=" + PidPath,
            "--log-error=" + LogPath,
            "--bind-address=" + Host,
            "--port=" + attempt.Port.ToString(CultureInfo.InvariantCulture),
            "--skip-name-resolve",
            // Throwaway data: speed over durability.
            "--innodb-buffer-pool-size=64M",
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--default-time-zone=+00:00",
            "--max-connections=50",
        };
        if (_runAsMysqlUser)
        {
            arguments.Add("--user=" + ServerOsUser);
        }
        _server = ProcessRunner.Start(ServerBinary, arguments, workingDirectory: RootDirectory);
        if (await WaitUntilReadyAsync().ConfigureAwait(false))
        {
            return true;
        }
        string log = ReadLogTail();
        bool portTaken = log.Contains("Address already in use", StringComparison.Ordinal) || log.Contains("Do you already have another", StringComparison.Ordinal);
        _server.Dispose();
        _server = null;
        if (!portTaken || attempt.IsLast)
        {
            throw new InvalidOperationException(
                $"MariaDB test server did not start ({ServerBinary}, port {attempt.Port}, attempt {attempt.Number}).\nserver log ({LogPath}):\n{log}");
        }
        File.Delete(LogPath);
        return false;
    }

    /// <summary>Polls the socket with the client until the server answers, it exits, or 60 s pass.</summary>
    private async Task<bool> WaitUntilReadyAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_server!.HasExited)
            {
                return false;
            }
            if (File.Exists(SocketPath))
            {
                ProcessOutput ping = await ProcessRunner.RunAsync(ClientBinary,
                    ["--no-defaults", "--socket=" + SocketPath, "--user=root", "--batch", "--execute=SELECT 1"], throwOnError: false,
                    timeout: TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                if (ping.ExitCode == 0)
                {
                    return true;
                }
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>The first of the candidates that exists, else the name found on PATH; throws with the install hint.</summary>
    private static string FindBinary(string name, params string[] candidates)
    {
        foreach (string candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, name)))
            {
                return Path.Combine(dir, name);
            }
        }
        throw new InvalidOperationException($"MariaDB program '{name}' not found (looked in {string.Join(", ", candidates)} and PATH). {InstallHint}");
    }

    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var b = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] != '\\' || i + 1 == field.Length)
            {
                b.Append(field[i]);
                continue;
            }
            i++;
            b.Append(field[i] switch { 'n' => '\n', 't' => '\t', '0' => '\0', _ => field[i] });
        }
        return b.ToString();
    }
}
