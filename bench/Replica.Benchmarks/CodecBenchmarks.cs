using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Replica.Codecs;

namespace Replica.Benchmarks;

/// <summary>
/// Compression codecs on one 16 MiB chunk of a synthetic COPY-heavy dump (the default chunk size): zstd level 1 (the
/// default) against gzip at its fastest level. Each operation encodes or decodes the whole chunk into an output buffer
/// reused across operations, as the chunker's chain does, so the allocated column shows what one chunk costs.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(SixteenMiBThroughput))]
public class CodecBenchmarks : IDisposable
{
    const int ChunkSize = 16 << 20;

    byte[] _chunk = [];
    byte[] _zstdStored = [];
    byte[] _gzipStored = [];
    ZstdCodec _zstd = null!;
    GzipCodec _gzip = null!;
    readonly ArrayBufferWriter<byte> _output = new(2 * ChunkSize);

    [GlobalSetup]
    public void Setup()
    {
        _chunk = SyntheticDump.Create(ChunkSize)[..ChunkSize];
        _zstd = new ZstdCodec(level: 1);
        _gzip = new GzipCodec(GzipCodec.FastestLevel);
        _zstd.Encode(_chunk, 0, false, _output);
        _zstdStored = _output.WrittenSpan.ToArray();
        _output.ResetWrittenCount();
        _gzip.Encode(_chunk, 0, false, _output);
        _gzipStored = _output.WrittenSpan.ToArray();
        Console.WriteLine($"// 16 MiB chunk: zstd -1 stores {_zstdStored.Length} bytes ({100.0 * _zstdStored.Length / ChunkSize:0.0}%), "
            + $"gzip -1 stores {_gzipStored.Length} bytes ({100.0 * _gzipStored.Length / ChunkSize:0.0}%)");
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _zstd.Dispose();
        _gzip.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public int ZstdLevel1Encode()
    {
        _output.ResetWrittenCount();
        _zstd.Encode(_chunk, 1, false, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int ZstdDecode()
    {
        _output.ResetWrittenCount();
        _zstd.Decode(_zstdStored, 1, false, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int GzipFastestEncode()
    {
        _output.ResetWrittenCount();
        _gzip.Encode(_chunk, 1, false, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int GzipDecode()
    {
        _output.ResetWrittenCount();
        _gzip.Decode(_gzipStored, 1, false, _output);
        return _output.WrittenCount;
    }
}
