namespace Replica.Transformers;

/// <summary>The broad class of a column's SQL type, enough to keep transformed values valid for it.</summary>
public enum TypeCategory
{
    Unknown,
    Text,
    Integer,
    Numeric,
    Boolean,
    Date,
    Timestamp,
    Time,
    Uuid,
    Json,
    Bytea,
    Inet,
    Array,
    Other,
}

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
