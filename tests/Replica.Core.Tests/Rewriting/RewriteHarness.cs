using System.Buffers;
using System.Text;
using Replica.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Transformers;

namespace Replica.Core.Tests.Rewriting;

/// <summary>Runs the rewriter over input split in chosen ways, and test transformers with obvious effects.</summary>
internal static class RewriteHarness
{
    public static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Lexing", "Fixtures", name));

    /// <summary>Rewrites <paramref name="input"/> fed in blocks that end at the given split points.</summary>
    public static byte[] Rewrite(byte[] input, RewriteRules? rules = null, IEnumerable<int>? splits = null, long maxUnitBytes = 256L << 20,
        SqlDialect dialect = SqlDialect.PostgreSql) =>
        Rewrite(input, out _, rules, splits, maxUnitBytes, dialect);

    public static byte[] Rewrite(byte[] input, out RewriteStatistics statistics, RewriteRules? rules = null, IEnumerable<int>? splits = null,
        long maxUnitBytes = 256L << 20, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        using var rewriter = new DumpRewriter(rules ?? RewriteRules.None, maxUnitBytes, dialect);
        statistics = rewriter.Statistics;
        var output = new ArrayBufferWriter<byte>();
        var start = 0;
        foreach (var split in splits ?? [])
        {
            rewriter.Process(input.AsSpan(start, split - start), output);
            start = split;
        }
        rewriter.Process(input.AsSpan(start), output);
        rewriter.Complete(output);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] RewriteInSegments(byte[] input, int segmentSize, RewriteRules? rules = null, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        var splits = new List<int>();
        for (var i = segmentSize; i < input.Length; i += segmentSize)
        {
            splits.Add(i);
        }
        return Rewrite(input, rules, splits, dialect: dialect);
    }

    /// <summary>Rules built from "schema.table.column=transformer" strings, using the test transformers below.</summary>
    public static RewriteRules Rules(params string[] columnRules) => Rules(columnRules, [], []);

    public static RewriteRules Rules(string[] columnRules, string[] dropTables, string[] skipTables, string[]? onlyTables = null)
    {
        var rules = new List<TableRule>();
        foreach (var r in columnRules)
        {
            var eq = r.LastIndexOf('=');
            var target = r[..eq];
            var dot = target.LastIndexOf('.');
            var table = TablePattern.Parse(target[..dot]);
            rules.Add(new TableRule(table, TableAction.Transform, [new ColumnRule(NamePattern.Parse(target[(dot + 1)..]), TransformerConfig.Of(r[(eq + 1)..]))]));
        }
        foreach (var t in dropTables)
        {
            rules.Add(new TableRule(TablePattern.Parse(t), TableAction.Drop, []));
        }
        foreach (var t in skipTables)
        {
            rules.Add(new TableRule(TablePattern.Parse(t), TableAction.SkipData, []));
        }
        var only = (onlyTables ?? []).Select(TablePattern.Parse).ToList();
        return new RewriteRules(rules, only, Create);
    }

    /// <summary>Rules of one table with the real transformers (the registry's, under the test secret), a column each.</summary>
    public static RewriteRules RealRules(string table, params (string Column, TransformerConfig Spec)[] columns) =>
        new([new TableRule(TablePattern.Parse(table), TableAction.Transform, [.. columns.Select(c => new ColumnRule(NamePattern.Parse(c.Column), c.Spec))])], [],
            (s, c) => TransformerRegistry.Create(DumpRequest.Bind(s), c, Replica.Core.Tests.Transformers.TransformerTestKit.Env));

    static Transformer Create(TransformerConfig spec, ColumnInfo column) => spec.Name switch
    {
        "upper" => new UpperTransformer(),
        "null" => new NullingTransformer(),
        "x" => new ConstantTransformer("x"),
        "tricky" => new ConstantTransformer("a\tb\nc\\d'e\"f\r"),
        "concat" => new ConcatTransformer(),
        "same" => new SameTransformer(),
        "count" => new CountingTransformer(),
        _ => throw new ConfigException($"unknown test transformer {spec.Name}"),
    };

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>The error rewriting <paramref name="dump"/> whole fails with, which must be the same at every split point.</summary>
    public static DumpFormatException Fails(string dump, RewriteRules rules, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        var bytes = Encoding.UTF8.GetBytes(dump);
        var whole = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, dialect: dialect));
        for (var split = 1; split < bytes.Length; split++)
        {
            var part = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, [split], dialect: dialect));
            Assert.Equal(whole.Message, part.Message);
        }
        return whole;
    }

    /// <summary>What rewriting <paramref name="dump"/> whole gives, as text.</summary>
    public static string Passes(string dump, RewriteRules rules, SqlDialect dialect = SqlDialect.PostgreSql) =>
        Text(Rewrite(Encoding.UTF8.GetBytes(dump), rules, dialect: dialect));

    sealed class UpperTransformer : Transformer
    {
        public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
        {
            if (isNull)
            {
                return TransformResult.Null;
            }
            var span = output.GetSpan(value.Length);
            for (var i = 0; i < value.Length; i++)
            {
                span[i] = value[i] is >= (byte)'a' and <= (byte)'z' ? (byte)(value[i] - 32) : value[i];
            }
            output.Advance(value.Length);
            return TransformResult.Value;
        }
    }

    /// <summary>Gives the decoded value back as a new value, so that it is decoded and encoded again.</summary>
    sealed class SameTransformer : Transformer
    {
        public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
        {
            if (isNull)
            {
                return TransformResult.Null;
            }
            output.Write(value);
            return TransformResult.Value;
        }
    }

    /// <summary>Writes how many values this instance has seen (state kept from value to value, like a custom command).</summary>
    sealed class CountingTransformer : Transformer
    {
        long _seen;

        public override bool CanRunInParallel => false;

        public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
        {
            _seen++;
            output.Write(Encoding.ASCII.GetBytes(_seen.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return TransformResult.Value;
        }
    }

    sealed class NullingTransformer : Transformer
    {
        public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output) => TransformResult.Null;
    }

    sealed class ConstantTransformer(string value) : Transformer
    {
        readonly byte[] _value = Encoding.UTF8.GetBytes(value);

        public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
        {
            output.Write(_value);
            return TransformResult.Value;
        }
    }

    /// <summary>Writes "&lt;id&gt;:&lt;email&gt;" from the row's other columns, like a template.</summary>
    sealed class ConcatTransformer : Transformer
    {
        public override IReadOnlyList<string> ReferencedColumns => ["id", "email"];

        public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, IBufferWriter<byte> output)
        {
            output.Write(row.GetReferenced(0, out _));
            output.Write(":"u8);
            output.Write(row.GetReferenced(1, out _));
            return TransformResult.Value;
        }
    }
}
