using System.CommandLine;
using Replica.Config;
using Replica.Databases;
using Replica.Rewriting;

namespace Replica.Cli.Commands;

/// <summary>The source database of `replica schema` and `replica scan`, and the catalog checks a dump makes before it writes.</summary>
internal static class SourceDatabase
{
    public const string PasswordHint =
        "A password in --source is visible to other users of this machine (ps, shell history): prefer the config's "
        + "source.connection_uri with ${VAR}, PGPASSWORD or ~/.pgpass.";

    public static Option<string?> Option() => new("--source", "-s")
    {
        Description = "The source database, postgres://user@host:port/db?sslmode=... Default: the config's source.connection_uri. " + PasswordHint,
    };

    /// <summary>--source, else source.connection_uri; a PostgreSQL URI, or a config error that says what to pass.</summary>
    public static DatabaseUri Resolve(string? option, ReplicaConfig config)
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

    /// <summary>
    /// What a dump of a live source checks in its catalog before it writes anything. Strict mode (--strict or 'policy:
    /// strict') reads the catalog of source.connection_uri and fails naming every column that looks like personal data
    /// and has no rule; strict mode with a live source other than PostgreSQL is a config error, since nothing could be
    /// checked. The catalog's unique columns also make their transformers unique-safe. A dump file or stdin
    /// (<paramref name="liveSource"/> false) is not checked here: its rewriter checks the columns of the dump's own
    /// CREATE TABLE statements (RuleChecks.Strict), which may not be those of source.connection_uri.
    /// </summary>
    public static async Task CheckBeforeDumpAsync(ReplicaConfig config, bool strict, bool liveSource, RewriteRules rules, CancellationToken cancellationToken)
    {
        strict |= config.Strict;
        if (!liveSource)
        {
            return;
        }
        var uri = config.Source.ConnectionUri is { Length: > 0 } text ? DatabaseUri.Parse(text) : null;
        if (uri is not { Kind: DatabaseKind.PostgreSql })
        {
            if (strict)
            {
                throw new ConfigException(
                    "strict mode checks the source database's columns before dumping, and needs source.connection_uri (postgres://) to read them",
                    config.File, key: "policy");
            }
            return;
        }
        var catalog = await PostgresCatalog.ReadAsync(uri, cancellationToken).ConfigureAwait(false);
        if (strict)
        {
            StrictPolicy.Check(catalog, config);
        }
        rules.MarkUnique(catalog.UniqueColumns());
    }
}
