using System.Text;

namespace Replica.Lexing;

/// <summary>A table name as PostgreSQL stores it (folded or unquoted). Unqualified names resolve to schema public.</summary>
public readonly record struct TableName(string Schema, string Table)
{
    public override string ToString() => $"{Identifiers.Quote(Schema)}.{Identifiers.Quote(Table)}";
}

/// <summary>A column as CREATE TABLE declares it.</summary>
internal sealed record ColumnDefinition(string Name, string TypeName, TypeCategory Category, int? MaxLength, bool Unique)
{
    /// <summary>Declared NOT NULL (or PRIMARY KEY) in the column's definition.</summary>
    public bool NotNull { get; init; }

    /// <summary>
    /// A MySQL / MariaDB generated column (<c>AS (expr)</c>, <c>GENERATED ALWAYS AS (expr)</c>, STORED, VIRTUAL or
    /// PERSISTENT), whose values the server computes from the row's other columns.
    /// </summary>
    public bool Generated { get; init; }

    /// <summary>
    /// The collation the column compares by, as declared: PostgreSQL's COLLATE (schema-qualified as pg_dump writes it,
    /// null: the database's); MySQL's COLLATE, else its character set's default ("latin1 default"), else the table's
    /// (null: the server's default, case-insensitive). Subsets compare key values by it (Pipeline.KeyFolding).
    /// </summary>
    public string? Collation { get; init; }
}

/// <summary>
/// Reads the few statement shapes Replica acts on (COPY ... FROM stdin, INSERT, CREATE TABLE, and statements that name
/// a table so that a dropped table's schema goes too) from a complete statement. Anything else is passed through.
/// </summary>
internal static partial class StatementParser
{
    /// <summary>COPY qname [(columns)] FROM stdin: the table and its column list (null when absent).</summary>
    public static bool TryParseCopy(ReadOnlySpan<byte> sql, out TableName table, out List<string>? columns)
    {
        var t = new SqlTokenizer(sql);
        table = default;
        columns = null;
        if (!t.Next() || !t.IsWord("copy"u8) || !t.Next() || !TryReadQualifiedName(ref t, out table))
        {
            return false;
        }
        if (t.IsPunct((byte)'('))
        {
            columns = ReadNameList(ref t);
            t.Next();
        }
        return t.IsWord("from"u8) && t.Next() && t.IsWord("stdin"u8);
    }

    /// <summary>Whether the statement is COPY qname [(columns)] FROM stdin: rows follow it.</summary>
    public static bool IsCopyFromStdin(ReadOnlySpan<byte> sql) => TryParseCopy(sql, out _, out _);

    /// <summary>
    /// Whether a COPY ... FROM stdin statement carries options (CSV, BINARY, a DELIMITER ...): its rows are then not in the
    /// text format pg_dump writes, and Replica cannot find their ends safely.
    /// </summary>
    public static bool CopyHasOptions(ReadOnlySpan<byte> sql)
    {
        var t = new SqlTokenizer(sql);
        while (t.Next() && !t.IsWord("stdin"u8))
        {
        }
        return t.Next() && !t.IsPunct((byte)';');
    }

    /// <summary>
    /// INSERT INTO qname [(columns)] [OVERRIDING ... VALUE] VALUES: the table, its column list (null when absent) and the
    /// offset just past VALUES.
    /// </summary>
    public static bool TryParseInsert(ReadOnlySpan<byte> sql, bool nonStandardStrings, out TableName table, out List<string>? columns, out int valuesEnd)
    {
        var t = new SqlTokenizer(sql, nonStandardStrings);
        table = default;
        columns = null;
        valuesEnd = 0;
        if (!t.Next() || !t.IsWord("insert"u8) || !t.Next() || !t.IsWord("into"u8) || !t.Next() || !TryReadQualifiedName(ref t, out table))
        {
            return false;
        }
        if (t.IsPunct((byte)'('))
        {
            columns = ReadNameList(ref t);
            t.Next();
        }
        if (t.IsWord("overriding"u8))
        {
            t.Next(); // SYSTEM | USER
            t.Next(); // VALUE
            t.Next();
        }
        if (!t.IsWord("values"u8))
        {
            return false; // INSERT ... SELECT or DEFAULT VALUES: nothing to rewrite value by value
        }
        valuesEnd = t.End;
        return true;
    }

    /// <summary>
    /// CREATE [UNLOGGED] TABLE qname (columns...) or ... PARTITION OF parent (<paramref name="partitionOf"/>) / INHERITS
    /// (parent [, parent...]): <paramref name="parents"/> in the order written, every one of them (a child of several
    /// parents takes rules from each).
    /// </summary>
    public static bool TryParseCreateTable(ReadOnlySpan<byte> sql, out TableName table, out List<ColumnDefinition> columns, out List<TableName> parents, out bool partitionOf)
    {
        var t = new SqlTokenizer(sql);
        table = default;
        columns = [];
        parents = [];
        partitionOf = false;
        if (!t.Next() || !t.IsWord("create"u8))
        {
            return false;
        }
        t.Next();
        while (t.IsWord("unlogged"u8) || t.IsWord("temporary"u8) || t.IsWord("temp"u8) || t.IsWord("global"u8) || t.IsWord("local"u8))
        {
            t.Next();
        }
        if (!t.IsWord("table"u8) || !t.Next())
        {
            return false;
        }
        if (t.IsWord("if"u8))
        {
            t.Next(); // NOT
            t.Next(); // EXISTS
            t.Next();
        }
        if (!TryReadQualifiedName(ref t, out table))
        {
            return false;
        }
        if (t.IsWord("partition"u8))
        {
            t.Next(); // OF
            t.Next();
            if (TryReadQualifiedName(ref t, out var p))
            {
                parents.Add(p);
                partitionOf = true;
            }
        }
        if (t.IsPunct((byte)'('))
        {
            ReadColumnDefinitions(sql, ref t, columns);
            t.Next();
        }
        if (t.IsWord("inherits"u8) && t.Next() && t.IsPunct((byte)'('))
        {
            // INHERITS (a, "B", s.c): every name, separated by commas, up to ')'.
            while (t.Next() && TryReadQualifiedName(ref t, out var inherited))
            {
                parents.Add(inherited);
                if (!t.IsPunct((byte)','))
                {
                    break;
                }
            }
        }
        return true;
    }

    /// <summary>
    /// ALTER TABLE [IF EXISTS] [ONLY] qname [*] actions: whether an action adds, drops or renames a column
    /// (<paramref name="changesColumns"/>: ADD [COLUMN], DROP [COLUMN], RENAME [COLUMN] a TO b, not a constraint's), and
    /// the tables it makes it inherit from (INHERIT parent). Other ALTER TABLE statements (constraints, owners, ATTACH
    /// PARTITION ...) give false.
    /// https://www.postgresql.org/docs/current/sql-altertable.html
    /// </summary>
    public static bool TryParseAlterTableColumns(ReadOnlySpan<byte> sql, out TableName table, out bool changesColumns, out List<TableName> inherits)
    {
        var t = new SqlTokenizer(sql);
        table = default;
        changesColumns = false;
        inherits = [];
        if (!t.Next() || !t.IsWord("alter"u8) || !t.Next() || !t.IsWord("table"u8) || !t.Next())
        {
            return false;
        }
        SkipIfExistsAndOnly(ref t);
        if (!TryReadQualifiedName(ref t, out table))
        {
            return false;
        }
        if (t.Kind == TokenKind.Other && t.Span.SequenceEqual("*"u8))
        {
            t.Next();
        }
        // Each action starts the statement's rest or follows a comma outside parentheses.
        while (t.Kind != TokenKind.End && !t.IsPunct((byte)';'))
        {
            if (t.IsWord("add"u8) || t.IsWord("drop"u8))
            {
                t.Next();
                changesColumns |= t.IsWord("column"u8) || !(t.IsWord("constraint"u8) || t.IsWord("primary"u8) || t.IsWord("unique"u8)
                    || t.IsWord("check"u8) || t.IsWord("foreign"u8) || t.IsWord("exclude"u8));
            }
            else if (t.IsWord("rename"u8))
            {
                t.Next();
                // RENAME TO new_name renames the table, RENAME CONSTRAINT a constraint; anything else is a column.
                changesColumns |= !(t.IsWord("to"u8) || t.IsWord("constraint"u8));
            }
            else if (t.IsWord("inherit"u8) && t.Next() && TryReadQualifiedName(ref t, out var parent))
            {
                inherits.Add(parent);
            }
            SkipToNextAction(ref t);
        }
        return changesColumns || inherits.Count > 0;
    }

    /// <summary>Moves the tokenizer past the rest of an ALTER TABLE action, to the first token of the next one (after its ','), or to the ';' or the end.</summary>
    static void SkipToNextAction(ref SqlTokenizer t)
    {
        while (t.Kind != TokenKind.End && !t.IsPunct((byte)',') && !t.IsPunct((byte)';'))
        {
            if (t.IsPunct((byte)'('))
            {
                SkipParenthesized(ref t);
            }
            t.Next();
        }
        if (t.IsPunct((byte)','))
        {
            t.Next();
        }
    }

    /// <summary>With the tokenizer on '(', moves it to the matching ')'.</summary>
    static void SkipParenthesized(ref SqlTokenizer t)
    {
        var depth = 0;
        do
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
        while (depth > 0 && t.Next());
    }

    /// <summary>ALTER TABLE ... ATTACH PARTITION child: the partitioned table and the child.</summary>
    public static bool TryParseAttachPartition(ReadOnlySpan<byte> sql, out TableName parent, out TableName child)
    {
        var t = new SqlTokenizer(sql);
        parent = default;
        child = default;
        if (!t.Next() || !t.IsWord("alter"u8) || !t.Next() || !t.IsWord("table"u8) || !t.Next())
        {
            return false;
        }
        SkipIfExistsAndOnly(ref t);
        if (!TryReadQualifiedName(ref t, out parent))
        {
            return false;
        }
        return t.IsWord("attach"u8) && t.Next() && t.IsWord("partition"u8) && t.Next() && TryReadQualifiedName(ref t, out child);
    }

    /// <summary>
    /// SET [SESSION | LOCAL] standard_conforming_strings {TO | =} value (the name also "quoted": settings ignore case):
    /// true with the new value when the value is one the server reads as a boolean (parse_bool: on, off, true, false,
    /// yes, no, 1, 0 and unique prefixes, bare, 'quoted' or "quoted"), then the statement's end. Any other value is an
    /// error on the server, which leaves the setting as it was (and the dump refuses it: FindSettingTheLexerMisses).
    /// </summary>
    public static bool TryParseStandardConformingStrings(ReadOnlySpan<byte> sql, out bool on)
    {
        var t = new SqlTokenizer(sql);
        on = true;
        if (!t.Next() || !t.IsWord("set"u8) || !t.Next())
        {
            return false;
        }
        if (t.IsWord("session"u8) || t.IsWord("local"u8))
        {
            t.Next();
        }
        if (!(t.IsIdentifier && string.Equals(t.IdentifierName(), "standard_conforming_strings", StringComparison.OrdinalIgnoreCase)) || !t.Next())
        {
            return false;
        }
        if (t.IsWord("to"u8) || (t.Kind == TokenKind.Other && t.Span.SequenceEqual("="u8)))
        {
            t.Next();
        }
        var value = t.Kind switch
        {
            TokenKind.String when t.Span[0] == (byte)'\'' => System.Text.Encoding.UTF8.GetString(t.Span[1..^1]),
            TokenKind.Word or TokenKind.QuotedIdentifier or TokenKind.Number => t.IdentifierName(),
            _ => null,
        };
        if (value is null || !TryParseBool(value, out on)) // the server does not trim: ' off' is an error, the setting stays
        {
            return false;
        }
        return !t.Next() || (t.IsPunct((byte)';') && !t.Next());
    }

    /// <summary>PostgreSQL's parse_bool (src/backend/utils/adt/bool.c): a value and its unique prefixes, ignoring case.</summary>
    static bool TryParseBool(string value, out bool result)
    {
        result = false;
        if (value.Length == 0)
        {
            return false;
        }
        static bool Prefix(string value, string word, int minimum) =>
            value.Length >= minimum && value.Length <= word.Length && word.StartsWith(value, StringComparison.OrdinalIgnoreCase);
        if (Prefix(value, "true", 1) || Prefix(value, "yes", 1) || Prefix(value, "on", 2) || value == "1")
        {
            result = true;
            return true;
        }
        return Prefix(value, "false", 1) || Prefix(value, "no", 1) || Prefix(value, "off", 2) || value == "0";
    }

    /// <summary>
    /// The tables a schema statement belongs to or depends on: the name after TABLE, ON, ONLY, REFERENCES, PARTITION
    /// [OF], OWNED BY, a rule's TO, and COPY / INSERT INTO targets. Dropping a table drops every statement that names it,
    /// so its indexes, constraints, comments, grants, triggers and foreign keys pointing at it go too. A false positive
    /// (ON DELETE read as a table "delete") only matters if a table of that name is dropped.
    /// </summary>
    public static void CollectTables(ReadOnlySpan<byte> sql, List<TableName> tables)
    {
        var t = new SqlTokenizer(sql);
        if (!t.Next() || !(t.IsWord("create"u8) || t.IsWord("alter"u8) || t.IsWord("comment"u8) || t.IsWord("grant"u8)
            || t.IsWord("revoke"u8) || t.IsWord("security"u8) || t.IsWord("copy"u8) || t.IsWord("insert"u8)))
        {
            return;
        }
        var copyOrInsert = t.IsWord("copy"u8) || t.IsWord("insert"u8);
        var previousWord = "";
        while (true)
        {
            var takesName = copyOrInsert && previousWord == "";
            string word = "";
            if (t.Kind == TokenKind.Word)
            {
                word = Encoding.ASCII.GetString(t.Span).ToLowerInvariant();
                takesName |= word switch
                {
                    "table" or "on" or "references" or "partition" or "into" => true,
                    "of" => previousWord == "partition",
                    "by" => previousWord == "owned",
                    "to" => previousWord is "select" or "insert" or "update" or "delete",
                    _ => false,
                };
                if (copyOrInsert && word == "insert")
                {
                    takesName = false;
                }
            }
            if (!t.Next())
            {
                return;
            }
            if (takesName)
            {
                SkipIfExistsAndOnly(ref t);
                var isColumn = t.IsWord("column"u8);
                if (isColumn)
                {
                    t.Next();
                }
                if (t.IsIdentifier && !t.IsWord("table"u8) && !t.IsWord("of"u8) && !t.IsWord("column"u8))
                {
                    var start = t.Start;
                    if (TryReadQualifiedName(ref t, out var name, dropLastPart: word == "by" || isColumn))
                    {
                        tables.Add(name);
                    }
                    if (t.Start == start)
                    {
                        return;
                    }
                    previousWord = "";
                    if (copyOrInsert)
                    {
                        return;
                    }
                    continue;
                }
            }
            previousWord = word;
        }
    }

    static void SkipIfExistsAndOnly(ref SqlTokenizer t)
    {
        if (t.IsWord("if"u8))
        {
            t.Next(); // EXISTS (or NOT)
            if (t.IsWord("not"u8))
            {
                t.Next();
            }
            t.Next();
        }
        if (t.IsWord("only"u8))
        {
            t.Next();
        }
    }

    /// <summary>
    /// Moves to the next token outside parentheses, passing over every parenthesised part (a column list, a call's
    /// arguments) and the parentheses themselves; false at the end.
    /// </summary>
    internal static bool NextOutsideParentheses(ref SqlTokenizer t)
    {
        var depth = 0;
        while (t.Next())
        {
            if (t.IsPunct((byte)'('))
            {
                depth++;
            }
            else if (t.IsPunct((byte)')'))
            {
                depth--;
            }
            else if (depth == 0)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Reads name[.name[.name]] starting at the current token; leaves the tokenizer on the token after it.</summary>
    public static bool TryReadQualifiedName(ref SqlTokenizer t, out TableName name, bool dropLastPart = false, string defaultSchema = "public")
    {
        name = default;
        var parts = new List<string>(3);
        if (!t.IsIdentifier)
        {
            return false;
        }
        parts.Add(t.IdentifierName());
        while (t.Next() && t.IsPunct((byte)'.'))
        {
            if (!t.Next() || !t.IsIdentifier)
            {
                return false;
            }
            parts.Add(t.IdentifierName());
        }
        if (dropLastPart && parts.Count > 1)
        {
            parts.RemoveAt(parts.Count - 1);
        }
        name = parts.Count == 1 ? new TableName(defaultSchema, parts[0]) : new TableName(parts[^2], parts[^1]);
        return true;
    }

    /// <summary>Reads (a, "B", c) with the tokenizer on '('; leaves it on ')'.</summary>
    static List<string> ReadNameList(ref SqlTokenizer t)
    {
        var names = new List<string>();
        while (t.Next() && !t.IsPunct((byte)')'))
        {
            if (t.IsIdentifier)
            {
                names.Add(t.IdentifierName());
            }
        }
        return names;
    }

    static void ReadColumnDefinitions(ReadOnlySpan<byte> sql, ref SqlTokenizer t, List<ColumnDefinition> columns)
    {
        // Elements are separated by commas at depth 1: column definitions and table constraints.
        while (true)
        {
            if (!t.Next() || t.IsPunct((byte)')'))
            {
                return;
            }
            var isConstraint = t.IsWord("constraint"u8) || t.IsWord("primary"u8) || t.IsWord("unique"u8) || t.IsWord("check"u8)
                || t.IsWord("foreign"u8) || t.IsWord("exclude"u8) || t.IsWord("like"u8);
            string? name = null;
            var uniqueConstraint = t.IsWord("unique"u8) || t.IsWord("primary"u8);
            if (!isConstraint && t.IsIdentifier)
            {
                name = t.IdentifierName();
            }
            var typeStart = -1;
            var typeEnd = -1;
            var inType = name is not null;
            var unique = false;
            var notNull = false;
            var afterNot = false;
            var depth = 0;
            List<string>? constraintColumns = null;
            string? collation = null;
            var collating = false;
            while (t.Next())
            {
                if (depth == 0 && (t.IsPunct((byte)',') || t.IsPunct((byte)')')))
                {
                    break;
                }
                if (collating && ReadCollationPart(ref t, ref collation))
                {
                    continue;
                }
                collating = depth == 0 && name is not null && t.IsWord("collate"u8);
                if (t.IsPunct((byte)'(') || t.IsPunct((byte)'['))
                {
                    if (uniqueConstraint && depth == 0 && constraintColumns is null)
                    {
                        constraintColumns = ReadNameList(ref t);
                        continue;
                    }
                    depth++;
                }
                else if (t.IsPunct((byte)')') || t.IsPunct((byte)']'))
                {
                    depth--;
                }
                if (inType && depth == 0 && t.Kind == TokenKind.Word && IsColumnConstraintWord(t))
                {
                    inType = false;
                }
                if (inType)
                {
                    if (typeStart < 0)
                    {
                        typeStart = t.Start;
                    }
                    typeEnd = t.End;
                }
                else if (depth == 0 && (t.IsWord("unique"u8) || t.IsWord("primary"u8)))
                {
                    unique = true;
                    notNull |= t.IsWord("primary"u8);
                }
                else if (depth == 0)
                {
                    notNull |= afterNot && t.IsWord("null"u8);
                }
                afterNot = !inType && depth == 0 && t.IsWord("not"u8);
            }
            if (name is not null)
            {
                var typeName = typeStart < 0 ? "" : NormalizeType(sql[typeStart..typeEnd]);
                var (category, maxLength) = ColumnTypes.Categorize(typeName);
                columns.Add(new ColumnDefinition(name, typeName, category, maxLength, unique) { NotNull = notNull, Collation = collation });
            }
            else if (constraintColumns is { Count: 1 })
            {
                var i = columns.FindIndex(c => c.Name == constraintColumns[0]);
                if (i >= 0)
                {
                    columns[i] = columns[i] with { Unique = true };
                }
            }
            if (t.IsPunct((byte)')') && depth == 0)
            {
                return;
            }
            if (t.Kind == TokenKind.End)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One token of a name after COLLATE (a.b, quoted or not) into <paramref name="collation"/>; false when the token
    /// is no part of it.
    /// </summary>
    static bool ReadCollationPart(ref SqlTokenizer t, ref string? collation)
    {
        if (t.IsIdentifier && (collation is null || collation.EndsWith('.')))
        {
            collation += t.IdentifierName();
            return true;
        }
        if (t.IsPunct((byte)'.') && collation is not null && !collation.EndsWith('.'))
        {
            collation += ".";
            return true;
        }
        return false;
    }

    static bool IsColumnConstraintWord(in SqlTokenizer t) =>
        t.IsWord("not"u8) || t.IsWord("null"u8) || t.IsWord("default"u8) || t.IsWord("collate"u8) || t.IsWord("constraint"u8)
        || t.IsWord("generated"u8) || t.IsWord("check"u8) || t.IsWord("primary"u8) || t.IsWord("unique"u8) || t.IsWord("references"u8);

    internal static string NormalizeType(ReadOnlySpan<byte> text)
    {
        var s = Encoding.UTF8.GetString(text);
        var sb = new StringBuilder(s.Length);
        var space = false;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c))
            {
                space = sb.Length > 0;
                continue;
            }
            if (space && c != '(' && c != ')' && c != ',' && c != '[' && c != ']' && sb[^1] != '(' && sb[^1] != ',')
            {
                sb.Append(' ');
            }
            space = false;
            sb.Append(c is >= 'A' and <= 'Z' ? (char)(c + 32) : c);
        }
        return sb.ToString();
    }
}

/// <summary>Maps a SQL type name to the category transformers need to keep values valid.</summary>
internal static class ColumnTypes
{
    public static (TypeCategory Category, int? MaxLength) Categorize(string type)
    {
        if (type.EndsWith("[]", StringComparison.Ordinal) || type.StartsWith('_'))
        {
            return (TypeCategory.Array, null);
        }
        var bare = type.StartsWith("pg_catalog.", StringComparison.Ordinal) ? type["pg_catalog.".Length..] : type;
        var paren = bare.IndexOf('(');
        var head = (paren < 0 ? bare : bare[..paren]).Trim();
        int? length = null;
        if (paren >= 0)
        {
            var close = bare.IndexOf(')', paren);
            if (close > paren && int.TryParse(bare.AsSpan(paren + 1, close - paren - 1), out var n))
            {
                length = n;
            }
        }
        return head switch
        {
            "text" or "citext" or "name" => (TypeCategory.Text, null),
            "character varying" or "varchar" or "character" or "char" or "bpchar" =>
                (TypeCategory.Text, head is "character" or "char" or "bpchar" ? length ?? 1 : length),
            "smallint" or "integer" or "int" or "int2" or "int4" or "int8" or "bigint" or "smallserial" or "serial" or "bigserial" => (TypeCategory.Integer, null),
            "numeric" or "decimal" or "real" or "double precision" or "float4" or "float8" or "float" or "money" => (TypeCategory.Numeric, null),
            "boolean" or "bool" => (TypeCategory.Boolean, null),
            "date" => (TypeCategory.Date, null),
            _ when head.StartsWith("timestamp", StringComparison.Ordinal) => (TypeCategory.Timestamp, null),
            _ when head.StartsWith("time", StringComparison.Ordinal) => (TypeCategory.Time, null),
            "uuid" => (TypeCategory.Uuid, null),
            "json" or "jsonb" => (TypeCategory.Json, null),
            "bytea" => (TypeCategory.Bytea, null),
            "inet" or "cidr" => (TypeCategory.Inet, null),
            _ => (TypeCategory.Other, null),
        };
    }
}
