using System.Text;
using Replica.Config;
using Replica.Core.Tests.Fuzz;
using Replica.Core.Tests.Transformers;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Transformers;
using static Replica.Core.Tests.Fuzz.WideDumps;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// Rows wider than the rewriter's initial scratch arrays (16 columns): the first row of each new widest table once
/// reached the transformers as raw SQL literals, quotes included. Every value of these dumps is the same, so every
/// masked value must be the same too, in every row, every table and every INSERT form (<see cref="WideDumps"/>; the
/// same dumps seed the fuzz targets).
/// </summary>
public class WideRowTests
{
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
        var mySql = IsMySql(form);
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
}
