using System.Data;
using System.Globalization;
using Npgsql;
using Replica.Clients;

namespace Replica.Catalog;

/// <summary>
/// Reads a PostgreSQL database's <see cref="DatabaseCatalog"/> through Npgsql, in one REPEATABLE READ, READ ONLY transaction so
/// that tables, columns and keys come from one snapshot (https://www.postgresql.org/docs/current/catalogs.html).
/// Errors (wrong password, unreachable host, a refused query) become <see cref="DatabaseException"/> with Npgsql's own
/// words; the password is in no message.
/// </summary>
public static partial class PostgresCatalog
{
    /// <summary>Reads schemas, tables, columns, sizes and keys of the database <paramref name="uri"/> names.</summary>
    public static async Task<DatabaseCatalog> ReadAsync(DatabaseUri uri, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(uri, cancellationToken).ConfigureAwait(false);
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "SET TRANSACTION READ ONLY", cancellationToken).ConfigureAwait(false);
            var catalog = await ReadCatalogAsync(connection, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return catalog;
        }
        catch (NpgsqlException e)
        {
            throw new DatabaseException($"reading the catalog of {uri.Describe()} failed: {e.Message}", e);
        }
    }

    /// <summary>Opens a connection to <paramref name="uri"/>; a failure is a <see cref="DatabaseException"/> naming the server, never the password.</summary>
    /// <param name="uri">The database.</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    /// <param name="longRunning">For a dump's sessions (<see cref="LongRunning"/>): no command timeout, TCP keepalives.</param>
    public static async Task<NpgsqlConnection> OpenAsync(DatabaseUri uri, CancellationToken cancellationToken, bool longRunning = false)
    {
        if (uri.Kind != DatabaseKind.PostgreSql)
        {
            throw new ConfigException($"{uri} is not a PostgreSQL database; schema and scan read PostgreSQL catalogs only");
        }
        var connection = new NpgsqlConnection(longRunning ? LongRunning(ConnectionString(uri)) : ConnectionString(uri));
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or ArgumentException or InvalidOperationException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            // Npgsql's "Failed to connect to host:port" hides the reason (refused, timed out, no route) in the inner exception.
            var reason = e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $" ({inner.Message})" : "";
            throw new DatabaseException($"cannot connect to {uri.Describe()}{(uri.User is null ? "" : " as " + uri.User)}: {e.Message}{reason}", e);
        }
    }

    /// <summary>
    /// An Npgsql connection string for <paramref name="uri"/> (https://www.npgsql.org/doc/connection-string-parameters.html).
    /// What the URI leaves out comes from libpq's environment variables, as for pg_dump: PGHOST (else the local socket
    /// directory /var/run/postgresql when it has a server socket, else localhost), PGPORT, PGUSER (else the OS user),
    /// PGDATABASE (else the user name), PGPASSWORD, PGSSLMODE, PGAPPNAME, PGCONNECT_TIMEOUT, PGPASSFILE; Npgsql reads
    /// ~/.pgpass itself. Npgsql 10 does not fill the host from PGHOST on its own (measured), hence this.
    /// Parameters Npgsql has no equivalent for (service, sslcrl) are refused rather than silently ignored.
    /// </summary>
    public static string ConnectionString(DatabaseUri uri, Func<string, string?>? getEnv = null)
    {
        getEnv ??= Environment.GetEnvironmentVariable;
        var builder = new NpgsqlConnectionStringBuilder
        {
            ApplicationName = getEnv("PGAPPNAME") ?? "replica",
            // One short-lived connection per command: nothing to pool, and an idle pooled connection would outlive it.
            Pooling = false,
        };
        var port = uri.Port ?? (int.TryParse(getEnv("PGPORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 5432);
        builder.Port = port;
        builder.Host = uri.Host ?? NullIfEmpty(getEnv("PGHOST"))
            ?? (File.Exists($"/var/run/postgresql/.s.PGSQL.{port.ToString(CultureInfo.InvariantCulture)}") ? "/var/run/postgresql" : "localhost");
        builder.Username = uri.User ?? NullIfEmpty(getEnv("PGUSER")) ?? Environment.UserName;
        builder.Database = uri.Database ?? NullIfEmpty(getEnv("PGDATABASE")) ?? builder.Username;
        if ((uri.Password ?? getEnv("PGPASSWORD")) is { } password)
        {
            builder.Password = password;
        }

        if (NullIfEmpty(getEnv("PGPASSFILE")) is { } passfile)
        {
            builder.Passfile = passfile;
        }

        var parameters = new Dictionary<string, string>(uri.Parameters, StringComparer.Ordinal);
        if (!parameters.ContainsKey("sslmode") && NullIfEmpty(getEnv("PGSSLMODE")) is { } sslmode)
        {
            parameters["sslmode"] = sslmode;
        }

        if (!parameters.ContainsKey("connect_timeout") && NullIfEmpty(getEnv("PGCONNECT_TIMEOUT")) is { } timeout)
        {
            parameters["connect_timeout"] = timeout;
        }

        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "sslmode":
                    builder.SslMode = value switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new ConfigException("connection URI parameter sslmode (or PGSSLMODE) is not one of disable, allow, prefer, require, verify-ca, verify-full"),
                    };
                    break;
                case "sslrootcert": builder.RootCertificate = value; break;
                case "sslcert": builder.SslCertificate = value; break;
                case "sslkey": builder.SslKey = value; break;
                case "application_name": builder.ApplicationName = value; break;
                case "passfile": builder.Passfile = value; break;
                case "options": builder.Options = value; break;
                case "target_session_attrs": builder.TargetSessionAttributes = value; break;
                case "connect_timeout":
                    builder.Timeout = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
                        ? seconds
                        : throw new ConfigException("connection URI parameter connect_timeout (or PGCONNECT_TIMEOUT) is not a whole number of seconds");
                    break;
                default:
                    throw new ConfigException(
                        $"connection URI {uri.NameOfParameter(key)} is not supported when replica reads the catalog (Npgsql); supported: sslmode, sslrootcert, "
                        + "sslcert, sslkey, application_name, passfile, options, target_session_attrs, connect_timeout");
            }
        }
        return builder.ConnectionString;
    }

    /// <summary>
    /// <paramref name="connectionString"/> for a session that reads as long as pg_dump would: no command timeout (Npgsql's
    /// default 30 s ends a COPY whose first row takes longer, e.g. a subset's sorted batch; pg_dump waits, as its
    /// statement_timeout 0 says), and TCP keepalives after a minute of silence, every 10 s, so that a server or network
    /// gone dead ends the wait (after the system's probe count) instead of leaving it for ever, and an idle exporting
    /// session is not dropped by a firewall. https://www.npgsql.org/doc/keepalive.html
    /// </summary>
    internal static string LongRunning(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString)
    {
        CommandTimeout = 0,
        TcpKeepAlive = true,
        TcpKeepAliveTime = 60,
        TcpKeepAliveInterval = 10,
    }.ConnectionString;

    static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    static async Task<DatabaseCatalog> ReadCatalogAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        string database = "", version = "";
        await using (var command = new NpgsqlCommand("SELECT current_database()::text, current_setting('server_version')", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                database = reader.GetString(0);
                version = reader.GetString(1);
            }
        }

        var schemas = new List<string>();
        await using (var command = new NpgsqlCommand(SchemasSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                schemas.Add(reader.GetString(0));
            }
        }

        var tables = new Dictionary<uint, TableBuilder>();
        var order = new List<TableBuilder>();
        await using (var command = new NpgsqlCommand(TablesSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var table = new TableBuilder
                {
                    Schema = reader.GetString(1),
                    Name = reader.GetString(2),
                    Kind = reader.GetChar(3) == 'p' ? TableKind.Partitioned : TableKind.Table,
                    // reltuples is -1 until the table is first vacuumed or analyzed (PostgreSQL 14+).
                    EstimatedRows = reader.GetFloat(4) is var tuples && tuples >= 0 ? (long)tuples : null,
                    TotalBytes = reader.GetInt64(5),
                    TableBytes = reader.GetInt64(6),
                    PartitionOf = reader.IsDBNull(7) ? null : new TableReference(reader.GetString(7), reader.GetString(8)),
                };
                tables.Add(reader.GetFieldValue<uint>(0), table);
                order.Add(table);
            }
        }

        await using (var command = new NpgsqlCommand(ColumnsSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (tables.TryGetValue(reader.GetFieldValue<uint>(0), out var table))
                {
                    table.Columns.Add(new CatalogColumn(reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), table.Columns.Count + 1));
                }
            }
        }

        await using (var command = new NpgsqlCommand(ConstraintsSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!tables.TryGetValue(reader.GetFieldValue<uint>(0), out var table))
                {
                    continue;
                }
                var name = reader.GetString(2);
                var columns = reader.GetFieldValue<string[]>(3);
                switch (reader.GetChar(1))
                {
                    case 'p':
                        table.PrimaryKey = new UniqueKey(name, UniqueKeyKind.PrimaryKey, columns);
                        break;
                    case 'u':
                        table.UniqueKeys.Add(new UniqueKey(name, UniqueKeyKind.UniqueConstraint, columns));
                        break;
                    case 'f':
                        table.ForeignKeys.Add(new ForeignKey(
                            name,
                            columns,
                            new TableReference(reader.GetString(4), reader.GetString(5)),
                            reader.GetFieldValue<string[]>(6),
                            Action(reader.GetChar(7)),
                            Action(reader.GetChar(8))));
                        break;
                }
            }
        }

        await using (var command = new NpgsqlCommand(UniqueIndexesSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (tables.TryGetValue(reader.GetFieldValue<uint>(0), out var table))
                {
                    table.UniqueKeys.Add(new UniqueKey(
                        reader.GetString(1),
                        UniqueKeyKind.UniqueIndex,
                        reader.GetFieldValue<string[]>(2),
                        Partial: reader.GetBoolean(3),
                        Expression: reader.IsDBNull(4) ? null : reader.GetString(4)));
                }
            }
        }

        SumPartitions(order);
        var result = new List<CatalogTable>(order.Count);
        foreach (var t in order)
        {
            result.Add(t.Build());
        }
        var others = new List<TableReference>();
        var views = new List<TableReference>();
        await using (var command = new NpgsqlCommand(OtherRelationsSql, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var relation = new TableReference(reader.GetString(0), reader.GetString(1));
                others.Add(relation);
                if (reader.GetBoolean(2))
                {
                    views.Add(relation);
                }
            }
        }
        return new DatabaseCatalog(database, version, schemas, result) { OtherRelations = others, Views = views };
    }

    /// <summary>A partitioned table holds no rows itself; its rows and sizes are those of its partitions, summed.</summary>
    static void SumPartitions(List<TableBuilder> tables)
    {
        var byName = new Dictionary<(string, string), TableBuilder>();
        foreach (var t in tables)
        {
            byName[(t.Schema, t.Name)] = t;
        }
        foreach (var t in tables)
        {
            if (t.Kind == TableKind.Partitioned)
            {
                // ANALYZE of a partitioned table may set its reltuples to the total; the leaves' sum replaces it.
                t.EstimatedRows = null;
                t.TotalBytes = 0;
                t.TableBytes = 0;
            }
        }
        // Every leaf adds itself to each ancestor, so multi-level partitioning sums correctly.
        foreach (var t in tables)
        {
            if (t.Kind != TableKind.Table)
            {
                continue;
            }
            for (var parent = t.PartitionOf; parent is not null && byName.TryGetValue((parent.Schema, parent.Name), out var p); parent = p.PartitionOf)
            {
                p.TotalBytes += t.TotalBytes;
                p.TableBytes += t.TableBytes;
                if (t.EstimatedRows is { } rows)
                {
                    p.EstimatedRows = (p.EstimatedRows ?? 0) + rows;
                }
            }
        }
    }

    static ReferentialAction Action(char code) => code switch
    {
        'r' => ReferentialAction.Restrict,
        'c' => ReferentialAction.Cascade,
        'n' => ReferentialAction.SetNull,
        'd' => ReferentialAction.SetDefault,
        _ => ReferentialAction.NoAction,
    };

    sealed class TableBuilder
    {
        public string Schema = "";
        public string Name = "";
        public TableKind Kind;
        public TableReference? PartitionOf;
        public long? EstimatedRows;
        public long TotalBytes;
        public long TableBytes;
        public readonly List<CatalogColumn> Columns = [];
        public UniqueKey? PrimaryKey;
        public readonly List<UniqueKey> UniqueKeys = [];
        public readonly List<ForeignKey> ForeignKeys = [];

        public CatalogTable Build() =>
            new(Schema, Name, Kind, PartitionOf, EstimatedRows, TotalBytes, TableBytes, Columns, PrimaryKey, UniqueKeys, ForeignKeys);
    }
}
