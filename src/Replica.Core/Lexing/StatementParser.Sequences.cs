namespace Replica.Lexing;

// pg_dump sets every sequence's value with SELECT pg_catalog.setval('public.t_id_seq', 42, true); in its data section,
// also with --data-only, where the sequences are the destination's own. setval is not undone when the transaction
// rolls back (https://www.postgresql.org/docs/15/functions-sequence.html: "any sequence state changes made by setval
// are not undone"), unlike ALTER SEQUENCE ... RESTART, which gives the sequence new storage inside the transaction: a
// rollback brings back the old one, with the values that setval and nextval wrote to the new one
// (https://www.postgresql.org/docs/15/sql-altersequence.html). RestoreGuard puts a RESTART before pg_dump's setval.
internal static partial class StatementParser
{
    /// <summary>
    /// Whether the statement is pg_dump's <c>SELECT [pg_catalog.]setval('name', ...)</c>: the offset of SELECT and the
    /// sequence's name, as a plain '...' literal without a backslash or a '$' (anything else: -1).
    /// </summary>
    public static int FindSetval(ReadOnlySpan<byte> sql, bool nonStandardStrings, out Range name)
    {
        name = default;
        var t = new SqlTokenizer(sql, nonStandardStrings);
        if (!t.Next() || !t.IsWord("select"u8))
        {
            return -1;
        }
        var at = t.Start;
        if (!t.Next())
        {
            return -1;
        }
        if (t.IsWord("pg_catalog"u8) && !(t.Next() && t.IsPunct((byte)'.') && t.Next()))
        {
            return -1;
        }
        if (!t.IsWord("setval"u8) || !t.Next() || !t.IsPunct((byte)'(') || !t.Next() || t.Kind != TokenKind.String
            || sql[t.Start] != (byte)'\'' || sql[t.Start..t.End].IndexOfAny((byte)'\\', (byte)'$') >= 0)
        {
            return -1;
        }
        name = t.Start..t.End;
        return at;
    }
}
