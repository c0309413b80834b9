using System.Text;

namespace Replica.Clients;

/// <summary>
/// Finds the MySQL/MariaDB client programs (mariadb-dump or mysqldump, mariadb or mysql) and runs small queries with
/// them. MariaDB's own names are preferred: on Debian 12 mysqldump and mysql are only compatibility links to them, and a
/// machine with both MySQL's and MariaDB's clients talks to MariaDB servers best with MariaDB's.
/// Search order: $REPLICA_MYSQL_BINDIR, then PATH.
/// </summary>
public sealed class MysqlTools
{
    public const string BinDirVariable = "REPLICA_MYSQL_BINDIR";

    MysqlTools(string dump, string client, ChildEnvironment childEnvironment)
    {
        Dump = dump;
        Client = client;
        ChildEnvironment = childEnvironment;
    }

    /// <summary>What the tools are not given of replica's environment (the config's ${VAR}s, replica's own variables).</summary>
    public ChildEnvironment ChildEnvironment { get; }

    /// <summary>mariadb-dump or mysqldump (a full path when found, else the bare name so that starting it says what is missing).</summary>
    public string Dump { get; }

    /// <summary>mariadb or mysql.</summary>
    public string Client { get; }

    public static MysqlTools Find(ChildEnvironment childEnvironment)
    {
        ArgumentNullException.ThrowIfNull(childEnvironment);
        if (Environment.GetEnvironmentVariable(BinDirVariable) is { Length: > 0 } configured)
        {
            return new MysqlTools(
                FirstExisting(configured, "mariadb-dump", "mysqldump") ?? throw new ConfigException($"{BinDirVariable}={configured} holds neither mariadb-dump nor mysqldump"),
                FirstExisting(configured, "mariadb", "mysql") ?? throw new ConfigException($"{BinDirVariable}={configured} holds neither mariadb nor mysql"), childEnvironment);
        }
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return new MysqlTools(OnPath(path, "mariadb-dump", "mysqldump") ?? "mysqldump", OnPath(path, "mariadb", "mysql") ?? "mysql", childEnvironment);
    }

    static string? OnPath(string[] path, string preferred, string fallback)
    {
        foreach (var name in new[] { preferred, fallback })
        {
            foreach (var dir in path)
            {
                if (File.Exists(Path.Combine(dir, name)))
                {
                    return Path.Combine(dir, name);
                }
            }
        }
        return null;
    }

    static string? FirstExisting(string dir, string preferred, string fallback) =>
        File.Exists(Path.Combine(dir, preferred)) ? Path.Combine(dir, preferred)
        : File.Exists(Path.Combine(dir, fallback)) ? Path.Combine(dir, fallback)
        : null;

    /// <summary>
    /// Runs SQL with the client in batch mode and returns the rows, fields unescaped (the client writes \t \n \0 \\ as
    /// escapes in batch mode) and SQL NULL as null. Small results only: versions, catalog lists, definitions.
    /// Also the cheapest way to learn early that the server is unreachable or the password wrong, in the client's words.
    /// The client prints SQL NULL and the string 'NULL' alike: a query whose columns may hold a name (a table named NULL)
    /// uses <see cref="QueryTextAsync"/>.
    /// </summary>
    public Task<List<string?[]>> QueryAsync(MysqlOptionFile options, string? database, string sql, CancellationToken cancellationToken) =>
        QueryAsync(options, database, sql, nullWord: true, cancellationToken);

    /// <summary>
    /// <see cref="QueryAsync(MysqlOptionFile, string?, string, CancellationToken)"/> for columns that are never NULL (names
    /// from information_schema): every field is text, the word NULL too, since a table, column, view, trigger, routine or
    /// database may be named NULL (a null name failed the restore with a null reference, found by review).
    /// </summary>
    public async Task<List<string[]>> QueryTextAsync(MysqlOptionFile options, string? database, string sql, CancellationToken cancellationToken) =>
        (await QueryAsync(options, database, sql, nullWord: false, cancellationToken).ConfigureAwait(false)).ConvertAll(row => row.Select(f => f!).ToArray());

    async Task<List<string?[]>> QueryAsync(MysqlOptionFile options, string? database, string sql, bool nullWord, CancellationToken cancellationToken)
    {
        var arguments = new List<string> { options.Argument, "--batch", "--skip-column-names", "--default-character-set=utf8mb4", "--local-infile=0", "--execute=" + sql };
        if (database is not null)
        {
            arguments.Add("--database=" + database);
        }
        var text = await ToolProcess.RunAsync(Client, arguments, new Dictionary<string, string>(), ChildEnvironment, [options.Secret], cancellationToken).ConfigureAwait(false);
        var rows = new List<string?[]>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }
            var fields = line.Split('\t');
            var row = new string?[fields.Length];
            for (var i = 0; i < fields.Length; i++)
            {
                row[i] = nullWord && fields[i] == "NULL" ? null : UnescapeBatchField(fields[i]);
            }
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Fails, naming <paramref name="uri"/>, unless its database exists and the user may see it.</summary>
    public async Task RequireDatabaseAsync(MysqlOptionFile options, DatabaseUri uri, CancellationToken cancellationToken)
    {
        var exists = await QueryAsync(options, null,
            "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = " + Literal(uri.Database!), cancellationToken).ConfigureAwait(false);
        if (exists.Count != 1 || exists[0][0] != "1")
        {
            throw new DatabaseException($"{uri.Describe()} does not exist (or the user may not see it)");
        }
    }

    /// <summary>
    /// Runs a script through the client's standard input without cancellation (for steps that must not be cut), and
    /// returns what it printed, one result row per line (no column names), with its error when it failed: the client
    /// stops at the first failing statement, so what it printed tells how far it got. --unbuffered: every result is
    /// written out as soon as it is read.
    /// </summary>
    public async Task<(string Output, DatabaseException? Error)> RunScriptAsync(MysqlOptionFile options, string? database, string script)
    {
        // --sigint-ignore: Ctrl-C in a terminal reaches the whole foreground process group, this client too, which would
        // otherwise kill its query or exit 0 between two statements (found by review).
        var arguments = new List<string> { options.Argument, "--batch", "--skip-column-names", "--unbuffered", "--sigint-ignore", "--default-character-set=utf8mb4", "--binary-mode", "--local-infile=0" };
        if (database is not null)
        {
            arguments.Add("--database=" + database);
        }
        await using var client = ToolProcess.Start(Client, arguments, new Dictionary<string, string>(), ChildEnvironment, [options.Secret], redirectInput: true);
        var read = ReadLinesAsync(client.Output);
        try
        {
            try
            {
                await client.Input.WriteAsync(Encoding.UTF8.GetBytes(script), CancellationToken.None).ConfigureAwait(false);
                await client.Input.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                await client.Input.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or DatabaseException)
        {
            // The client stopped reading (it failed early): its exit code and error say why.
        }
        var output = await read.ConfigureAwait(false);
        try
        {
            await client.WaitForSuccessAsync(CancellationToken.None).ConfigureAwait(false);
            return (output, null);
        }
        catch (DatabaseException e)
        {
            return (output, e);
        }
    }

    /// <summary>The lines a client printed, kept when its output ends in its failure (which the read at the end throws).</summary>
    static async Task<string> ReadLinesAsync(Stream output)
    {
        var text = new StringBuilder();
        using var reader = new StreamReader(output, Encoding.UTF8);
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                text.Append(line).Append('\n');
            }
        }
        catch (DatabaseException)
        {
            // the client failed: WaitForSuccessAsync reports it
        }
        return text.ToString();
    }

    static string UnescapeBatchField(string field)
    {
        if (!field.Contains('\\'))
        {
            return field;
        }
        var b = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] != '\\' || i + 1 == field.Length)
            {
                b.Append(field[i]);
                continue;
            }
            i++;
            b.Append(field[i] switch
            {
                'n' => '\n',
                't' => '\t',
                '0' => '\0',
                _ => field[i],
            });
        }
        return b.ToString();
    }

    /// <summary>A MySQL identifier in backticks (https://mariadb.com/kb/en/identifier-names/).</summary>
    public static string Identifier(string name) => "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";

    /// <summary>A string literal that means the same whatever sql_mode (NO_BACKSLASH_ESCAPES or not) is in force.</summary>
    public static string Literal(string value)
    {
        if (value.Contains('\\'))
        {
            // A backslash is an escape in the default sql_mode but not under NO_BACKSLASH_ESCAPES; a hex literal is neither.
            return "CONVERT(X'" + Convert.ToHexString(Encoding.UTF8.GetBytes(value)) + "' USING utf8mb4)";
        }
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }
}

/// <summary>
/// A temporary option file ([client] user, password, host, port ...) that carries a connection URI to the MySQL client
/// programs: a password on their command line would be visible to every local user in the process list, and MYSQL_PWD
/// is deprecated. The file is created with mode 0600 and deleted on dispose. Pass <see cref="Argument"/> FIRST: the
/// clients only accept --defaults-extra-file as their first argument
/// (https://mariadb.com/kb/en/configuring-mariadb-with-option-files/).
/// </summary>
public sealed class MysqlOptionFile : IDisposable
{
    /// <summary>URI parameters copied to the file as [client] options; all clients read [client], so each must be known to all of them.</summary>
    static readonly string[] s_parameters = ["socket", "ssl", "ssl-ca", "ssl-capath", "ssl-cert", "ssl-key", "ssl-cipher", "ssl-verify-server-cert"];

    /// <summary>A mysql:// URI parameter that is written to the option file.</summary>
    internal static bool IsSupportedParameter(string key) => Array.IndexOf(s_parameters, key) >= 0;

    MysqlOptionFile(string path, string? secret)
    {
        Path = path;
        Secret = secret;
    }

    public string Path { get; }

    /// <summary>The password, for scrubbing tool errors; never shown.</summary>
    public string? Secret { get; }

    public string Argument => "--defaults-extra-file=" + Path;

    /// <summary>
    /// Writes the option file for <paramref name="uri"/>. Only what the URI names is written, so ~/.my.cnf fills in the
    /// rest. A URI with a host connects over TCP even when the host is "localhost" (which the clients would otherwise
    /// take to mean the default Unix socket); ?socket=/path connects through that socket.
    /// </summary>
    public static MysqlOptionFile Create(DatabaseUri uri)
    {
        if (uri.Kind != DatabaseKind.MySql)
        {
            throw new ArgumentException("not a mysql:// URI", nameof(uri));
        }
        var b = new StringBuilder("[client]\n");
        if (uri.User is not null)
        {
            b.Append("user=").Append(Quote(uri.User)).Append('\n');
        }

        if (uri.Password is not null)
        {
            b.Append("password=").Append(Quote(uri.Password)).Append('\n');
        }

        if (uri.Host is not null)
        {
            b.Append("host=").Append(Quote(uri.Host)).Append('\n');
        }

        if (uri.Port is { } port)
        {
            b.Append("port=").Append(port.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }

        var hasSocket = false;
        foreach (var (key, value) in uri.Parameters)
        {
            if (Array.IndexOf(s_parameters, key) < 0)
            {
                throw new ConfigException($"connection URI {uri.NameOfParameter(key)} is not supported for mysql://; supported: {string.Join(", ", s_parameters)}");
            }
            b.Append(key).Append('=').Append(Quote(value)).Append('\n');
            hasSocket |= key == "socket";
        }
        if (hasSocket)
        {
            b.Append("protocol=SOCKET\n");
        }
        else if (uri.Host is not null)
        {
            b.Append("protocol=TCP\n");
        }

        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"replica-mysql-{Environment.ProcessId}-{Guid.NewGuid():N}.cnf");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        ExitCleanup.TrackFile(path);
        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(Encoding.UTF8.GetBytes(b.ToString()));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatabaseException($"cannot write the MySQL option file {path}: {e.Message}", e);
        }
        return new MysqlOptionFile(path, uri.Password);
    }

    /// <summary>
    /// An option value in double quotes. Inside quotes the option file reader turns \" \\ \n \t \r \b \s into their
    /// characters; '#' and leading or trailing spaces lose their special meaning.
    /// </summary>
    static string Quote(string value)
    {
        var b = new StringBuilder("\"", value.Length + 2);
        foreach (var c in value)
        {
            b.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => c.ToString(),
            });
        }
        return b.Append('"').ToString();
    }

    public void Dispose()
    {
        try
        {
            File.Delete(Path);
            ExitCleanup.UntrackFile(Path);
        }
        catch (IOException)
        {
            // best effort; the file is 0600 in the temp directory (deleted again at exit)
        }
    }
}
