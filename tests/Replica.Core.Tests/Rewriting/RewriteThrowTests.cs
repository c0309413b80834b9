using System.Text;
using Replica.Config;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// Every failure of the rewriter, with its whole message as a user reads it: the throw helpers (RewriteThrow) format them,
/// and a change there must not change a word, a position or a number.
/// </summary>
public class RewriteThrowTests
{
    const string Copy = "SET x = 1;\nCOPY public.t (a, b) FROM stdin;\n";
    const string Create = "CREATE TABLE public.t (a integer, b text);\n";

    /// <summary>Name, dump, rule ("" for none), dialect, limits.max_row_size, the exception's message.</summary>
    public static TheoryData<string, string, string, SqlDialect, long, string> Failures => new()
    {
        { "OpenAtEnd", "SET x = 1;\nSELECT 'a\nb\n", "", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 18: unterminated quoted string that starts here runs to the end of the dump" },
        { "TruncatedCopy", Copy + "1\tx\n2\ty\n", "", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 5, byte offset 52, table public.t, row 3: the dump ends inside a COPY block: its last row is cut or the end marker \\. is missing" },
        { "StatementTooLarge", "SET x = 1;\nSELECT 1234567890;\n", "", SqlDialect.PostgreSql, 12,
            "malformed dump at line 1, byte offset 10: a statement is larger than the limit of 12 bytes (limits.max_row_size)" },
        { "RowTooLarge", Copy + "1\tx\n2\tabcdefghijklmnopqrstuvwxyz0123456789\n\\.\n", "", SqlDialect.PostgreSql, 36,
            "malformed dump at line 4, byte offset 48, table public.t, row 2: a row is larger than the limit of 36 bytes (limits.max_row_size)" },
        { "CopyWithOptions", "COPY public.t (a, b) FROM stdin WITH (FORMAT csv);\n1,x\n\\.\n", "", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 1, byte offset 0, table public.t: COPY with options (CSV, BINARY, DELIMITER ...) is not supported: its rows are not in the text format that pg_dump writes" },
        { "BadDelimiter", "SELECT 1;\nDELIMITER \nSELECT 2;\n", "", SqlDialect.MySql, 1 << 20,
            "malformed dump at line 2, byte offset 10: " + Replica.Lexing.UnitScanner.BadDelimiterReason },
        { "RefusedMetaCommand", "SELECT 1;\n\\! ls\n", "", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 10: refused: a psql meta-command other than those pg_dump writes (\\restrict, \\unrestrict, \\connect, \\encoding): a restore would run it on its machine" },
        { "RefusedBackslash", "SELECT 1;\nSELECT\n1 \\! ls;\n", "", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 19: refused: a backslash outside quotes: psql would run it as a meta-command" },
        { "RefusedBackslashMySql", "SELECT 1;\nSELECT\n1 \\! ls;\n", "", SqlDialect.MySql, 1 << 20,
            "malformed dump at line 3, byte offset 19: refused: a backslash outside quotes: the mysql client would run it as one of its commands" },
        { "RefusedCopyProgram", "SELECT 1;\nCOPY public.t FROM\nPROGRAM 'ls';\n", "", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 10: refused: COPY from or to a program or a file of the server, which pg_dump never writes" },
        { "RefusedClientEncoding", "SELECT 1;\nSET client_encoding = 'SJIS';\n", "", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 10: refused: a client encoding whose characters can contain a backslash or quote byte (SJIS, BIG5, GBK ...), which pg_dump never writes" },
        { "RowEndsInBackslash", Copy + "1\tx\\\n\\.\n", "", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 47, table public.t, row 1: a backslash at the end of a row escapes nothing (bad escape)" },
        { "RowEndsInBackslashTransformed", Copy + "1\\\tx\\\n\\.\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 48, table public.t, row 1: a backslash at the end of a row escapes nothing (bad escape)" },
        { "RowOfTableWithoutColumns", "COPY public.e FROM stdin;\n\nx\n\\.\n", "", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 27, table public.e, row 2: a row of a table without columns must be an empty line" },
        { "RowFieldCount", Copy + "1\tx\n1\tx\ty\n\\.\n", "", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 4, byte offset 48, table public.t, row 2: the row has 3 fields, expected 2 (a, b)" },
        { "SplitFieldCountOver", Copy + "1\tx\n1\tx\ty\n\\.\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 4, byte offset 48, table public.t, row 2: the row has more than 2 fields, expected 2 (a, b)" },
        { "SplitFieldCountUnder", Copy + "1\tx\n1\n\\.\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 4, byte offset 48, table public.t, row 2: the row has 1 fields, expected 2 (a, b)" },
        { "SplitFieldCountEscapedOver", Copy + "1\\\tx\ty\tz\n\\.\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 44, table public.t, row 1: the row has more than 2 fields, expected 2 (a, b)" },
        { "SplitFieldCountEscapedUnder", Copy + "1\\\tx\n\\.\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 44, table public.t, row 1: the row has 1 fields, expected 2 (a, b)" },
        { "EscapeDecodesToZero", Copy + "1\tx\n2\ta\\000b\n\\.\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 4, byte offset 51, table public.t, row 2: column b: the escape decodes to a zero byte, which text cannot hold (bad escape)" },
        { "InsertWithoutColumnList", "SET x = 1;\nINSERT INTO public.t VALUES (1, 'x');\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 1, byte offset 10, table public.t: INSERT into public.t has no column list and no CREATE TABLE for it came earlier in the dump, so its values cannot be matched to columns (dump with pg_dump --column-inserts)" },
        { "InsertWithoutColumnListMySql", "INSERT INTO `t` VALUES (1,'x');\n", "t.b=upper", SqlDialect.MySql, 1 << 20,
            "malformed dump at line 1, byte offset 0, table `t`: INSERT into `t` has no column list and no CREATE TABLE for it came earlier in the dump, so its values cannot be matched to columns (dump with mysqldump --complete-insert)" },
        { "InsertEndsInsideTuple", Create + "INSERT INTO public.t (a, b)\nVALUES (1, 'x'), (2,\n'y'", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 4, byte offset 95, table public.t, row 2: an INSERT statement ends inside a VALUES tuple" },
        { "TupleTooManyValues", Create + "INSERT INTO public.t (a, b) VALUES (1, 'x'),\n(2, 'y', 3);\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 98, table public.t, row 2: a VALUES tuple has more than 2 values (a, b)" },
        { "TupleValueCount", Create + "INSERT INTO public.t (a, b) VALUES (1, 'x'),\n(2);\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 90, table public.t, row 2: a VALUES tuple has 1 values, expected 2 (a, b)" },
        { "TupleValueMissing", Create + "INSERT INTO public.t (a, b) VALUES (1, 'x'),\n(2, );\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 92, table public.t, row 2: column b has no value in a VALUES tuple" },
        { "TupleValueNotLiteral", Create + "INSERT INTO public.t (a, b) VALUES (1, 'x'),\n(2, lower('Y'));\n", "public.t.b=upper", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 92, table public.t, row 2: column b holds an expression, not a literal; Replica transforms literal values only" },
        { "UnknownReferencedColumn", Copy + "1\tx\n\\.\n", "public.t.b=concat", SqlDialect.PostgreSql, 1 << 20,
            "the transformer of column b of table public.t references column 'id', which this table's data does not have (columns: a, b)" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Rewrite_EachFailure_KeepsItsMessage(string name, string dump, string rule, SqlDialect dialect, long maxUnitBytes, string message)
    {
        var rules = rule.Length == 0 ? null : Rules(rule);

        var e = Assert.ThrowsAny<ReplicaException>(() => Rewrite(Encoding.UTF8.GetBytes(dump), rules, maxUnitBytes: maxUnitBytes, dialect: dialect));

        Assert.Equal(message, e.Message);
        Assert.Equal(message.StartsWith("malformed dump", StringComparison.Ordinal) ? typeof(DumpFormatException) : typeof(ConfigException), e.GetType());
        Assert.NotEmpty(name);
    }
}
