namespace Replica.Lexing;

// CREATE TABLE ... AS query, MySQL's CREATE TABLE ... [AS] SELECT / VALUES / TABLE, and PostgreSQL's SELECT ... INTO
// table create a table with rows a query gives, which may be literals: values the rewriter does not read one by one.
// https://www.postgresql.org/docs/current/sql-createtableas.html , https://www.postgresql.org/docs/current/sql-selectinto.html ,
// https://dev.mysql.com/doc/refman/8.0/en/create-table-select.html
internal static partial class StatementParser
{
    /// <summary>
    /// The table that a CREATE TABLE ... AS (or MySQL's ... SELECT) or a SELECT ... INTO fills with the rows of a query, and
    /// the offset of the word that decided (AS, SELECT, INTO ...); false for any other statement, and for PostgreSQL's
    /// WITH NO DATA, which creates no rows. Unqualified names are in <paramref name="database"/> (MySQL) or public.
    /// </summary>
    public static bool TryFindTableFilledByQuery(ReadOnlySpan<byte> sql, bool mySql, bool nonStandardStrings, string database, out TableName table, out int at)
    {
        var t = new SqlTokenizer(sql, nonStandardStrings, mySql: mySql);
        table = default;
        at = -1;
        var schema = mySql ? database : "public";
        if (!t.Next())
        {
            return false;
        }
        if (!mySql && t.IsWord("select"u8))
        {
            // SELECT ... INTO [TEMPORARY | TEMP | UNLOGGED] [TABLE] name: INTO outside parentheses.
            while (NextOutsideParentheses(ref t))
            {
                if (t.IsWord("into"u8))
                {
                    at = t.Start;
                    t.Next();
                    while (t.IsWord("temporary"u8) || t.IsWord("temp"u8) || t.IsWord("unlogged"u8) || t.IsWord("table"u8))
                    {
                        t.Next();
                    }
                    return TryReadQualifiedName(ref t, out table, defaultSchema: schema);
                }
            }
            return false;
        }
        if (!t.IsWord("create"u8))
        {
            return false;
        }
        while (t.Next() && !t.IsWord("table"u8))
        {
            if (!(t.IsWord("or"u8) || t.IsWord("replace"u8) || t.IsWord("temporary"u8) || t.IsWord("temp"u8) || t.IsWord("unlogged"u8)
                || t.IsWord("global"u8) || t.IsWord("local"u8)))
            {
                return false;
            }
        }
        if (!t.Next())
        {
            return false;
        }
        SkipIfExistsAndOnly(ref t);
        if (!TryReadQualifiedName(ref t, out table, defaultSchema: schema))
        {
            return false;
        }
        // After the name and column list: options, then AS query (MySQL: [IGNORE | REPLACE] [AS] SELECT | VALUES | TABLE; not
        // WITH, which also begins MariaDB's WITH SYSTEM VERSIONING).
        do
        {
            if (t.IsPunct((byte)'('))
            {
                SkipParenthesized(ref t);
                continue;
            }
            if (t.IsWord("as"u8) || (mySql && (t.IsWord("select"u8) || t.IsWord("values"u8) || t.IsWord("table"u8))))
            {
                at = t.Start;
                return mySql || !EndsWithNoData(ref t);
            }
        }
        while (t.Next() && !t.IsPunct((byte)';'));
        return false;
    }

    /// <summary>Whether the statement ends with WITH NO DATA (outside parentheses), from the tokenizer's place on.</summary>
    static bool EndsWithNoData(ref SqlTokenizer t)
    {
        var last = 0; // WITH = 1, NO = 2, DATA = 3 in a row
        while (NextOutsideParentheses(ref t) && !t.IsPunct((byte)';'))
        {
            last = t.IsWord("with"u8) ? 1 : last == 1 && t.IsWord("no"u8) ? 2 : last == 2 && t.IsWord("data"u8) ? 3 : 0;
        }
        return last == 3;
    }
}
