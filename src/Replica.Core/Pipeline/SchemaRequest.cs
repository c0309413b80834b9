using Replica.Catalog;
using Replica.Config;

namespace Replica.Pipeline;

/// <summary>What `replica schema` reads: the catalog of --source, else of source.connection_uri.</summary>
public static class SchemaRequest
{
    /// <summary>
    /// Reads the catalog of <paramref name="source"/> (--source), else of the config's source.connection_uri, in one
    /// read-only snapshot (<see cref="Endpoints.CatalogSource"/> says which databases it can read).
    /// </summary>
    public static Task<DatabaseCatalog> ReadAsync(ReplicaConfig config, string? source, CancellationToken cancellationToken) =>
        PostgresCatalog.ReadAsync(Endpoints.CatalogSource(source, config), cancellationToken);
}
