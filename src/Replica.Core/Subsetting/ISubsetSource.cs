namespace Replica.Subsetting;

/// <summary>
/// One row as the closure sees it: its identity (for a table with a primary key, <see cref="SubsetClosure.Identity"/> of
/// the key's values; for a table without one, a digest of its content) and the values of its table's key columns (<see cref="SubsetTable.KeyColumns"/>) as text, NULL as null.
/// </summary>
public readonly record struct KeyRow(string Id, string?[] Values);

/// <summary>
/// Where the closure reads key rows from: a live database inside one snapshot (batched key-only queries), or a dump
/// file's rows. Each call returns rows of one table; the closure never asks for a whole table unless it is a root
/// without sampling or is copied whole.
/// </summary>
public interface ISubsetSource
{
    /// <summary>The rows of a root's table that its <see cref="SubsetStart.Where"/> selects (all of them without one).</summary>
    IAsyncEnumerable<KeyRow> ReadRootAsync(SubsetStart root, CancellationToken cancellationToken);

    /// <summary>Every row of <paramref name="table"/> (a passthrough table).</summary>
    IAsyncEnumerable<KeyRow> ReadAllAsync(SubsetTable table, CancellationToken cancellationToken);

    /// <summary>
    /// The rows of <paramref name="table"/> whose <paramref name="columns"/> (positions in its key columns) equal one of
    /// <paramref name="tuples"/> (none holds a NULL).
    /// </summary>
    IAsyncEnumerable<KeyRow> ReadMatchingAsync(SubsetTable table, int[] columns, IReadOnlyList<string[]> tuples, CancellationToken cancellationToken);

    /// <summary>
    /// How many <see cref="StartMatching"/> questions may be open at once: the closure starts the next one before it reads
    /// the answer to the one before, up to this many.
    /// </summary>
    int Concurrency => 1;

    /// <summary>
    /// <see cref="ReadMatchingAsync"/>, asked now: a source that can answers it while the closure reads an earlier
    /// answer. The rows are read once, in full or until the enumeration is disposed.
    /// </summary>
    IAsyncEnumerable<KeyRow> StartMatching(SubsetTable table, int[] columns, IReadOnlyList<string[]> tuples, CancellationToken cancellationToken) =>
        ReadMatchingAsync(table, columns, tuples, cancellationToken);
}
