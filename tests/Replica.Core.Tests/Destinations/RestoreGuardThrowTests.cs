using System.Buffers;
using System.Text;
using Replica.Destinations;
using Replica.Lexing;

namespace Replica.Core.Tests.Destinations;

/// <summary>
/// Every refusal of the restore guard, with its whole message as a user reads it: the throw helpers (RestoreGuardThrow)
/// format them, and a change there must not change a word, a position or a number.
/// </summary>
public class RestoreGuardThrowTests
{
    /// <summary>Name, stream, dialect, limits.max_row_size, the exception's message.</summary>
    public static TheoryData<string, string, SqlDialect, long, string> Refusals => new()
    {
        { "OpenAtEnd", "SELECT 1;\nSELECT 'a\nb\n", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 17: refused: unterminated quoted string that starts here runs to the end of the dump; nothing was restored" },
        { "StatementTooLarge", "SELECT 1;\nSELECT 1234567890;\n", SqlDialect.PostgreSql, 12,
            "malformed dump at line 1, byte offset 9: a statement is larger than the limit of 12 bytes (limits.max_row_size)" },
        { "TextAfterCopyHeader", "SELECT 1;\nCOPY public.t (a, b) FROM stdin; SELECT 2;\n1\tx\n\\.\n", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 43: refused: text after COPY ... FROM stdin; on the same line (psql would run it after the data); nothing was restored" },
        { "BadDelimiter", "SELECT 1;\nDELIMITER \nSELECT 2;\n", SqlDialect.MySql, 1 << 20,
            "malformed dump at line 2, byte offset 10: refused: " + Replica.Lexing.UnitScanner.BadDelimiterReason + "; nothing was restored" },
        { "ConnectElsewhere", "SELECT 1;\n\\connect other\n", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 10: refused: \\connect to database \"other\", which is not the destination: a restore runs in one transaction on one database; nothing was restored" },
        { "MetaCommand", "SELECT 1;\n\\! ls\n", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 10: refused: psql meta-command \\!: a restore runs no meta-command but those pg_dump writes (\\restrict, \\unrestrict, \\connect, \\encoding); nothing was restored" },
        { "BackslashOutsideQuotes", "SELECT 1;\nSELECT\n1 \\! ls;\n", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 19: refused: \\! outside quotes: psql would run it as a meta-command; nothing was restored" },
        { "BackslashOutsideQuotesMySql", "SELECT 1;\nSELECT\n1 \\! ls;\n", SqlDialect.MySql, 1 << 20,
            "malformed dump at line 3, byte offset 19: refused: \\! outside quotes: the mysql client would run it as one of its commands; nothing was restored" },
        { "TransactionEnd", "SELECT 1;\n\nrollback;\n", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 3, byte offset 11: refused: ROLLBACK would end the restore's transaction; nothing was restored" },
        { "CopyWithOptions", "SELECT 1;\nCOPY public.t (a, b) FROM stdin\nWITH (FORMAT csv);\n", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 10: refused: COPY ... FROM stdin with options (CSV, BINARY, DELIMITER ...), which pg_dump never writes; nothing was restored" },
        { "CopyProgram", "SELECT 1;\nCOPY public.t FROM\nPROGRAM 'ls';\n", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 10: refused: COPY from or to a program or a file of the server, which pg_dump never writes; nothing was restored" },
        { "ClientEncoding", "SELECT 1;\nSET client_encoding = 'SJIS';\n", SqlDialect.PostgreSql, 1 << 20,
            "malformed dump at line 2, byte offset 10: refused: a client encoding whose characters can contain a backslash or quote byte (SJIS, BIG5, GBK ...), which pg_dump never writes; nothing was restored" },
        { "LoadData", "SELECT 1;\nLOAD DATA INFILE '/etc/passwd' INTO TABLE t;\n", SqlDialect.MySql, 1 << 20,
            "malformed dump at line 2, byte offset 10: refused: LOAD DATA / LOAD XML reads a file, which mysqldump never writes; nothing was restored" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Process_EachRefusal_KeepsItsMessage(string name, string stream, SqlDialect dialect, long maxUnitBytes, string message)
    {
        var e = Assert.Throws<DumpFormatException>(() =>
        {
            using var guard = new RestoreGuard(dialect, "shop", maxUnitBytes);
            var output = new ArrayBufferWriter<byte>();
            guard.Process(Encoding.UTF8.GetBytes(stream), output);
            guard.Complete(output);
        });

        Assert.Equal(message, e.Message);
        Assert.NotEmpty(name);
    }
}
