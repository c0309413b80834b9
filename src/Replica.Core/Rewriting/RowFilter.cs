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

    /// <summary>
    /// True: the rewriter calls the byte overload of Keep instead, with no string per value (a selection that reads
    /// every row of a large dump, such as replica bench's checker).
    /// </summary>
    public virtual bool ReadsBytes => false;

    /// <summary>
    /// Whether a row stays, from the values of <see cref="Reads"/> decoded to UTF-8 one after another in
    /// <paramref name="values"/>, with their <paramref name="lengths"/> (-1: NULL); called when <see cref="ReadsBytes"/>.
    /// </summary>
    public virtual bool Keep(ReadOnlySpan<byte> values, ReadOnlySpan<int> lengths, ReadOnlySpan<byte> row) =>
        throw new NotSupportedException($"{GetType().Name} reads values as strings");
}
