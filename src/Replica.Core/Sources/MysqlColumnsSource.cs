using System.Globalization;
using System.Text;
using Replica.Clients;

namespace Replica.Sources;

/// <summary>A base table of a MySQL database as information_schema describes it: its columns in order and its primary key.</summary>
public sealed record MysqlTable(string Name, IReadOnlyList<(string Name, string ColumnType, string DataType)> Columns, IReadOnlyList<string> PrimaryKey,
    long EstimatedRows);

/// <summary>
/// A few columns of a live MySQL or MariaDB database as mysqldump would write them: per table one INSERT per row of only
/// the columns asked for, made by the server (<c>QUOTE()</c> for a value, <c>0x</c> and <c>HEX()</c> for binary and BIT
/// columns as mysqldump's --hex-blob writes them), read by the mysql client (--quick: row by row, nothing buffered)
/// in one START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY. What `replica leakcheck --source mysql://...`
/// compares a stored dump with: the key and the masked columns, nothing else. The password reaches the client through
/// a 0600 option file, never its arguments.
/// https://mariadb.com/kb/en/quote/ https://mariadb.com/kb/en/start-transaction/
/// </summary>
public sealed class MysqlColumnsSource(DatabaseUri uri, MysqlTools tools, IReadOnlyList<(MysqlTable Table, IReadOnlyList<string> Columns)> reads)
    : IDumpSource, IAsyncDisposable
{
    MysqlOptionFile? _options;
    ToolProcess? _process;
    Task? _script;

    public string Description => $"{Path.GetFileName(tools.Client)} {uri}";

    public long? Length => null;

    /// <summary>The base tables of <paramref name="uri"/>'s database with their columns, primary keys and row estimates.</summary>
    public static async Task<List<MysqlTable>> ReadCatalogAsync(DatabaseUri uri, MysqlTools tools, CancellationToken cancellationToken)
    {
        var database = MysqlTools.Literal(uri.Database ?? throw new ConfigException("the source URI names no database (mysql://user@host:port/DATABASE)"));
        using var options = MysqlOptionFile.Create(uri);
        await tools.RequireDatabaseAsync(options, uri, cancellationToken).ConfigureAwait(false);
        var tables = await tools.QueryTextAsync(options, null,
            $"SELECT table_name, COALESCE(table_rows, 0) FROM information_schema.tables WHERE table_schema = {database} AND table_type = 'BASE TABLE' ORDER BY table_name",
            cancellationToken).ConfigureAwait(false);
        var columns = await tools.QueryTextAsync(options, null,
            $"SELECT table_name, column_name, column_type, data_type FROM information_schema.columns WHERE table_schema = {database} ORDER BY table_name, ordinal_position",
            cancellationToken).ConfigureAwait(false);
        var keys = await tools.QueryTextAsync(options, null,
            $"SELECT table_name, column_name FROM information_schema.key_column_usage WHERE table_schema = {database} AND constraint_name = 'PRIMARY' "
            + "ORDER BY table_name, ordinal_position", cancellationToken).ConfigureAwait(false);
        var columnsOf = columns.ToLookup(c => c[0], StringComparer.Ordinal);
        var keysOf = keys.ToLookup(k => k[0], StringComparer.Ordinal);
        return [.. tables.Select(t => new MysqlTable(t[0],
            [.. columnsOf[t[0]].Select(c => (c[1], c[2], c[3]))],
            [.. keysOf[t[0]].Select(k => k[1])],
            long.TryParse(t[1], NumberStyles.None, CultureInfo.InvariantCulture, out var rows) ? rows : 0))];
    }

    /// <summary>
    /// The tables as mysqldump declares them (columns with their types, the primary key inline), for a schema pass,
    /// after a USE of <paramref name="database"/>: a dump of one database names it in its header, so its tables are
    /// known by the database's name.
    /// </summary>
    public static string Schema(string database, IEnumerable<MysqlTable> tables)
    {
        var sql = new StringBuilder(Use(database));
        foreach (var table in tables)
        {
            var lines = table.Columns.Select(c => $"  {MysqlTools.Identifier(c.Name)} {c.ColumnType}").ToList();
            if (table.PrimaryKey.Count > 0)
            {
                lines.Add($"  PRIMARY KEY ({string.Join(",", table.PrimaryKey.Select(MysqlTools.Identifier))})");
            }
            sql.Append(CultureInfo.InvariantCulture, $"CREATE TABLE {MysqlTools.Identifier(table.Name)} (\n{string.Join(",\n", lines)}\n);\n");
        }
        return sql.ToString();
    }

    /// <summary>
    /// The script the client runs: one snapshot, then per table a SELECT whose every row is one INSERT statement. A
    /// value is QUOTE()d (NULL stays the word NULL); binary strings and BIT values are 0x followed by their hex digits,
    /// as mysqldump --hex-blob writes them (an empty binary string as ''), so that values compare byte for byte with a
    /// dump's.
    /// </summary>
    internal string Script()
    {
        var script = new StringBuilder("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ;\nSTART TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY;\n");
        // The first line out: the USE the schema pass read too.
        script.Append(CultureInfo.InvariantCulture, $"SELECT {MysqlTools.Literal(Use(uri.Database!).TrimEnd('\n'))};\n");
        foreach (var (table, columns) in reads)
        {
            var types = table.Columns.ToDictionary(c => c.Name, c => c.DataType, StringComparer.Ordinal);
            var head = $"INSERT INTO {MysqlTools.Identifier(table.Name)} ({string.Join(",", columns.Select(MysqlTools.Identifier))}) VALUES (";
            var values = columns.Select(c => Value(MysqlTools.Identifier(c), types.GetValueOrDefault(c) ?? ""));
            script.Append(CultureInfo.InvariantCulture,
                $"SELECT CONCAT({MysqlTools.Literal(head)}, {string.Join(", ',', ", values)}, ');') FROM {MysqlTools.Identifier(table.Name)};\n");
        }
        return script.Append("COMMIT;\n").ToString();

        static string Value(string column, string dataType) => dataType.ToLowerInvariant() switch
        {
            "binary" or "varbinary" or "tinyblob" or "blob" or "mediumblob" or "longblob" or "bit" =>
                $"IF({column} IS NULL, 'NULL', IF(LENGTH({column}) = 0, '''''', CONCAT('0x', HEX({column}))))",
            _ => $"QUOTE({column})",
        };
    }

    static string Use(string database) => $"USE {MysqlTools.Identifier(database)};\n";

    public Stream Open()
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("the mysql client was already started");
        }
        _options = MysqlOptionFile.Create(uri);
        // --raw: the rows as the server sends them (each a statement whose literals QUOTE() escaped); --quick: row by row.
        _process = ToolProcess.Start(tools.Client, [_options.Argument, "--batch", "--raw", "--quick", "--skip-column-names",
            "--default-character-set=utf8mb4", "--local-infile=0", "--database=" + uri.Database], new Dictionary<string, string>(), tools.ChildEnvironment, [_options.Secret], redirectInput: true);
        var process = _process;
        var script = Encoding.UTF8.GetBytes(Script());
        _script = Task.Run(async () =>
        {
            await using var input = process.Input;
            await input.WriteAsync(script).ConfigureAwait(false);
        });
        return process.Output;
    }

    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_script is not null)
        {
            await _script.ConfigureAwait(false);
        }
        if (_process is not null)
        {
            await _process.WaitForSuccessAsync(cancellationToken).ConfigureAwait(false);
        }
    }

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
