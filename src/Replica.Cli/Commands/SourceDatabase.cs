using System.CommandLine;

namespace Replica.Cli.Commands;

/// <summary>The --source option of `replica schema` and `replica scan` (Endpoints.CatalogSource resolves it).</summary>
internal static class SourceDatabase
{
    public const string PasswordHint =
        "A password in --source is visible to other users of this machine (ps, shell history): prefer the config's "
        + "source.connection_uri with ${VAR}, PGPASSWORD or ~/.pgpass.";

    public static Option<string?> Option() => new("--source", "-s")
    {
        Description = "The source database, postgres://user@host:port/db?sslmode=... Default: the config's source.connection_uri. " + PasswordHint,
    };
}
