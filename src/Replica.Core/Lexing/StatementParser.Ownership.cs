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
    /// GRANT, REVOKE and ALTER DEFAULT PRIVILEGES, pg_dump's access privileges (ACLs): what pg_restore --no-privileges
    /// leaves out.
    /// </summary>
    public static bool IsPrivilegeChange(ReadOnlySpan<byte> sql, bool nonStandardStrings)
    {
        var t = new SqlTokenizer(sql, nonStandardStrings);
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
