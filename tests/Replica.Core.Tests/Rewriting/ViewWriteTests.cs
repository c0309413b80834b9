using System.Text;
using Replica.Lexing;
using Replica.Rewriting;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// Rows written into an updatable view of a masked table (INSERT INTO v VALUES ...) reached that table unmasked: rules are
/// found by the name written, the view's (found by review).
/// </summary>
public class ViewWriteTests
{
    const string Create = "CREATE TABLE public.customers (id integer, email text, ssn text);\n";
    const string MyCreate = "CREATE TABLE `customers` (\n  `id` int NOT NULL,\n  `email` varchar(255) DEFAULT NULL,\n  `note` varchar(255) DEFAULT NULL\n);\n";

    [Theory]
    [InlineData("CREATE VIEW public.v AS SELECT * FROM public.customers;\n", "INSERT INTO public.v (id, email, ssn) VALUES (1, 'real@x', 's');\n", "INSERT")]
    [InlineData("CREATE OR REPLACE TEMP RECURSIVE VIEW v (id) AS SELECT 1;\n", "INSERT INTO v VALUES (1, 'real@x', 's');\n", "INSERT")]
    [InlineData("CREATE VIEW \"V\" AS SELECT * FROM public.customers;\n", "UPDATE \"V\" SET email = 'real@x';\n", "UPDATE")]
    [InlineData("CREATE VIEW public.v AS SELECT * FROM public.customers;\n", "INSERT INTO public.v SELECT 1, 'real@x', 's';\n", "INSERT")]
    [InlineData("CREATE VIEW public.v AS SELECT * FROM public.customers;\n", "COPY public.v (id, email, ssn) FROM stdin;\n1\treal@x\ts\n\\.\n", "COPY")]
    public void Rewrite_WriteIntoAView_IsRefused(string view, string write, string verb)
    {
        var dump = Create + view + write;
        var e = Fails(dump, Rules("public.customers.email=upper"));

        Assert.Equal(3, e.LineNumber);
        Assert.Contains($"refused: {verb} writes rows into the view", e.Message);
    }

    [Fact]
    public void Rewrite_MySqlInsertIntoAView_IsRefused()
    {
        const string dump = "USE `db`;\n" + MyCreate
            + "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select * from `customers` */;\n"
            + "INSERT INTO `v` VALUES (1,'real@x','n');\n";
        var e = Fails(dump, Rules("db.customers.email=upper"), SqlDialect.MySql);

        Assert.Equal("`db`.`v`", e.Table);
        Assert.Contains("refused: INSERT writes rows into the view `db`.`v`", e.Message);
    }

    [Fact]
    public void Rewrite_ViewReplacedByATable_TakesRows()
    {
        // mysqldump's stand-in for a view is a table of the same name; a table created after a view is a table.
        const string dump = Create + "CREATE VIEW public.v AS SELECT 1;\nDROP VIEW public.v;\nCREATE TABLE public.v (id integer, email text);\n"
            + "INSERT INTO public.v VALUES (1, 'real@x');\n";
        Assert.Equal(dump, Text(Rewrite(Encoding.UTF8.GetBytes(dump), Rules("public.customers.email=upper"))));
    }

    [Fact]
    public void Rewrite_WriteIntoAViewWithoutRules_PassesThrough()
    {
        const string dump = Create + "CREATE VIEW public.v AS SELECT * FROM public.customers;\nINSERT INTO public.v VALUES (1, 'real@x', 's');\n";
        Assert.Equal(dump, Text(Rewrite(Encoding.UTF8.GetBytes(dump), RewriteRules.None)));
    }
}
