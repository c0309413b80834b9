using System.Buffers;
using System.Text;
using Replica.Config;
using Replica.IntegrationTests.Postgres;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Transformers;

namespace Replica.IntegrationTests.Oracle;

/// <summary>
/// The oracle: real pg_dump output of a database full of awkward data, run through the rewriter, restored by real psql
/// into a real PostgreSQL. Without rules the output must be pg_dump's bytes; with rules psql must restore it, masked
/// columns must hold none of the originals, and every other column must equal the source.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DumpOracleTests(PostgresServer server)
{
    static readonly string[][] s_dumpModes =
    [
        [],
        ["--inserts"],
        ["--column-inserts"],
        ["--rows-per-insert=7", "--column-inserts"],
    ];

    /// <summary>PII columns of awkward.sql (see its header), with the transformer each gets.</summary>
    static readonly (string Table, string Column, string Transformer)[] s_pii =
    [
        ("public.customers", "first_name", "first-name"),
        ("public.customers", "last_name", "last-name"),
        ("public.customers", "email", "email"),
        ("public.customers", "phone", "phone-number"),
        ("public.orders", "email_at_order", "email"),
        ("public.employees", "full_name", "full-name"),
        ("public.employees", "email", "email"),
        ("\"Mixed Case\".\"Customers\"", "\"First Name\"", "first-name"),
        ("\"Mixed Case\".\"Customers\"", "\"Last Name\"", "last-name"),
        ("\"Mixed Case\".\"Customers\"", "\"E-Mail\"", "email"),
        ("\"Mixed Case\".\"Customers\"", "\"Phone #\"", "phone-number"),
    ];

    async Task<string> AwkwardDatabaseAsync()
    {
        var db = await server.CreateDatabaseAsync();
        var load = await server.RunPsqlFileAsync(db, TestPaths.Fixture("awkward.sql"));
        Assert.Equal(0, load.ExitCode);
        return db;
    }

    [Fact]
    public async Task Rewrite_NoRules_IsByteIdenticalToPgDump()
    {
        var db = await AwkwardDatabaseAsync();
        var dir = TestPaths.CreateTempDirectory();
        try
        {
            foreach (var mode in s_dumpModes)
            {
                var path = Path.Combine(dir, "dump.sql");
                await server.PgDumpToFileAsync(db, path, mode);
                var original = await File.ReadAllBytesAsync(path);
                foreach (var block in new[] { 1 << 20, 4093, 61 })
                {
                    var rewritten = Rewrite(original, RewriteRules.None, block);
                    Assert.True(original.AsSpan().SequenceEqual(rewritten), $"pg_dump {string.Join(' ', mode)} in blocks of {block} bytes changed");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Rewrite_MaskedDump_RestoresWithPsqlAndMasksOnlyThePiiColumns()
    {
        var source = await AwkwardDatabaseAsync();
        var dir = TestPaths.CreateTempDirectory();
        try
        {
            foreach (var mode in s_dumpModes)
            {
                var path = Path.Combine(dir, "dump.sql");
                await server.PgDumpToFileAsync(source, path, mode);
                // The reference is pg_dump's own output restored: --inserts loses what it loses (e.g. real -0 becomes 0)
                // whether Replica is there or not.
                var expected = await server.CreateDatabaseAsync();
                Assert.Equal(0, (await server.RunPsqlFileAsync(expected, path)).ExitCode);
                var masked = Rewrite(await File.ReadAllBytesAsync(path), PiiRules(), 4093);
                var maskedPath = Path.Combine(dir, "masked.sql");
                await File.WriteAllBytesAsync(maskedPath, masked);

                var target = await server.CreateDatabaseAsync();
                var restore = await server.RunPsqlFileAsync(target, maskedPath, onErrorStop: true, singleTransaction: true);
                Assert.True(restore.ExitCode == 0, $"psql failed on the masked dump (pg_dump {string.Join(' ', mode)}): {restore.Stderr}");
                await AssertMaskedAsync(expected, target, string.Join(' ', mode));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    async Task AssertMaskedAsync(string source, string target, string mode)
    {
        var tables = await server.ListTablesAsync(source);
        Assert.Equal(tables, await server.ListTablesAsync(target));
        foreach (var table in tables)
        {
            var masked = s_pii.Where(p => p.Table == table).Select(p => p.Column).ToList();
            var columns = await ColumnsAsync(source, table);
            var kept = columns.Where(c => !masked.Contains(c)).ToList();
            if (kept.Count > 0)
            {
                // Compared as text: json, point and such have no ordering operator.
                var list = string.Join(", ", kept.Select(c => $"{c}::text"));
                var keptSql = $"SELECT {list} FROM {table} ORDER BY {list}";
                var expected = await server.QueryAsync(source, keptSql);
                var actual = await server.QueryAsync(target, keptSql);
                Assert.True(expected.Count == actual.Count, $"{table} ({mode}): {expected.Count} rows in the source, {actual.Count} restored");
                for (var i = 0; i < expected.Count; i++)
                {
                    Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"{table} ({mode}): unmasked columns of sorted row {i + 1} differ: expected [{string.Join(", ", expected[i])}], found [{string.Join(", ", actual[i])}]");
                }
            }
            else
            {
                var count = $"SELECT count(*) FROM {table}";
                Assert.Equal((await server.QueryAsync(source, count))[0][0], (await server.QueryAsync(target, count))[0][0]);
            }
            foreach (var column in masked)
            {
                var sql = $"SELECT DISTINCT {column}::text FROM {table} WHERE {column} IS NOT NULL AND {column}::text <> ''";
                var originals = (await server.QueryAsync(source, sql)).Select(r => r[0]).ToHashSet();
                var restored = (await server.QueryAsync(target, sql)).Select(r => r[0]).ToList();
                Assert.NotEmpty(restored);
                var leaked = restored.Where(originals.Contains).ToList();
                Assert.True(leaked.Count == 0, $"{table}.{column} ({mode}) still holds original values: {string.Join(", ", leaked)}");
                // NULL stays NULL: the masked column has as many NULLs as the source.
                var nulls = $"SELECT count(*) FROM {table} WHERE {column} IS NULL";
                Assert.Equal((await server.QueryAsync(source, nulls))[0][0], (await server.QueryAsync(target, nulls))[0][0]);
            }
        }
    }

    async Task<List<string>> ColumnsAsync(string db, string table)
    {
        var rows = await server.QueryAsync(db,
            $"SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = '{table.Replace("'", "''")}'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum");
        return rows.Select(r => r[0]!).ToList();
    }

    static RewriteRules PiiRules()
    {
        var rules = s_pii
            .GroupBy(p => p.Table)
            .Select(g => new TableRule(TablePattern.Parse(g.Key), TableAction.Transform,
                g.Select(p => new ColumnRule(NamePattern.Parse(p.Column), TransformerConfig.Of(p.Transformer))).ToList()))
            .ToList();
        // As `replica dump` builds them; a dump of one table leaves the other rules unmatched, which only warns here.
        return DumpRequest.BuildRules(new ReplicaConfig { Secret = "oracle-test-secret-0123456789", Tables = rules, UnmatchedRules = UnmatchedRules.Warn });
    }

    internal static byte[] Rewrite(byte[] input, RewriteRules rules, int blockSize)
    {
        using var rewriter = new DumpRewriter(rules);
        var output = new ArrayBufferWriter<byte>(input.Length + 4096);
        for (var i = 0; i < input.Length; i += blockSize)
        {
            rewriter.Process(input.AsSpan(i, Math.Min(blockSize, input.Length - i)), output);
        }
        rewriter.Complete(output);
        return output.WrittenSpan.ToArray();
    }
}
