using System.Globalization;
using System.Text.RegularExpressions;

namespace Replica.IntegrationTests.Cli;

/// <summary>
/// `replica bench` as a user runs it, the real executable in a process of its own, so that its resident set is its own:
/// issue 12 §4's scale test (2 GiB through the pipeline, memory flat) and the command's options.
/// </summary>
public sealed partial class BenchCliTests : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [GeneratedRegex(@"peak RSS (\d+\.\d) MiB")]
    private static partial Regex PeakRss();

    /// <summary>
    /// 2 GiB of synthetic SQL through masking, zstd, AES-GCM and SHA-256 with the stored bytes discarded: the peak resident
    /// set stays under 160 MiB and the resident set at the end is no more than 10 % above what it was a quarter of the
    /// way in (the process's own memory does not grow with the dump; a smaller figure at the end is no growth).
    /// </summary>
    [Fact]
    public async Task Bench_TwoGiBDiscarded_PeakRssUnder160MiBAndFlat()
    {
        var csv = Path.Combine(_cli.WorkingDirectory, "run.csv");

        var result = await _cli.RunAsync("bench", "--size", "2GiB", "--csv", csv);

        Assert.True(result.ExitCode == 0, $"replica bench failed ({result.ExitCode}): {result.Stderr}");
        var peak = double.Parse(PeakRss().Match(result.Stdout).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(peak <= 160, $"peak RSS {peak} MiB > 160 MiB:\n{result.Stdout}");
        var samples = File.ReadAllLines(csv).Skip(1).Select(line => line.Split(','))
            .Where(f => f[1] == "dump")
            .Select(f => (BytesIn: long.Parse(f[2], CultureInfo.InvariantCulture), Rss: double.Parse(f[4], CultureInfo.InvariantCulture)))
            .ToList();
        Assert.True(samples.Count >= 4, $"{samples.Count} samples in {csv}");
        var quarter = samples.First(s => s.BytesIn >= (2L << 30) / 4);
        var end = samples[^1];
        Assert.True(end.BytesIn >= (2L << 30) * 3 / 4, $"the last sample is at {end.BytesIn} bytes");
        Assert.True(end.Rss <= quarter.Rss * 1.10,
            $"RSS grew from {quarter.Rss} MiB at {quarter.BytesIn} bytes to {end.Rss} MiB at {end.BytesIn} bytes:\n{string.Join('\n', File.ReadAllLines(csv))}");
    }

    [Fact]
    public async Task Bench_SinkBridgeRestore_ChecksAndLeavesNoDumpInTheBridge()
    {
        var config = _cli.WriteConfig($"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            bridge:
              local:
                path: {_cli.BridgePath}
              compression: {"{"} algorithm: zstd, level: 3 {"}"}
            transformers:
              - table: public.customers
                columns:
                  email: email
            """, "bench.yaml");

        var result = await _cli.RunAsync("bench", "-c", config, "--size", "6MiB", "--sink", "bridge", "--restore", "--format", "inserts");

        Assert.True(result.ExitCode == 0, $"replica bench failed ({result.ExitCode}): {result.Stderr}\n{result.Stdout}");
        Assert.Matches(@"check:    ok: [\d,]+ rows in 5 tables", result.Stdout);
        Assert.Contains("restore:", result.Stdout);
        Assert.Contains($"local directory {_cli.BridgePath}", result.Stdout);
        var list = await _cli.RunAsync("list", "-c", config, "--json");
        Assert.Equal("[]", list.Stdout.Trim());
    }

    [Fact]
    public async Task BenchGenerate_WritesADumpThatReplicaDumps()
    {
        var sql = Path.Combine(_cli.WorkingDirectory, "shop.sql");

        var generated = await _cli.RunAsync("bench", "generate", "--size", "2MiB", "-o", sql, "--seed", "7");
        var again = await _cli.RunAsync("bench", "generate", "--size", "2MiB", "--seed", "7");

        Assert.True(generated.ExitCode == 0, generated.Stderr);
        Assert.InRange(new FileInfo(sql).Length, 1L << 20, 3L << 20);
        Assert.Equal(File.ReadAllText(sql), again.Stdout);
        var config = _cli.WriteConfig($"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            bridge:
              local:
                path: {_cli.BridgePath}
            transformers:
              - table: public.payments
                columns:
                  card_number: credit-card
            """, "generated.yaml");
        var dump = await _cli.RunAsync("dump", "-c", config, "--input", sql);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var restored = await _cli.RunAsync("restore", "-c", config, "--latest");
        Assert.Equal(0, restored.ExitCode);
        Assert.Contains("COPY public.payments (id, order_id, card_number, iban, amount, paid_at) FROM stdin;", restored.Stdout);
        // The cards were masked, nothing else changed: the same length, other bytes.
        Assert.Equal(File.ReadAllText(sql).Length, restored.Stdout.Length);
        Assert.NotEqual(File.ReadAllText(sql), restored.Stdout);
    }

    [Theory]
    [InlineData(new[] { "bench", "--size", "1MiB", "--dialect", "MySql" }, "--format inserts")]
    [InlineData(new[] { "bench", "--size", "0" }, "--size 0")]
    [InlineData(new[] { "bench", "--size", "ten" }, "--size ten")]
    [InlineData(new[] { "bench", "--size", "1MiB", "--restore" }, "--sink bridge")]
    public async Task Bench_BadOptions_ExitTwoWithTheReason(string[] arguments, string expected)
    {
        var result = await _cli.RunAsync(arguments);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
    }
}
