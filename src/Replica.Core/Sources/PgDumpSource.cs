using Replica.Clients;

namespace Replica.Sources;

/// <summary>
/// A live PostgreSQL database, read through pg_dump's plain format on its stdout: nothing is staged on disk. The
/// connection (and password) reaches pg_dump through libpq environment variables, never its arguments. A pg_dump that
/// exits non-zero fails the dump with its own error text (https://www.postgresql.org/docs/current/app-pgdump.html).
/// </summary>
public sealed class PgDumpSource : IDumpSource, IAsyncDisposable
{
    readonly DatabaseUri _uri;
    SourceOptions _config;
    bool _prepared;
    readonly PostgresTools _tools;
    ToolProcess? _process;

    public PgDumpSource(DatabaseUri uri, SourceOptions config, PostgresTools tools)
    {
        _uri = uri;
        _config = config;
        _tools = tools;
    }

    public string Description => $"pg_dump {_uri}";

    /// <summary>Set by <see cref="PrepareAsync"/> from the catalog (table sizes), for progress; pg_dump's output is a little smaller.</summary>
    public long? Length { get; private set; }

    /// <summary>Tables in the source's catalog (before include/exclude options), for progress.</summary>
    public int? TableCount { get; private set; }

    /// <summary>
    /// Checks, before anything is stored, that the server answers, the password is right and the local pg_dump is new
    /// enough for the server; learns the database's size for progress.
    /// </summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        await _tools.CheckPgDumpAsync(_uri, cancellationToken).ConfigureAwait(false);
        // Estimates for progress: heap sizes (the dump's text is of the same order) and tables that hold rows.
        var answer = (await _tools.QueryAsync(_uri,
            "SELECT coalesce(sum(pg_table_size(c.oid)), 0) || '|' || count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            + "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
            cancellationToken).ConfigureAwait(false)).Trim().Split('|');
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        Length = answer.Length == 2 && long.TryParse(answer[0], invariant, out var bytes) && bytes > 0 ? bytes : null;
        TableCount = answer.Length == 2 && int.TryParse(answer[1], invariant, out var tables) ? tables : null;
        // Partitions and children of excluded tables are excluded with them; one attached between this query and
        // pg_dump's start is not (pg_dump 16's --exclude-table-and-children would close that gap).
        if (_config.ExcludeTables.Count + _config.ExcludeTableData.Count > 0)
        {
            var ancestry = ExcludedChildren.Parse(await _tools.QueryAsync(_uri, ExcludedChildren.Sql, cancellationToken).ConfigureAwait(false));
            _config = ExcludedChildren.Add(_config, ancestry);
        }
        _prepared = true;
    }

    /// <summary>
    /// pg_dump's arguments: no connection details, no password (those are in its environment). After
    /// <see cref="PrepareAsync"/> they exclude the partitions and children of excluded tables too (<see cref="ExcludedChildren"/>).
    /// </summary>
    public IReadOnlyList<string> Arguments()
    {
        var arguments = new List<string> { "--format=plain", "--no-password", "--encoding=UTF8" };
        if (_config.DataFormat == DataFormat.Inserts)
        {
            arguments.Add("--column-inserts");
        }
        Add(arguments, "--table=", _config.Tables);
        Add(arguments, "--exclude-table=", _config.ExcludeTables);
        Add(arguments, "--exclude-table-data=", _config.ExcludeTableData);
        Add(arguments, "--schema=", _config.Schemas);
        Add(arguments, "--exclude-schema=", _config.ExcludeSchemas);
        return arguments;
    }

    static void Add(List<string> arguments, string option, IReadOnlyList<string> patterns)
    {
        foreach (var pattern in patterns)
        {
            arguments.Add(option + pattern);
        }
    }

    public Stream Open()
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("pg_dump was already started");
        }
        if (!_prepared)
        {
            throw new InvalidOperationException("call PrepareAsync first: it excludes the partitions and children of excluded tables");
        }
        _process = ToolProcess.Start(_tools.PgDump, Arguments(), _uri.LibpqEnvironment(), _tools.ChildEnvironment, [_uri.Password],
            context: $"dumping {_uri.Describe()} (nothing was stored)");
        return _process.Output;
    }

    public Task CompleteAsync(CancellationToken cancellationToken) =>
        _process?.WaitForSuccessAsync(cancellationToken) ?? Task.CompletedTask;

    public ValueTask DisposeAsync() => _process?.DisposeAsync() ?? ValueTask.CompletedTask;
}
