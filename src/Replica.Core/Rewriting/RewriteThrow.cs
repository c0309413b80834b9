using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Rewriting;

/// <summary>
/// The rewriter's failures, one method each, that format their own message from typed arguments (Sep's SepThrow), so the
/// row and statement loops hold one call and build no strings. A position in a statement is given as the unit, its
/// bytes and an index into them: the line is counted here, only when the error is thrown.
/// </summary>
internal static class RewriteThrow
{
    // The end of the dump.

    [DoesNotReturn]
    [StackTraceHidden]
    public static void TruncatedCopy(long byteOffset, long lineNumber, string? table, long rowNumber) =>
        throw new DumpFormatException("the dump ends inside a COPY block: its last row is cut or the end marker \\. is missing",
            byteOffset, lineNumber, table, rowNumber);

    // Statements.

    [DoesNotReturn]
    [StackTraceHidden]
    public static void CopyWithOptions(in DumpUnit unit, TableName table) =>
        throw new DumpFormatException("COPY with options (CSV, BINARY, DELIMITER ...) is not supported: its rows are not in the text format that pg_dump writes",
            unit.Offset, unit.LineNumber, table.ToString());

    [DoesNotReturn]
    [StackTraceHidden]
    public static void BadDelimiter(in DumpUnit unit, ReadOnlySpan<byte> bytes, int index) =>
        throw new DumpFormatException(UnitScanner.BadDelimiterReason, unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, bytes, index));

    [DoesNotReturn]
    [StackTraceHidden]
    public static void RefusedMetaCommand(in DumpUnit unit, ReadOnlySpan<byte> bytes, int index) =>
        Refused("a psql meta-command other than those pg_dump writes (\\restrict, \\unrestrict, \\connect, \\encoding): a restore would run it on its machine",
            unit, bytes, index);

    /// <summary>A backslash outside quotes inside a statement (at <see cref="DumpUnit.BackslashAt"/>): the client would run it as a command.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void RefusedBackslash(bool mySql, in DumpUnit unit, ReadOnlySpan<byte> bytes) =>
        Refused(mySql ? "a backslash outside quotes: the mysql client would run it as one of its commands" : "a backslash outside quotes: psql would run it as a meta-command",
            unit, bytes, (int)Math.Clamp(unit.BackslashAt - unit.Offset, 0, bytes.Length));

    /// <summary>What a restore would refuse (<paramref name="reason"/>, from the statement parser, says what and why), at bytes[index].</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void Refused(string reason, in DumpUnit unit, ReadOnlySpan<byte> bytes, int index) =>
        throw new DumpFormatException($"refused: {reason}", unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, bytes, index));

    /// <summary>
    /// A statement writes rows of <paramref name="table"/> (null: of a table it cannot name) in a form the rewriter does
    /// not rewrite value by value (INSERT ... SELECT, UPDATE, MERGE, WITH, DO ...), at bytes[index] (its deciding word).
    /// </summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void UnreadWrite(string verb, string? table, in DumpUnit unit, ReadOnlySpan<byte> bytes, int index) =>
        throw new DumpFormatException(table is null
                ? $"refused: {verb} may write rows of a table that Replica cannot tell (a DO block, dynamic SQL, an UPDATE of several tables or a name it cannot read), while the config masks, filters or leaves out rows; pg_dump and mysqldump never write one"
                : $"refused: {verb} writes rows of {table}, whose rows the config masks, filters or leaves out, in a form Replica cannot rewrite value by value; pg_dump and mysqldump write rows only as COPY or INSERT ... VALUES (...), and such a dump must be rewritten in that form",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, bytes, index), table);

    /// <summary>
    /// A statement renames a table (or moves it to another schema or database), or a column of it, where the config changes
    /// the rows under the old or the new name (<see cref="StatementParser.FindRenames"/>), at bytes[index].
    /// </summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void Renamed(bool column, string table, string? newTable, in DumpUnit unit, ReadOnlySpan<byte> bytes, int index) =>
        throw new DumpFormatException((column
                ? $"refused: a column of {table} is renamed, and the config masks, filters or leaves out rows of {table}"
                : $"refused: {table} is renamed to {newTable}, and the config masks, filters or leaves out rows of one of them")
            + ": rules follow the names that rows and columns are written under, so values written under the new name would miss the rule written for the old one "
            + "(or rows written unmasked would come under a name the config masks); pg_dump and mysqldump never rename a table or column before its data",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, bytes, index), table);

    /// <summary>A statement writes rows into a view the dump created (<see cref="StatementParser.TryParseCreateView"/>), at bytes[index].</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void WriteIntoView(string verb, string view, in DumpUnit unit, ReadOnlySpan<byte> bytes, int index) =>
        throw new DumpFormatException($"refused: {verb} writes rows into the view {view}, which writes them into the table it reads, where the config masks, "
            + "filters or leaves out rows: rules are found by the name rows are written under, and Replica does not follow them through a view; "
            + "pg_dump and mysqldump never write rows into a view",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, bytes, index), view);

    /// <summary>
    /// <paramref name="child"/> becomes a partition or child of <paramref name="parent"/>, whose rows the config changes,
    /// after rows of <paramref name="written"/> (the child or a table under it) were written, at bytes[index].
    /// </summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void JoinedAfterData(string child, string parent, string written, in DumpUnit unit, ReadOnlySpan<byte> bytes, int index) =>
        throw new DumpFormatException($"refused: {child} becomes a partition or child of {parent}, whose rows the config masks, filters or leaves out, "
            + $"after rows of {written} were written: the rules of {parent} apply to them, but they passed unchanged; "
            + "pg_dump attaches partitions and sets inheritance before any data",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, bytes, index), child);

    /// <summary>The search_path is set to <paramref name="schemas"/> besides public's (<see cref="StatementParser.FindSearchPathAwayFromPublic"/>), at bytes[index].</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void SearchPathAwayFromPublic(string schemas, in DumpUnit unit, ReadOnlySpan<byte> bytes, int index) =>
        throw new DumpFormatException($"refused: the search_path is set to {schemas}, where Replica reads a table name without a schema as public's: "
            + "rules written for another schema's tables would miss rows written under their bare names; pg_dump 10.3 and later empties the "
            + "search_path and qualifies every name (dump with it, or qualify the names)",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, bytes, index));

    // COPY rows.

    [DoesNotReturn]
    [StackTraceHidden]
    public static void RowEndsInBackslash(long byteOffset, long lineNumber, string? table, long rowNumber) =>
        throw new DumpFormatException("a backslash at the end of a row escapes nothing (bad escape)", byteOffset, lineNumber, table, rowNumber);

    /// <summary>A NUL byte in a COPY row (at <paramref name="byteOffset"/>): a restore would refuse it, and PostgreSQL could not take it.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void NulInRow(long byteOffset, long lineNumber, string? table, long rowNumber) =>
        throw new DumpFormatException($"refused: {StatementParser.NulInCopyRowReason}", byteOffset, lineNumber, table, rowNumber);

    [DoesNotReturn]
    [StackTraceHidden]
    public static void RowOfTableWithoutColumns(long byteOffset, long lineNumber, string? table, long rowNumber) =>
        throw new DumpFormatException("a row of a table without columns must be an empty line", byteOffset, lineNumber, table, rowNumber);

    /// <summary>A row has <paramref name="fields"/> fields (counted to the end of the row).</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void RowFieldCount(int fields, IReadOnlyList<string> columns, long byteOffset, long lineNumber, string? table, long rowNumber) =>
        throw new DumpFormatException($"the row has {fields} fields, expected {columns.Count} ({string.Join(", ", columns)})",
            byteOffset, lineNumber, table, rowNumber);

    /// <summary>
    /// A row split into the block's columns has another number of fields: <paramref name="found"/> above the column
    /// count means the split stopped there, so the row has "more than" that many.
    /// </summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void SplitFieldCount(int found, IReadOnlyList<string> columns, long byteOffset, long lineNumber, string? table, long rowNumber)
    {
        var what = found > columns.Count ? $"more than {columns.Count}" : found.ToString(CultureInfo.InvariantCulture);
        throw new DumpFormatException($"the row has {what} fields, expected {columns.Count} ({string.Join(", ", columns)})",
            byteOffset, lineNumber, table, rowNumber);
    }

    [DoesNotReturn]
    [StackTraceHidden]
    public static void EscapeDecodesToZero(string column, long byteOffset, long lineNumber, string? table, long rowNumber) =>
        throw new DumpFormatException($"column {column}: the escape decodes to a zero byte, which text cannot hold (bad escape)",
            byteOffset, lineNumber, table, rowNumber);

    // INSERT statements; tuples are numbered from 1 within their statement.

    [DoesNotReturn]
    [StackTraceHidden]
    public static void InsertWithoutColumnList(string table, string columnInsertsHint, in DumpUnit unit) =>
        throw new DumpFormatException($"INSERT into {table} has no column list and no CREATE TABLE for it came earlier in the dump, so its values cannot be matched to columns (dump with {columnInsertsHint})",
            unit.Offset, unit.LineNumber, table);

    /// <summary>
    /// An INSERT or COPY without a column list into a table a rule applies to, whose column order the dump's CREATE TABLEs
    /// do not surely give (<see cref="TableState.WhyColumnOrderUnknown"/>): <paramref name="why"/> says which case.
    /// </summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void ColumnOrderUnknown(string statement, string table, string why, string columnListHint, in DumpUnit unit) =>
        throw new DumpFormatException($"{statement} into {table} has no column list, and the order of its columns cannot be known from the dump: {why}; "
            + $"its values cannot be matched to columns safely (dump with {columnListHint})",
            unit.Offset, unit.LineNumber, table);

    /// <summary>The tuple of an INSERT without a column list into a table no rule masks has another number of values than the table has columns.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void TupleWidth(int values, IReadOnlyList<string> columns, in DumpUnit unit, ReadOnlySpan<byte> statement, int index, string table, long tupleNumber) =>
        throw new DumpFormatException($"a VALUES tuple of an INSERT without a column list has {values} values, but the table has {columns.Count} columns ({string.Join(", ", columns)})",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, statement, index), table, tupleNumber);

    [DoesNotReturn]
    [StackTraceHidden]
    public static void InsertEndsInsideTuple(in DumpUnit unit, ReadOnlySpan<byte> statement, int index, string table, long tupleNumber) =>
        throw new DumpFormatException("an INSERT statement ends inside a VALUES tuple",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, statement, index), table, tupleNumber);

    [DoesNotReturn]
    [StackTraceHidden]
    public static void TupleTooManyValues(IReadOnlyList<string> columns, in DumpUnit unit, ReadOnlySpan<byte> statement, int index, string table, long tupleNumber) =>
        throw new DumpFormatException($"a VALUES tuple has more than {columns.Count} values ({string.Join(", ", columns)})",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, statement, index), table, tupleNumber);

    [DoesNotReturn]
    [StackTraceHidden]
    public static void TupleValueCount(int values, IReadOnlyList<string> columns, in DumpUnit unit, ReadOnlySpan<byte> statement, int index, string table, long tupleNumber) =>
        throw new DumpFormatException($"a VALUES tuple has {values} values, expected {columns.Count} ({string.Join(", ", columns)})",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, statement, index), table, tupleNumber);

    /// <summary>A transformed column's place in a tuple is empty, as in "(1, , 2)"; <paramref name="index"/> is the ',' or ')' after it.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void TupleValueMissing(string column, in DumpUnit unit, ReadOnlySpan<byte> statement, int index, string table, long tupleNumber) =>
        throw new DumpFormatException($"column {column} has no value in a VALUES tuple",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, statement, index), table, tupleNumber);

    [DoesNotReturn]
    [StackTraceHidden]
    public static void TupleValueNotLiteral(string column, in DumpUnit unit, ReadOnlySpan<byte> statement, int index, string table, long tupleNumber) =>
        throw new DumpFormatException($"column {column} holds an expression, not a literal; Replica transforms literal values only",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, statement, index), table, tupleNumber);

    /// <summary>Something other than ON CONFLICT [(...)] DO NOTHING follows an INSERT's VALUES tuples, at statement[index].</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void InsertTail(string table, in DumpUnit unit, ReadOnlySpan<byte> statement, int index) =>
        throw new DumpFormatException($"refused: an INSERT into {table} goes on after its VALUES tuples (ON CONFLICT ... DO UPDATE, ON DUPLICATE KEY UPDATE, UNION, VALUES ROW() ...), which writes values Replica does not mask; only ON CONFLICT [(...)] DO NOTHING, as pg_dump --on-conflict-do-nothing writes it, may follow them",
            unit.Offset + index, DumpThrow.LineOf(unit.LineNumber, statement, index), table);

    // Transformers and rules.

    /// <summary>
    /// A transformer failed on a field: its reason, with the field's position. Anything other than a
    /// <see cref="TransformerException"/> is a bug in the transformer: it still ends as a positioned transformer failure
    /// (exit 6), named by its type only, since its message may quote the value.
    /// </summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void TransformFailed(Exception e, long byteOffset, long lineNumber, string table, string column, long rowNumber)
    {
        var reason = e is TransformerException failure
            ? failure.Reason
            : $"the transformer failed unexpectedly ({e.GetType().Name}); this is a bug in Replica, please report it";
        TransformerThrow.At(reason, byteOffset, lineNumber, table, column, rowNumber, e);
    }

    [DoesNotReturn]
    [StackTraceHidden]
    public static void UnknownReferencedColumn(string column, TableName table, string referenced, IReadOnlyList<string> columns) =>
        throw new ConfigException(
            $"the transformer of column {column} of table {table} references column '{referenced}', which this table's data does not have (columns: {string.Join(", ", columns)})");

    [DoesNotReturn]
    [StackTraceHidden]
    public static void ReferencedGeneratedColumn(string column, TableName table, string referenced) =>
        throw new ConfigException(
            $"the transformer of column {column} of table {table} references column '{referenced}', a generated column, which the dump writes as DEFAULT "
            + "(its value is computed from the real data): reference the columns it is computed from");

    [DoesNotReturn]
    [StackTraceHidden]
    public static void ReferenceCycle(string column, TableName table, string referenced) =>
        throw new ConfigException(
            $"the transformer of column {column} of table {table} references column '{referenced}', whose transformer references column {column} in turn "
            + "(directly or through others): neither can read the other's masked value; reference the columns they are built from");

    /// <summary>
    /// A column of an inheritance child has rules in two of its parents at the same distance that differ: neither is more
    /// right, so the child needs its own rule for it.
    /// </summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void AmbiguousInheritedRule(string table, string column, string first, string firstTransformer, string second, string secondTransformer) =>
        throw new ConfigException(
            $"column {Identifiers.Quote(column)} of table {table} inherits two different rules, {firstTransformer} from {first} and {secondTransformer} from {second}; "
            + $"add a rule for column {Identifiers.Quote(column)} of {table} itself to say which applies; nothing was stored");

    /// <summary>
    /// A bare rule column with capitals (<paramref name="written"/>, folded to <paramref name="folded"/>) on a table that
    /// has a column of another case (<paramref name="other"/>) which no rule masks; <paramref name="hasFolded"/>: the
    /// table has the lower-case column too, which the rule masks.
    /// </summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void FoldedColumn(string where, string table, string written, string folded, string other, bool hasFolded)
    {
        var shownOther = Identifiers.Quote(other);
        var what = hasFolded
            ? $"it would mask column {folded} and leave column {shownOther} unmasked"
            : $"it names no column {folded} of {table} and would leave column {shownOther} unmasked";
        var quoted = $"'{Identifiers.Delimited(other)}' (double quotes inside YAML's single quotes) for column {shownOther}";
        var fix = hasFolded ? $"{quoted}, or {folded} for column {folded}" : quoted;
        throw new ConfigException(
            $"{where}: the rule's column {written} of table {table} is a bare name, which folds to lower case: {what}; write {fix}; nothing was stored");
    }

    /// <summary>Rules that match nothing in the dump (with unmatched_rules: error), one problem a line.</summary>
    [DoesNotReturn]
    [StackTraceHidden]
    public static void UnmatchedRules(List<string> problems, string? configFile)
    {
        var message = new StringBuilder()
            .Append(problems.Count == 1 ? "a rule matches" : $"{problems.Count} rules match")
            .Append(" nothing in this dump, so the data it was meant for would be stored unmasked; nothing was stored:");
        foreach (var problem in problems)
        {
            message.Append("\n  ").Append(problem);
        }
        message.Append("\nFix the name, or mark a rule that may match nothing with 'optional: true' (or set 'unmatched_rules: warn').");
        throw new ConfigException(message.ToString(), configFile);
    }
}
