namespace Replica.Lexing;

internal static partial class StatementParser
{
    /// <summary>
    /// <c>ALTER &lt;object&gt; &lt;name&gt; OWNER TO &lt;role&gt;</c>, as pg_dump writes one per object it dumps: what
    /// pg_restore --no-owner leaves out (https://www.postgresql.org/docs/current/app-pgrestore.html). Only a statement
    /// that begins with ALTER and ends with OWNER TO and one role name (plain or "quoted") counts.
    /// </summary>
    public static bool IsOwnerChange(ReadOnlySpan<byte> sql, bool nonStandardStrings)
    {
        var t = new SqlTokenizer(sql, nonStandardStrings);
        if (!t.Next() || !t.IsWord("alter"u8))
        {
            return false;
        }
        // The last three tokens before the end (or a final ';'): OWNER, TO, the role.
        var state = 0; // 1: OWNER seen last; 2: OWNER TO; 3: OWNER TO role
        while (t.Next())
        {
            if (state == 3 && t.IsPunct((byte)';'))
            {
                return !t.Next();
            }
            state = state switch
            {
                _ when t.IsWord("owner"u8) => 1,
                1 when t.IsWord("to"u8) => 2,
                2 when t.Kind is TokenKind.Word or TokenKind.QuotedIdentifier => 3,
                _ => 0,
            };
        }
        return state == 3;
    }

    /// <summary>
    /// MySQL's owners: the <c>DEFINER = user@host</c> clauses of a CREATE or ALTER statement (a view, trigger, routine or
    /// event, also inside mysqldump's executable comments such as <c>/*!50017 DEFINER=`root`@`localhost`*/</c>), whose
    /// ranges are added to <paramref name="clauses"/>. Without the clause the object's definer is the user who creates
    /// it (https://dev.mysql.com/doc/refman/8.0/en/stored-objects-security.html); naming another user needs SET USER
    /// (SUPER). <c>SQL SECURITY DEFINER</c> is no clause (no '=' follows).
    /// </summary>
    public static bool FindDefiners(ReadOnlySpan<byte> sql, List<Range> clauses)
    {
        var t = new SqlTokenizer(sql, mySql: true);
        if (!t.Next() || !(t.IsWord("create"u8) || t.IsWord("alter"u8)))
        {
            return false;
        }
        var found = false;
        while (t.Next())
        {
            if (!t.IsWord("definer"u8))
            {
                continue;
            }
            var start = t.Start;
            if (!t.Next() || !t.IsOther((byte)'=') || !t.Next())
            {
                continue;
            }
            if (t.IsWord("current_user"u8))
            {
                var end = t.End;
                var after = t;
                if (after.Next() && after.IsPunct((byte)'(') && after.Next() && after.IsPunct((byte)')'))
                {
                    end = after.End;
                    t = after;
                }
                clauses.Add(start..end);
                found = true;
                continue;
            }
            if (t.Kind is not (TokenKind.Word or TokenKind.QuotedIdentifier or TokenKind.EString)
                || !t.Next() || !t.IsOther((byte)'@') || !t.Next()
                || t.Kind is not (TokenKind.Word or TokenKind.QuotedIdentifier or TokenKind.EString or TokenKind.Other))
            {
                continue;
            }
            if (t.Kind == TokenKind.Other && !t.IsOther((byte)'%'))
            {
                continue;
            }
            clauses.Add(start..t.End);
            found = true;
        }
        return found;
    }

    /// <summary>
    /// GRANT, REVOKE and ALTER DEFAULT PRIVILEGES, pg_dump's access privileges (ACLs): what pg_restore --no-privileges
    /// leaves out (and a GRANT or REVOKE in a MySQL dump).
    /// </summary>
    public static bool IsPrivilegeChange(ReadOnlySpan<byte> sql, bool nonStandardStrings, bool mySql = false)
    {
        var t = new SqlTokenizer(sql, nonStandardStrings, mySql: mySql);
        if (!t.Next())
        {
            return false;
        }
        if (t.IsWord("grant"u8) || t.IsWord("revoke"u8))
        {
            return true;
        }
        return t.IsWord("alter"u8) && t.Next() && t.IsWord("default"u8) && t.Next() && t.IsWord("privileges"u8);
    }
}
