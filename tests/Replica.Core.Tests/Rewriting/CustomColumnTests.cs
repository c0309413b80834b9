using System.Buffers;
using System.Text;
using Replica.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Transformers;

namespace Replica.Core.Tests.Rewriting;

/// <summary>A custom command that breaks the one-line-in, one-line-out protocol fails the dump before its block counts.</summary>
public sealed class CustomColumnTests
{
    static RewriteRules CustomRules(string script, string table = "public.customers")
    {
        var environment = new TransformerEnvironment(Encoding.UTF8.GetBytes("test-secret-0123456789abcdef"));
        var spec = new TransformerConfig("custom", new Dictionary<string, object?> { ["command"] = new List<object?> { "/bin/sh", "-c", script } });
        var rule = new TableRule(TablePattern.Parse(table), TableAction.Transform, [new ColumnRule(NamePattern.Parse("email"), spec)]);
        return new RewriteRules([rule], [], (s, c) => TransformerRegistry.Create(DumpRequest.Bind(s), c, environment));
    }

    static readonly byte[] s_dump = Encoding.UTF8.GetBytes(
        "CREATE TABLE public.customers (\n    id integer,\n    email text\n);\n\n"
        + "COPY public.customers (id, email) FROM stdin;\n1\ta@example.com\n2\tb@example.com\n\\.\n\n"
        + "CREATE TABLE public.after (id integer);\n");

    [Fact]
    public void Rewrite_CustomCommandWithLeftoverLines_FailsAtTheEndOfTheCopyBlock()
    {
        // Answers each value, then one line more when its input ends: taken as answers, lines like it shift rows.
        using var rewriter = new DumpRewriter(CustomRules("while read l; do echo masked; done; echo leftover"));
        var output = new ArrayBufferWriter<byte>();
        var endOfBlock = Encoding.UTF8.GetString(s_dump).IndexOf("\\.\n", StringComparison.Ordinal) + 3;

        var error = Assert.Throws<TransformerException>(() => rewriter.Process(s_dump.AsSpan(0, endOfBlock), output));

        Assert.Contains("printed 1 line more than the 2 values it was given", error.Message);
        Assert.Contains("public.customers.email", error.Message);
    }

    [Theory]
    [InlineData(SqlDialect.PostgreSql, "INSERT INTO public.customers (id, email) VALUES ({0}, '{1}');\n", "INSERT INTO public.after (id) VALUES (1);\n")]
    [InlineData(SqlDialect.MySql, "INSERT INTO `customers` (`id`, `email`) VALUES ({0},'{1}');\n", "INSERT INTO `after` (`id`) VALUES (1);\n")]
    public void Rewrite_CustomCommandWithLeftoverLines_FailsWhenInsertsMoveToTheNextTable(SqlDialect dialect, string insert, string next)
    {
        using var rewriter = new DumpRewriter(CustomRules("while read l; do echo masked; done; echo leftover", dialect == SqlDialect.MySql ? "customers" : "public.customers"),
            dialect: dialect);
        var output = new ArrayBufferWriter<byte>();
        var rows = string.Format(System.Globalization.CultureInfo.InvariantCulture, insert, 1, "a@example.com")
            + string.Format(System.Globalization.CultureInfo.InvariantCulture, insert, 2, "b@example.com");
        rewriter.Process(Encoding.UTF8.GetBytes(rows), output);

        var error = Assert.Throws<TransformerException>(() => rewriter.Process(Encoding.UTF8.GetBytes(next), output));

        Assert.Contains("printed 1 line more than the 2 values it was given", error.Message);
    }

    [Fact]
    public void Rewrite_WellBehavedCustomCommand_MasksEveryRow()
    {
        using var rewriter = new DumpRewriter(CustomRules("while read l; do echo masked; done"));
        var output = new ArrayBufferWriter<byte>();
        rewriter.Process(s_dump, output);
        rewriter.Complete(output);

        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.Contains("1\tmasked\n2\tmasked\n\\.\n", text);
    }
}
