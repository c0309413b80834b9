using System.Text;
using Replica.Lexing;
using static Replica.Pipeline.ParallelRestore;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// Which statements make `restore --jobs N` restore on one connection: those that run code at restore time (a top-level
/// DO or CALL) or define code that a SELECT, a trigger or a default may run (CREATE FUNCTION, CREATE PROCEDURE), which a
/// part committed on its own could not roll back; not the same words inside a definition, a rule or a string.
/// </summary>
public sealed class ParallelRestoreCodeFinderTests
{
    static string? First(string sql)
    {
        var finder = new CodeFinder();
        using var splitter = new UnitSplitter();
        splitter.Process(Encoding.UTF8.GetBytes(sql), finder);
        splitter.Complete(finder);
        return finder.First;
    }

    [Theory]
    [InlineData("SET x = 1;\nDO $$ BEGIN EXECUTE 'ALTER DATABASE shop RENAME TO gone'; END $$;\n", "DO at line 2")]
    [InlineData("SET x = 1;\n\n  -- a comment\n  call public.p();\n", "CALL at line 4")]
    [InlineData("/* c */ Do LANGUAGE plpgsql $$ BEGIN END $$;\n", "DO at line 1")]
    [InlineData("SET x = 1;\nCREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CALL p(); END $$;\n", "CREATE FUNCTION at line 2")]
    [InlineData("\n-- c\ncreate or replace\n procedure p() LANGUAGE sql AS 'SELECT 1';\n", "CREATE PROCEDURE at line 3")]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND;\n", "CREATE FUNCTION at line 1")]
    public void Unit_TopLevelDoOrCallOrARoutine_IsFoundWithItsLine(string sql, string expected) => Assert.Equal(expected, First(sql));

    [Theory]
    [InlineData("CREATE TABLE function (procedure int);\nCREATE OR REPLACE VIEW v AS SELECT 1;\n")]
    [InlineData("SELECT 'CREATE FUNCTION f()';\n")]
    [InlineData("CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); DELETE FROM v);\n")]
    [InlineData("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING;\nCOPY t (a) FROM stdin;\nDO\n\\.\n")]
    [InlineData("SELECT 'DO $$ $$';\n")]
    public void Unit_DoCallOrCreateFunctionThatRunsNothingAtTheTopLevel_IsNotFound(string sql) => Assert.Null(First(sql));
}
