using System.Text;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// Settings that make psql and the server end a string elsewhere than the lexer (review finding 6): a client encoding
/// such as SJIS, in which 0x83 0x5C is one character where the lexer reads a backslash escape, and standard_conforming_strings
/// changed where the lexer does not follow. The real value would stand where the rewriter sees another column or a comment.
/// </summary>
public class SettingDesyncTests
{
    const string Create = "CREATE TABLE public.customers (id text, note text, email text);\n";

    static DumpFormatException Fails(byte[] dump)
    {
        var rules = Rules("public.customers.email=upper");
        var whole = Assert.Throws<DumpFormatException>(() => Rewrite(dump, rules));
        for (var split = 1; split < dump.Length; split++)
        {
            Assert.Equal(whole.Message, Assert.Throws<DumpFormatException>(() => Rewrite(dump, rules, [split])).Message);
        }
        return whole;
    }

    static DumpFormatException Fails(string dump) => Fails(Encoding.UTF8.GetBytes(dump));

    [Fact]
    public void Rewrite_BackslashAfterNonAsciiByte_IsRefusedWhateverSwitchedTheEncoding()
    {
        // d18.sql of the review: under SJIS the server reads E'\x83\x5c' as one character, so 'real-sjis@...' is the email;
        // the lexer read an escaped quote and masked the comment instead. No statement needs to name the encoding.
        var head = Encoding.UTF8.GetBytes(Create + "SELECT public.switch_encoding();\nINSERT INTO public.customers (id, note, email) VALUES ('1', E'");
        byte[] dump = [.. head, 0x83, 0x5C, .. "', 'real-sjis@example.com');\n-- ', 'z');\n"u8];

        var e = Fails(dump);

        Assert.Equal(head.Length + 1, e.ByteOffset);
        Assert.Equal(3, e.LineNumber);
        Assert.Contains("refused: a backslash right after a non-ASCII byte", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT pg_catalog.set_config('client_encoding', 'SJIS', false);", "set_config", "client encoding whose characters")]
    [InlineData("SELECT set_config('CLIENT_ENCODING', 'sjis', true);", "set_config", "client encoding whose characters")]
    [InlineData("SELECT \"set_config\"('client_encoding', 'SJIS', false);", "\"set_config\"", "client encoding whose characters")]
    [InlineData("SELECT set_config('client_' || 'encoding', 'SJIS', false);", "set_config", "not a plain string literal")]
    [InlineData("SELECT set_config('client_encoding', 'SJ' || 'IS', false);", "set_config", "client encoding whose characters")]
    [InlineData("SET \"client_encoding\" = 'SJIS';", "SET", "client encoding whose characters")]
    [InlineData("SET \"Client_Encoding\" TO 'BIG5';", "SET", "client encoding whose characters")]
    [InlineData("UPDATE pg_settings SET setting = 'SJIS' WHERE name = 'client_encoding';", "UPDATE", "a write to pg_settings")]
    [InlineData("UPDATE pg_catalog.pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings';", "UPDATE", "a write to pg_settings")]
    [InlineData("SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);", "set_config", "set_config() of standard_conforming_strings")]
    [InlineData("SET LOCAL standard_conforming_strings = off;", "standard_conforming_strings", "SET LOCAL standard_conforming_strings")]
    [InlineData("SET standard_conforming_strings = maybe;", "standard_conforming_strings", "a value other than on/off")]
    [InlineData("SET standard_conforming_strings TO DEFAULT;", "standard_conforming_strings", "a value other than on/off")]
    [InlineData("SET standard_conforming_strings = ' off';", "standard_conforming_strings", "a value other than on/off")]
    [InlineData("RESET standard_conforming_strings;", "RESET", "RESET or DISCARD")]
    [InlineData("RESET ALL;", "RESET", "RESET or DISCARD")]
    [InlineData("DISCARD ALL;", "DISCARD", "RESET or DISCARD")]
    [InlineData("INSERT INTO public.customers VALUES ('1', pg_catalog.set_config('client_encoding', 'SJIS', false), 'x');", "set_config", "client encoding whose characters")]
    public void Rewrite_SettingTheLexerDoesNotFollow_IsRefused(string statement, string at, string reason)
    {
        var e = Fails(Create + statement + "\nSELECT 1;\n");

        Assert.Equal(Create.Length + statement.IndexOf(at, StringComparison.Ordinal), e.ByteOffset);
        Assert.Equal(2, e.LineNumber);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SET standard_conforming_strings = no;")]
    [InlineData("SET standard_conforming_strings = 0;")]
    [InlineData("SET \"standard_conforming_strings\" TO 'of';")]
    [InlineData("SET SESSION standard_conforming_strings = OFF;")]
    public void Rewrite_StandardConformingStringsOff_IsFollowedInEverySpellingTheServerTakes(string set)
    {
        // Off: \' is a quote inside the string, so "; \! x" is string content. Read as still on, the lexer used to see a
        // backslash outside quotes here (and, around a masked column, a string end where the server sees none).
        var dump = set + "\nSELECT 'it\\'s; \\! x';\n";
        Assert.Equal(dump, Text(Rewrite(Encoding.UTF8.GetBytes(dump), Rules("public.customers.email=upper"))));
    }

    /// <summary>pg_dump of a database whose standard_conforming_strings is off writes "= off" before its set_config()
    /// (found by CI: the name then read as an escape string and was refused).</summary>
    [Theory]
    [InlineData("on")]
    [InlineData("off")]
    public void Rewrite_SettingsPgDumpWrites_PassThrough(string standardConformingStrings)
    {
        var dump = $"SET client_encoding = 'UTF8';\nSET standard_conforming_strings = {standardConformingStrings};\n"
            + "SELECT pg_catalog.set_config('search_path', '', false);\nSELECT set_config('client_encoding', 'UTF8', false);\n"
            + Create + "INSERT INTO public.customers VALUES ('1', 'café', 'a_config@example.com');\n";

        // With standard_conforming_strings off a masked value is written as E'...' (the same value whatever the setting).
        var masked = standardConformingStrings == "on" ? "'A_CONFIG@EXAMPLE.COM'" : "E'A_CONFIG@EXAMPLE.COM'";
        Assert.Equal(dump.Replace("'a_config@example.com'", masked, StringComparison.Ordinal),
            Text(Rewrite(Encoding.UTF8.GetBytes(dump), Rules("public.customers.email=upper"))));
    }
}
