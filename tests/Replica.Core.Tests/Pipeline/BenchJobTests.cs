using System.Text;
using Replica.Bridges;
using Replica.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Sources;

namespace Replica.Core.Tests.Pipeline;

/// <summary>replica bench: the real pipeline on a synthetic dump, a discarding sink, the restore into the checker.</summary>
public sealed class BenchJobTests : IDisposable
{
    readonly string _directory = Path.Combine(Path.GetTempPath(), "replica-benchtest-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    LocalBridge Bridge() => new(_directory);

    [Fact]
    public async Task RunAsync_DiscardSink_RunsEveryStepAndStoresNothing()
    {
        var config = BenchJob.BuiltInConfig(_directory);
        var size = 4L << 20;
        var counts = new SyntheticDumpStream(new SyntheticOptions(size)).Counts;

        var result = await BenchJob.RunAsync(config, new BenchOptions(new SyntheticOptions(size)), bridge: null, CancellationToken.None);

        Assert.InRange(result.Dump.BytesIn, size * 0.95, size * 1.05);
        Assert.Equal(counts.Rows, result.Rows);
        Assert.True(result.TransformedValues > counts.Customers * 4, $"{result.TransformedValues} values transformed");
        Assert.True(result.Chunks >= 1);
        // Compressed and encrypted: fewer bytes than the SQL, but some.
        Assert.InRange(result.Dump.BytesOut, 1, result.Dump.BytesIn - 1);
        Assert.True(result.Dump.PeakRssBytes > 0 || !OperatingSystem.IsLinux());
        Assert.True(result.Dump.CpuSeconds > 0);
        Assert.Null(result.Restore);
        Assert.False(Directory.Exists(_directory) && Directory.EnumerateFileSystemEntries(_directory).Any(), "the discard sink wrote into the bridge directory");
    }

    [Theory]
    [InlineData(SqlDialect.PostgreSql, SyntheticFormat.Copy)]
    [InlineData(SqlDialect.PostgreSql, SyntheticFormat.Inserts)]
    [InlineData(SqlDialect.MySql, SyntheticFormat.Inserts)]
    public async Task RunAsync_BridgeAndRestore_CheckerSeesEveryRowAndTheUnmaskedColumnsUnchanged(SqlDialect dialect, SyntheticFormat format)
    {
        var config = BenchJob.BuiltInConfig(_directory);
        var size = 3L << 20;
        var counts = new SyntheticDumpStream(new SyntheticOptions(size) { Dialect = dialect, Format = format }).Counts;
        var bridge = Bridge();

        var result = await BenchJob.RunAsync(config, new BenchOptions(new SyntheticOptions(size) { Dialect = dialect, Format = format }) { Sink = BenchSink.Bridge, Restore = true },
            bridge, CancellationToken.None);

        var check = Assert.IsType<BenchCheck>(result.Check);
        Assert.True(check.Equal, check.Difference());
        Assert.Equal(counts.Rows, check.Rows);
        Assert.Equal(5, check.Restored.Count);
        var customers = Assert.Single(check.Restored, t => t.Table.EndsWith("customers", StringComparison.Ordinal));
        Assert.Equal(counts.Customers, customers.Rows);
        // Masked columns are not compared: the built-in config masks them.
        Assert.DoesNotContain("email", customers.Columns.Split(", "));
        Assert.Contains("id", customers.Columns.Split(", "));
        var restore = Assert.IsType<BenchPhase>(result.Restore);
        Assert.True(restore.BytesIn > 0);
        // The benchmark leaves nothing listed in the bridge.
        Assert.Empty(await bridge.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RunAsync_BridgeSinkWithoutRestore_StoresThenLeavesNothingListed()
    {
        var config = BenchJob.BuiltInConfig(_directory);
        var bridge = Bridge();

        var result = await BenchJob.RunAsync(config, new BenchOptions(new SyntheticOptions(2L << 20)) { Sink = BenchSink.Bridge }, bridge, CancellationToken.None);

        Assert.Contains(_directory, result.Sink);
        Assert.True(result.Dump.BytesOut > 0);
        Assert.Empty(await bridge.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task DigestAsync_OneUnmaskedValueChanged_DiffersInThatTableOnly()
    {
        var config = BenchJob.BuiltInConfig(_directory);
        var rules = DumpRequest.BuildRules(config);
        var sql = await ReadAllAsync(new SyntheticDumpStream(new SyntheticOptions(256 << 10)));
        var text = Encoding.UTF8.GetString(sql);
        // One product's price (unmasked) changes by a cent.
        var copy = text.IndexOf("COPY public.products", StringComparison.Ordinal);
        var row = text.IndexOf('\n', copy) + 1;
        var lastTab = text.LastIndexOf('\t', text.IndexOf('\n', row));
        var price = text[(lastTab + 1)..text.IndexOf('\n', row)];
        var changed = text[..(lastTab + 1)] + (price.EndsWith('1') ? price[..^1] + "2" : price[..^1] + "1") + text[text.IndexOf('\n', row)..];

        var expected = await BenchJob.DigestAsync(new MemoryStream(sql), rules, SqlDialect.PostgreSql, 1 << 20, CancellationToken.None);
        var restored = await BenchJob.DigestAsync(new MemoryStream(Encoding.UTF8.GetBytes(changed)), rules, SqlDialect.PostgreSql, 1 << 20, CancellationToken.None);

        var check = new BenchCheck(expected, restored);
        Assert.False(check.Equal);
        Assert.StartsWith("public.products: the unmasked columns", check.Difference());
        Assert.Equal(4, expected.Zip(restored).Count(pair => pair.First == pair.Second));
    }

    [Fact]
    public async Task DigestAsync_ARowMissing_SaysWhichTableAndHowMany()
    {
        var rules = DumpRequest.BuildRules(BenchJob.BuiltInConfig(_directory));
        var sql = Encoding.UTF8.GetString(await ReadAllAsync(new SyntheticDumpStream(new SyntheticOptions(256 << 10))));
        var copy = sql.IndexOf("COPY public.orders", StringComparison.Ordinal);
        var row = sql.IndexOf('\n', copy) + 1;
        var shorter = sql[..row] + sql[(sql.IndexOf('\n', row) + 1)..];

        var expected = await BenchJob.DigestAsync(new MemoryStream(Encoding.UTF8.GetBytes(sql)), rules, SqlDialect.PostgreSql, 1 << 20, CancellationToken.None);
        var restored = await BenchJob.DigestAsync(new MemoryStream(Encoding.UTF8.GetBytes(shorter)), rules, SqlDialect.PostgreSql, 1 << 20, CancellationToken.None);

        var orders = expected.Single(t => t.Table == "public.orders").Rows;
        Assert.Equal($"public.orders: generated {orders:N0} rows, restored {orders - 1:N0}", new BenchCheck(expected, restored).Difference());
    }

    [Fact]
    public async Task RunAsync_Samples_ComeOncePerIntervalWithGrowingCounters()
    {
        var samples = new List<BenchSample>();
        var config = BenchJob.BuiltInConfig(_directory);

        await BenchJob.RunAsync(config, new BenchOptions(new SyntheticOptions(48L << 20))
        {
            SampleInterval = TimeSpan.FromMilliseconds(20),
            Sample = sample =>
            {
                lock (samples)
                {
                    samples.Add(sample);
                }
            },
        }, bridge: null, CancellationToken.None);

        Assert.NotEmpty(samples);
        Assert.All(samples, s => Assert.Equal("dump", s.Phase));
        Assert.All(samples.Zip(samples.Skip(1)), pair => Assert.True(pair.Second.BytesIn >= pair.First.BytesIn && pair.Second.ElapsedSeconds > pair.First.ElapsedSeconds));
        Assert.All(samples, s => Assert.True(s.GcHeapBytes > 0));
        if (OperatingSystem.IsLinux())
        {
            Assert.All(samples, s => Assert.True(s.RssBytes > 1 << 20));
        }
    }

    [Fact]
    public async Task RunAsync_RestoreWithoutBridgeSink_IsAConfigError()
    {
        var config = BenchJob.BuiltInConfig(_directory);
        var error = await Assert.ThrowsAsync<ConfigException>(() =>
            BenchJob.RunAsync(config, new BenchOptions(new SyntheticOptions(1 << 20)) { Restore = true }, bridge: null, CancellationToken.None));
        Assert.Contains("--sink bridge", error.Message);
    }

    [Fact]
    public void BuiltInConfig_MasksThePersonalColumnsAndEncrypts()
    {
        var config = BenchJob.BuiltInConfig(_directory);
        var rules = DumpRequest.BuildRules(config);
        var customers = new TableName("public", "customers");
        foreach (var column in new[] { "first_name", "last_name", "email", "phone", "street", "birth_date", "profile" })
        {
            Assert.NotNull(rules.SpecFor(customers, column));
        }
        Assert.NotNull(rules.SpecFor(new TableName("public", "payments"), "card_number"));
        Assert.NotNull(rules.SpecFor(new TableName("public", "payments"), "iban"));
        Assert.NotNull(rules.SpecFor(new TableName("public", "orders"), "shipping_address"));
        Assert.Null(rules.SpecFor(customers, "id"));
        Assert.NotNull(config.Bridge.Encryption?.Key);
        // A new random key per run.
        Assert.NotEqual(config.Bridge.Encryption!.Key, BenchJob.BuiltInConfig(_directory).Bridge.Encryption!.Key);
    }

    static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var memory = new MemoryStream();
        await stream.CopyToAsync(memory);
        return memory.ToArray();
    }
}
