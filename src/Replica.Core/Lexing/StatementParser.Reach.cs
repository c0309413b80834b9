namespace Replica.Lexing;

// Statements that change what the whole server shares, beyond the database a restore goes into: roles and users, their
// passwords and settings, role memberships and grants, other databases, tablespaces, server settings, plugins. A plain
// role may run some of them (every role may change its own password; an owner may alter or comment on its databases),
// and their effect outlives the restore, also a failed one (MySQL's are not transactional).
//
// PostgreSQL: pg_dump of one database writes none of them without --create, which adds the database's CREATE, ownership,
// ACLs, ALTER DATABASE ... SET and ALTER ROLE ... IN DATABASE ... SET (https://www.postgresql.org/docs/current/app-pgdump.html,
// option -C); roles and tablespaces are pg_dumpall's (https://www.postgresql.org/docs/current/app-pg-dumpall.html).
// GRANT and REVOKE pass when they name an object inside the database (pg_dump's ACLs), and CREATE USER MAPPING (pg_dump
// writes those of its foreign servers) is a per-database object too.
// Refused: ALTER/CREATE/DROP ROLE, USER and GROUP (ALTER ROLE ... PASSWORD, ... SET, ... IN DATABASE ... SET included);
// GRANT role TO role and REVOKE role FROM role (memberships are the cluster's); GRANT and REVOKE ON DATABASE, TABLESPACE
// or PARAMETER, also as an element of CREATE SCHEMA; ALTER/CREATE/DROP DATABASE and TABLESPACE; ALTER SYSTEM; REASSIGN
// OWNED; DROP OWNED; COMMENT ON and SECURITY LABEL ON ROLE, DATABASE or TABLESPACE.
// https://www.postgresql.org/docs/current/sql-alterrole.html, sql-grant.html, sql-altersystem.html, sql-reassign-owned.html
//
// MySQL and MariaDB: mysqldump and mariadb-dump of one database write none of them (their --system=users writes CREATE
// USER and GRANT, for a whole server). Refused: SET PASSWORD (any user may change their own, no grant needed), SET
// DEFAULT ROLE, ALTER/CREATE/DROP/RENAME USER, CREATE/DROP ROLE, GRANT, REVOKE, ALTER/CREATE/DROP SERVER, TABLESPACE,
// LOGFILE GROUP and RESOURCE GROUP, ALTER INSTANCE, INSTALL and UNINSTALL (plugins, components), SHUTDOWN, RESTART and
// KILL (other sessions, the server itself), and any of them behind
// MariaDB's SET STATEMENT ... FOR or inside an executable comment /*!NNNNN ... */, whose content the server runs.
// https://dev.mysql.com/doc/refman/8.0/en/account-management-statements.html, https://mariadb.com/kb/en/set-password/,
// https://mariadb.com/kb/en/set-statement/, https://dev.mysql.com/doc/refman/8.0/en/comments.html
// mysqldump's own statements pass: SET of session variables (and @@GLOBAL.GTID_PURGED, which needs a privilege the
// restore refuses) and LOCK/UNLOCK TABLES. CREATE DATABASE / USE (--databases), DROP DATABASE (--add-drop-database) and
// ALTER DATABASE (around routines whose collation differs) of the dump's own database are not refused here but left out
// (FindDatabaseStatement; RestoreGuard: the staging database stands in for it); the restore refuses a user whose grants
// reach other databases (MysqlReach).
//
// What the dump's own code runs (a function, a DO block or a trigger; a MySQL procedure, event or prepared statement)
// is not a statement of the stream and is not seen here: a dedicated restoring role is still the advice.
internal static partial class StatementParser
{
    /// <summary>
    /// The opening words of a statement that changes the server beyond the destination database (see above), for the
    /// message ("ALTER ROLE", "GRANT ... ON DATABASE", "SET PASSWORD"), or null. <paramref name="at"/> is the offset of
    /// the statement's first word (of the CREATE SCHEMA element, of the statement after SET STATEMENT ... FOR).
    /// </summary>
    public static string? FindReachBeyondDatabase(ReadOnlySpan<byte> sql, bool mySql, bool nonStandardStrings, out int at)
    {
        var t = new SqlTokenizer(sql, nonStandardStrings, mySql: mySql);
        at = 0;
        if (!t.Next() || t.Kind != TokenKind.Word)
        {
            return null;
        }
        at = t.Start;
        return mySql ? ReachMySql(ref t, ref at) : ReachPostgres(ref t, ref at);
    }

    static string? ReachPostgres(ref SqlTokenizer t, ref int at)
    {
        if (t.IsWord("grant"u8) || t.IsWord("revoke"u8))
        {
            return ReachOfGrant(ref t);
        }
        if (t.IsWord("reassign"u8))
        {
            return "REASSIGN OWNED";
        }
        if (Verb(ref t) is { } verb)
        {
            if (!t.Next())
            {
                return null;
            }
            if (t.IsWord("role"u8) || t.IsWord("group"u8) || t.IsWord("database"u8) || t.IsWord("tablespace"u8)
                || (verb == "ALTER" && t.IsWord("system"u8)) || (verb == "DROP" && t.IsWord("owned"u8)))
            {
                return $"{verb} {Upper(t.Span)}";
            }
            if (t.IsWord("user"u8))
            {
                // CREATE/ALTER/DROP USER MAPPING: a foreign server's option of this database, which pg_dump writes.
                return t.Next() && t.IsWord("mapping"u8) ? null : $"{verb} USER";
            }
            return verb == "CREATE" && t.IsWord("schema"u8) ? ReachInCreateSchema(ref t, ref at) : null;
        }
        if (t.IsWord("comment"u8))
        {
            return t.Next() && t.IsWord("on"u8) && t.Next() && IsSharedObject(ref t) ? $"COMMENT ON {Upper(t.Span)}" : null;
        }
        if (t.IsWord("security"u8))
        {
            // SECURITY LABEL [FOR provider] ON object
            if (!t.Next() || !t.IsWord("label"u8))
            {
                return null;
            }
            while (t.Next() && !t.IsWord("on"u8))
            {
            }
            return t.Next() && IsSharedObject(ref t) ? $"SECURITY LABEL ON {Upper(t.Span)}" : null;
        }
        return null;
    }

    /// <summary>ROLE, DATABASE and TABLESPACE: objects of the cluster, not of a database (COMMENT ON, SECURITY LABEL ON).</summary>
    static bool IsSharedObject(ref SqlTokenizer t) => t.IsWord("role"u8) || t.IsWord("database"u8) || t.IsWord("tablespace"u8);

    /// <summary>
    /// GRANT or REVOKE (at the current token): privileges ON an object, or a role TO/FROM roles (no ON before TO or FROM).
    /// A membership, or an object of the cluster (DATABASE, TABLESPACE, PARAMETER), reaches beyond the database.
    /// </summary>
    static string? ReachOfGrant(ref SqlTokenizer t)
    {
        var verb = t.IsWord("grant"u8) ? "GRANT" : "REVOKE";
        while (NextOutsideParentheses(ref t))
        {
            if (t.IsWord("on"u8))
            {
                return t.Next() && (t.IsWord("database"u8) || t.IsWord("tablespace"u8) || t.IsWord("parameter"u8))
                    ? $"{verb} ... ON {Upper(t.Span)}"
                    : null;
            }
            if (t.IsWord("to"u8) || t.IsWord("from"u8))
            {
                return $"{verb} of a role";
            }
        }
        return null;
    }

    /// <summary>CREATE SCHEMA name [AUTHORIZATION role] element ...: a GRANT element (GRANT is a reserved word, never a bare name).</summary>
    static string? ReachInCreateSchema(ref SqlTokenizer t, ref int at)
    {
        while (NextOutsideParentheses(ref t))
        {
            if (t.IsWord("grant"u8))
            {
                var start = t.Start;
                if (ReachOfGrant(ref t) is { } reach)
                {
                    at = start;
                    return reach;
                }
                return null;
            }
        }
        return null;
    }

    static string? ReachMySql(ref SqlTokenizer t, ref int at)
    {
        if (t.IsWord("grant"u8) || t.IsWord("revoke"u8) || t.IsWord("install"u8) || t.IsWord("uninstall"u8)
            || t.IsWord("shutdown"u8) || t.IsWord("restart"u8) || t.IsWord("kill"u8))
        {
            return Upper(t.Span);
        }
        if (t.IsWord("set"u8))
        {
            if (!t.Next())
            {
                return null;
            }
            if (t.IsWord("password"u8))
            {
                return "SET PASSWORD";
            }
            if (t.IsWord("default"u8))
            {
                return t.Next() && t.IsWord("role"u8) ? "SET DEFAULT ROLE" : null;
            }
            return t.IsWord("statement"u8) ? ReachAfterSetStatement(ref t, ref at) : null;
        }
        if (t.IsWord("rename"u8))
        {
            return t.Next() && t.IsWord("user"u8) ? "RENAME USER" : null;
        }
        if (Verb(ref t) is not { } verb || !t.Next())
        {
            return null;
        }
        if (verb == "CREATE" && t.IsWord("or"u8))
        {
            // MariaDB's CREATE OR REPLACE USER, ROLE, SERVER.
            t.Next();
            t.Next();
        }
        if (t.IsWord("user"u8) || t.IsWord("server"u8) || t.IsWord("tablespace"u8) || (verb != "ALTER" && t.IsWord("role"u8))
            || (verb == "ALTER" && t.IsWord("instance"u8)))
        {
            return $"{verb} {Upper(t.Span)}";
        }
        if (t.IsWord("undo"u8) || t.IsWord("logfile"u8) || t.IsWord("resource"u8))
        {
            // CREATE UNDO TABLESPACE, LOGFILE GROUP, RESOURCE GROUP.
            var what = Upper(t.Span);
            return t.Next() ? $"{verb} {what} {Upper(t.Span)}" : null;
        }
        return null;
    }

    /// <summary>ALTER, CREATE or DROP (as constants, so that the common statement builds no string), or null.</summary>
    static string? Verb(ref SqlTokenizer t) =>
        t.IsWord("alter"u8) ? "ALTER" : t.IsWord("create"u8) ? "CREATE" : t.IsWord("drop"u8) ? "DROP" : null;

    /// <summary>MariaDB's SET STATEMENT var = value [, ...] FOR statement: the statement after FOR decides.</summary>
    static string? ReachAfterSetStatement(ref SqlTokenizer t, ref int at)
    {
        while (NextOutsideParentheses(ref t))
        {
            if (t.IsWord("for"u8))
            {
                if (!t.Next() || t.Kind != TokenKind.Word)
                {
                    return null;
                }
                at = t.Start;
                return ReachMySql(ref t, ref at);
            }
        }
        return null;
    }

    static string Upper(ReadOnlySpan<byte> word) => System.Text.Encoding.UTF8.GetString(word).ToUpperInvariant();
}
