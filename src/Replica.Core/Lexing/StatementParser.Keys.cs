namespace Replica.Lexing;

/// <summary>
/// A key a table declares: its primary key, or a foreign key (its columns reference <see cref="References"/>'s
/// <see cref="ReferencedColumns"/>; null columns: the referenced table's primary key).
/// </summary>
internal sealed record TableKey(string Name, IReadOnlyList<string> Columns, TableName? References = null, IReadOnlyList<string>? ReferencedColumns = null)
{
    public bool IsPrimary => References is null;
}

// The keys pg_dump declares after the data: ALTER TABLE [ONLY] t ADD CONSTRAINT c PRIMARY KEY (...) / FOREIGN KEY (...)
// REFERENCES p (...). https://www.postgresql.org/docs/current/sql-altertable.html
internal static partial class StatementParser
{
    /// <summary>ALTER TABLE [IF EXISTS] [ONLY] t ADD CONSTRAINT c PRIMARY KEY (...) or FOREIGN KEY (...) REFERENCES [ONLY] p [(...)].</summary>
    public static bool TryParseAddKey(ReadOnlySpan<byte> sql, out TableName table, out TableKey? key)
    {
        var t = new SqlTokenizer(sql);
        key = null;
        table = default;
        if (!t.Next() || !t.IsWord("alter"u8) || !t.Next() || !t.IsWord("table"u8) || !t.Next())
        {
            return false;
        }
        SkipIfExistsAndOnly(ref t);
        if (!TryReadQualifiedName(ref t, out table) || !t.IsWord("add"u8) || !t.Next() || !t.IsWord("constraint"u8) || !t.Next() || !t.IsIdentifier)
        {
            return false;
        }
        var name = t.IdentifierName();
        t.Next();
        return TryReadKey(ref t, name, out key);
    }

    /// <summary>From PRIMARY or FOREIGN: the key's columns and what it references (unqualified: in <paramref name="defaultSchema"/>).</summary>
    static bool TryReadKey(ref SqlTokenizer t, string name, out TableKey? key, string defaultSchema = "public")
    {
        key = null;
        var primary = t.IsWord("primary"u8);
        if (!primary && !t.IsWord("foreign"u8) || !t.Next() || !t.IsWord("key"u8) || !t.Next() || !t.IsPunct((byte)'('))
        {
            return false;
        }
        var columns = ReadKeyColumns(ref t);
        t.Next();
        if (primary)
        {
            key = new TableKey(name, columns);
            return true;
        }
        // REFERENCES [ONLY] p: ONLY (a partitioned or inherited parent's own rows) names the same table.
        if (!t.IsWord("references"u8) || !t.Next() || (t.IsWord("only"u8) && !t.Next())
            || !TryReadQualifiedName(ref t, out var parent, defaultSchema: defaultSchema))
        {
            return false;
        }
        key = new TableKey(name, columns, parent, t.IsPunct((byte)'(') ? ReadKeyColumns(ref t) : null);
        return true;
    }

    /// <summary>
    /// A key declared inside CREATE TABLE (mysqldump writes them there), from the element's first token at
    /// <paramref name="start"/>: [CONSTRAINT [name]] PRIMARY KEY (...) or FOREIGN KEY (...) REFERENCES t (...).
    /// </summary>
    static TableKey? ReadInlineKey(ReadOnlySpan<byte> sql, int start, bool mySql, string defaultSchema)
    {
        var t = new SqlTokenizer(sql, start: start, mySql: mySql);
        t.Next();
        var name = "";
        if (t.IsWord("constraint"u8))
        {
            t.Next();
            if (t.IsIdentifier && !t.IsWord("primary"u8) && !t.IsWord("foreign"u8))
            {
                name = t.IdentifierName();
                t.Next();
            }
        }
        return TryReadKey(ref t, name, out var key, defaultSchema) ? key : null;
    }
}
