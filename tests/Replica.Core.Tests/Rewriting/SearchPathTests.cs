using System.Text;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// A search_path set to another schema made bare table names that schema's where the rewriter read them as public's:
/// rows of private.customers, COPY'd as "customers" after SET search_path = private, passed unmasked under the rule
/// for private.customers.email, which the qualified CREATE TABLE had satisfied (found by review).
/// </summary>
public class SearchPathTests
{
    const string Create = "CREATE TABLE private.customers (id integer, email text);\n";

    [Theory]
    [InlineData("SET search_path = private, pg_catalog;\n")]
    [InlineData("SET LOCAL search_path TO \"private\";\n")]
    [InlineData("SELECT pg_catalog.set_config('search_path', 'private', false);\n")]
    [InlineData("SELECT set_config('search_path', '\"$user\", private, public', true);\n")]
    [InlineData("SELECT set_config('search_path', current_setting('x'), false);\n")]
    public void Rewrite_SearchPathToAnotherSchema_IsRefused(string set)
    {
        var dump = Create + set + "COPY customers (id, email) FROM stdin;\n1\treal@x\n\\.\n";
        var bytes = Encoding.UTF8.GetBytes(dump);
        var e = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, Rules("private.customers.email=upper")));
        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(e.Message, Assert.Throws<DumpFormatException>(() => Rewrite(bytes, Rules("private.customers.email=upper"), [split])).Message);
        }

        Assert.Equal(2, e.LineNumber);
        Assert.Equal(Create.Length + (set.StartsWith("SET", StringComparison.Ordinal) ? 0 : set.IndexOf("set_config", StringComparison.Ordinal)), e.ByteOffset);
        Assert.Contains("refused: the search_path is set to", e.Message);
    }

    [Theory]
    [InlineData("SELECT pg_catalog.set_config('search_path', '', false);\n")]
    [InlineData("SET search_path = public, pg_catalog;\n")]
    [InlineData("SET search_path TO DEFAULT;\n")]
    [InlineData("SET search_path = \"$user\", public;\n")]
    [InlineData("RESET search_path;\n")]
    [InlineData("CREATE FUNCTION private.f() RETURNS integer LANGUAGE sql SET search_path = private AS 'SELECT 1';\n")]
    public void Rewrite_SearchPathOfPublicOnly_Passes(string set)
    {
        var dump = Create + set + "COPY private.customers (id, email) FROM stdin;\n1\treal@x\n\\.\n";

        Assert.Equal(dump.Replace("real@x", "REAL@X", StringComparison.Ordinal), Text(Rewrite(Encoding.UTF8.GetBytes(dump), Rules("private.customers.email=upper"))));
    }

    [Fact]
    public void Rewrite_SearchPathWithoutRules_Passes()
    {
        const string dump = "SET search_path = private, pg_catalog;\nCOPY customers (id, email) FROM stdin;\n1\treal@x\n\\.\n";
        Assert.Equal(dump, Text(Rewrite(Encoding.UTF8.GetBytes(dump), Replica.Rewriting.RewriteRules.None)));
    }
}
