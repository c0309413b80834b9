using System.Globalization;
using Replica.Clients;

namespace Replica.Sources;

/// <summary>
/// A live MySQL or MariaDB database, read through mysqldump's (mariadb-dump's) output on its stdout: nothing is staged
/// on disk. The password reaches the tool through a temporary 0600 option file, never its arguments
/// (https://mariadb.com/kb/en/mariadb-dump/).
/// <para>What is dumped, and why:</para>
/// <list type="bullet">
/// <item>One database: the URI's, or the single entry of source.schemas (a MySQL database is a schema). It is named
/// positionally, not with --databases, so the dump has no CREATE DATABASE / USE and restores into any database.</item>
/// <item>--single-transaction: one consistent InnoDB snapshot without locking tables.</item>
/// <item>--routines and triggers (mysqldump's default); events are left out: a scheduled job copied into a development
/// database would start running there.</item>
/// <item>--hex-blob: BINARY, VARBINARY and BLOB values are written as 0x... literals, so their bytes survive any client
/// character set and a transformer never sees raw binary inside a string literal.</item>
/// <item>--default-character-set=utf8mb4 (all of Unicode, emoji included), --no-tablespaces (needs no PROCESS privilege).</item>
/// <item>data_format copy (the default) keeps mysqldump's extended multi-row INSERTs, its fastest form; inserts writes one
/// INSERT per row with column names (--skip-extended-insert --complete-insert).</item>
/// <item>source.tables / exclude_tables / exclude_table_data are table names, optionally qualified with the database
/// ('shop.users'), with * and ? wildcards; they are resolved against information_schema before the dump starts.</item>
/// </list>
/// </summary>
public sealed class MysqlDumpSource : IDumpSource, IAsyncDisposable
{
    readonly DatabaseUri _uri;
    readonly SourceOptions _config;
    readonly MysqlTools _tools;
    readonly string _database;
    MysqlOptionFile? _options;
    ToolProcess? _process;
    List<string>? _tables;
    List<string>? _excluded;
    List<string>? _excludedData;

    public MysqlDumpSource(DatabaseUri uri, SourceOptions config, MysqlTools tools)
    {
        if (uri.Kind != DatabaseKind.MySql)
        {
            throw new ArgumentException("not a mysql:// URI", nameof(uri));
        }
        if (config.Schemas.Count > 1)
        {
            throw new ConfigException("a MySQL dump holds one database; source.schemas names several (make one dump per database)");
        }
        if (config.ExcludeSchemas.Count > 0)
        {
            throw new ConfigException("source.exclude_schemas has no meaning for MySQL: a dump holds one database (name it in the URI)");
        }
        _database = config.Schemas.Count == 1
            ? (uri.Database is null || uri.Database == config.Schemas[0]
                ? config.Schemas[0]
                : throw new ConfigException($"source.schemas names database '{config.Schemas[0]}' but the connection URI names '{uri.Database}'"))
            : uri.Database ?? throw new ConfigException("source.connection_uri names no database (mysql://user@host:port/DATABASE)");
        _uri = uri.WithDatabase(_database);
        _config = config;
        _tools = tools;
    }

    public string Description => $"{Path.GetFileName(_tools.Dump)} {_uri}";

    /// <summary>
    /// 'unmatched_rules' for exclude_tables and exclude_table_data entries that match no table (<see cref="UnmatchedExcludes"/>):
    /// mysqldump ignores an --ignore-table of a table that does not exist, so a typo would dump its rows.
    /// </summary>
    public UnmatchedRules Unmatched { get; init; } = UnmatchedRules.Error;

    /// <summary>Where such entries go with unmatched_rules: warn.</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>The config file, for messages.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Set by <see cref="PrepareAsync"/>: the tables' data and index sizes from information_schema, for progress.</summary>
    public long? Length { get; private set; }

    /// <summary>The server's version (SELECT VERSION()), known after <see cref="PrepareAsync"/>.</summary>
    public string? ServerVersion { get; private set; }

    /// <summary>
    /// Connects before anything is stored (a wrong password or an unreachable host fails here, in the client's words),
    /// checks that the database exists, resolves the table patterns and learns the data size for progress.
    /// </summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _options ??= MysqlOptionFile.Create(_uri);
        var version = await _tools.QueryAsync(_options, null, "SELECT VERSION()", cancellationToken).ConfigureAwait(false);
        ServerVersion = version.Count == 1 ? version[0][0] : null;
        await _tools.RequireDatabaseAsync(_options, _uri, cancellationToken).ConfigureAwait(false);
        var rows = await _tools.QueryTextAsync(_options, null,
            "SELECT table_name, COALESCE(data_length, 0) FROM information_schema.tables WHERE table_schema = " + MysqlTools.Literal(_database),
            cancellationToken).ConfigureAwait(false);
        var names = new List<string>(rows.Count);
        long bytes = 0;
        foreach (var row in rows)
        {
            names.Add(row[0]);
            if (long.TryParse(row[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                bytes += size;
            }
        }
        Length = bytes > 0 ? bytes : null;
        _tables = _config.Tables.Count == 0 ? null : Resolve(names, _config.Tables, "source.tables", mustMatch: true);
        var unmatched = new List<string>();
        _excluded = Resolve(names, _config.ExcludeTables, "source.exclude_tables", mustMatch: false, unmatched);
        _excludedData = Resolve(names, _config.ExcludeTableData, "source.exclude_table_data", mustMatch: false, unmatched);
        UnmatchedExcludes.Report(unmatched, Unmatched, Warn, ConfigFile);
        if (_tables is not null)
        {
            if (_tables.TrueForAll(_excluded.Contains))
            {
                throw new ConfigException("source.exclude_tables leaves out every table that source.tables names; nothing would be dumped");
            }
            foreach (var name in names)
            {
                if (!_tables.Contains(name) && !_excluded.Contains(name))
                {
                    _excluded.Add(name);
                }
            }
        }
    }

    /// <summary>
    /// The tables the patterns name. A pattern that matches none fails when <paramref name="mustMatch"/>, else is added to
    /// <paramref name="unmatched"/> with the closest table.
    /// </summary>
    List<string> Resolve(List<string> names, IReadOnlyList<string> patterns, string key, bool mustMatch, List<string>? unmatched = null)
    {
        var result = new List<string>();
        foreach (var pattern in patterns)
        {
            var tablePattern = pattern;
            var dot = pattern.IndexOf('.');
            if (dot >= 0)
            {
                var database = pattern[..dot].Trim('`');
                if (!Glob(database, _database))
                {
                    throw new ConfigException($"{key} entry '{pattern}' names database '{database}', but the dump is of '{_database}'");
                }
                tablePattern = pattern[(dot + 1)..];
            }
            tablePattern = tablePattern.Trim('`');
            var matched = false;
            foreach (var name in names)
            {
                if (Glob(tablePattern, name))
                {
                    matched = true;
                    if (!result.Contains(name))
                    {
                        result.Add(name);
                    }
                }
            }
            if (mustMatch && !matched)
            {
                throw new ConfigException($"{key} entry '{pattern}' matches no table of {_uri.Describe()}");
            }
            if (!matched && unmatched is not null)
            {
                var closest = Suggestions.Closest(tablePattern, names);
                unmatched.Add(UnmatchedExcludes.Problem(key, pattern, "table", $"of {_uri.Describe()}",
                    closest is null ? null : dot >= 0 ? $"{_database}.{closest}" : closest));
            }
        }
        return result;
    }

    /// <summary>'*' any run of characters, '?' one character; otherwise exact (MySQL table names are case-sensitive on Linux).</summary>
    internal static bool Glob(string pattern, string name) => Glob(pattern.AsSpan(), name.AsSpan());

    static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        while (pattern.Length > 0)
        {
            if (pattern[0] == '*')
            {
                pattern = pattern[1..];
                for (var i = 0; i <= name.Length; i++)
                {
                    if (Glob(pattern, name[i..]))
                    {
                        return true;
                    }
                }
                return false;
            }
            if (name.Length == 0 || (pattern[0] != '?' && pattern[0] != name[0]))
            {
                return false;
            }
            pattern = pattern[1..];
            name = name[1..];
        }
        return name.Length == 0;
    }

    /// <summary>mysqldump's arguments after the option file: no connection details, no password.</summary>
    public IReadOnlyList<string> Arguments()
    {
        if (_excluded is null)
        {
            throw new InvalidOperationException("call PrepareAsync first: it resolves the table patterns");
        }
        var arguments = new List<string>
        {
            "--single-transaction",
            "--routines",
            "--triggers",
            "--skip-events",
            "--hex-blob",
            "--default-character-set=utf8mb4",
            "--no-tablespaces",
        };
        if (_config.DataFormat == DataFormat.Inserts)
        {
            arguments.Add("--skip-extended-insert");
            arguments.Add("--complete-insert");
        }
        // Tables are selected by ignoring the others, never by naming them: mariadb-dump 10.11 disregards
        // --ignore-table-data for tables named on its command line.
        foreach (var table in _excluded)
        {
            arguments.Add($"--ignore-table={_database}.{table}");
        }
        foreach (var table in _excludedData!)
        {
            // MariaDB's mariadb-dump has it since 10.1; MySQL's mysqldump since 8.0.
            arguments.Add($"--ignore-table-data={_database}.{table}");
        }
        // "--" ends the options: a database named like an option stays a name.
        arguments.Add("--");
        arguments.Add(_database);
        return arguments;
    }

    public Stream Open()
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("mysqldump was already started");
        }
        var options = _options ?? throw new InvalidOperationException("call PrepareAsync before Open");
        var arguments = new List<string> { options.Argument };
        arguments.AddRange(Arguments());
        _process = ToolProcess.Start(_tools.Dump, arguments, new Dictionary<string, string>(), _tools.ChildEnvironment, [_uri.Password]);
        return _process.Output;
    }

    public Task CompleteAsync(CancellationToken cancellationToken) =>
        _process?.WaitForSuccessAsync(cancellationToken) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_process is not null)
            {
                await _process.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            // The option file holds the password: it goes whatever else fails.
            _options?.Dispose();
        }
    }
}
