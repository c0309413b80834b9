using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Replica.Lexing;
using Replica.Sources;

namespace Replica.Benchmarks;

/// <summary>
/// The synthetic dump generator (issue 12 §2) on one core: 256 MiB of each dialect and format read through
/// <see cref="SyntheticDumpStream"/> into one reused 1 MiB buffer, as a pipe would read it. The stream is built in the
/// operation, so the count solving (a few MiB of sample rows) is part of the figure.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GeneratorThroughput))]
public class GeneratorBenchmarks
{
    const long Size = 256L << 20;
    readonly byte[] _buffer = new byte[1 << 20];

    public enum Variant
    {
        PostgresCopy,
        PostgresInserts,
        MySqlInserts,
    }

    [Params(Variant.PostgresCopy, Variant.PostgresInserts, Variant.MySqlInserts)]
    public Variant Output { get; set; }

    [Benchmark]
    public long Generate()
    {
        var options = new SyntheticOptions(Size)
        {
            Dialect = Output == Variant.MySqlInserts ? SqlDialect.MySql : SqlDialect.PostgreSql,
            Format = Output == Variant.PostgresCopy ? SyntheticFormat.Copy : SyntheticFormat.Inserts,
        };
        using var stream = new SyntheticDumpStream(options);
        long total = 0;
        int read;
        while ((read = stream.Read(_buffer)) > 0)
        {
            total += read;
        }
        return total;
    }
}

/// <summary>MiB/s of a 256 MiB (±2 %) synthetic dump.</summary>
public sealed class GeneratorThroughput : ManualConfig
{
    public GeneratorThroughput() => AddColumn(new ThroughputColumn(256, "Output throughput: 256 MiB of dump divided by the mean time"));
}
