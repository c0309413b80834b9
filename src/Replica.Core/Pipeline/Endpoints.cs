using Replica.Clients;
using Replica.Config;
using Replica.Destinations;
using Replica.Lexing;
using Replica.Sources;

namespace Replica.Pipeline;

/// <summary>Picks where a dump comes from and where a restore goes, from the options and the config.</summary>
public static class Endpoints
{
    /// <summary>
    /// --input FILE or - wins; else source.connection_uri (postgres:// runs pg_dump). Nothing at all is a usage error
    /// that says both ways. <paramref name="warn"/> takes a MySQL source's exclude entries that match no table, with
    /// unmatched_rules: warn.
    /// </summary>
    public static IDumpSource Source(ReplicaConfig config, string? input, Action<string>? warn = null)
    {
        if (input is not null)
        {
            if (input == "-")
            {
                return new StandardInputSource();
            }
            if (!File.Exists(input))
            {
                throw new BridgeException($"the input dump {input} does not exist");
            }
            return new FileDumpSource(input);
        }
        if (config.Source.ConnectionUri is not { } text)
        {
            throw new ConfigException("nothing to dump: set source.connection_uri in the config (e.g. ${SOURCE_DATABASE_URL}), or pass --input FILE (- for stdin)", config.File);
        }
        var uri = DatabaseUri.Parse(text);
        return uri.Kind switch
        {
            DatabaseKind.PostgreSql => new PgDumpSource(uri, OptionsOf(config.Source), PostgresTools.Find(config.ChildEnvironment)),
            DatabaseKind.MySql => new MysqlDumpSource(uri, OptionsOf(config.Source), MysqlTools.Find(config.ChildEnvironment))
            {
                Unmatched = config.UnmatchedRules,
                Warn = warn,
                ConfigFile = config.File,
            },
            _ => throw new ConfigException($"{uri.Scheme}:// sources are not supported yet", config.File, key: "source.connection_uri"),
        };
    }

    /// <summary>The config's source section as the sources take it.</summary>
    public static SourceOptions OptionsOf(SourceConfig source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new SourceOptions
        {
            Tables = source.Tables,
            ExcludeTables = source.ExcludeTables,
            ExcludeTableData = source.ExcludeTableData,
            Schemas = source.Schemas,
            ExcludeSchemas = source.ExcludeSchemas,
            DataFormat = source.DataFormat,
        };
    }

    /// <summary>
    /// The SQL dialect of the dump: MySQL when source.connection_uri is mysql:// or mariadb:// (also for --input, so a
    /// mysqldump file is read as MySQL when the config names a MySQL source), else PostgreSQL.
    /// </summary>
    public static SqlDialect Dialect(ReplicaConfig config) =>
        config.Source.ConnectionUri is { } text && DatabaseUri.Parse(text).Kind == DatabaseKind.MySql ? SqlDialect.MySql : SqlDialect.PostgreSql;

    /// <summary>--output: a file (written whole, then renamed into place), or stdout for "-" or none.</summary>
    public static IRestoreDestination Output(string? output) =>
        output is null or "-" ? new StandardOutputDestination() : new FileDestination(output);

    /// <summary>
    /// --output FILE or - wins; else destination.connection_uri (postgres:// restores through psql); else stdout.
    /// </summary>
    public static IRestoreDestination Destination(ReplicaConfig config, string? output, WipeMode wipe, bool createDatabase)
    {
        if (output is not null || config.Destination.ConnectionUri is null)
        {
            return Output(output);
        }
        var uri = DatabaseUri.Parse(config.Destination.ConnectionUri);
        return uri.Kind switch
        {
            DatabaseKind.PostgreSql => new PsqlDestination(uri, PostgresTools.Find(config.ChildEnvironment), wipe, createDatabase)
            {
                AfterRestore = config.Destination.AfterRestore,
                AllowPrivilegedRole = config.Destination.AllowPrivilegedRole,
                LeaveOut = config.Destination.LeaveOut,
                LockWaitSeconds = config.Destination.LockWaitSeconds,
            },
            DatabaseKind.MySql => new MysqlDestination(uri, MysqlTools.Find(config.ChildEnvironment), wipe, createDatabase)
            {
                AfterRestore = config.Destination.AfterRestore,
                AllowPrivilegedRole = config.Destination.AllowPrivilegedRole,
                LeaveOut = config.Destination.LeaveOut,
                LockWaitSeconds = config.Destination.LockWaitSeconds,
            },
            _ => throw new ConfigException($"{uri.Scheme}:// destinations are not supported yet", config.File, key: "destination.connection_uri"),
        };
    }

    /// <summary>
    /// The database whose catalog `replica schema` and `replica scan` read: <paramref name="option"/> (--source), else
    /// source.connection_uri; a PostgreSQL URI, or a config error that says what to pass.
    /// </summary>
    public static DatabaseUri CatalogSource(string? option, ReplicaConfig config)
    {
        var text = option ?? config.Source.ConnectionUri;
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ConfigException("no source database: pass --source postgres://user@host:port/db, or set source.connection_uri in the config");
        }
        var uri = DatabaseUri.Parse(text);
        if (uri.Kind != DatabaseKind.PostgreSql)
        {
            throw new ConfigException($"{uri}: reading the catalog is supported for PostgreSQL (postgres://) only");
        }
        return uri;
    }
}
