namespace Replica.Lexing;

/// <summary>How a parallel restore may schedule a unit of a dump.</summary>
internal enum RestoreStep : byte
{
    /// <summary>Runs in dump order, on the connection that runs the rest.</summary>
    InOrder,

    /// <summary>
    /// Changes the session, not the database (SET, SELECT pg_catalog.set_config, psql's \restrict, \unrestrict,
    /// \encoding, \connect): every connection that runs part of the dump runs it, in dump order.
    /// </summary>
    SessionSetting,

    /// <summary>
    /// Builds an index: CREATE [UNIQUE] INDEX, ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY | UNIQUE | EXCLUDE. In a
    /// post-data section these depend only on the schema and the data, so they run in parallel.
    /// </summary>
    IndexBuild,

    /// <summary>
    /// Adds a foreign key: ALTER TABLE [ONLY] t ADD CONSTRAINT c FOREIGN KEY (...) REFERENCES r ..., one action. Validating
    /// it reads t and r (and needs r's unique index), so in a post-data section it may run once both tables' data and
    /// index builds are in, alone on those two tables (it locks both).
    /// </summary>
    ForeignKey,
}

/// <summary>Tells the <see cref="RestoreStep"/> of a unit (<see cref="UnitSplitter"/>), from its first words.</summary>
internal static class RestoreSteps
{
    public static RestoreStep Of(in DumpUnit unit, ReadOnlySpan<byte> bytes)
    {
        if (unit.Kind == UnitKind.MetaCommand)
        {
            return RestoreStep.SessionSetting;
        }
        if (unit.Kind != UnitKind.Statement || !unit.PsqlSendsAlone)
        {
            return RestoreStep.InOrder;
        }
        var t = new SqlTokenizer(bytes, unit.NonStandardStrings);
        if (!t.Next())
        {
            return RestoreStep.InOrder;
        }
        if (t.IsWord("set"u8))
        {
            // SET CONSTRAINTS and SET TRANSACTION act on the transaction, not the session.
            return t.Next() && (t.IsWord("constraints"u8) || t.IsWord("transaction"u8)) ? RestoreStep.InOrder : RestoreStep.SessionSetting;
        }
        if (t.IsWord("select"u8))
        {
            // pg_dump's SELECT pg_catalog.set_config('search_path', '', false); and nothing else.
            return t.Next() && t.IsWord("pg_catalog"u8) && t.Next() && t.IsPunct((byte)'.') && t.Next() && t.IsWord("set_config"u8)
                && t.Next() && t.IsPunct((byte)'(') && EndsAfterCall(ref t) ? RestoreStep.SessionSetting : RestoreStep.InOrder;
        }
        if (!EndsWithSemicolon(bytes))
        {
            return RestoreStep.InOrder;
        }
        if (t.IsWord("create"u8))
        {
            return t.Next() && (t.IsWord("index"u8) || t.IsWord("unique"u8) && t.Next() && t.IsWord("index"u8)) ? RestoreStep.IndexBuild : RestoreStep.InOrder;
        }
        if (t.IsWord("alter"u8) && t.Next() && t.IsWord("table"u8) && t.Next())
        {
            if (t.IsWord("only"u8))
            {
                t.Next();
            }
            if (!StatementParser.TryReadQualifiedName(ref t, out _) || !t.IsWord("add"u8) || !t.Next() || !t.IsWord("constraint"u8)
                || !t.Next() || !t.IsIdentifier || !t.Next())
            {
                return RestoreStep.InOrder;
            }
            if (t.IsWord("primary"u8) || t.IsWord("unique"u8) || t.IsWord("exclude"u8))
            {
                return NoSecondAction(ref t) ? RestoreStep.IndexBuild : RestoreStep.InOrder;
            }
            if (t.IsWord("foreign"u8))
            {
                return NoSecondAction(ref t) ? RestoreStep.ForeignKey : RestoreStep.InOrder;
            }
        }
        return RestoreStep.InOrder;
    }

    /// <summary>
    /// The table an <see cref="RestoreStep.IndexBuild"/> builds on (CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS]
    /// [name] ON [ONLY] t, ALTER TABLE [ONLY] t ADD CONSTRAINT ...) and, for a <see cref="RestoreStep.ForeignKey"/>, the
    /// table it references; false when the statement does not read as such (the caller then treats it as touching
    /// every table). Unqualified names are read as in schema public, as pg_dump qualifies every name.
    /// </summary>
    public static bool TryReadTables(in DumpUnit unit, ReadOnlySpan<byte> bytes, out TableName table, out TableName? referenced)
    {
        table = default;
        referenced = null;
        var t = new SqlTokenizer(bytes, unit.NonStandardStrings);
        if (!t.Next())
        {
            return false;
        }
        if (t.IsWord("create"u8))
        {
            // Up to the ON at depth 0 that ends CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name].
            while (t.Next() && !t.IsWord("on"u8))
            {
                if (!t.IsIdentifier)
                {
                    return false;
                }
            }
            return t.Next() && (!t.IsWord("only"u8) || t.Next()) && StatementParser.TryReadQualifiedName(ref t, out table);
        }
        // A primary or foreign key reads as the subset's file mode reads it; a foreign key names the table it references.
        if (StatementParser.TryParseAddKey(bytes, out table, out var key))
        {
            referenced = key!.References;
            return true;
        }
        // Another constraint (UNIQUE, EXCLUDE): its table alone; a foreign key that did not read as one, every table.
        return t.IsWord("alter"u8) && t.Next() && t.IsWord("table"u8) && t.Next() && (!t.IsWord("only"u8) || t.Next())
            && StatementParser.TryReadQualifiedName(ref t, out table)
            && !(t.IsWord("add"u8) && t.Next() && t.IsWord("constraint"u8) && t.Next() && t.Next() && t.IsWord("foreign"u8));
    }

    /// <summary>With the tokenizer on a call's '(': the call's ')' is followed only by ';'.</summary>
    static bool EndsAfterCall(ref SqlTokenizer t)
    {
        var depth = 1;
        while (depth > 0 && t.Next())
        {
            if (t.IsPunct((byte)'('))
            {
                depth++;
            }
            else if (t.IsPunct((byte)')'))
            {
                depth--;
            }
        }
        return depth == 0 && (!t.Next() || t.IsPunct((byte)';') && !t.Next());
    }

    /// <summary>One action: no ',' outside parentheses before the end (ALTER TABLE ... ADD ..., ADD ... runs in order).</summary>
    static bool NoSecondAction(ref SqlTokenizer t)
    {
        while (StatementParser.NextOutsideParentheses(ref t))
        {
            if (t.IsPunct((byte)','))
            {
                return false;
            }
        }
        return true;
    }

    static bool EndsWithSemicolon(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.TrimEnd(" \t\r\n"u8);
        return !end.IsEmpty && end[^1] == (byte)';';
    }
}
