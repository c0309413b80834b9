namespace Replica.Lexing;

// A view that reads one table is updatable: an INSERT or UPDATE through it writes that table's rows
// (https://www.postgresql.org/docs/current/sql-createview.html#SQL-CREATEVIEW-UPDATABLE-VIEWS,
// https://dev.mysql.com/doc/refman/8.0/en/view-updatability.html). Rules are found by the name rows are written under,
// so rows written into a view would reach a masked table unmasked.
internal static partial class StatementParser
{
    /// <summary>
    /// CREATE [OR REPLACE] [TEMP | TEMPORARY] [RECURSIVE] [MATERIALIZED] VIEW name, and MySQL's CREATE [OR REPLACE]
    /// [ALGORITHM = ...] [DEFINER = ...] [SQL SECURITY ...] VIEW name (also inside /*!50001 ... */): the view's name.
    /// Unqualified names are in <paramref name="database"/> (MySQL) or public.
    /// </summary>
    public static bool TryParseCreateView(ReadOnlySpan<byte> sql, bool mySql, string database, out TableName view)
    {
        view = default;
        var t = new SqlTokenizer(sql, mySql: mySql);
        if (!t.Next() || !t.IsWord("create"u8))
        {
            return false;
        }
        // The words before VIEW are options; a parenthesis or another object's word means this is no view.
        while (t.Next())
        {
            if (t.IsWord("view"u8))
            {
                if (!t.Next())
                {
                    return false;
                }
                SkipIfExistsAndOnly(ref t); // MariaDB's IF NOT EXISTS
                return TryReadQualifiedName(ref t, out view, defaultSchema: mySql ? database : "public");
            }
            if (t.IsPunct((byte)'(') || t.IsPunct((byte)';') || t.IsWord("table"u8) || t.IsWord("function"u8) || t.IsWord("procedure"u8)
                || t.IsWord("trigger"u8) || t.IsWord("rule"u8) || t.IsWord("index"u8) || t.IsWord("as"u8) || t.IsWord("event"u8))
            {
                return false;
            }
        }
        return false;
    }
}
