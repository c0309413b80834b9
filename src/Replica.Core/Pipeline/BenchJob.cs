using System.Diagnostics;
using System.Security.Cryptography;
using Replica.Bridges;
using Replica.Config;
using Replica.Lexing;
using Replica.Rewriting;
using Replica.Sources;

namespace Replica.Pipeline;

/// <summary>Where <c>replica bench</c> puts the stored bytes.</summary>
public enum BenchSink
{
    /// <summary>Every step runs (chunking, compression, encryption, SHA-256), then the chunk is dropped: for sizes the disk cannot hold.</summary>
    Discard,

    /// <summary>Chunks go into the configured bridge (a temp directory with the built-in config), as a dump would.</summary>
    Bridge,
}

/// <summary>What <c>replica bench</c> runs: the pipeline on the synthetic dump <paramref name="Input"/> describes.</summary>
public sealed record BenchOptions(SyntheticOptions Input)
{
    public BenchSink Sink { get; init; } = BenchSink.Discard;

    /// <summary>After the dump, restore it as a stream into a checker (needs <see cref="BenchSink.Bridge"/>).</summary>
    public bool Restore { get; init; }

    /// <summary>Hears a <see cref="BenchSample"/> every <see cref="SampleInterval"/> while a phase runs (the CSV time series).</summary>
    public Action<BenchSample>? Sample { get; init; }

    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// One point of the time series: <paramref name="BytesIn"/> read by the phase so far (dump: SQL read; restore: SQL written
/// into the checker), <paramref name="BytesOut"/> (dump: bytes stored after compression and encryption; restore: the
/// same count as in), the process's resident set and managed heap, and the throughput since the previous sample.
/// </summary>
public sealed record BenchSample(double ElapsedSeconds, string Phase, long BytesIn, long BytesOut, long RssBytes, long GcHeapBytes, double MiBPerSecond, double CpuSeconds)
{
    /// <summary>
    /// The memory the GC holds from the system (as of its last collection): with <see cref="GcHeapBytes"/> and the
    /// resident set it tells what grows, the managed heap, the GC's free space, or native memory.
    /// </summary>
    public long GcCommittedBytes { get; init; }
}

/// <summary>One phase's figures: wall and CPU seconds (user + system, the whole process), bytes in and out, the peak resident set during the phase.</summary>
public sealed record BenchPhase(double WallSeconds, double CpuSeconds, long BytesIn, long BytesOut, long PeakRssBytes)
{
    public double MiBPerSecond => BytesIn / 1048576.0 / Math.Max(WallSeconds, 1e-9);

    public double CpuSecondsPerGiB => CpuSeconds / Math.Max(BytesIn / 1073741824.0, 1e-12);
}

/// <summary>What the checker found: rows per table and a digest of the columns no rule masks, for the generated and the restored SQL.</summary>
public sealed record BenchCheck(IReadOnlyList<TableDigest> Expected, IReadOnlyList<TableDigest> Restored)
{
    public bool Equal => Expected.SequenceEqual(Restored);

    public long Rows => Restored.Sum(t => t.Rows);

    /// <summary>The first difference, as a user would read it; null when equal.</summary>
    public string? Difference()
    {
        foreach (var expected in Expected)
        {
            var restored = Restored.FirstOrDefault(r => r.Table == expected.Table);
            if (restored is null)
            {
                return $"{expected.Table}: generated {expected.Rows:N0} rows, restored none";
            }
            if (restored.Rows != expected.Rows)
            {
                return $"{expected.Table}: generated {expected.Rows:N0} rows, restored {restored.Rows:N0}";
            }
            if (restored != expected)
            {
                return $"{expected.Table}: the unmasked columns ({string.Join(", ", expected.Columns)}) differ from the generated ones";
            }
        }
        return Restored.FirstOrDefault(r => Expected.All(e => e.Table != r.Table)) is { } extra ? $"{extra.Table}: restored but never generated" : null;
    }
}

/// <summary>The outcome of <c>replica bench</c>.</summary>
public sealed record BenchResult(string Input, string Sink, BenchPhase Dump, int Chunks, long Rows, long TransformedValues)
{
    public BenchPhase? Restore { get; init; }

    public BenchCheck? Check { get; init; }

    /// <summary>Stored bytes / SQL bytes read.</summary>
    public double StoredRatio => Dump.BytesOut / (double)Math.Max(1, Dump.BytesIn);
}

/// <summary>
/// <c>replica bench</c>: the real dump pipeline (lexer, the config's transformers, compression, encryption, chunking,
/// SHA-256) on a synthetic dump of a given size (<see cref="SyntheticSource"/>), measured from inside the process:
/// throughput, CPU seconds per GiB, peak resident set (Linux: /proc/self/status, reset between phases), chunks and
/// ratios; then, on request, the dump restored as a stream into a checker that counts rows and digests the columns no
/// rule masks, compared with the same digest of the generated SQL. Nothing here reads a database.
/// </summary>
public static partial class BenchJob
{
    /// <summary>The built-in config's secret and bridge come from here; the key is random per run and never shown.</summary>
    const string BuiltInYaml = """
        # replica bench's built-in config: the synthetic dump's personal columns masked, zstd 1, AES-256-GCM.
        secret: ${REPLICA_BENCH_SECRET}
        locale: en
        bridge:
          local:
            path: ${REPLICA_BENCH_BRIDGE}
          compression: { algorithm: zstd, level: 1 }
          encryption: { key: "${REPLICA_BENCH_KEY}" }
        transformers:
          - table: public.customers
            columns:
              first_name: first-name
              last_name: last-name
              email: email
              phone: phone-number
              street: street-address
              birth_date: { transformer: date-shift, options: { days: 365 } }
              profile: { transformer: json, options: { paths: { $.contact.email: email, $.contact.phone: phone-number } } }
          - table: public.orders
            columns:
              shipping_address: street-address
          - table: public.payments
            columns:
              card_number: credit-card
              iban: random
        """;

    /// <summary>
    /// The config <c>replica bench</c> uses without -c: masks the synthetic dump's personal columns, zstd level 1,
    /// AES-256-GCM with a random key, a local bridge in <paramref name="bridgeDirectory"/>.
    /// </summary>
    public static ReplicaConfig BuiltInConfig(string bridgeDirectory)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["REPLICA_BENCH_SECRET"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)),
            ["REPLICA_BENCH_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["REPLICA_BENCH_BRIDGE"] = bridgeDirectory,
        };
        return ConfigLoader.Parse(BuiltInYaml, "(replica bench built-in config)", [.. Transformers.TransformerRegistry.All.Select(t => t.Name)], values.GetValueOrDefault);
    }

    /// <summary>
    /// Runs the benchmark with <paramref name="config"/>'s transformers and bridge settings. With
    /// <see cref="BenchSink.Bridge"/> the dump is stored in <paramref name="bridge"/> under a name of its own and deleted
    /// at the end (it is synthetic data, and a benchmark leaves nothing behind).
    /// </summary>
    public static async Task<BenchResult> RunAsync(ReplicaConfig config, BenchOptions options, IBridge? bridge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        var input = options.Input;
        Check(input);
        if (options.Restore && options.Sink != BenchSink.Bridge)
        {
            throw new ConfigException("--restore reads the dump back from the bridge: use it with --sink bridge");
        }
        if (options.Sink == BenchSink.Bridge && bridge is null)
        {
            throw new ArgumentNullException(nameof(bridge), "--sink bridge needs a bridge");
        }
        var rules = DumpRequest.BuildRules(config);
        var source = new SyntheticSource(input);
        var metered = new MeteredBridge(options.Sink == BenchSink.Bridge ? bridge : null);
        var name = "bench-" + DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var rewriter = new DumpRewriter(rules, config.MaxRowBytes, input.Dialect);

        var meter = new Meter(options);
        var stored = false;
        try
        {
            DumpResult dumped;
            BenchPhase dumpPhase;
            using (meter.Start("dump", () => (rewriter.Statistics.BytesIn, metered.BytesStored)))
            {
                dumped = await DumpJob.RunAsync(source, rewriter, metered, name, config.Bridge, cancellationToken).ConfigureAwait(false);
                stored = options.Sink == BenchSink.Bridge;
                dumpPhase = meter.Stop(rewriter.Statistics.BytesIn, metered.BytesStored);
            }
            var result = new BenchResult(source.Description, metered.Description, dumpPhase, metered.Chunks, dumped.Statistics.Rows, dumped.Statistics.TransformedValues);
            if (!options.Restore)
            {
                return result;
            }
            // The restore is measured from a collected heap: what the dump left behind (garbage, the GC's free space) is
            // not the restore's, and a `replica restore` runs in a process of its own. Pooled buffers stay pooled (the
            // restore reuses them), so the phase still carries more than a fresh process would.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            var checker = new CheckDestination(rules, input.Dialect, config.MaxRowBytes);
            await using (checker.ConfigureAwait(false))
            {
                var counter = new RestoreCounter();
                using (meter.Start("restore", () => (counter.Bytes, counter.Bytes)))
                {
                    await RestoreJob.RunAsync(bridge!, name, checker, config.Bridge, cancellationToken, counter, config.MaxRowBytes).ConfigureAwait(false);
                    result = result with { Restore = meter.Stop(counter.Bytes, counter.Bytes) };
                }
            }
            // The reference: the same generator's SQL through the same checker, outside the measured phases.
            var expected = await DigestAsync(source.Open(), rules, input.Dialect, config.MaxRowBytes, cancellationToken).ConfigureAwait(false);
            return result with { Check = new BenchCheck(expected, checker.Digest) };
        }
        finally
        {
            // A dump that failed was removed by its writer; a complete one is deleted here.
            if (stored)
            {
                await bridge!.DeleteAsync(name, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>What a synthetic dump cannot be (<see cref="ConfigException"/>): empty, or MySQL in COPY form.</summary>
    public static void Check(SyntheticOptions input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Size <= 0)
        {
            throw new ConfigException($"--size must be more than 0 bytes, not {input.Size}");
        }
        if (input.Dialect == SqlDialect.MySql && input.Format == SyntheticFormat.Copy)
        {
            throw new ConfigException("MySQL dumps have no COPY blocks: use --format inserts with --dialect MySql");
        }
    }

    /// <summary>The current and peak resident set of this process in bytes (Linux; 0 elsewhere).</summary>
    public static (long Current, long Peak) ResidentSet()
    {
        long current = 0, peak = 0;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    current = Kibibytes(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = Kibibytes(line);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return (current, Math.Max(current, peak));

        static long Kibibytes(string line) =>
            long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>
    /// Times one phase at a time: wall, CPU of the whole process, peak resident set (the kernel's high-water mark is
    /// reset at the start of each phase, https://docs.kernel.org/filesystems/proc.html "clear_refs"; where that is not
    /// allowed the samples' maximum stands in), and a sample every interval.
    /// </summary>
    sealed class Meter(BenchOptions options)
    {
        readonly Stopwatch _total = Stopwatch.StartNew();
        Stopwatch _phase = new();
        TimeSpan _cpuAtStart;
        long _peakSampled;
        bool _peakReset;

        public IDisposable Start(string phase, Func<(long In, long Out)> counters)
        {
            _peakReset = TryResetPeak();
            _peakSampled = ResidentSet().Current;
            _cpuAtStart = Environment.CpuUsage.TotalTime;
            _phase = Stopwatch.StartNew();
            var stop = new CancellationTokenSource();
            var sampling = Task.Run(() => SampleAsync(phase, counters, stop.Token));
            return new Stopper(stop, sampling);
        }

        public BenchPhase Stop(long bytesIn, long bytesOut)
        {
            _phase.Stop();
            var cpu = Environment.CpuUsage.TotalTime - _cpuAtStart;
            var (current, peak) = ResidentSet();
            var phasePeak = _peakReset ? peak : Math.Max(_peakSampled, current);
            return new BenchPhase(_phase.Elapsed.TotalSeconds, cpu.TotalSeconds, bytesIn, bytesOut, phasePeak);
        }

        async Task SampleAsync(string phase, Func<(long In, long Out)> counters, CancellationToken cancellationToken)
        {
            using var timer = new PeriodicTimer(options.SampleInterval);
            long lastIn = 0;
            var last = _phase.Elapsed;
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    var (bytesIn, bytesOut) = counters();
                    var now = _phase.Elapsed;
                    var rss = ResidentSet().Current;
                    _peakSampled = Math.Max(_peakSampled, rss);
                    var rate = (bytesIn - lastIn) / 1048576.0 / Math.Max((now - last).TotalSeconds, 1e-9);
                    options.Sample?.Invoke(new BenchSample(_total.Elapsed.TotalSeconds, phase, bytesIn, bytesOut, rss, GC.GetTotalMemory(false), rate,
                        (Environment.CpuUsage.TotalTime - _cpuAtStart).TotalSeconds) { GcCommittedBytes = GC.GetGCMemoryInfo().TotalCommittedBytes });
                    (lastIn, last) = (bytesIn, now);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        static bool TryResetPeak()
        {
            try
            {
                File.WriteAllText("/proc/self/clear_refs", "5");
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        sealed class Stopper(CancellationTokenSource stop, Task sampling) : IDisposable
        {
            public void Dispose()
            {
                stop.Cancel();
                sampling.GetAwaiter().GetResult();
                stop.Dispose();
            }
        }
    }
}
