namespace Replica.Lexing;

/// <summary>What a statement does to a table that changes which name or place its values are written under.</summary>
internal enum RenameKind : byte
{
    /// <summary>The table gets another name or schema (<see cref="Rename.NewTable"/>).</summary>
    Table,
    /// <summary>A column of the table gets another name (it may move too).</summary>
    Column,
    /// <summary>MySQL: columns are added, dropped or moved (FIRST, AFTER), so values given by position land elsewhere.</summary>
    ColumnOrder,
}

/// <summary>One change of <see cref="StatementParser.FindRenames"/>; <paramref name="At"/> is the offset of its deciding word.</summary>
internal readonly record struct Rename(RenameKind Kind, TableName Table, TableName NewTable, int At);

// Replica finds a table's rules by the name its rows are written under (COPY, INSERT) and a column's by the name in the
// column list. A table renamed or moved to another schema after its CREATE TABLE, or a column renamed, would take its
// values out of reach of the rule written for the old name (or bring a table's unmasked rows under a name the config
// masks): a real value would pass unmasked. pg_dump and mysqldump write no such statement before the data.
// https://www.postgresql.org/docs/current/sql-altertable.html , https://dev.mysql.com/doc/refman/8.0/en/alter-table.html ,
// https://dev.mysql.com/doc/refman/8.0/en/rename-table.html
internal static partial class StatementParser
{
    /// <summary>
    /// PostgreSQL: ALTER TABLE ... RENAME TO, SET SCHEMA, RENAME [COLUMN] a TO b, and ALTER INDEX ... RENAME TO (which
    /// PostgreSQL also applies to a table). MySQL: ALTER TABLE ... RENAME [TO | AS], RENAME COLUMN, CHANGE, and ADD, DROP,
    /// MODIFY of columns (their order); RENAME TABLE a TO b [, c TO d]. Unqualified names are in <paramref name="database"/>
    /// (MySQL) or public.
    /// </summary>
    public static void FindRenames(ReadOnlySpan<byte> sql, bool mySql, string database, List<Rename> renames)
    {
        var t = new SqlTokenizer(sql, mySql: mySql);
        var schema = mySql ? database : "public";
        if (!t.Next())
        {
            return;
        }
        if (mySql && t.IsWord("rename"u8))
        {
            if (!t.Next() || !(t.IsWord("table"u8) || t.IsWord("tables"u8)))
            {
                return;
            }
            // RENAME TABLE a TO b, c TO d
            while (t.Next())
            {
                var at = t.Start;
                if (!TryReadQualifiedName(ref t, out var from, defaultSchema: schema) || !t.IsWord("to"u8) || !t.Next()
                    || !TryReadQualifiedName(ref t, out var to, defaultSchema: schema))
                {
                    return;
                }
                renames.Add(new Rename(RenameKind.Table, from, to, at));
                if (!t.IsPunct((byte)','))
                {
                    return;
                }
            }
            return;
        }
        if (!t.IsWord("alter"u8) || !t.Next())
        {
            return;
        }
        while (mySql && (t.IsWord("online"u8) || t.IsWord("offline"u8) || t.IsWord("ignore"u8)))
        {
            t.Next();
        }
        var index = !mySql && t.IsWord("index"u8);
        if (!(t.IsWord("table"u8) || index) || !t.Next())
        {
            return;
        }
        SkipIfExistsAndOnly(ref t);
        if (!TryReadQualifiedName(ref t, out var table, defaultSchema: schema))
        {
            return;
        }
        if (t.Kind == TokenKind.Other && t.Span.SequenceEqual("*"u8))
        {
            t.Next();
        }
        // Each action starts the statement's rest or follows a comma outside parentheses.
        while (t.Kind != TokenKind.End && !t.IsPunct((byte)';'))
        {
            var at = t.Start;
            if (t.IsWord("rename"u8) && t.Next())
            {
                if (t.IsWord("to"u8) || (mySql && t.IsWord("as"u8)) || (mySql && t.IsIdentifier && !t.IsWord("column"u8) && !t.IsWord("index"u8) && !t.IsWord("key"u8)))
                {
                    if (!t.IsIdentifier || t.IsWord("to"u8) || t.IsWord("as"u8))
                    {
                        t.Next();
                    }
                    // PostgreSQL: RENAME TO takes a bare name, in the table's schema; MySQL's may name a database.
                    if (TryReadQualifiedName(ref t, out var to, defaultSchema: table.Schema))
                    {
                        renames.Add(new Rename(RenameKind.Table, table, mySql ? to : table with { Table = to.Table }, at));
                    }
                }
                else if (!index && !t.IsWord("constraint"u8) && !t.IsWord("index"u8) && !t.IsWord("key"u8))
                {
                    renames.Add(new Rename(RenameKind.Column, table, table, at)); // RENAME [COLUMN] a TO b
                }
            }
            else if (!mySql && !index && t.IsWord("set"u8) && t.Next() && t.IsWord("schema"u8) && t.Next() && t.IsIdentifier)
            {
                renames.Add(new Rename(RenameKind.Table, table, table with { Schema = t.IdentifierName() }, at));
            }
            else if (mySql && t.IsWord("change"u8) && t.Next())
            {
                if (t.IsWord("column"u8))
                {
                    t.Next();
                }
                var old = t.IsIdentifier ? t.IdentifierName() : null;
                t.Next();
                var renamed = !t.IsIdentifier || !string.Equals(old, t.IdentifierName(), StringComparison.OrdinalIgnoreCase);
                renames.Add(new Rename(renamed ? RenameKind.Column : RenameKind.ColumnOrder, table, table, at));
            }
            else if (mySql && (t.IsWord("modify"u8) || t.IsWord("add"u8) || t.IsWord("drop"u8)))
            {
                var modify = t.IsWord("modify"u8);
                t.Next();
                if (modify || t.IsWord("column"u8) || !(t.IsWord("constraint"u8) || t.IsWord("primary"u8) || t.IsWord("unique"u8)
                    || t.IsWord("check"u8) || t.IsWord("foreign"u8) || t.IsWord("index"u8) || t.IsWord("key"u8) || t.IsWord("fulltext"u8)
                    || t.IsWord("spatial"u8) || t.IsWord("partition"u8) || t.IsWord("period"u8) || t.IsWord("system"u8)))
                {
                    renames.Add(new Rename(RenameKind.ColumnOrder, table, table, at));
                }
            }
            SkipToNextAction(ref t);
        }
    }
}
