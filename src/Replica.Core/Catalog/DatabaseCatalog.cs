using System.Text.Json;
using System.Text.Json.Serialization;

namespace Replica.Catalog;

/// <summary>
/// What a source database holds, read from its system catalogs in one snapshot by <see cref="PostgresCatalog"/>:
/// schemas, tables, columns, sizes, keys. Plain records, serialized as snake_case JSON by `replica schema --json`.
/// </summary>
public sealed partial record DatabaseCatalog(string Database, string ServerVersion, IReadOnlyList<string> Schemas, IReadOnlyList<CatalogTable> Tables)
{
    /// <summary>
    /// Views, materialized views, sequences and foreign tables outside the system schemas: what pg_dump's --exclude-table
    /// patterns may name besides tables (Sources.UnmatchedExcludes). Not part of `replica schema --json`.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<TableReference> OtherRelations { get; init; } = [];

    /// <summary>The views among <see cref="OtherRelations"/>: they hold no rows, so an exclude_table_data entry naming only views leaves nothing out.</summary>
    [JsonIgnore]
    public IReadOnlyList<TableReference> Views { get; init; } = [];

    /// <summary>The table named exactly (as PostgreSQL stores it), or null.</summary>
    public CatalogTable? Find(string schema, string table)
    {
        foreach (var t in Tables)
        {
            if (t.Schema == schema && t.Name == table)
            {
                return t;
            }
        }
        return null;
    }

    /// <summary>The partitions directly below <paramref name="table"/>.</summary>
    public IEnumerable<CatalogTable> PartitionsOf(CatalogTable table)
    {
        foreach (var t in Tables)
        {
            if (t.PartitionOf is { } parent && parent.Schema == table.Schema && parent.Name == table.Name)
            {
                yield return t;
            }
        }
    }

    /// <summary>
    /// Columns that must stay unique after masking: the single column of a primary key, unique constraint or unique
    /// index (partial ones too: their rows must stay unique). A composite key does not make its columns unique on their
    /// own (deterministic transformers keep equal values equal, so a composite key breaks only when one of its masked
    /// columns maps two values to one; mark such a column 'unique: true' in the config). Expression indexes
    /// (unique (lower(email))) are left out: the key is not a column.
    /// </summary>
    public IEnumerable<(string Schema, string Table, string Column)> UniqueColumns()
    {
        foreach (var table in Tables)
        {
            foreach (var column in table.UniqueColumnNames())
            {
                yield return (table.Schema, table.Name, column);
            }
        }
    }

    /// <summary>snake_case, indented, nulls left out: the shape of `replica schema --json`.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);
}

/// <summary>Whether a table holds rows itself or only routes them to its partitions.</summary>
public enum TableKind
{
    Table,
    Partitioned,
}

/// <summary>A schema-qualified table name, as PostgreSQL stores it (not quoted).</summary>
public sealed record TableReference(string Schema, string Name)
{
    public override string ToString() => $"{Identifiers.Quote(Schema)}.{Identifiers.Quote(Name)}";
}

/// <summary>
/// One ordinary or partitioned table. <see cref="EstimatedRows"/> is the planner's estimate (pg_class.reltuples), null
/// when the table was never analyzed; for a partitioned table rows and sizes are the sums over its partitions.
/// </summary>
public sealed record CatalogTable(
    string Schema,
    string Name,
    TableKind Kind,
    TableReference? PartitionOf,
    long? EstimatedRows,
    long TotalBytes,
    long TableBytes,
    IReadOnlyList<CatalogColumn> Columns,
    UniqueKey? PrimaryKey,
    IReadOnlyList<UniqueKey> UniqueKeys,
    IReadOnlyList<ForeignKey> ForeignKeys)
{
    [JsonIgnore]
    public string QualifiedName => $"{Identifiers.Quote(Schema)}.{Identifiers.Quote(Name)}";

    public CatalogColumn? Column(string name)
    {
        foreach (var c in Columns)
        {
            if (c.Name == name)
            {
                return c;
            }
        }
        return null;
    }

    /// <summary>Columns that are a single-column primary key, unique constraint or (non-expression) unique index.</summary>
    public IEnumerable<string> UniqueColumnNames()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (PrimaryKey is { Columns.Count: 1 } pk && seen.Add(pk.Columns[0]))
        {
            yield return pk.Columns[0];
        }
        foreach (var key in UniqueKeys)
        {
            if (key.Columns.Count == 1 && key.Expression is null && seen.Add(key.Columns[0]))
            {
                yield return key.Columns[0];
            }
        }
    }
}

/// <summary>
/// A column: <see cref="Type"/> as format_type writes it ("character varying(50)", "timestamp with time zone",
/// "text[]"); <see cref="Number"/> is its 1-based position among the table's live columns.
/// </summary>
public sealed record CatalogColumn(string Name, string Type, bool Nullable, int Number);

/// <summary>Where a unique key comes from.</summary>
public enum UniqueKeyKind
{
    PrimaryKey,
    UniqueConstraint,
    UniqueIndex,
}

/// <summary>
/// A primary key, unique constraint or unique index not backing a constraint. <see cref="Columns"/> in key order;
/// <see cref="Partial"/> when the index has a WHERE clause; <see cref="Expression"/> holds the index definition when
/// the key has expressions (then <see cref="Columns"/> lists only its plain columns).
/// </summary>
public sealed record UniqueKey(string Name, UniqueKeyKind Kind, IReadOnlyList<string> Columns, bool Partial = false, string? Expression = null);

/// <summary>What a foreign key does when the referenced row is deleted or its key updated.</summary>
public enum ReferentialAction
{
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

/// <summary>A foreign key: <see cref="Columns"/> reference <see cref="ReferencedColumns"/> of <see cref="References"/>, pairwise.</summary>
public sealed record ForeignKey(
    string Name,
    IReadOnlyList<string> Columns,
    TableReference References,
    IReadOnlyList<string> ReferencedColumns,
    ReferentialAction OnDelete,
    ReferentialAction OnUpdate);
