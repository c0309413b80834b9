using System.Buffers;
using System.Text;
using Replica.Destinations;
using Replica.Lexing;

namespace Replica.Core.Tests.Destinations;

/// <summary>destination.no_owner and no_privileges: pg_dump's ownership and ACL statements left out, line breaks kept.</summary>
public class RestoreGuardLeaveOutTests
{
    const string Dump = """
        CREATE TABLE public.t (id integer, note text DEFAULT 'OWNER TO x');
        ALTER TABLE public.t OWNER TO prod_owner;
        ALTER FUNCTION public.f(integer,
            text) OWNER TO "Prod Owner";
        ALTER TABLE public.owner ADD COLUMN "to" text;
        COMMENT ON TABLE public.t IS 'ALTER TABLE t OWNER TO x;';
        GRANT SELECT ON TABLE public.t TO reporting;
        REVOKE ALL ON SCHEMA public FROM PUBLIC;
        ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO reporting;
        ALTER LARGE OBJECT 16390 OWNER TO prod_owner;
        COPY public.t (id, note) FROM stdin;
        1	ALTER TABLE t OWNER TO x;
        \.
        SELECT 1;

        """;

    static string Guard(string input, LeaveOut leaveOut, int split, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        using var guard = new RestoreGuard(dialect, "shop", leaveOut: leaveOut);
        var output = new ArrayBufferWriter<byte>();
        guard.Process(bytes.AsSpan(0, split), output);
        guard.Process(bytes.AsSpan(split), output);
        guard.Complete(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    static IEnumerable<int> Splits() => Enumerable.Range(0, Encoding.UTF8.GetByteCount(Dump) + 1).Where(i => i % 7 == 0);

    [Fact]
    public void Guard_NoOwner_LeavesOutEveryOwnerToAndKeepsTheLines()
    {
        foreach (var split in Splits())
        {
            var passed = Guard(Dump, LeaveOut.Owners, split);

            Assert.Equal(Dump.Count(c => c == '\n'), passed.Count(c => c == '\n'));
            Assert.DoesNotContain("OWNER TO prod_owner", passed, StringComparison.Ordinal);
            Assert.DoesNotContain("\"Prod Owner\"", passed, StringComparison.Ordinal);
            Assert.Contains("DEFAULT 'OWNER TO x'", passed, StringComparison.Ordinal);
            Assert.Contains("ADD COLUMN \"to\" text;", passed, StringComparison.Ordinal);
            Assert.Contains("IS 'ALTER TABLE t OWNER TO x;';", passed, StringComparison.Ordinal);
            Assert.Contains("1\tALTER TABLE t OWNER TO x;\n", passed, StringComparison.Ordinal);
            Assert.Contains("GRANT SELECT", passed, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Guard_NoPrivileges_LeavesOutGrantRevokeAndDefaultPrivileges()
    {
        foreach (var split in Splits())
        {
            var passed = Guard(Dump, LeaveOut.Privileges, split);

            Assert.Equal(Dump.Count(c => c == '\n'), passed.Count(c => c == '\n'));
            Assert.DoesNotContain("GRANT", passed, StringComparison.Ordinal);
            Assert.DoesNotContain("REVOKE", passed, StringComparison.Ordinal);
            Assert.Contains("OWNER TO prod_owner", passed, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Guard_Neither_PassesEverything()
    {
        Assert.Equal(Dump, Guard(Dump, LeaveOut.None, 0));
    }

    [Theory]
    [InlineData("ALTER TABLE t OWNER TO r;", true)]
    [InlineData("alter schema s owner to \"R\"", true)]
    [InlineData("ALTER TABLE t OWNER TO r; SELECT 1;", false)]
    [InlineData("ALTER TABLE t ALTER COLUMN owner SET DEFAULT 'x';", false)]
    [InlineData("ALTER TABLE t OWNER TO 'r';", false)]
    [InlineData("ALTER TABLE t OWNER TO r, s;", false)]
    [InlineData("SELECT 1 OWNER TO r;", false)]
    [InlineData("ALTER TABLE t OWNER TO r -- comment\n;", true)]
    public void IsOwnerChange_OnlyAlterEndingInOwnerToRole(string sql, bool expected) =>
        Assert.Equal(expected, StatementParser.IsOwnerChange(Encoding.UTF8.GetBytes(sql), nonStandardStrings: false));

    const string MysqlDump = """
        /*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW
        INSERT INTO audit VALUES ('DEFINER=`x`@`y`') */;
        /*!50001 CREATE ALGORITHM=UNDEFINED */
        /*!50013 DEFINER='app'@'%' SQL SECURITY DEFINER */
        /*!50001 VIEW `v` AS select 1 AS `definer` */;
        CREATE DEFINER=root@localhost PROCEDURE p() SELECT 1;
        CREATE DEFINER = CURRENT_USER() FUNCTION f() RETURNS int RETURN 1;
        CREATE TABLE d (definer varchar(10) CHECK (definer = 'a'));
        GRANT SELECT ON shop.* TO 'reporting'@'%';
        INSERT INTO d VALUES ('DEFINER=`root`@`localhost`');

        """;

    const string Grant = "GRANT SELECT ON shop.* TO 'reporting'@'%';\n";

    static string Blank(string clause) => new(' ', clause.Length);

    [Fact]
    public void Guard_MySqlNoOwner_BlanksEveryDefinerClauseAndNothingElse()
    {
        // Without no_privileges the GRANT is refused (Guard_MySqlGrantWithoutNoPrivileges_IsRefused).
        var dump = MysqlDump.Replace(Grant, "", StringComparison.Ordinal);
        var length = Encoding.UTF8.GetByteCount(dump);
        for (var split = 0; split <= length; split += 5)
        {
            var passed = Guard(dump, LeaveOut.Owners, split, SqlDialect.MySql);

            Assert.Equal(length, Encoding.UTF8.GetByteCount(passed));
            Assert.DoesNotContain("`root`@`localhost`*/", passed, StringComparison.Ordinal);
            Assert.Contains("/*!50017 " + Blank("DEFINER=`root`@`localhost`") + "*/ /*!50003 TRIGGER", passed, StringComparison.Ordinal);
            Assert.Contains("VALUES ('DEFINER=`x`@`y`')", passed, StringComparison.Ordinal);
            Assert.Contains("/*!50013 " + Blank("DEFINER='app'@'%'") + " SQL SECURITY DEFINER */", passed, StringComparison.Ordinal);
            Assert.Contains("AS `definer` */;", passed, StringComparison.Ordinal);
            Assert.Contains("CREATE " + Blank("DEFINER=root@localhost") + " PROCEDURE p()", passed, StringComparison.Ordinal);
            Assert.Contains("CREATE " + Blank("DEFINER = CURRENT_USER()") + " FUNCTION f()", passed, StringComparison.Ordinal);
            Assert.Contains("CHECK (definer = 'a')", passed, StringComparison.Ordinal);
            Assert.Contains("INSERT INTO d VALUES ('DEFINER=`root`@`localhost`');", passed, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Guard_MySqlNoPrivileges_LeavesOutGrant()
    {
        var passed = Guard(MysqlDump, LeaveOut.Privileges, 0, SqlDialect.MySql);

        Assert.DoesNotContain("GRANT", passed, StringComparison.Ordinal);
        Assert.Contains("DEFINER=`root`@`localhost`", passed, StringComparison.Ordinal);
        Assert.Equal(MysqlDump.Count(c => c == '\n'), passed.Count(c => c == '\n'));
    }

    [Fact]
    public void Guard_MySqlGrantWithoutNoPrivileges_IsRefused()
    {
        var e = Assert.Throws<DumpFormatException>(() => Guard(MysqlDump, LeaveOut.Owners, 0, SqlDialect.MySql));
        Assert.Contains("refused: GRANT changes the server beyond the destination database", e.Message, StringComparison.Ordinal);
        Assert.Equal(MysqlDump[..MysqlDump.IndexOf(Grant, StringComparison.Ordinal)].Count(c => c == '\n') + 1, e.LineNumber);
    }

    [Fact]
    public void Guard_NoPrivileges_LeavesOutARoleMembershipThatIsElseRefused()
    {
        // A GRANT that no_privileges leaves out never reaches psql, so it needs no refusal.
        const string dump = "SELECT 1;\nGRANT admins TO app;\nSELECT 2;\n";
        Assert.Equal("SELECT 1;\n\nSELECT 2;\n", Guard(dump, LeaveOut.Privileges, 3));
        Assert.Contains("GRANT of a role", Assert.Throws<DumpFormatException>(() => Guard(dump, LeaveOut.None, 3)).Message, StringComparison.Ordinal);
    }
}
