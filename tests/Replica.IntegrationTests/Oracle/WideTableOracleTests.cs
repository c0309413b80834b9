using System.Buffers;
using System.Text;
using Replica.Config;
using Replica.IntegrationTests.Postgres;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Transformers;

namespace Replica.IntegrationTests.Oracle;

/// <summary>
/// Tables wider than the rewriter's initial 16 columns (up to PostgreSQL's limit of 1,600), dumped by real pg_dump in
/// every data mode, masked, and restored by real psql: every column of every row held the same value, so every column
/// of every restored row must hold the same masked value (the first row of each new widest table once got its SQL
/// literals, quotes included, as the value).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class WideTableOracleTests(PostgresServer server)
{
    // Named t0017 ... t1600: pg_dump writes tables in name order, so each table is wider than all before it.
    static readonly int[] s_widths = [17, 33, 65, 1600];

    [Fact]
    public async Task Rewrite_WideTablesInEveryDumpMode_MaskEveryColumnOfEveryRowAlike()
    {
        const string value = "Ab1"; // short: 1,600 of them must fit one 8 KiB heap page
        var environment = new TransformerEnvironment(Encoding.UTF8.GetBytes("oracle-test-secret-0123456789"), "en");
        var masked = Mask(value, environment);
        Assert.NotEqual(value, masked);
        var rules = DumpRequest.BuildRules(new ReplicaConfig
        {
            Secret = "oracle-test-secret-0123456789",
            Tables = [new TableRule(TablePattern.Parse("public.*"), TableAction.Transform, [new ColumnRule(NamePattern.Any, TransformerConfig.Of("random"))])],
        });

        var source = await server.CreateDatabaseAsync();
        foreach (var width in s_widths)
        {
            var columns = Enumerable.Range(1, width).Select(i => $"c{i}").ToList();
            await server.ExecuteAsync(source,
                $"CREATE TABLE public.t{width:D4} ({string.Join(", ", columns.Select(c => c + " text"))}); " +
                $"INSERT INTO public.t{width:D4} SELECT {string.Join(", ", columns.Select(_ => $"'{value}'"))} FROM generate_series(1, 3);");
        }
        var dir = TestPaths.CreateTempDirectory();
        try
        {
            string[][] modes = [[], ["--inserts"], ["--column-inserts"], ["--rows-per-insert=2"]];
            foreach (var mode in modes)
            {
                var path = Path.Combine(dir, "dump.sql");
                await server.PgDumpToFileAsync(source, path, mode);
                var maskedPath = Path.Combine(dir, "masked.sql");
                await File.WriteAllBytesAsync(maskedPath, DumpOracleTests.Rewrite(await File.ReadAllBytesAsync(path), rules, 4093));
                var target = await server.CreateDatabaseAsync();
                var restore = await server.RunPsqlFileAsync(target, maskedPath, onErrorStop: true, singleTransaction: true);
                Assert.True(restore.ExitCode == 0, $"psql failed on the masked dump (pg_dump {string.Join(' ', mode)}): {restore.Stderr}");
                foreach (var width in s_widths)
                {
                    var array = string.Join(", ", Enumerable.Range(1, width).Select(i => $"c{i}"));
                    var values = await server.QueryAsync(target,
                        $"SELECT v, count(*) FROM public.t{width:D4}, unnest(ARRAY[{array}]) AS v GROUP BY v ORDER BY v");
                    Assert.True(values.Count == 1 && values[0][0] == masked && values[0][1] == (3 * width).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        $"t{width:D4}, pg_dump {string.Join(' ', mode)}: expected {3 * width} x '{masked}', found {string.Join(", ", values.Select(v => $"{v[1]} x '{v[0]}'"))}");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static string Mask(string value, TransformerEnvironment environment)
    {
        using var transformer = TransformerRegistry.Create(TransformerSpec.Of("random"),
            new ColumnInfo("public", "t", "c") { Category = TypeCategory.Text, TypeName = "text" }, environment);
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(TransformResult.Value, transformer.Transform(Encoding.UTF8.GetBytes(value), false, EmptyRowContext.Instance, output));
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
