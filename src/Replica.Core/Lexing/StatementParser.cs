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
    /// (parent).
    /// </summary>
    public static bool TryParseCreateTable(ReadOnlySpan<byte> sql, out TableName table, out List<ColumnDefinition> columns, out TableName? parent, out bool partitionOf)
    {
        var t = new SqlTokenizer(sql);
        table = default;
        columns = [];
        parent = null;
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
                parent = p;
                partitionOf = true;
            }
        }
        if (t.IsPunct((byte)'('))
        {
            ReadColumnDefinitions(sql, ref t, columns);
            t.Next();
        }
        if (t.IsWord("inherits"u8) && t.Next() && t.IsPunct((byte)'(') && t.Next() && TryReadQualifiedName(ref t, out var inherited))
        {
            parent = inherited;
        }
        return true;
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

    /// <summary>SET standard_conforming_strings = on|off: true with the new value.</summary>
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
        if (!t.IsWord("standard_conforming_strings"u8) || !t.Next())
        {
            return false;
        }
        if (t.IsWord("to"u8) || (t.Kind == TokenKind.Other && t.Span.SequenceEqual("="u8)))
        {
            t.Next();
        }
        var value = t.Kind is TokenKind.String ? t.Span[1..^1] : t.Span;
        on = !(System.Text.Ascii.EqualsIgnoreCase(value, "off"u8) || System.Text.Ascii.EqualsIgnoreCase(value, "false"u8));
        return true;
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
            while (t.Next())
            {
                if (depth == 0 && (t.IsPunct((byte)',') || t.IsPunct((byte)')')))
                {
                    break;
                }
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
                columns.Add(new ColumnDefinition(name, typeName, category, maxLength, unique) { NotNull = notNull });
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
