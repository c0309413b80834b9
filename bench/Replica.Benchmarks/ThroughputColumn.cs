using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Replica.Benchmarks;

/// <summary>A MiB/s column: the MiB one operation processes divided by its mean time.</summary>
public sealed class ThroughputColumn(double mebibytesPerOperation, string legend) : IColumn
{
    public string Id => $"MiBps{mebibytesPerOperation}";
    public string ColumnName => "MiB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.ResultStatistics is { } stats ? (mebibytesPerOperation / (stats.Mean / 1e9)).ToString("0") : "-";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
}

/// <summary>Configs that add the MiB/s column for the benchmark classes' operation sizes.</summary>
public sealed class SixtyFourMiBThroughput : ManualConfig
{
    public SixtyFourMiBThroughput() => AddColumn(new ThroughputColumn(64, "Input throughput: 64 MiB of dump divided by the mean time"));
}

public sealed class SixteenMiBThroughput : ManualConfig
{
    public SixteenMiBThroughput() => AddColumn(new ThroughputColumn(16, "Throughput: one 16 MiB chunk divided by the mean time"));
}
