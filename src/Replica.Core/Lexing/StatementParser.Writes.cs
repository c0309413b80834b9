namespace Replica.Lexing;

/// <summary>
/// A statement (or a part of one) that writes rows into a table in a form the rewriter does not rewrite value by value:
/// INSERT ... SELECT, UPDATE, MERGE, a data-modifying WITH, a DO block. <see cref="Table"/> is null when the name cannot
/// be read (or, for a DO block or a MySQL PREPARE, the statement's writes cannot be followed at all); <see cref="At"/> is
/// the offset of the deciding word, <see cref="Verb"/> that word in upper case.
/// </summary>
internal readonly record struct WriteTarget(TableName? Table, int At, string Verb);

// pg_dump and mysqldump write rows as COPY ... FROM stdin or INSERT ... VALUES (...) only; any other statement that writes
// rows carries values the rewriter would pass through unread. These readers find where such statements write, so that
// the rewriter can refuse them for the tables the config changes.
// https://www.postgresql.org/docs/current/sql-insert.html, sql-update.html, sql-merge.html, queries-with.html#QUERIES-WITH-MODIFYING
// https://dev.mysql.com/doc/refman/8.0/en/insert.html, update.html
internal static partial class StatementParser
{
    /// <summary>
    /// Adds the tables that a statement writes rows into, when it is one whose rows the rewriter does not read: a PostgreSQL
    /// INSERT (any: the caller asks only when <see cref="TryParseInsert"/> failed), UPDATE, MERGE, WITH, PREPARE ... AS,
    /// EXPLAIN (ANALYZE runs it) and DO (its writes cannot be followed: a null table); a MySQL INSERT / REPLACE (likewise),
    /// UPDATE (a list of tables or a join: null), WITH ... UPDATE and PREPARE (dynamic SQL: null). Every INSERT INTO,
    /// UPDATE and MERGE INTO inside the statement counts (a WITH query may hold several); an UPDATE or INSERT right after
    /// DO, THEN, FOR or KEY is an action of ON CONFLICT or MERGE, or a row lock (FOR [NO KEY] UPDATE), and names no table.
    /// Statements of other kinds add nothing: CREATE FUNCTION, RULE or TRIGGER define code that runs later, if ever.
    /// </summary>
    public static void FindWriteTargets(ReadOnlySpan<byte> sql, bool mySql, bool nonStandardStrings, string database, List<WriteTarget> targets)
    {
        var t = new SqlTokenizer(sql, nonStandardStrings, mySql: mySql);
        if (!t.Next() || t.Kind != TokenKind.Word)
        {
            return;
        }
        if (mySql)
        {
            FindMySqlWriteTargets(ref t, database, targets);
            return;
        }
        if (t.IsWord("do"u8))
        {
            targets.Add(new WriteTarget(null, t.Start, "DO"));
            return;
        }
        if (!(t.IsWord("insert"u8) || t.IsWord("update"u8) || t.IsWord("merge"u8) || t.IsWord("with"u8) || t.IsWord("prepare"u8)
            || t.IsWord("explain"u8)))
        {
            return;
        }
        var afterAction = false;
        var previousFor = false;
        var forNo = false;
        var more = true;
        while (more)
        {
            if (t.Kind == TokenKind.Word && !afterAction && (t.IsWord("insert"u8) || t.IsWord("update"u8) || t.IsWord("merge"u8)))
            {
                var at = t.Start;
                var verb = System.Text.Encoding.ASCII.GetString(t.Span).ToUpperInvariant();
                var needsInto = !t.IsWord("update"u8);
                more = t.Next();
                if (needsInto)
                {
                    if (!t.IsWord("into"u8))
                    {
                        continue; // a word INSERT elsewhere (a column named so)
                    }
                    more = t.Next();
                }
                if (t.IsWord("only"u8))
                {
                    more = t.Next();
                }
                var start = t.Start;
                targets.Add(new WriteTarget(TryReadQualifiedName(ref t, out var name) ? name : null, at, verb));
                more = t.Kind != TokenKind.End;
                if (t.Start == start && more)
                {
                    more = t.Next();
                }
                continue;
            }
            // DO, THEN and FOR are reserved words, so an action (ON CONFLICT DO UPDATE, MERGE ... THEN UPDATE, FOR
            // UPDATE) follows them; KEY is not (a column, or the column a recursive query's SEARCH ... SET key names, may
            // be called so), so only FOR NO KEY UPDATE counts (review: WITH ... SET key INSERT INTO t hid its INSERT).
            afterAction = t.IsWord("do"u8) || t.IsWord("then"u8) || t.IsWord("for"u8) || (t.IsWord("key"u8) && forNo);
            forNo = t.IsWord("no"u8) && previousFor;
            previousFor = t.IsWord("for"u8);
            more = t.Next();
        }
    }

    static void FindMySqlWriteTargets(ref SqlTokenizer t, string database, List<WriteTarget> targets)
    {
        var at = t.Start;
        var verb = System.Text.Encoding.ASCII.GetString(t.Span).ToUpperInvariant();
        if (t.IsWord("insert"u8) || t.IsWord("replace"u8))
        {
            t.Next();
            while (t.IsWord("low_priority"u8) || t.IsWord("delayed"u8) || t.IsWord("high_priority"u8) || t.IsWord("ignore"u8) || t.IsWord("into"u8))
            {
                t.Next();
            }
            targets.Add(new WriteTarget(TryReadQualifiedName(ref t, out var name, defaultSchema: database) ? name : null, at, verb));
        }
        else if (t.IsWord("update"u8))
        {
            t.Next();
            while (t.IsWord("low_priority"u8) || t.IsWord("ignore"u8))
            {
                t.Next();
            }
            if (!TryReadQualifiedName(ref t, out var name, defaultSchema: database))
            {
                targets.Add(new WriteTarget(null, at, verb));
                return;
            }
            if (t.IsWord("as"u8))
            {
                t.Next();
                t.Next();
            }
            else if (t.IsIdentifier && !t.IsWord("set"u8))
            {
                t.Next(); // an alias
            }
            // UPDATE a, b SET ... or UPDATE a JOIN b ...: which of them it writes is not read here.
            targets.Add(new WriteTarget(t.IsWord("set"u8) ? name : null, at, verb));
        }
        else if (t.IsWord("prepare"u8))
        {
            targets.Add(new WriteTarget(null, at, verb)); // PREPARE s FROM 'text' or @variable: what it runs is a string
        }
        else if (t.IsWord("with"u8))
        {
            while (t.Next())
            {
                if (t.IsWord("update"u8))
                {
                    targets.Add(new WriteTarget(null, t.Start, "UPDATE"));
                    return;
                }
            }
        }
    }

    /// <summary>
    /// With the tokenizer on the first token after an INSERT's last VALUES tuple: the offset of that token if anything but
    /// the end of the statement, or (PostgreSQL) ON CONFLICT [(...) | ON CONSTRAINT name] DO NOTHING, follows; else -1.
    /// pg_dump --on-conflict-do-nothing writes ON CONFLICT DO NOTHING, mysqldump nothing. Anything else there writes other
    /// values than the tuples (ON CONFLICT ... DO UPDATE SET, ON DUPLICATE KEY UPDATE, UNION ... SELECT, VALUES ROW(...)).
    /// <paramref name="delimiter"/>: MySQL's statement delimiter in force (DELIMITER $$), which ends the statement too.
    /// </summary>
    public static int FindInsertTail(ReadOnlySpan<byte> sql, ref SqlTokenizer t, bool mySql, ReadOnlySpan<byte> delimiter)
    {
        if (mySql && t.Kind != TokenKind.End && sql[t.Start..].TrimEnd(" \t\r\n"u8).SequenceEqual(delimiter))
        {
            return -1;
        }
        // A tokenizer started after VALUES does not know it is inside an executable comment (/*!40000 INSERT ... */):
        // its closer comes as '*' and '/'. Anywhere else the server would reject them.
        while (mySql && t.IsOther((byte)'*') && t.Next() && t.IsOther((byte)'/'))
        {
            t.Next();
        }
        if (t.Kind == TokenKind.End || (t.IsPunct((byte)';') && !t.Next()))
        {
            return -1;
        }
        var start = t.Start;
        if (mySql || !t.IsWord("on"u8) || !t.Next() || !t.IsWord("conflict"u8) || !t.Next())
        {
            return start;
        }
        if (t.IsPunct((byte)'('))
        {
            var depth = 1;
            while (depth > 0 && t.Next())
            {
                depth += t.IsPunct((byte)'(') ? 1 : t.IsPunct((byte)')') ? -1 : 0;
            }
            t.Next();
        }
        else if (t.IsWord("on"u8))
        {
            if (!t.Next() || !t.IsWord("constraint"u8) || !t.Next() || !t.IsIdentifier)
            {
                return start;
            }
            t.Next();
        }
        if (!t.IsWord("do"u8) || !t.Next() || !t.IsWord("nothing"u8))
        {
            return start;
        }
        return !t.Next() || (t.IsPunct((byte)';') && !t.Next()) ? -1 : start;
    }

    /// <summary>
    /// <see cref="FindInsertTail(ReadOnlySpan{byte}, ref SqlTokenizer, bool, ReadOnlySpan{byte})"/> for an INSERT whose tuples are not read: they are passed over
    /// from <paramref name="valuesEnd"/> (just past VALUES) first.
    /// </summary>
    public static int FindInsertTail(ReadOnlySpan<byte> sql, bool nonStandardStrings, bool mySql, ReadOnlySpan<byte> delimiter, int valuesEnd)
    {
        var t = new SqlTokenizer(sql, nonStandardStrings, valuesEnd, mySql);
        while (t.Next() && t.IsPunct((byte)'('))
        {
            var depth = 1;
            while (depth > 0 && t.Next())
            {
                depth += t.IsPunct((byte)'(') || t.IsPunct((byte)'[') ? 1 : t.IsPunct((byte)')') || t.IsPunct((byte)']') ? -1 : 0;
            }
            if (!t.Next() || !t.IsPunct((byte)','))
            {
                break;
            }
        }
        return FindInsertTail(sql, ref t, mySql, delimiter);
    }
}

/// <summary>How a statement calls one of PostgreSQL's statistics-restoring functions (<see cref="StatementParser.FindStatisticsCall"/>).</summary>
internal enum StatisticsCall : byte
{
    None,
    /// <summary>SELECT * FROM [pg_catalog.]pg_restore_..._stats(...); and nothing else, as pg_dump 18 writes it.</summary>
    Whole,
    /// <summary>A call inside a statement of another shape, which cannot be left out alone.</summary>
    Inside,
}

internal static partial class StatementParser
{
    /// <summary>
    /// Whether a SELECT calls pg_restore_relation_stats, pg_restore_attribute_stats or any later pg_restore_..._stats.
    /// pg_dump 18 writes them (--with-statistics, --statistics-only, pg_upgrade) as
    /// <c>SELECT * FROM pg_catalog.pg_restore_attribute_stats('version', ..., 'attname', 'email', ..., 'most_common_vals',
    /// '{...}', 'histogram_bounds', '{...}');</c>: samples of the column's real values, also of an index's expression
    /// columns. <paramref name="at"/>: the offset of the function's name.
    /// https://www.postgresql.org/docs/18/functions-admin.html#FUNCTIONS-ADMIN-STATSMOD
    /// </summary>
    public static StatisticsCall FindStatisticsCall(ReadOnlySpan<byte> sql, out int at)
    {
        at = -1;
        var t = new SqlTokenizer(sql);
        if (!t.Next() || !t.IsWord("select"u8))
        {
            return StatisticsCall.None;
        }
        var whole = t.Next() && t.IsOther((byte)'*') && t.Next() && t.IsWord("from"u8) && t.Next();
        if (whole && t.IsWord("pg_catalog"u8) && t.Next() && t.IsPunct((byte)'.'))
        {
            t.Next();
        }
        if (whole && IsStatisticsFunction(t))
        {
            at = t.Start;
            var open = t;
            // The call's parentheses, then the statement's end.
            if (open.Next() && open.IsPunct((byte)'(') && (!NextOutsideParentheses(ref t) || (t.IsPunct((byte)';') && !t.Next())))
            {
                return StatisticsCall.Whole;
            }
        }
        t = new SqlTokenizer(sql);
        while (t.Next())
        {
            if (IsStatisticsFunction(t))
            {
                at = t.Start;
                return StatisticsCall.Inside;
            }
        }
        return StatisticsCall.None;
    }

    static bool IsStatisticsFunction(in SqlTokenizer t)
    {
        if (!t.IsIdentifier)
        {
            return false;
        }
        var name = t.Kind == TokenKind.Word ? t.Span : System.Text.Encoding.UTF8.GetBytes(t.IdentifierName());
        return name.Length > "pg_restore__stats".Length && System.Text.Ascii.EqualsIgnoreCase(name[.."pg_restore_".Length], "pg_restore_"u8)
            && System.Text.Ascii.EqualsIgnoreCase(name[^"_stats".Length..], "_stats"u8);
    }
}
