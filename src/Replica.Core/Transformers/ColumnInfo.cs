namespace Replica.Transformers;

/// <summary>
/// What is known about one column when its transformer is created: names (as PostgreSQL stores them, i.e. already
/// case-folded or unquoted), its SQL type from the dump's CREATE TABLE when that preceded the data, and whether it must
/// stay unique.
/// </summary>
public sealed record ColumnInfo(string Schema, string Table, string Column)
{
    /// <summary>The type as written in CREATE TABLE, lower-cased, e.g. "character varying(50)"; null when unknown.</summary>
    public string? TypeName { get; init; }

    public TypeCategory Category { get; init; } = TypeCategory.Unknown;

    /// <summary>varchar(n)/char(n) limit in characters, when the type has one.</summary>
    public int? MaxLength { get; init; }

    /// <summary>The column must stay unique after transformation (configured, or known from a constraint).</summary>
    public bool Unique { get; init; }

    public string QualifiedName => $"{Schema}.{Table}.{Column}";
}
