namespace Replica.Bridges;

/// <summary>The one order of dumps used everywhere: list output, --latest and retention.</summary>
public static class DumpOrdering
{
    /// <summary>Oldest first by created_at, then by name (ordinal), so the order is total and stable.</summary>
    public static int OldestFirst(DumpEntry x, DumpEntry y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int byTime = x.CreatedAt.CompareTo(y.CreatedAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(x.Name, y.Name);
    }
}
