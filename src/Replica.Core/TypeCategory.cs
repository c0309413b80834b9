namespace Replica;

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
