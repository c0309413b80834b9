using System.Buffers;
using System.Text;
using Replica.Clients;
using Replica.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Sources;
using Replica.Transformers;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// The MySQL twin of the PostgreSQL wide-table oracle: tables of 17 to 1,600 columns dumped by real mariadb-dump
/// (extended INSERTs, and --complete-insert one row per statement), masked and restored by the real client: every column
/// of every row held the same value, so every restored column must hold the same masked value.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlWideTableOracleTests(MariaDbServer server) : IDisposable
{
    // Named t0017 ... t1600: mariadb-dump writes tables in name order, so each table is wider than all before it.
    static readonly int[] s_widths = [17, 33, 65, 1600];
    readonly string _work = Directory.CreateTempSubdirectory("replica-mysql-wide-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData(DataFormat.Copy)] // mariadb-dump's default: extended INSERTs without a column list
    [InlineData(DataFormat.Inserts)]
    public async Task Rewrite_WideTables_MaskEveryColumnOfEveryRowAlike(DataFormat format)
    {
        const string value = "Ab1";
        var environment = new TransformerEnvironment(Encoding.UTF8.GetBytes("oracle-test-secret-0123456789"), "en");
        var masked = Mask(value, environment);
        Assert.NotEqual(value, masked);
        var rules = DumpRequest.BuildRules(new ReplicaConfig
        {
            Secret = "oracle-test-secret-0123456789",
            Tables = [new TableRule(TablePattern.Parse("*"), TableAction.Transform, [new ColumnRule(NamePattern.Any, TransformerConfig.Of("random"))])],
        });

        var source = await server.CreateDatabaseAsync();
        foreach (var width in s_widths)
        {
            var columns = Enumerable.Range(1, width).Select(i => $"c{i}").ToList();
            // MyISAM: InnoDB's row size limit does not allow 1,600 text columns.
            await server.ExecuteAsync(source,
                $"CREATE TABLE t{width:D4} ({string.Join(", ", columns.Select(c => c + " text"))}) ENGINE=MyISAM; " +
                $"INSERT INTO t{width:D4} VALUES {string.Join(", ", Enumerable.Repeat($"({string.Join(", ", columns.Select(_ => $"'{value}'"))})", 3))};");
        }
        var dump = await File.ReadAllBytesAsync(await DumpToFileAsync(source, new SourceOptions { DataFormat = format }));
        var maskedPath = Path.Combine(_work, "masked.sql");
        await File.WriteAllBytesAsync(maskedPath, Rewrite(dump, rules));
        var target = await server.CreateDatabaseAsync();
        await server.ExecuteFileAsync(target, maskedPath);

        foreach (var width in s_widths)
        {
            var allMasked = string.Join(" AND ", Enumerable.Range(1, width).Select(c => $"c{c} = '{masked}'"));
            var counts = await server.QueryAsync(target, $"SELECT COUNT(*), SUM({allMasked}) FROM t{width:D4}");
            Assert.True(counts[0] is ["3", "3"], $"t{width:D4} ({format}): {counts[0][1]} of {counts[0][0]} rows hold '{masked}' in every column");
        }
    }

    async Task<string> DumpToFileAsync(string db, SourceOptions config)
    {
        var path = Path.Combine(_work, "dump.sql");
        await using var source = new MysqlDumpSource(DatabaseUri.Parse(server.ConnectionUri(db)), config, MysqlTools.Find(ChildEnvironment.WithoutConfig));
        await source.PrepareAsync(CancellationToken.None);
        await using (var input = source.Open())
        await using (var output = File.Create(path))
        {
            await input.CopyToAsync(output);
        }
        await source.CompleteAsync(CancellationToken.None);
        return path;
    }

    static byte[] Rewrite(byte[] input, RewriteRules rules)
    {
        using var rewriter = new DumpRewriter(rules, dialect: SqlDialect.MySql);
        var output = new ArrayBufferWriter<byte>(input.Length + 4096);
        for (var i = 0; i < input.Length; i += 4093)
        {
            rewriter.Process(input.AsSpan(i, Math.Min(4093, input.Length - i)), output);
        }
        rewriter.Complete(output);
        return output.WrittenSpan.ToArray();
    }

    static string Mask(string value, TransformerEnvironment environment)
    {
        using var transformer = TransformerRegistry.Create(TransformerSpec.Of("random"),
            new ColumnInfo("", "t", "c") { Category = TypeCategory.Text, TypeName = "text" }, environment);
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(TransformResult.Value, transformer.Transform(Encoding.UTF8.GetBytes(value), false, EmptyRowContext.Instance, output));
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
