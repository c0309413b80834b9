namespace Replica;

/// <summary>How pg_dump writes table data.</summary>
public enum DataFormat
{
    /// <summary>COPY ... FROM stdin blocks.</summary>
    Copy,
    /// <summary>INSERT statements with column names (--column-inserts).</summary>
    Inserts,
}
