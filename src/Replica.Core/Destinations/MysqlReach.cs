using System.Text;
using System.Text.RegularExpressions;

namespace Replica.Destinations;

/// <summary>
/// What a MySQL or MariaDB user could change outside the restore's own databases (the destination and its
/// <c>&lt;db&gt;_replica_...</c> staging and trash databases). The staging database confines only unqualified names:
/// a dump can name another database (<c>DROP TABLE keepdb.t</c>, <c>USE keepdb</c>), build the statement at run time
/// (PREPARE ... FROM @s), or hide it in a trigger or a routine it calls, and the restore guard sees none of that. A
/// user whose grants reach no further than the restore's databases gets "access denied" for all of it; so
/// <see cref="MysqlDestination"/> refuses a user whose grants reach further, unless destination.allow_privileged_role
/// says the user trusts every dump the bridge may hold.
/// Grants are read from information_schema (USER_, SCHEMA_, TABLE_ and COLUMN_PRIVILEGES for the current user,
/// APPLICABLE_ROLES), https://mariadb.com/kb/en/information-schema-schema_privileges-table/; a database name in a
/// grant is a LIKE pattern (<c>_</c> and <c>%</c>, <c>\</c> escapes), https://mariadb.com/kb/en/grant/#database-privileges.
/// </summary>
static partial class MysqlReach
{
    /// <summary>
    /// One row per grant of the current user: kind, privilege, database (pattern); and one per visible database. No field is
    /// NULL ('' where there is nothing), so that a database named NULL is read as its name (<see cref="MysqlTools.QueryTextAsync"/>):
    /// read as SQL NULL, a grant on it was taken for none (found by review).
    /// </summary>
    internal const string Sql = """
        WITH me AS (SELECT CONCAT('''', LEFT(CURRENT_USER(), LENGTH(CURRENT_USER()) - LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1),
                                  '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') AS grantee)
        SELECT 'global', PRIVILEGE_TYPE, '' FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = (SELECT grantee FROM me)
        UNION ALL SELECT 'schema', PRIVILEGE_TYPE, TABLE_SCHEMA FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = (SELECT grantee FROM me)
        UNION ALL SELECT 'table', PRIVILEGE_TYPE, TABLE_SCHEMA FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = (SELECT grantee FROM me)
        UNION ALL SELECT 'column', PRIVILEGE_TYPE, TABLE_SCHEMA FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = (SELECT grantee FROM me)
        UNION ALL SELECT 'role', ROLE_NAME, '' FROM information_schema.APPLICABLE_ROLES
        UNION ALL SELECT 'database', '', SCHEMA_NAME FROM information_schema.SCHEMATA
        """;

    /// <summary>
    /// What information_schema does not show the user: its grants on routines of other databases (EXECUTE of a SQL
    /// SECURITY DEFINER procedure writes with its definer's rights), and (MariaDB 10.11+) grants to PUBLIC, which every
    /// user has. Read from SHOW GRANTS and parsed by <see cref="GrantRows"/>.
    /// </summary>
    internal const string OwnGrantsSql = "SHOW GRANTS";

    /// <inheritdoc cref="OwnGrantsSql"/>
    internal const string PublicGrantsSql = "SHOW GRANTS FOR PUBLIC";

    /// <summary>Servers without PUBLIC (MySQL, MariaDB before 10.11) answer SHOW GRANTS FOR PUBLIC with error 1141.</summary>
    internal static bool IsNoSuchGrant(DatabaseException ex) =>
        ex.Message.Contains("1141", StringComparison.Ordinal) || ex.Message.Contains("no such grant", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"^GRANT (?<privileges>.+?) ON (?:(?<routine>PROCEDURE|FUNCTION|PACKAGE BODY|PACKAGE) )?(?<db>`(?:[^`]|``)*`|\*|[^.\s`]+)\.(?<object>`(?:[^`]|``)*`|\*|[^\s`]+) TO ",
        RegexOptions.CultureInvariant)]
    private static partial Regex GrantLine();

    /// <summary>
    /// SHOW GRANTS lines as <see cref="Sql"/>'s rows: <c>GRANT INSERT, UPDATE (c) ON `db`.`t` TO ...</c> is a "table" row
    /// per privilege; <c>ON `db`.*</c> "schema", <c>ON *.*</c> "global", <c>ON PROCEDURE `db`.`p`</c> "routine"; a role
    /// grant (<c>GRANT r TO u</c>) "role". The fourth field says who holds it (<paramref name="holder"/>).
    /// </summary>
    internal static List<string?[]> GrantRows(IEnumerable<string?[]> lines, string holder)
    {
        var rows = new List<string?[]>();
        foreach (var line in lines)
        {
            if (line.Length == 0 || line[0] is not { } text)
            {
                continue;
            }
            var match = GrantLine().Match(text);
            if (!match.Success)
            {
                if (!text.Contains(" ON ", StringComparison.Ordinal) && text.StartsWith("GRANT ", StringComparison.Ordinal)
                    && text.IndexOf(" TO ", StringComparison.Ordinal) is var to and > 6)
                {
                    rows.Add(["role", text[6..to].Trim(), null, holder]);
                }
                continue;
            }
            if (match.Groups["privileges"].Value == "PROXY")
            {
                continue; // GRANT PROXY ON 'u'@'host': whom the user may log in as, nothing a statement can use
            }
            var db = Unquote(match.Groups["db"].Value);
            var kind = db == "*" ? "global" : match.Groups["routine"].Success ? "routine" : match.Groups["object"].Value == "*" ? "schema" : "table";
            foreach (var privilege in SplitPrivileges(match.Groups["privileges"].Value))
            {
                rows.Add([kind, privilege == "ALL PRIVILEGES" ? "ALL" : privilege, kind == "global" ? null : db, holder]);
            }
        }
        return rows;
    }

    static string Unquote(string name) =>
        name.Length >= 2 && name[0] == '`' ? name[1..^1].Replace("``", "`", StringComparison.Ordinal) : name;

    /// <summary>"SELECT, UPDATE (`a`, `b`), INSERT" -> SELECT, UPDATE, INSERT.</summary>
    static IEnumerable<string> SplitPrivileges(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            var c = i < text.Length ? text[i] : ',';
            if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                var privilege = text[start..i];
                var column = privilege.IndexOf('(', StringComparison.Ordinal);
                yield return (column >= 0 ? privilege[..column] : privilege).Trim();
                start = i + 1;
            }
        }
    }

    /// <summary>Privileges that change nothing, anywhere: a user may hold them on every database.</summary>
    static readonly HashSet<string> s_readOnly = new(StringComparer.OrdinalIgnoreCase)
    {
        "USAGE", "SELECT", "SHOW VIEW", "SHOW DATABASES", "LOCK TABLES", "PROCESS", "REPLICATION CLIENT", "BINLOG MONITOR",
        "SLAVE MONITOR", "REPLICA MONITOR",
    };

    /// <summary>
    /// Why the user of <paramref name="rows"/> (<see cref="Sql"/>'s answer) could change something outside
    /// <paramref name="database"/> and its staging databases; empty when it cannot.
    /// </summary>
    internal static List<string> Reasons(IReadOnlyList<string?[]> rows, string database)
    {
        var databases = rows.Where(r => r[0] == "database" && r[2] is not null).Select(r => r[2]!).ToList();
        var reasons = new List<string>();
        foreach (var holder in rows.Where(r => r[0] == "global" && r[1] is { } p && !s_readOnly.Contains(p)).GroupBy(Holder))
        {
            var global = holder.Select(r => r[1]!).Distinct().Order(StringComparer.Ordinal).ToList();
            reasons.Add($"may {string.Join(", ", global.Take(6))}{(global.Count > 6 ? ", ..." : "")} on every database{holder.Key}");
        }
        foreach (var group in rows.Where(r => r[0] is "schema" or "table" or "column" or "routine" && r[1] is { } p && !s_readOnly.Contains(p) && r[2] is not null)
                     .GroupBy(r => (Kind: r[0]!, Pattern: r[2]!, Holder: Holder(r))))
        {
            var confined = group.Key.Kind == "schema"
                ? PatternConfined(group.Key.Pattern, database, databases)
                : Own(group.Key.Pattern, database);
            if (!confined)
            {
                var privileges = string.Join(", ", group.Select(r => r[1]!).Distinct().Order(StringComparer.Ordinal).Take(4));
                reasons.Add((group.Key.Kind == "schema"
                    ? $"may {privileges} on databases matching '{group.Key.Pattern}'"
                    : $"may {privileges} on {group.Key.Kind}s of '{group.Key.Pattern}'") + group.Key.Holder);
            }
        }
        foreach (var role in rows.Where(r => r[0] == "role" && r[1] is not null).Select(r => r[1]!.Replace("`", "", StringComparison.Ordinal))
                     .Distinct().Order(StringComparer.Ordinal))
        {
            reasons.Add($"may SET ROLE {role} (whose grants are not checked)");
        }
        return reasons;
    }

    /// <summary>" (granted to PUBLIC)" for a PUBLIC grant's row; "" for the user's own.</summary>
    static string Holder(string?[] row) => row.Length > 3 && row[3] == "PUBLIC" ? " (granted to PUBLIC)" : "";

    /// <summary>The destination itself, or one of its staging and trash databases.</summary>
    static bool Own(string name, string database) =>
        name == database || name.StartsWith(MysqlDestination.StagingPrefix(database), StringComparison.Ordinal);

    /// <summary>
    /// Whether a grant on the database pattern <paramref name="pattern"/> reaches only the restore's own databases: no
    /// wildcard and the name of one of them; a literal start (before the first wildcard) that is the staging prefix, as in
    /// <c>shop\_replica\_%</c>; or only <c>_</c> wildcards (as in a grant on <c>shop_db</c>, where <c>_</c> matches any one
    /// character) that match the destination and no other database that exists.
    /// </summary>
    internal static bool PatternConfined(string pattern, string database, IReadOnlyList<string> databases)
    {
        var literal = new StringBuilder();
        var wildcards = false;
        var percent = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                if (!wildcards)
                {
                    literal.Append(pattern[++i]);
                }
                else
                {
                    i++;
                }
                continue;
            }
            if (c is '_' or '%')
            {
                wildcards = true;
                percent |= c == '%';
                continue;
            }
            if (!wildcards)
            {
                literal.Append(c);
            }
        }
        if (!wildcards)
        {
            return Own(literal.ToString(), database);
        }
        if (literal.ToString().StartsWith(MysqlDestination.StagingPrefix(database), StringComparison.Ordinal))
        {
            return true;
        }
        return !percent && Like(pattern, database) && databases.All(d => d == database || !Like(pattern, d));
    }

    /// <summary>SQL LIKE with <c>\</c> escapes, case-sensitively (database names are on Linux).</summary>
    internal static bool Like(string pattern, string text) => Like(pattern, 0, text, 0);

    static bool Like(string pattern, int p, string text, int t)
    {
        while (p < pattern.Length)
        {
            var c = pattern[p];
            if (c == '%')
            {
                for (var k = t; k <= text.Length; k++)
                {
                    if (Like(pattern, p + 1, text, k))
                    {
                        return true;
                    }
                }
                return false;
            }
            if (t == text.Length)
            {
                return false;
            }
            if (c == '\\' && p + 1 < pattern.Length)
            {
                c = pattern[++p];
            }
            else if (c == '_')
            {
                p++;
                t++;
                continue;
            }
            if (c != text[t])
            {
                return false;
            }
            p++;
            t++;
        }
        return t == text.Length;
    }
}
