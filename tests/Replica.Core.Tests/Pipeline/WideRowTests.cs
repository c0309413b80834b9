using System.Text;
using Replica.Config;
using Replica.Core.Tests.Transformers;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Transformers;
using static Replica.Core.Tests.Pipeline.RewriteHarness;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// Rows wider than the rewriter's initial scratch arrays (16 columns): the first row of each new widest table once
/// reached the transformers as raw SQL literals, quotes included. Every value of these dumps is the same, so every
/// masked value must be the same too, in every row, every table and every INSERT form.
/// </summary>
public class WideRowTests
{
    static readonly int[] s_widths = [17, 33, 65, 1600];
    const int Rows = 3;
    const string Placeholder = "\u0001";

    public enum Form
    {
        PgCopy,
        PgInserts,
        PgColumnInserts,
        PgRowsPerInsert,
        MySqlExtendedInsert,
        MySqlCompleteInsert,
    }

    public static TheoryData<Form, string> Cases()
    {
        var data = new TheoryData<Form, string>();
        foreach (var form in Enum.GetValues<Form>())
        {
            foreach (var transformer in new[] { "hash", "random", "keep-first-char", "last-name", "date-shift" })
            {
                data.Add(form, transformer);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rewrite_WideRows_MaskTheSameValueIdenticallyInEveryRow(Form form, string transformer)
    {
        var isDate = transformer == "date-shift";
        var value = isDate ? "2024-01-31" : "Smith";
        var mySql = form is Form.MySqlExtendedInsert or Form.MySqlCompleteInsert;
        var type = isDate ? "date" : "text";
        var category = isDate ? TypeCategory.Date : TypeCategory.Text;
        using var alone = TransformerTestKit.Create(TransformerTestKit.Spec(transformer), new ColumnInfo("public", "t", "c") { Category = category, TypeName = type });
        var masked = alone.Apply(value)!;
        Assert.NotEqual(value, masked);
        Assert.DoesNotContain('\'', masked);
        Assert.DoesNotContain('\\', masked);

        var template = Dump(form, type);
        var input = Encoding.UTF8.GetBytes(template.Replace(Placeholder, Literal(form, value), StringComparison.Ordinal));
        var expected = template.Replace(Placeholder, Literal(form, masked), StringComparison.Ordinal);
        var rules = new RewriteRules(
            [new TableRule(TablePattern.Parse("*.*"), TableAction.Transform, [new ColumnRule(NamePattern.Any, TransformerConfig.Of(transformer))])],
            [],
            (spec, column) => TransformerRegistry.Create(DumpRequest.Bind(spec), column, TransformerTestKit.Env));

        var output = Text(Rewrite(input, rules, dialect: mySql ? SqlDialect.MySql : SqlDialect.PostgreSql));

        Assert.Equal(expected, output);
    }

    static string Literal(Form form, string value) => form == Form.PgCopy ? value : $"'{value}'";

    /// <summary>A dump of one table per width, ascending, each with <see cref="Rows"/> rows of <see cref="Placeholder"/> values.</summary>
    static string Dump(Form form, string type)
    {
        var sb = new StringBuilder();
        var mySql = form is Form.MySqlExtendedInsert or Form.MySqlCompleteInsert;
        sb.Append(mySql ? "-- MariaDB dump\n\n" : "SET standard_conforming_strings = on;\n\n");
        foreach (var width in s_widths)
        {
            var names = Enumerable.Range(1, width).Select(i => mySql ? $"`c{i}`" : $"c{i}").ToList();
            var table = mySql ? $"`t{width}`" : $"public.t{width}";
            sb.Append($"CREATE TABLE {table} (\n    {string.Join($" {type},\n    ", names)} {type}\n){(mySql ? " ENGINE=InnoDB" : "")};\n\n");
            var tuple = "(" + string.Join(mySql ? "," : ", ", Enumerable.Repeat(Placeholder, width)) + ")";
            var columnList = string.Join(", ", names);
            switch (form)
            {
                case Form.PgCopy:
                    sb.Append($"COPY {table} ({columnList}) FROM stdin;\n");
                    for (var r = 0; r < Rows; r++)
                    {
                        sb.Append(string.Join('\t', Enumerable.Repeat(Placeholder, width))).Append('\n');
                    }
                    sb.Append("\\.\n\n");
                    break;
                case Form.PgInserts:
                    for (var r = 0; r < Rows; r++)
                    {
                        sb.Append($"INSERT INTO {table} VALUES {tuple};\n");
                    }
                    break;
                case Form.PgColumnInserts:
                    for (var r = 0; r < Rows; r++)
                    {
                        sb.Append($"INSERT INTO {table} ({columnList}) VALUES {tuple};\n");
                    }
                    break;
                case Form.PgRowsPerInsert:
                    sb.Append($"INSERT INTO {table} VALUES\n\t{string.Join(",\n\t", Enumerable.Repeat(tuple, Rows))};\n");
                    break;
                case Form.MySqlExtendedInsert:
                    sb.Append($"INSERT INTO {table} VALUES {string.Join(',', Enumerable.Repeat(tuple, Rows))};\n");
                    break;
                case Form.MySqlCompleteInsert:
                    sb.Append($"INSERT INTO {table} ({columnList}) VALUES {string.Join(',', Enumerable.Repeat(tuple, Rows))};\n");
                    break;
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
