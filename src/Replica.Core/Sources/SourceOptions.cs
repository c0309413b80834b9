namespace Replica.Sources;

/// <summary>
/// What a live source dumps (the request builds it from the config's source section): table and schema filters, as
/// pg_dump's patterns (mysqldump's sources resolve them against the database's tables), and the data format.
/// </summary>
public sealed record SourceOptions
{
    /// <summary>Dump only these tables (pg_dump --table patterns, e.g. public.users or 'sales.*').</summary>
    public IReadOnlyList<string> Tables { get; init; } = [];

    /// <summary>Leave these tables out, schema and data (--exclude-table).</summary>
    public IReadOnlyList<string> ExcludeTables { get; init; } = [];

    /// <summary>Keep these tables' definitions, dump none of their rows (--exclude-table-data).</summary>
    public IReadOnlyList<string> ExcludeTableData { get; init; } = [];

    /// <summary>Dump only these schemas (--schema).</summary>
    public IReadOnlyList<string> Schemas { get; init; } = [];

    /// <summary>Leave these schemas out (--exclude-schema).</summary>
    public IReadOnlyList<string> ExcludeSchemas { get; init; } = [];

    /// <summary>COPY blocks (default, fastest) or one INSERT per row.</summary>
    public DataFormat DataFormat { get; init; } = DataFormat.Copy;
}
