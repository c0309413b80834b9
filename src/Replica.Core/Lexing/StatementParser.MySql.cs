using System.Text;

namespace Replica.Lexing;

// The statement shapes of mysqldump / mariadb-dump output. Unqualified names belong to the current database
// (USE `db`;), which is "" when the dump does not say.
// https://dev.mysql.com/doc/refman/8.0/en/insert.html , https://dev.mysql.com/doc/refman/8.0/en/create-table.html
internal static partial class StatementParser
{
    /// <summary>
    /// INSERT [LOW_PRIORITY | DELAYED | HIGH_PRIORITY] [IGNORE] [INTO] t [(columns)] VALUES|VALUE, and REPLACE [INTO] ...:
    /// the table, its column list (null when absent) and the offset just past VALUES.
    /// </summary>
    public static bool TryParseMySqlInsert(ReadOnlySpan<byte> sql, string database, out TableName table, out List<string>? columns, out int valuesEnd)
    {
        var t = new SqlTokenizer(sql, mySql: true);
        table = default;
        columns = null;
        valuesEnd = 0;
        if (!t.Next() || !(t.IsWord("insert"u8) || t.IsWord("replace"u8)))
        {
            return false;
        }
        t.Next();
        while (t.IsWord("low_priority"u8) || t.IsWord("delayed"u8) || t.IsWord("high_priority"u8) || t.IsWord("ignore"u8) || t.IsWord("into"u8))
        {
            t.Next();
        }
        if (!TryReadQualifiedName(ref t, out table, defaultSchema: database))
        {
            return false;
        }
        if (t.IsWord("partition"u8) && t.Next() && t.IsPunct((byte)'('))
        {
            ReadNameList(ref t);
            t.Next();
        }
        if (t.IsPunct((byte)'('))
        {
            columns = ReadNameList(ref t);
            t.Next();
        }
        if (!(t.IsWord("values"u8) || t.IsWord("value"u8)))
        {
            return false; // INSERT ... SELECT or ... SET a = 1: nothing to rewrite value by value
        }
        valuesEnd = t.End;
        return true;
    }

    /// <summary>
    /// A statement about a database as a whole: USE db and CREATE DATABASE db, which mysqldump writes with --databases
    /// or --all-databases; DROP DATABASE db (--add-drop-database); ALTER DATABASE db (around routines whose collation
    /// differs from the database's); SCHEMA for DATABASE alike, MariaDB's CREATE OR REPLACE, and inside a conditional
    /// comment (/*!40000 DROP DATABASE ... */). Returns the database's name, or null for any other statement and for an
    /// ALTER DATABASE without a name (it changes the current database). The name may be bare, in backticks or, as the
    /// server reads it with ANSI_QUOTES, in double quotes. <paramref name="at"/>: the first word's offset.
    /// https://dev.mysql.com/doc/refman/8.0/en/mysqldump.html#option_mysqldump_databases
    /// </summary>
    public static string? FindDatabaseStatement(ReadOnlySpan<byte> sql, out int at)
    {
        var t = new SqlTokenizer(sql, mySql: true);
        at = 0;
        if (!t.Next() || t.Kind != TokenKind.Word)
        {
            return null;
        }
        at = t.Start;
        if (t.IsWord("use"u8))
        {
            return t.Next() && t.IsNameOrAnsiQuoted ? t.IdentifierName() : null;
        }
        var verb = Verb(ref t);
        if (verb is null || !t.Next())
        {
            return null;
        }
        if (t.IsWord("or"u8) && !(t.Next() && t.IsWord("replace"u8) && t.Next()))
        {
            return null;
        }
        if (!t.IsWord("database"u8) && !t.IsWord("schema"u8))
        {
            return null;
        }
        // [IF [NOT] EXISTS] name
        if (!t.Next())
        {
            return null;
        }
        var alter = verb == "ALTER";
        if (!alter && t.IsWord("if"u8))
        {
            while (t.Next() && (t.IsWord("not"u8) || t.IsWord("exists"u8)))
            {
            }
        }
        if (!t.IsNameOrAnsiQuoted || (alter && IsDatabaseOption(ref t)))
        {
            return null;
        }
        return t.IdentifierName();
    }

    /// <summary>Whether the token begins an ALTER DATABASE option (so no name came before it).</summary>
    static bool IsDatabaseOption(ref SqlTokenizer t) =>
        t.IsWord("character"u8) || t.IsWord("charset"u8) || t.IsWord("collate"u8) || t.IsWord("default"u8)
        || t.IsWord("encryption"u8) || t.IsWord("read"u8) || t.IsWord("comment"u8) || t.IsWord("upgrade"u8);

    /// <summary>USE db: the database that the following unqualified names belong to.</summary>
    public static bool TryParseUse(ReadOnlySpan<byte> sql, out string database)
    {
        var t = new SqlTokenizer(sql, mySql: true);
        database = "";
        if (!t.Next() || !t.IsWord("use"u8) || !t.Next() || !t.IsIdentifier)
        {
            return false;
        }
        database = t.IdentifierName();
        return true;
    }

    /// <summary>
    /// The database named in mysqldump's header comment ("-- Host: localhost    Database: shop"), which a single-database
    /// dump has instead of a USE statement.
    /// </summary>
    public static bool TryReadDumpHeaderDatabase(ReadOnlySpan<byte> unit, out string database)
    {
        database = "";
        var host = unit.IndexOf("-- Host: "u8);
        if (host < 0)
        {
            return false;
        }
        var line = unit[host..];
        var lf = line.IndexOf((byte)'\n');
        line = lf < 0 ? line : line[..lf];
        var at = line.IndexOf("Database: "u8);
        if (at < 0)
        {
            return false;
        }
        var name = line[(at + "Database: ".Length)..].Trim((byte)'\r').Trim((byte)' ');
        if (name.IsEmpty)
        {
            return false;
        }
        database = Encoding.UTF8.GetString(name);
        return true;
    }

    /// <summary>CREATE [TEMPORARY] TABLE [IF NOT EXISTS] t (columns, keys...) options: the table and its columns.</summary>
    public static bool TryParseMySqlCreateTable(ReadOnlySpan<byte> sql, string database, out TableName table, out List<ColumnDefinition> columns) =>
        TryParseMySqlCreateTable(sql, database, out table, out columns, out _);

    /// <summary>The same, with its primary and foreign keys.</summary>
    public static bool TryParseMySqlCreateTable(ReadOnlySpan<byte> sql, string database, out TableName table, out List<ColumnDefinition> columns, out List<TableKey> keys)
    {
        var t = new SqlTokenizer(sql, mySql: true);
        table = default;
        columns = [];
        keys = [];
        if (!t.Next() || !t.IsWord("create"u8))
        {
            return false;
        }
        t.Next();
        if (t.IsWord("or"u8))
        {
            t.Next(); // REPLACE (MariaDB)
            t.Next();
        }
        if (t.IsWord("temporary"u8))
        {
            t.Next();
        }
        if (!t.IsWord("table"u8) || !t.Next())
        {
            return false;
        }
        SkipIfExistsAndOnly(ref t);
        if (!TryReadQualifiedName(ref t, out table, defaultSchema: database))
        {
            return false;
        }
        if (t.IsPunct((byte)'('))
        {
            ReadMySqlColumnDefinitions(sql, ref t, columns, keys, database);
            // Table options: a column without a collation of its own compares by the table's.
            string? collation = null;
            string? charset = null;
            while (t.Next())
            {
                if (t.IsWord("collate"u8))
                {
                    collation = NextName(ref t);
                }
                else if (t.IsWord("charset"u8) || (t.IsWord("character"u8) && t.Next() && t.IsWord("set"u8)))
                {
                    charset = NextName(ref t);
                }
            }
            var byTable = collation ?? (charset is null ? null : DefaultCollation(charset));
            if (byTable is not null)
            {
                for (var i = 0; i < columns.Count; i++)
                {
                    columns[i] = columns[i] with { Collation = columns[i].Collation ?? byTable };
                }
            }
        }
        return true;
    }

    /// <summary>The next identifier (past an '='), lowercased; null at the end.</summary>
    static string? NextName(ref SqlTokenizer t)
    {
        while (t.Next())
        {
            if (t.IsIdentifier)
            {
                return t.IdentifierName().ToLowerInvariant();
            }
        }
        return null;
    }

    /// <summary>A character set's default collation, as far as a subset needs it: binary's is exact, every other's is case-insensitive.</summary>
    static string DefaultCollation(string charset) => charset == "binary" ? "binary" : charset + " default";

    static void ReadMySqlColumnDefinitions(ReadOnlySpan<byte> sql, ref SqlTokenizer t, List<ColumnDefinition> columns, List<TableKey> keys, string database)
    {
        while (true)
        {
            if (!t.Next() || t.IsPunct((byte)')'))
            {
                return;
            }
            var elementStart = t.Start;
            string? name = null;
            var keyElement = false;
            var uniqueKey = false;
            if (t.IsWord("constraint"u8))
            {
                keyElement = true;
                t.Next();
                if (t.IsIdentifier && !t.IsWord("unique"u8) && !t.IsWord("primary"u8) && !t.IsWord("foreign"u8) && !t.IsWord("check"u8))
                {
                    t.Next(); // the constraint's name
                }
            }
            if (t.IsWord("primary"u8) || t.IsWord("unique"u8))
            {
                keyElement = true;
                uniqueKey = true;
            }
            else if (t.IsWord("key"u8) || t.IsWord("index"u8) || t.IsWord("fulltext"u8) || t.IsWord("spatial"u8) || t.IsWord("foreign"u8)
                || t.IsWord("check"u8) || t.IsWord("period"u8))
            {
                keyElement = true;
            }
            else if (!keyElement && t.IsIdentifier)
            {
                name = t.IdentifierName();
            }
            var typeStart = -1;
            var typeEnd = -1;
            var inType = name is not null;
            var unique = false;
            var notNull = false;
            var afterNot = false;
            var json = false;
            var generated = false;
            var afterAs = false;
            var depth = 0;
            List<string>? keyColumns = null;
            string? collation = null;
            string? charset = null;
            while (t.Next())
            {
                if (depth == 0 && (t.IsPunct((byte)',') || t.IsPunct((byte)')')))
                {
                    break;
                }
                if (name is not null && depth == 0 && t.IsWord("collate"u8))
                {
                    inType = false;
                    collation = NextName(ref t);
                    continue;
                }
                if (name is not null && depth == 0 && (t.IsWord("charset"u8) || (t.IsWord("character"u8) && t.Next() && t.IsWord("set"u8))))
                {
                    inType = false;
                    charset = NextName(ref t);
                    continue;
                }
                // AS (expr) is a generated column; AS ROW START / END (system versioning) is not, its values are no data.
                generated |= afterAs && t.IsPunct((byte)'(');
                afterAs = name is not null && depth == 0 && t.IsWord("as"u8);
                if (t.IsPunct((byte)'('))
                {
                    if (uniqueKey && depth == 0 && keyColumns is null)
                    {
                        keyColumns = ReadKeyColumns(ref t);
                        continue;
                    }
                    depth++;
                }
                else if (t.IsPunct((byte)')'))
                {
                    depth--;
                }
                if (inType && depth == 0 && t.Kind == TokenKind.Word && IsMySqlColumnAttribute(t))
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
                else if (depth == 0 && (t.IsWord("unique"u8) || t.IsWord("primary"u8) || t.IsWord("key"u8)))
                {
                    unique = true;
                }
                else if (t.IsWord("json_valid"u8))
                {
                    json = true; // MariaDB's JSON is longtext CHECK (json_valid(`col`))
                }
                notNull |= afterNot && depth == 0 && t.IsWord("null"u8);
                afterNot = !inType && depth == 0 && t.IsWord("not"u8);
            }
            if (name is not null)
            {
                var typeName = typeStart < 0 ? "" : MySqlColumnTypes.Normalize(NormalizeType(sql[typeStart..typeEnd]));
                var (category, maxLength) = json ? (TypeCategory.Json, null) : MySqlColumnTypes.Categorize(typeName);
                columns.Add(new ColumnDefinition(name, typeName, category, maxLength, unique)
                {
                    NotNull = notNull,
                    Generated = generated,
                    Collation = collation ?? (charset is null ? null : DefaultCollation(charset)),
                });
            }
            else if (keyElement && ReadInlineKey(sql, elementStart, mySql: true, database) is { } key)
            {
                keys.Add(key);
            }
            if (name is null && keyColumns is { Count: 1 })
            {
                for (var i = 0; i < columns.Count; i++)
                {
                    if (string.Equals(columns[i].Name, keyColumns[0], StringComparison.OrdinalIgnoreCase))
                    {
                        columns[i] = columns[i] with { Unique = true };
                    }
                }
            }
            if (t.Kind == TokenKind.End || (t.IsPunct((byte)')') && depth == 0))
            {
                return;
            }
        }
    }

    /// <summary>Reads a key's (`a`, `b`(10) DESC) with the tokenizer on '('; leaves it on the matching ')'.</summary>
    static List<string> ReadKeyColumns(ref SqlTokenizer t)
    {
        var names = new List<string>();
        var depth = 1;
        while (t.Next())
        {
            if (t.IsPunct((byte)'('))
            {
                depth++;
            }
            else if (t.IsPunct((byte)')') && --depth == 0)
            {
                break;
            }
            else if (depth == 1 && t.IsIdentifier && !t.IsWord("asc"u8) && !t.IsWord("desc"u8))
            {
                names.Add(t.IdentifierName());
            }
        }
        return names;
    }

    static bool IsMySqlColumnAttribute(in SqlTokenizer t) =>
        t.IsWord("not"u8) || t.IsWord("null"u8) || t.IsWord("default"u8) || t.IsWord("collate"u8) || t.IsWord("character"u8)
        || t.IsWord("charset"u8) || t.IsWord("auto_increment"u8) || t.IsWord("comment"u8) || t.IsWord("on"u8) || t.IsWord("as"u8)
        || t.IsWord("generated"u8) || t.IsWord("check"u8) || t.IsWord("primary"u8) || t.IsWord("unique"u8) || t.IsWord("key"u8)
        || t.IsWord("references"u8) || t.IsWord("invisible"u8) || t.IsWord("visible"u8) || t.IsWord("constraint"u8)
        || t.IsWord("column_format"u8) || t.IsWord("storage"u8) || t.IsWord("virtual"u8) || t.IsWord("persistent"u8)
        || t.IsWord("stored"u8) || t.IsWord("without"u8) || t.IsWord("with"u8) || t.IsWord("srid"u8) || t.IsWord("compressed"u8);

    /// <summary>
    /// The tables a MySQL statement belongs to, so that dropping a table drops its DROP TABLE, CREATE TABLE, LOCK TABLES,
    /// ALTER TABLE ... KEYS, INSERTs, triggers (ON t) and views that read it (FROM / JOIN t). A CREATE TABLE counts only
    /// for the table it creates: a foreign key naming a dropped table does not drop the referencing table (mysqldump sets
    /// FOREIGN_KEY_CHECKS=0, so the key loads without its target).
    /// </summary>
    public static void CollectMySqlTables(ReadOnlySpan<byte> sql, string database, List<TableName> tables)
    {
        var t = new SqlTokenizer(sql, mySql: true);
        if (!t.Next() || !(t.IsWord("create"u8) || t.IsWord("alter"u8) || t.IsWord("drop"u8) || t.IsWord("lock"u8)
            || t.IsWord("insert"u8) || t.IsWord("replace"u8)))
        {
            return;
        }
        if (t.IsWord("insert"u8) || t.IsWord("replace"u8))
        {
            if (TryParseMySqlInsert(sql, database, out var target, out _, out _))
            {
                tables.Add(target);
            }
            return;
        }
        if (t.IsWord("create"u8) && TryParseMySqlCreateTable(sql, database, out var created, out _))
        {
            tables.Add(created);
            return;
        }
        var listOfNames = false; // DROP TABLE a, b and LOCK TABLES a WRITE, b READ name several
        var isView = false;
        var previousWord = "";
        while (true)
        {
            string word = "";
            var takesName = false;
            if (t.Kind == TokenKind.Word)
            {
                word = Encoding.ASCII.GetString(t.Span).ToLowerInvariant();
                isView |= word == "view";
                takesName = word switch
                {
                    "table" or "tables" => previousWord is "drop" or "alter" or "lock" or "" or "temporary",
                    "on" => previousWord is "insert" or "update" or "delete", // a trigger: BEFORE INSERT ON t
                    "view" => true,
                    "from" or "join" => isView,
                    _ => false,
                };
                listOfNames |= word is "table" or "tables" && previousWord is "drop" or "lock" or "temporary";
            }
            else if (t.IsPunct((byte)',') && listOfNames)
            {
                takesName = true;
            }
            if (!t.Next())
            {
                return;
            }
            if (takesName)
            {
                SkipIfExistsAndOnly(ref t);
                if (t.IsIdentifier)
                {
                    var start = t.Start;
                    if (TryReadQualifiedName(ref t, out var name, defaultSchema: database))
                    {
                        tables.Add(name);
                    }
                    if (t.Start == start)
                    {
                        return;
                    }
                    previousWord = "";
                    continue;
                }
            }
            previousWord = word;
        }
    }
}

/// <summary>Maps a MySQL / MariaDB column type to the category transformers need to keep values valid.</summary>
internal static class MySqlColumnTypes
{
    /// <summary>Drops integer display widths ("int(11)" is an int; MySQL 8 no longer prints them either).</summary>
    public static string Normalize(string type)
    {
        var paren = type.IndexOf('(');
        if (paren <= 0)
        {
            return type;
        }
        var head = type[..paren];
        if (head is not ("tinyint" or "smallint" or "mediumint" or "int" or "integer" or "bigint"))
        {
            return type;
        }
        var close = type.IndexOf(')', paren);
        return close < 0 ? type : (head + type[(close + 1)..]).TrimEnd();
    }

    public static (TypeCategory Category, int? MaxLength) Categorize(string type)
    {
        var paren = type.IndexOf('(');
        var space = type.IndexOf(' ');
        var headEnd = paren >= 0 && (space < 0 || paren < space) ? paren : space;
        var head = headEnd < 0 ? type : type[..headEnd];
        int? length = null;
        if (paren >= 0)
        {
            var close = type.IndexOf(')', paren);
            if (close > paren && int.TryParse(type.AsSpan(paren + 1, close - paren - 1), out var n))
            {
                length = n;
            }
        }
        return head switch
        {
            "char" or "varchar" or "nchar" or "nvarchar" => (TypeCategory.Text, head is "char" or "nchar" ? length ?? 1 : length),
            "tinytext" or "text" or "mediumtext" or "longtext" => (TypeCategory.Text, head == "tinytext" ? 255 : null),
            "tinyint" or "smallint" or "mediumint" or "int" or "integer" or "bigint" or "year" => (TypeCategory.Integer, null),
            "decimal" or "numeric" or "dec" or "fixed" or "float" or "double" or "real" => (TypeCategory.Numeric, null),
            "bool" or "boolean" => (TypeCategory.Integer, null), // stored and dumped as 0 / 1
            "date" => (TypeCategory.Date, null),
            "datetime" or "timestamp" => (TypeCategory.Timestamp, null),
            "time" => (TypeCategory.Time, null),
            "json" => (TypeCategory.Json, null),
            "uuid" => (TypeCategory.Uuid, null),
            "inet4" or "inet6" => (TypeCategory.Inet, null),
            // Binary strings hold raw bytes, not PostgreSQL's bytea text form: transformers treat them as opaque.
            _ => (TypeCategory.Other, null),
        };
    }
}
