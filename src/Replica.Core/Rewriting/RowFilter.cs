using Replica.Lexing;

namespace Replica.Rewriting;

/// <summary>
/// Which rows of a dump a rewrite keeps, decided row by row from a few of their values: a subset of a dump file
/// (Pipeline.SubsetFile) reads every row's keys with one and keeps the rows of the subset with another. Asked once per
/// COPY header or INSERT column list, never per row.
/// </summary>
public interface IRowFilter
{
    /// <summary>
    /// How the rows of <paramref name="table"/> with these <paramref name="columns"/> are chosen; null keeps every row
    /// as it is.
    /// </summary>
    RowSelection? Choose(TableName table, IReadOnlyList<string> columns);
}

/// <summary>The choice for one table's rows: the columns it reads, the columns it writes as NULL, and the decision.</summary>
public abstract class RowSelection
{
    /// <summary>Positions (in the column list) whose values <see cref="Keep"/> is given, in this order.</summary>
    public required IReadOnlyList<int> Reads { get; init; }

    /// <summary>Positions written as NULL in every kept row (a foreign key into a table whose rows are not kept).</summary>
    public IReadOnlySet<int> Nulls { get; init; } = new HashSet<int>();

    /// <summary>
    /// Whether a row stays: <paramref name="values"/> are those of <see cref="Reads"/> (decoded text, NULL as null);
    /// <paramref name="row"/> is the row as the dump has it (a COPY line without its end, an INSERT tuple with its
    /// parentheses), for tables whose rows are known by their content.
    /// </summary>
    public abstract bool Keep(string?[] values, ReadOnlySpan<byte> row);
}
